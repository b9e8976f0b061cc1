"""`win_model` versions: trained strictly before their cutoff, listed, reloadable and reproducible."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from racing_platform.evaluation.metrics import log_loss
from racing_platform.evaluation.plots import PNG_SIGNATURE
from racing_platform.model.assets import feature_importance, win_model
from racing_platform.model.blend import blend_probabilities, market_probability
from racing_platform.model.registry import content_hash, get_version, list_versions, version_for
from racing_platform.model.training import DEFAULT_PARAMS, FEATURES, training_rows, win_probabilities
from racing_platform.model.walk_forward import BLEND_WINDOW
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.features.generated_history import PROVIDER, SIGNAL_CUTOFF

CUTOFF = date(2024, 10, 19)  # ~11 weeks of history before it: a quick model


@pytest.fixture
def trainer(tmp_path, monkeypatch):
    """`trainer(warehouse, cutoff)` materializes win_model on a real instance and returns its version."""
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path / "data"))
    with dg.instance_for_test() as instance:

        def train(warehouse: Warehouse, cutoff: date) -> tuple[str, dict]:
            result = dg.materialize(
                [win_model],
                instance=instance,
                resources={"warehouse": warehouse},
                run_config={"ops": {"win_model": {"config": {"cutoff": cutoff.isoformat()}}}},
            )
            metadata = result.get_asset_materialization_events()[0].materialization.metadata
            return str(metadata["model_version"].value), {k: v.value for k, v in metadata.items()}

        yield train


def test_rows_dated_on_or_after_the_cutoff_never_change_the_model(history, tmp_path, trainer):
    warehouse = history.copy_to(tmp_path / "racing.duckdb")
    version, metadata = trainer(warehouse, CUTOFF)

    with warehouse.connect() as conn:
        on_cutoff_day = conn.execute(
            "SELECT min(meeting_date) FROM runner_features WHERE meeting_date >= ?", [CUTOFF]
        ).fetchone()[0]
        assert on_cutoff_day == CUTOFF  # a meeting on the cutoff day itself: the boundary is exercised
        conn.execute(
            "UPDATE results SET finish_position = CASE WHEN finish_position = 1 THEN 2 ELSE 1 END "
            "WHERE meeting_date >= ? AND finish_position IS NOT NULL",
            [CUTOFF],
        )
        conn.execute("UPDATE runner_features SET weight_kg = weight_kg + 5 WHERE meeting_date >= ?", [CUTOFF])
        conn.execute(  # a whole extra resulted race on the cutoff day
            "INSERT INTO runner_features SELECT * REPLACE (race_code || 'x' AS race_code) "
            "FROM runner_features WHERE meeting_date = ?",
            [CUTOFF],
        )
        conn.execute(
            "INSERT INTO results SELECT * REPLACE (race_code || 'x' AS race_code) FROM results "
            "WHERE meeting_date = ?",
            [CUTOFF],
        )
    again, metadata_again = trainer(warehouse, CUTOFF)

    assert again == version
    assert metadata_again["training_rows"] == metadata["training_rows"]

    with warehouse.connect() as conn:  # the day before the cutoff is training data: changing it shows
        conn.execute(
            "UPDATE runner_features SET weight_kg = weight_kg + 5 WHERE meeting_date = ("
            "SELECT max(meeting_date) FROM runner_features WHERE meeting_date < ?)",
            [CUTOFF],
        )
    assert trainer(warehouse, CUTOFF)[0] != version


def test_a_version_is_listed_with_its_cutoff_params_rows_metrics_and_hash(history):
    warehouse = Warehouse(database=str(history.database))
    version = get_version(warehouse, history.model_version)

    assert [v.version for v in list_versions(warehouse)] == [history.model_version]
    assert version.cutoff == SIGNAL_CUTOFF
    blend_from = SIGNAL_CUTOFF - BLEND_WINDOW
    with warehouse.connect() as conn:
        stage1_rows = training_rows(conn, blend_from, PROVIDER)
        window = training_rows(conn, SIGNAL_CUTOFF, PROVIDER, since=blend_from)
    # Stage 1 learned from the races before the blend window, the blend from the window; all before cutoff.
    assert version.metrics["stage1_trained_before"] == blend_from.isoformat()
    assert version.training_rows == len(stage1_rows)
    assert version.training_races == stage1_rows["race_code"].nunique()
    assert version.metrics["blend_window_races"] == window["race_code"].nunique()
    assert window["meeting_date"].max() < pd.Timestamp(SIGNAL_CUTOFF)
    assert version.params["features"] == FEATURES
    assert {k: v for k, v in version.params.items() if k not in ("iterations", "features", "blend")} == {
        k: v for k, v in DEFAULT_PARAMS.items() if k != "iterations"
    }
    assert 1 <= version.params["iterations"] <= DEFAULT_PARAMS["iterations"]
    assert version.metrics["blend_window_stage1_log_loss"] < version.metrics["blend_window_uniform_log_loss"]
    # The name covers the stage-1 file and the blend's weights; the file is named by its own bytes.
    stored = Path(version.path).read_bytes()
    assert Path(version.path).stem == content_hash(stored)
    assert (
        content_hash(stored + json.dumps(version.params["blend"], sort_keys=True).encode()) == version.version
    )
    assert json.loads(warehouse.query("SELECT params FROM model_versions")["params"][0]) == version.params


def test_a_stored_version_reloads_and_reproduces_its_prices(history):
    """The blend window's log losses recorded at training time come back from the reloaded version."""
    warehouse = Warehouse(database=str(history.database))
    version = get_version(warehouse, history.model_version)
    blend_from = version.cutoff - BLEND_WINDOW
    with warehouse.connect() as conn:
        window = training_rows(conn, version.cutoff, PROVIDER, since=blend_from)

    stage1 = win_probabilities(version.load(), window)
    market = market_probability(window["market_price"], window["race_code"]).to_numpy()
    blend = blend_probabilities(version.blend, stage1, market, window["race_code"].to_numpy())

    assert round(log_loss(window, stage1), 4) == version.metrics["blend_window_stage1_log_loss"]
    assert round(log_loss(window, blend), 4) == version.metrics["blend_window_blend_log_loss"]
    assert np.array_equal(stage1, win_probabilities(version.load(), window))


def test_prices_use_the_newest_version_trained_before_the_day(history, tmp_path, trainer):
    warehouse = history.copy_to(tmp_path / "racing.duckdb")
    early, _ = trainer(warehouse, CUTOFF)

    assert version_for(warehouse, CUTOFF - timedelta(days=1)) is None
    assert version_for(warehouse, CUTOFF).version == early
    assert version_for(warehouse, SIGNAL_CUTOFF - timedelta(days=1)).version == early
    assert version_for(warehouse, SIGNAL_CUTOFF).version == history.model_version


def test_the_materialization_shows_stage_1_s_feature_importance_as_a_plot(history, tmp_path, trainer):
    version, metadata = trainer(history.copy_to(tmp_path / "racing.duckdb"), CUTOFF)

    prefix = "![feature importance](data:image/png;base64,"
    plot = metadata["feature_importance_plot"]
    assert plot.startswith(prefix) and plot.endswith(")")
    png = base64.b64decode(plot[len(prefix) : -1])
    assert png.startswith(PNG_SIGNATURE) and len(png) > 5_000
    assert Path(metadata["feature_importance_plot_path"]).read_bytes() == png
    assert version in metadata["feature_importance_plot_path"]
    importance = feature_importance(get_version(Warehouse(database=str(tmp_path / "racing.duckdb")), version))
    assert set(importance["feature"]) <= set(FEATURES)
    assert importance["importance"].sum() == pytest.approx(100, abs=0.01)
    assert importance["importance"].is_monotonic_decreasing
    assert importance["feature"].iloc[0] in metadata["top_features"]
    # Numbers a person reads: metrics at 4 decimals at most.
    floats = [v for v in metadata.values() if isinstance(v, float)]
    assert floats and all(round(v, 4) == v for v in floats)
