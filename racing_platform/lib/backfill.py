"""Launch in-process runs of the code location's asset job: single cells, day ranges, planned cell ranges.

Runs go to the given Dagster instance (a persistent DAGSTER_HOME for the demo), so the UI shows the
history they built, run by run, exactly as if they had been launched from it. Before each run, runs
whose worker died are failed and their pool slots freed (lib/crashed_runs.py), so a crash of an
earlier command never blocks this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from racing_platform.lib.crashed_runs import reap_dead_runs
from racing_platform.lib.range_plan import RangeRun, plan_range_runs

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
# Step events still reach the instance (and the UI); the console only shows warnings and errors.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class BackfillReport:
    runs: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_assets(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    assets: Sequence[str],
    *,
    partition_key: str | None = None,
    partition_range: tuple[str, str] | None = None,
    run_config: dict | None = None,
) -> dg.ExecuteInProcessResult:
    job = defs.resolve_implicit_global_asset_job_def()
    tags = {RANGE_START: partition_range[0], RANGE_END: partition_range[1]} if partition_range else None
    reap_dead_runs(instance)
    return job.execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(a) for a in assets],
        partition_key=partition_key,
        tags=tags,
        run_config={**QUIET_CONSOLE, **(run_config or {})},
        raise_on_error=False,
    )


def backfill_days(
    defs: dg.Definitions, instance: dg.DagsterInstance, assets: Sequence[str], start: date, end: date
) -> BackfillReport:
    """One single-run range over consecutive days (daily assets have single-run backfill policies)."""
    began = time.perf_counter()
    result = run_assets(defs, instance, assets, partition_range=(start.isoformat(), end.isoformat()))
    failed = [] if result.success else [f"{start}..{end}"]
    return BackfillReport(runs=1, failed=failed, seconds=time.perf_counter() - began)


def backfill_cells(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    assets: Sequence[str],
    cells: Iterable[tuple[date, str]],
    progress: Callable[[int, int, RangeRun], None] = lambda done, total, run: None,
) -> BackfillReport:
    """Cover the meeting cells with as few dense range runs as the cost model says (lib/range_plan.py)."""
    began = time.perf_counter()
    plan = plan_range_runs(cells, assets_per_cell=len(assets))
    report = BackfillReport()
    for done, run in enumerate(plan, start=1):
        keys = (f"{run.start.isoformat()}|{run.venue_slug}", f"{run.end.isoformat()}|{run.venue_slug}")
        result = run_assets(defs, instance, assets, partition_range=keys)
        report.runs += 1
        if not result.success:
            report.failed.append(f"{keys[0]}..{keys[1]}")
        progress(done, len(plan), run)
    report.seconds = time.perf_counter() - began
    return report
