"""The planned cells, given to Dagster as a backfill target, come back as exactly the planned runs."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
from dagster._core.definitions.automation_tick_evaluation_context import (
    build_run_requests_with_backfill_policies,
)
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.definitions.partitions.context import partition_loading_context

from racing_platform.definitions import defs
from racing_platform.lib.backfill import CELL_ASSETS as PLANNED_BY_CELL
from racing_platform.lib.range_plan import plan_range_runs
from racing_platform.partitions import VENUE_DIMENSION, meeting_cells

CELL_ASSETS = ["raw_race_cards", "race_cards", "race_results"]
VENUES = ["flemington", "caulfield", "randwick", "rosehill-gardens", "bendigo"]


def _dagster_runs(instance: dg.DagsterInstance, plan) -> set[tuple[str, str]]:
    """The range runs Dagster's asset backfill makes of the plan's cells (single-run policies)."""
    target = {
        AssetKeyPartitionKey(dg.AssetKey(a), str(c)) for run in plan for c in run.cells for a in CELL_ASSETS
    }
    with partition_loading_context(dynamic_partitions_store=instance):  # as the backfill iteration does
        requests = build_run_requests_with_backfill_policies(target, defs.resolve_asset_graph(), instance)
    assert all(set(r.asset_selection) == {dg.AssetKey(a) for a in CELL_ASSETS} for r in requests)
    return {
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in requests
    }


def _plan(instance, cells):
    """Costs that bridge a gap of up to two empty cells (0.3 s a run, 0.05 s a cell and asset)."""
    return plan_range_runs(
        cells,
        assets_per_cell=len(CELL_ASSETS),
        venue_order=instance.get_dynamic_partitions(VENUE_DIMENSION),
        run_overhead_s=0.3,
        cell_asset_overhead_s=0.05,
    )


def test_a_season_of_weekly_meetings_is_one_run_per_venue_and_meeting_or_bridged_run():
    day = date(2025, 8, 2)
    # Two venues racing weekly, one racing on consecutive days and again after a one-day gap.
    cells = [(day + timedelta(days=7 * w), v) for w in range(20) for v in ("flemington", "randwick")]
    cells += [(day + timedelta(days=d), "bendigo") for d in (0, 1, 2, 4)]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(VENUE_DIMENSION, VENUES)
        plan = _plan(instance, cells)
        assert len(plan) == 20 * 2 + 1  # bendigo's one-day gap is cheaper bridged than a second run
        assert [str(c) for c in plan[0].cells] == [f"2025-08-0{d}|bendigo" for d in range(2, 7)]
        assert _dagster_runs(instance, plan) == {run.keys for run in plan}


def test_one_day_of_many_venues_is_cut_along_the_venues_without_bridging_any():
    day = date(2026, 3, 7)
    cells = [(day, v) for v in ("flemington", "caulfield", "rosehill-gardens", "bendigo")]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(VENUE_DIMENSION, VENUES)
        plan = _plan(instance, cells)
        # randwick, registered between caulfield and rosehill, may race that day outside the target's
        # scope: never bridged, so the cut falls there.
        assert [run.keys for run in plan] == [
            ("2026-03-07|flemington", "2026-03-07|caulfield"),
            ("2026-03-07|rosehill-gardens", "2026-03-07|bendigo"),
        ]
        assert {cell.venue_slug for run in plan for cell in run.cells} == {v for _, v in cells}
        assert _dagster_runs(instance, plan) == {run.keys for run in plan}


def test_the_assets_planned_by_cell_are_the_cell_partitioned_ones():
    cell_partitioned = {
        node.key.to_user_string()
        for node in defs.resolve_asset_graph().asset_nodes
        if node.partitions_def == meeting_cells
    }
    assert cell_partitioned == set(PLANNED_BY_CELL)
