"""record_run: each partition recorded once with its own metadata; a blocked one named, the others kept."""

from __future__ import annotations

import dagster as dg
import pytest

from racing_platform.lib.cell_runs import Outcome, Verdict, cells_of, nothing_there, record_run
from racing_platform.partitions import meeting_cells

CELLS = ["2026-03-05|flemington", "2026-03-06|flemington", "2026-03-07|flemington"]
KEY = dg.AssetKey("cell_asset")
CHECK = "cell_asset_contract"


def _run(
    instance: dg.DagsterInstance, outcome_of, partitions: list[str], extra: tuple[str, ...] = ()
) -> dg.ExecuteInProcessResult:
    """Materialize `cell_asset` (and a downstream asset) over `partitions`, each cell's outcome from
    `outcome_of(cell key)`; `extra` keys get an outcome too although the run does not target them."""

    @dg.asset(
        name=KEY.path[0],
        partitions_def=meeting_cells,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[dg.AssetCheckSpec(CHECK, asset=KEY.path[0], blocking=True)],
    )
    def cell_asset(context):
        outcomes = {key: outcome_of(key) for key in [*map(str, cells_of(context)), *extra]}
        yield from record_run(context, {"cell_asset": outcomes})

    @dg.asset(partitions_def=meeting_cells, backfill_policy=dg.BackfillPolicy.single_run(), deps=[cell_asset])
    def downstream(context):
        return dg.MaterializeResult(metadata={"cells": len(context.partition_keys)})

    instance.add_dynamic_partitions("venue", ["flemington", "randwick"])
    tags = {}
    if len(partitions) > 1:
        tags = {
            "dagster/asset_partition_range_start": partitions[0],
            "dagster/asset_partition_range_end": partitions[-1],
        }
    return dg.materialize(
        [cell_asset, downstream],
        instance=instance,
        partition_key=partitions[0] if len(partitions) == 1 else None,
        tags=tags,
        raise_on_error=False,
    )


def _written(key: str) -> Outcome:
    return Outcome(
        metadata={"cell": key, "dagster/row_count": 1}, verdicts={CHECK: Verdict(True, {"rows": 1})}
    )


def _recorded(result: dg.ExecuteInProcessResult, node: str = "cell_asset") -> dict[str, dict]:
    """Per partition the metadata of its one materialization (fails if a partition is recorded twice)."""
    events = result.asset_materializations_for_node(node)
    partitions = [m.partition for m in events]
    assert len(partitions) == len(set(partitions)), f"recorded twice: {partitions}"
    return {m.partition: {k: v.value for k, v in m.metadata.items()} for m in events}


def _step_failure(result: dg.ExecuteInProcessResult):
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failure.event_specific_data.error


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_each_cell_of_a_range_is_recorded_once_with_its_own_metadata(instance):
    empty = nothing_there("meeting", "no tracked meeting at this venue on this date")
    result = _run(instance, lambda key: _written(key) if key == CELLS[0] else empty, CELLS)

    assert result.success
    recorded = _recorded(result)
    assert set(recorded) == set(CELLS)
    assert recorded[CELLS[0]]["cell"] == CELLS[0] and recorded[CELLS[0]]["dagster/row_count"] == 1
    assert recorded[CELLS[0]]["meeting"] is None, "the empty cells' shared metadata is not the written one's"
    for key in CELLS[1:]:
        assert recorded[key]["meeting"].startswith("none:") and recorded[key]["dagster/row_count"] == 0
        assert "cell" not in recorded[key], "an empty cell never carries another cell's metadata"
    # Per-cell verdicts only for cells with something to judge, then one summary per check.
    partitioned = [e.partition for e in result.get_asset_check_evaluations() if e.partition]
    assert partitioned == [CELLS[0]]
    (summary,) = [e for e in result.get_asset_check_evaluations() if not e.partition]
    assert summary.passed and summary.metadata["partitions_judged"].value == 1
    assert len(result.asset_materializations_for_node("downstream")) == 3  # the range's output gates it


def test_a_blocked_cell_is_not_recorded_the_others_are_and_the_failure_names_it(instance):
    def outcome_of(key):
        if key == CELLS[1]:
            return Outcome(metadata={}, verdicts={CHECK: Verdict(False, problem="3 runners without a race")})
        return _written(key)

    result = _run(instance, outcome_of, CELLS)

    assert not result.success
    message = _step_failure(result).message
    assert "nothing written for 1 of 3 partition(s) (stored data kept; the other 2 were written)" in message
    assert f"Re-run these partitions: {CELLS[1]}: {CHECK}: 3 runners without a race" in message
    assert instance.get_materialized_partitions(KEY) == {CELLS[0], CELLS[2]}
    assert _recorded(result)[CELLS[2]]["cell"] == CELLS[2]
    verdicts = {e.partition: e.passed for e in result.get_asset_check_evaluations()}
    assert verdicts == {CELLS[0]: True, CELLS[1]: False, CELLS[2]: True}
    assert result.asset_materializations_for_node("downstream") == []


def test_a_single_cell_is_recorded_once_with_its_check_naming_the_cell(instance):
    result = _run(instance, _written, CELLS[:1])

    assert result.success
    assert _recorded(result) == {CELLS[0]: {"cell": CELLS[0], "dagster/row_count": 1}}
    (check,) = [e for e in result.get_asset_check_evaluations() if e.partition]
    assert check.partition == CELLS[0] and check.passed and check.metadata["rows"].value == 1
    # What the UI reads: the instance's check executions, the latest one the cell's own verdict.
    check_key = dg.AssetCheckKey(KEY, CHECK)
    history = instance.event_log_storage.get_asset_check_execution_history(check_key, limit=10)
    assert [r.partition for r in history] == [CELLS[0], None]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key([check_key])[check_key]
    assert latest.partition == CELLS[0] and latest.status.value == "SUCCEEDED"
    assert latest.event.dagster_event.event_specific_data.partition == CELLS[0]


def test_an_outcome_for_a_partition_outside_the_run_fails_the_step_and_records_nothing(instance):
    stray = "2026-03-06|randwick"
    result = _run(instance, _written, CELLS, extra=(stray,))

    assert not result.success
    assert f"cell_asset: outcomes for partitions outside the run: {stray}" in _step_failure(result).message
    assert _recorded(result) == {}
    assert not [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
