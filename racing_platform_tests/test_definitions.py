"""The code location's conventions, asset by asset: what the UI shows and how each step is allowed to run."""

from __future__ import annotations

import dagster as dg
import pytest

from racing_platform.definitions import defs
from racing_platform.lib.policies import DUCKDB_POOL
from racing_platform.partitions import DATE_DIMENSION, VENUE_DIMENSION
from racing_platform.settings import load_settings

GRAPH = defs.resolve_asset_graph()
# Every asset key and the definition computing it (race_cards and race_results share one multi-asset).
ASSETS = {key.to_user_string(): a for a in GRAPH.assets_defs for key in a.keys}
CELL_ASSETS = {
    "raw_race_cards",
    "race_cards",
    "race_results",
    "horse_careers",
    "runner_features",
    "predictions",
    "simulator_truth",
}
DAILY_ASSETS = {"meetings", "form_lines", "form_book", "daily_evaluation"}


def spec_of(name: str) -> dg.AssetSpec:
    (spec,) = [s for s in ASSETS[name].specs if s.key.to_user_string() == name]
    return spec


def test_the_definitions_load_with_every_asset_of_the_chain():
    dg.Definitions.validate_loadable(defs)
    assert set(ASSETS) == CELL_ASSETS | DAILY_ASSETS | {"win_model", "evaluation_summary"}
    assert defs.resolve_implicit_global_asset_job_def() is not None


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_every_asset_says_what_it_is_who_owns_it_and_where_it_lives(name):
    spec = spec_of(name)
    assert spec.description and len(spec.description) > 40
    assert spec.group_name and spec.group_name != "default"
    assert spec.owners and all(owner.startswith("team:") for owner in spec.owners)
    assert spec.kinds


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_duckdb_steps_and_their_checks_share_the_duckdb_pool(name):
    assets_def = ASSETS[name]
    assert "duckdb" in spec_of(name).kinds  # every asset of the chain reads or writes the warehouse
    assert assets_def.op.pool == DUCKDB_POOL
    for check in assets_def.check_specs:  # checks run inside their asset's step: the same pool
        assert check.asset_key in assets_def.keys


def test_checks_with_their_own_step_use_the_duckdb_pool_too():
    own_steps = [a for a in GRAPH.assets_defs if not a.keys]
    assert [a.op.name for a in own_steps if a.op.pool != DUCKDB_POOL] == []


@pytest.mark.parametrize("name", sorted(n for n in ASSETS if "graphql" in spec_of(n).kinds))
def test_network_steps_retry_with_backoff_and_jitter(name):
    policy = ASSETS[name].op.retry_policy
    assert policy is not None and policy.max_retries >= 1
    assert policy.delay and policy.backoff == dg.Backoff.EXPONENTIAL and policy.jitter is not None


def test_the_network_assets_are_the_fetching_ones():
    fetching = {n for n in ASSETS if "graphql" in spec_of(n).kinds}
    assert fetching == {"meetings", "raw_race_cards", "horse_careers"}


@pytest.mark.parametrize("name", sorted(CELL_ASSETS))
def test_cell_assets_are_partitioned_by_date_and_a_dynamic_venue(name):
    partitions = ASSETS[name].partitions_def
    assert isinstance(partitions, dg.MultiPartitionsDefinition)
    dimensions = {d.name: d.partitions_def for d in partitions.partitions_defs}
    assert set(dimensions) == {DATE_DIMENSION, VENUE_DIMENSION}
    assert isinstance(dimensions[VENUE_DIMENSION], dg.DynamicPartitionsDefinition)
    assert dimensions[VENUE_DIMENSION].name == VENUE_DIMENSION
    assert_racing_days(dimensions[DATE_DIMENSION])
    assert ASSETS[name].backfill_policy == dg.BackfillPolicy.single_run()


@pytest.mark.parametrize("name", sorted(DAILY_ASSETS))
def test_daily_assets_share_the_racing_days(name):
    assert_racing_days(ASSETS[name].partitions_def)


def assert_racing_days(partitions) -> None:
    settings = load_settings()
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.start.date() == settings.start_date
    assert partitions.timezone == settings.timezone
    assert partitions.end_offset == settings.end_offset_days


def test_cards_and_results_are_one_step_so_each_cell_is_parsed_once():
    assert ASSETS["race_cards"] is ASSETS["race_results"]
    assert ASSETS["race_cards"].keys == {dg.AssetKey("race_cards"), dg.AssetKey("race_results")}


def test_contract_checks_block_their_downstream():
    contracts = {
        c.key: c for a in ASSETS.values() for c in a.check_specs if c.name.endswith("_contract")
    }.values()
    assert {c.asset_key.to_user_string() for c in contracts} == CELL_ASSETS - {
        "raw_race_cards",
        "simulator_truth",
    } | {
        "meetings",
        "form_lines",
        "form_book",
    }
    assert all(c.blocking for c in contracts)
