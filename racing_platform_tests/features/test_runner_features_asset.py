"""`runner_features` as Dagster runs it: one cell on a real instance and the history's DuckDB file."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pandas as pd
import pytest

from racing_platform.features.assets import features_verdict, runner_features
from racing_platform.features.queries import runner_features_of
from racing_platform.partitions import VENUE_DIMENSION
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.features.columns import (
    FALSE_WITHOUT_FORM,
    NULL_WITHOUT_FORM,
    ZERO_WITHOUT_FORM,
)

DAY = date(2024, 11, 9)
CELL = f"{DAY}|flemington"
CONTRACT = "runner_features_contract"


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(VENUE_DIMENSION, ["caulfield", "flemington"])
        yield instance


def stored_features(warehouse) -> pd.DataFrame:
    return warehouse.query(
        "SELECT * FROM runner_features WHERE meeting_date = ? AND venue_slug = 'flemington' "
        "ORDER BY race_number, saddlecloth",
        [DAY],
    )


def materialize(instance, warehouse, cell: str = CELL) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [runner_features],
        partition_key=cell,
        instance=instance,
        resources={"warehouse": warehouse},
        raise_on_error=False,
    )


def test_a_cell_s_features_are_written_and_pass_their_contract(history, tmp_path, instance):
    warehouse = history.copy_to(tmp_path / "racing.duckdb")
    with warehouse.connect() as conn:
        conn.execute("DELETE FROM runner_features WHERE meeting_date = ?", [DAY])
        expected = runner_features_of(conn, DAY, "flemington")

    result = materialize(instance, warehouse)

    assert result.success
    # The table holds the query's columns (a database made before a column was added has it last).
    pd.testing.assert_frame_equal(stored_features(warehouse)[expected.columns], expected, check_dtype=False)
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["dagster/row_count"].value == len(expected) > 50
    assert metadata["runners_with_history"].value == int((expected["career_starts"] > 0).sum())
    (check,) = [c for c in result.get_asset_check_evaluations() if c.partition]
    assert check.check_name == CONTRACT and check.passed and check.partition == CELL


def test_a_broken_contract_blocks_the_cell_and_keeps_its_stored_features(history, tmp_path, instance):
    warehouse = history.copy_to(tmp_path / "racing.duckdb")
    stored = stored_features(warehouse)
    with warehouse.connect() as conn:  # a race listed twice: every runner of it gets two feature rows
        conn.execute(
            "INSERT INTO races SELECT * FROM races WHERE meeting_date = ? AND venue_slug = 'flemington' "
            "AND race_number = 1",
            [DAY],
        )

    result = materialize(instance, warehouse)

    assert not result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == CONTRACT and not check.passed
    assert "feature rows for" in str(check.metadata["problems"].value)
    assert not result.get_asset_materialization_events()
    assert not instance.get_materialized_partitions(dg.AssetKey("runner_features"))
    pd.testing.assert_frame_equal(stored_features(warehouse), stored)


def test_a_cell_without_a_card_is_materialized_as_explicitly_empty(history, tmp_path, instance):
    warehouse = history.copy_to(tmp_path / "racing.duckdb")
    before = warehouse.query("SELECT count(*) AS n FROM runner_features")["n"][0]

    result = materialize(instance, warehouse, f"{DAY}|caulfield")

    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["card"].value.startswith("none:")
    (check,) = result.get_asset_check_evaluations()
    assert check.passed
    assert warehouse.query("SELECT count(*) AS n FROM runner_features")["n"][0] == before


@pytest.mark.parametrize(
    "column", [c for c in NULL_WITHOUT_FORM + ZERO_WITHOUT_FORM + FALSE_WITHOUT_FORM if c != "career_starts"]
)
def test_the_contract_catches_form_on_a_first_start_in_any_column(history, column):
    features = Warehouse(database=str(history.database)).query(
        "SELECT * FROM runner_features WHERE meeting_date = ? AND venue_slug = 'flemington'", [DAY]
    )
    assert features_verdict(features, len(features)).passed
    first_starter = features.index[features["career_starts"] == 0][0]
    features.loc[first_starter, column] = True if column in FALSE_WITHOUT_FORM else 1

    verdict = features_verdict(features, len(features))

    assert not verdict.passed and column in verdict.problem
