"""run_cells records each cell as soon as it is written, and a cell's bug ends the step naming the cell."""

from __future__ import annotations

import dagster as dg
import pytest

from racing_platform.lib.cell_runs import CellOutcome, Verdict, run_cells
from racing_platform.lib.failures import TransientFault
from racing_platform.partitions import Cell, meeting_cells

CELLS = ["2026-03-05|flemington", "2026-03-06|flemington", "2026-03-07|flemington"]
KEY = dg.AssetKey("cell_asset")
CHECK = "cell_asset_contract"


class SourceHiccup(TransientFault):
    """A fault worth retrying: the cell run must let it reach the RetryPolicy."""


def _run(instance: dg.DagsterInstance, process, partitions: list[str]) -> dg.ExecuteInProcessResult:
    """Materialize `cell_asset` (and a downstream asset) over `partitions`, each cell through `process`."""

    @dg.asset(
        name=KEY.path[0],
        partitions_def=meeting_cells,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[dg.AssetCheckSpec(CHECK, asset=KEY.path[0], blocking=True)],
    )
    def cell_asset(context):
        yield from run_cells(context, lambda cell: process(context, cell))

    @dg.asset(partitions_def=meeting_cells, backfill_policy=dg.BackfillPolicy.single_run(), deps=[cell_asset])
    def downstream(context):
        return dg.MaterializeResult(metadata={"cells": len(context.partition_keys)})

    instance.add_dynamic_partitions("venue", ["flemington"])
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


def _written(cell: Cell) -> CellOutcome:
    return CellOutcome(metadata={"cell": str(cell)}, verdicts={CHECK: Verdict(True, {"rows": 1})})


def _materializations(result: dg.ExecuteInProcessResult, node: str = "cell_asset") -> list[tuple[str, str]]:
    return [
        (m.partition, m.metadata.get("cell", m.metadata.get("cells")).value)
        for m in result.asset_materializations_for_node(node)
    ]


def _step_failure(result: dg.ExecuteInProcessResult):
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failure.event_specific_data.error


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_each_cell_is_recorded_before_the_next_one_is_processed(instance):
    recorded_when_processed = {}

    def process(context, cell):
        recorded_when_processed[str(cell)] = context.instance.get_materialized_partitions(KEY)
        return _written(cell)

    result = _run(instance, process, CELLS)

    assert result.success
    assert recorded_when_processed == {CELLS[0]: set(), CELLS[1]: {CELLS[0]}, CELLS[2]: set(CELLS[:2])}
    # Each cell's own record as it committed, then Dagster's record of the range's output for every cell.
    recorded = _materializations(result)
    assert recorded[:3] == [(c, c) for c in CELLS] and sorted(recorded[3:]) == [(c, 3) for c in CELLS]
    checks = [e.partition for e in result.get_asset_check_evaluations() if e.partition]
    assert checks == CELLS
    assert len(result.asset_materializations_for_node("downstream")) == 3  # the range's output gates it


def test_a_bug_in_one_cell_ends_the_step_naming_it_after_the_cells_before_were_recorded(instance):
    processed = []

    def process(context, cell):
        processed.append(str(cell))
        if str(cell) == CELLS[1]:
            raise TypeError("boolean value of NA is ambiguous")
        return _written(cell)

    result = _run(instance, process, CELLS)

    assert not result.success
    assert processed == CELLS[:2]
    assert (
        f"cell_asset [{CELLS[1]}]: TypeError: boolean value of NA is ambiguous"
        in _step_failure(result).message
    )
    assert instance.get_materialized_partitions(KEY) == {CELLS[0]}


def test_a_transient_fault_reaches_the_retry_policy_unchanged(instance):
    def process(context, cell):
        raise SourceHiccup("503 from racing.com")

    result = _run(instance, process, CELLS)

    assert not result.success
    assert _step_failure(result).cause.cls_name == "SourceHiccup"


def test_a_blocked_cell_is_not_recorded_and_the_others_are(instance):
    def process(context, cell):
        if str(cell) == CELLS[1]:
            return CellOutcome(
                metadata={}, verdicts={CHECK: Verdict(False, problem="3 runners without a race")}
            )
        return _written(cell)

    result = _run(instance, process, CELLS)

    assert not result.success
    message = _step_failure(result).message
    assert "1 of 3 cell(s) failed a blocking check" in message
    assert f"{CELLS[1]}: {CHECK}: 3 runners without a race" in message
    assert instance.get_materialized_partitions(KEY) == {CELLS[0], CELLS[2]}
    verdicts = {e.partition: e.passed for e in result.get_asset_check_evaluations()}
    assert verdicts == {CELLS[0]: True, CELLS[1]: False, CELLS[2]: True}
    assert result.asset_materializations_for_node("downstream") == []


def test_a_single_cell_is_recorded_once_with_its_check(instance):
    result = _run(instance, lambda context, cell: _written(cell), CELLS[:1])

    assert result.success
    assert _materializations(result) == [(CELLS[0], CELLS[0])]
    (check,) = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["rows"].value == 1
