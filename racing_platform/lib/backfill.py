"""History as Dagster asset backfills: planned here, run by Dagster's own backfill machinery.

`submit_backfill` adds a real asset backfill to the instance (the UI's Backfills tab, Overview timeline
and per-partition status show it, exactly like one launched from the UI). Its target is planned here:
cell assets get the meeting cells cut into dense ranges (lib/range_plan.py), daily assets the day
range, an unpartitioned asset itself.

`run_backfill` then does what the dagster-daemon's backfill daemon does (`execute_backfill_jobs`, the
asset backfill iteration: which runs may start, which partitions are done or failed), back to back
instead of on 30 s ticks. Runs are created and submitted by that iteration, so they carry the
`dagster/backfill` tag and belong to the code location of `workspace.yaml` (the UI re-executes them
like any other); this process's instance launches them into `InProcessRunLauncher`, and the driver
executes them one after another in this process (`execute_run`), so a run costs no subprocess and no
imports. The UI and the daemon keep the `dagster.yaml` launcher: only the driver's instance is built
with the in-process one (`driver_instance`).

If a dagster-daemon is running for the instance, the daemon owns every backfill, so `run_backfill`
does not also drive it: it follows the backfill's progress until it ends (the daemon ticks every 30 s
and launches runs in subprocesses: slower, but one owner).

One driver per backfill: a driver that starts adopts the backfill's runs nobody is running any more
(queued by a daemon that stopped, or created by a driver that died before running them); runs whose
worker died are failed first (lib/crashed_runs.py), and the backfill then knows their partitions failed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.definitions.partitions.partition_key_range import PartitionKeyRange
from dagster._core.definitions.reconstruct import ReconstructableJob
from dagster._core.execution.api import execute_run
from dagster._core.execution.asset_backfill import AssetBackfillData
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher import LaunchRunContext, RunLauncher
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    BACKFILL_ID_TAG,
)
from dagster._core.utils import make_new_backfill_id
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget, WorkspaceFileTarget
from dagster._daemon.backfill import execute_backfill_jobs
from dagster._daemon.controller import get_daemon_statuses
from dagster._daemon.daemon import BackfillDaemon
from dagster._serdes import ConfigurableClass, ConfigurableClassData
from dagster._utils.hosted_user_process import recon_job_from_origin

from racing_platform.lib.crashed_runs import reap_dead_runs
from racing_platform.lib.range_plan import RangeRun, plan_range_runs
from racing_platform.partitions import VENUE_DIMENSION
from racing_platform.paths import REPO_ROOT
from racing_platform.settings import Scope
from racing_platform.source.venues import load_venues
from racing_platform.warehouse.resource import Warehouse

log = logging.getLogger(__name__)
# Dagster's backfill iteration logs every partition it considers at INFO: far too much for a terminal.
iteration_log = logging.getLogger(f"{__name__}.iteration")
iteration_log.setLevel(logging.WARNING)

WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"
# Assets partitioned by (date, venue) cell (racing_platform/partitions.py).
CELL_ASSETS = (
    "raw_race_cards",
    "race_cards",
    "race_results",
    "horse_careers",
    "runner_features",
    "predictions",
    "simulator_truth",
)
# Set in the process that creates a backfill's runs (the driver; the daemon's environment for backfills
# launched from the UI): a range run reports one "materialization planned" event per asset with the
# partition subset instead of one per partition (events are written one by one on SQLite). The cost:
# if such a run dies, its partitions are not shown failed in the asset's partition view; the backfill
# still knows them failed from the run's range tags.
PLANNED_EVENTS_AS_SUBSET = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
# A daemon whose heartbeat is older than this is not running (Dagster's own tolerance for the UI).
DAEMON_HEARTBEAT_TOLERANCE_S = 60
FOLLOW_INTERVAL_S = 2.0
# Step events still reach the instance (and the UI); the console only shows warnings and errors.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# Runs not finished and not running anywhere when a driver starts: it runs them.
ORPHANED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING]
FINISHED_RUN = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
ENDED_BACKFILL = {
    BulkActionStatus.COMPLETED_SUCCESS,
    BulkActionStatus.COMPLETED_FAILED,
    BulkActionStatus.COMPLETED,
    BulkActionStatus.FAILED,
    BulkActionStatus.CANCELED,
}


class InProcessRunLauncher(RunLauncher, ConfigurableClass):
    """Launching a run queues its id; `run_backfill` executes the queue in its own process."""

    def __init__(self, inst_data: ConfigurableClassData | None = None):
        self._inst_data = inst_data
        self.launched: list[str] = []
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: dict) -> InProcessRunLauncher:
        return cls(inst_data=inst_data)

    def launch_run(self, context: LaunchRunContext) -> None:
        self.launched.append(context.dagster_run.run_id)

    def terminate(self, run_id: str) -> bool:
        return False  # a run executes in the driver's main thread: it ends when the driver does

    def take(self) -> list[str]:
        taken, self.launched = self.launched, []
        return taken


def driver_instance(home: Path | str | None = None) -> dg.DagsterInstance:
    """The instance of DAGSTER_HOME (or `home`) as the driver needs it: runs submitted by the backfill
    iteration are launched at once (no run queue: the driver runs one at a time anyway) into
    `InProcessRunLauncher`. Everything else, storage included, is the instance's own dagster.yaml."""
    home = str(home or os.environ["DAGSTER_HOME"])
    overrides = {
        "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
        "run_launcher": {"module": __name__, "class": InProcessRunLauncher.__name__},
    }
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(home, overrides=overrides))


@contextmanager
def workspace(
    instance: dg.DagsterInstance, workspace_file: Path = WORKSPACE_FILE
) -> Iterator[WorkspaceProcessContext]:
    """The code locations of `workspace.yaml`, loaded in this process under their own names (no code
    server subprocess), so the runs created belong to the same location as in the UI."""
    origins = [
        InProcessCodeLocationOrigin(origin.loadable_target_origin, location_name=origin.location_name)
        for origin in WorkspaceFileTarget([str(workspace_file)]).create_origins()
    ]
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origins)) as context:
        yield context


def daemon_is_running(instance: dg.DagsterInstance) -> bool:
    """Whether a dagster-daemon's backfill daemon has a recent heartbeat on this instance."""
    daemon = BackfillDaemon.daemon_type()
    status = get_daemon_statuses(
        instance, [daemon], ignore_errors=True, heartbeat_tolerance_seconds=DAEMON_HEARTBEAT_TOLERANCE_S
    )[daemon]
    return status.healthy


def submit_backfill(
    instance: dg.DagsterInstance,
    assets: Sequence[str],
    *,
    days: tuple[date, date] | None = None,
    cells: Iterable[tuple[date, str]] = (),
    title: str | None = None,
    run_config: dict | None = None,
    workspace_file: Path = WORKSPACE_FILE,
) -> str:
    """Add an asset backfill of `assets` to the instance; returns its id.

    Daily assets target every day of `days` (inclusive); cell assets the meeting `cells`, cut into
    dense ranges (lib/range_plan.py); unpartitioned assets themselves. `run_config` goes to every run
    of the backfill (so it may only configure what every run has). Nothing runs yet: `run_backfill` (or
    the daemon) does that.
    """
    with workspace(instance, workspace_file) as context:
        asset_graph = context.create_request_context().asset_graph
        partitions = {name: asset_graph.get(dg.AssetKey(name)).partitions_def for name in assets}
        by_cell = [name for name, p in partitions.items() if isinstance(p, dg.MultiPartitionsDefinition)]
        plan = plan_cells(instance, cells, len(by_cell)) if by_cell else []
        planned_cells = [cell for run in plan for cell in run.cells]
        target = set()
        for name, partitions_def in partitions.items():
            key = dg.AssetKey(name)
            if partitions_def is None:
                target.add(AssetKeyPartitionKey(key, None))
            elif name in by_cell:
                target |= {AssetKeyPartitionKey(key, str(cell)) for cell in planned_cells}
            elif days is None:
                raise ValueError(f"{name} is partitioned by day: give the days to backfill")
            else:
                day_range = PartitionKeyRange(days[0].isoformat(), days[1].isoformat())
                target |= {
                    AssetKeyPartitionKey(key, k)
                    for k in partitions_def.get_partition_keys_in_range(day_range)
                }
        if not target:
            raise ValueError(f"nothing to backfill for {', '.join(assets)}: no days, no cells")
        subset = AssetGraphSubset.from_asset_partition_set(target, asset_graph)
        backfill = PartitionBackfill.from_asset_graph_subset(
            backfill_id=make_new_backfill_id(),
            backfill_timestamp=time.time(),
            tags={},
            dynamic_partitions_store=instance,
            asset_graph_subset=subset,
            title=title,
            description=None,
            run_config={**QUIET_CONSOLE, **(run_config or {})},
        )
        instance.add_backfill(backfill)
    return backfill.backfill_id


def plan_cells(
    instance: dg.DagsterInstance, cells: Iterable[tuple[date, str]], assets_per_cell: int
) -> list[RangeRun]:
    return plan_range_runs(
        cells, assets_per_cell=assets_per_cell, venue_order=instance.get_dynamic_partitions(VENUE_DIMENSION)
    )


@dataclass(frozen=True)
class BackfillProgress:
    runs_done: int
    runs_requested: int  # so far: the backfill requests downstream runs as upstream ones finish
    partitions_done: int  # asset partitions (and unpartitioned assets) materialized
    partitions_targeted: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.runs_done}/{self.runs_requested} runs, {self.partitions_done}/{self.partitions_targeted} "
            f"partitions, {self.seconds:.0f} s"
        )


@dataclass
class BackfillReport:
    backfill_id: str
    status: str = ""
    runs: int = 0
    failed: list[str] = field(default_factory=list)  # "run_id (range start..end)" of every failed run
    seconds: float = 0.0
    driven: bool = True  # False: a dagster-daemon ran it and this process only followed
    error: str | None = None  # why the backfill itself failed (not a run: those are in `failed`)


def run_backfill(
    instance: dg.DagsterInstance,
    backfill_id: str,
    *,
    progress: Callable[[BackfillProgress], None] = lambda p: None,
    workspace_file: Path = WORKSPACE_FILE,
) -> BackfillReport:
    """Drive the backfill until it ends, or follow it if a dagster-daemon or another driver runs it.

    `progress` is called after every run this process executes (every poll when following).
    """
    began = time.perf_counter()
    reap_dead_runs(instance)
    with _driver_lock(instance, backfill_id) as driving:
        if daemon_is_running(instance) or not driving:
            _follow(instance, backfill_id, began, progress)
            return _report(instance, backfill_id, began, driven=False)
        _drive(instance, backfill_id, began, progress, workspace_file)
    return _report(instance, backfill_id, began, driven=True)


@contextmanager
def _driver_lock(instance: dg.DagsterInstance, backfill_id: str) -> Iterator[bool]:
    """Whether this process is the backfill's only driver: two would both launch its runs and both
    adopt its queued ones. An exclusive lock on a file in the instance's folder, let go when the
    process ends however it ends."""
    path = Path(instance.root_directory) / "backfill_drivers" / f"{backfill_id}.lock"
    path.parent.mkdir(exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def _drive(
    instance: dg.DagsterInstance,
    backfill_id: str,
    began: float,
    progress: Callable[[BackfillProgress], None],
    workspace_file: Path,
) -> None:
    os.environ.setdefault(PLANNED_EVENTS_AS_SUBSET, "1")
    _forget_loaded_jobs()
    with driver_instance(instance.root_directory) as driver, workspace(driver, workspace_file) as context:
        launcher = driver.run_launcher
        assert isinstance(launcher, InProcessRunLauncher)
        orphans = driver.get_run_records(
            dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill_id}, statuses=ORPHANED)
        )
        pending = [r.dagster_run.run_id for r in reversed(orphans)]
        counter = _Counter(driver, context, backfill_id, began)
        while _backfill(driver, backfill_id).status not in ENDED_BACKFILL:
            for error in execute_backfill_jobs(context, iteration_log, [_backfill(driver, backfill_id)]):
                if error is not None:
                    log.warning(f"backfill {backfill_id}: {error.message}")
            pending += launcher.take()
            counter.iterated()
            if not pending and _backfill(driver, backfill_id).status not in ENDED_BACKFILL:
                time.sleep(FOLLOW_INTERVAL_S)  # runs of this backfill are running elsewhere
                reap_dead_runs(driver)  # or ran: a worker that died leaves its run STARTED
            for run_id in pending:
                _execute(driver, context, run_id)
                counter.finished(run_id)
                progress(counter.progress())
            pending = []


def backfill(
    instance: dg.DagsterInstance,
    assets: Sequence[str],
    *,
    days: tuple[date, date] | None = None,
    cells: Iterable[tuple[date, str]] = (),
    title: str | None = None,
    run_config: dict | None = None,
    progress: Callable[[BackfillProgress], None] = lambda p: None,
    workspace_file: Path = WORKSPACE_FILE,
) -> BackfillReport:
    """`submit_backfill`, then `run_backfill`."""
    backfill_id = submit_backfill(
        instance,
        assets,
        days=days,
        cells=cells,
        title=title,
        run_config=run_config,
        workspace_file=workspace_file,
    )
    return run_backfill(instance, backfill_id, progress=progress, workspace_file=workspace_file)


def run_assets(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    assets: Sequence[str],
    *,
    partition_key: str | None = None,
    run_config: dict | None = None,
) -> dg.ExecuteInProcessResult:
    """One run in this process outside any backfill, for drills and tests that need a run's result
    object (it has no code location: the UI shows "Job: None" for it)."""
    reap_dead_runs(instance)
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(a) for a in assets],
        partition_key=partition_key,
        run_config={**QUIET_CONSOLE, **(run_config or {})},
        raise_on_error=False,
    )


def backfill_history(
    instance: dg.DagsterInstance,
    warehouse: Warehouse,
    assets: Sequence[str],
    start: date,
    end: date,
    *,
    scope: Scope,
    say: Callable[[str], None] = print,
    progress: Callable[[BackfillProgress], None] = lambda p: None,
    workspace_file: Path = WORKSPACE_FILE,
) -> list[BackfillReport]:
    """`meetings` over the days first when selected (its listing is what cells are planned from), then
    every other selected asset as one backfill: Dagster orders the runs by the asset graph."""
    reports = []
    if "meetings" in assets:
        say(f"meetings: {start}..{end}, {(end - start).days + 1} days")
        reports.append(
            backfill(
                instance, ["meetings"], days=(start, end), progress=progress, workspace_file=workspace_file
            )
        )
        say(f"  {describe(reports[-1])}")
    rest = [a for a in assets if a != "meetings"]
    if rest:
        cells = scoped_cells(warehouse, scope, start, end)
        cell_assets = [a for a in rest if a in CELL_ASSETS]
        if cell_assets:
            plan = plan_cells(instance, cells, len(cell_assets))
            say(f"{', '.join(cell_assets)}: {len(cells)} meeting cells in scope, {len(plan)} range runs each")
        say(f"{', '.join(rest)}: {start}..{end}")
        reports.append(
            backfill(
                instance,
                rest,
                days=(start, end),
                cells=cells,
                progress=progress,
                workspace_file=workspace_file,
            )
        )
        say(f"  {describe(reports[-1])}")
    return reports


def describe(report: BackfillReport) -> str:
    how = "" if report.driven else " (run by the dagster-daemon)"
    text = (
        f"backfill {report.backfill_id}: {report.status}{how}, {report.runs} runs in {report.seconds:.1f} s"
    )
    if report.error:
        text += f"; error: {report.error}"
    if report.failed:
        text += f"; {len(report.failed)} failed: {', '.join(report.failed[:5])}"
    return text


def _forget_loaded_jobs() -> None:
    """Dagster keeps the last job definition it loaded per process (`lru_cache` on `ReconstructableJob`,
    keyed by code pointer and selection): if the code location was re-imported since (its resources
    resolve the DuckDB path at import), a run could execute with the old import's resources."""
    ReconstructableJob.get_definition.cache_clear()
    ReconstructableJob.get_repository_definition.cache_clear()


def _execute(instance: dg.DagsterInstance, context: WorkspaceProcessContext, run_id: str) -> None:
    run = instance.get_run_by_id(run_id)
    if run.status == dg.DagsterRunStatus.QUEUED:  # queued by a daemon that stopped: launch it here
        instance.launch_run(run_id, context.create_request_context())
        instance.run_launcher.take()
        run = instance.get_run_by_id(run_id)
    try:
        execute_run(recon_job_from_origin(run.job_code_origin), run, instance)
    except Exception as error:  # the run could not even start (its code failed to load)
        log.exception(f"run {run_id} failed to start")
        instance.report_run_failed(run, f"racing_platform's backfill driver could not execute it: {error}")


class _Counter:
    """Progress between two iterations: runs finished since add to what the backfill data knew."""

    def __init__(
        self, instance: dg.DagsterInstance, context: WorkspaceProcessContext, backfill_id: str, began: float
    ):
        self.instance, self.backfill_id, self.began = instance, backfill_id, began
        self.asset_graph = context.create_request_context().asset_graph
        self.iterated()

    def iterated(self) -> None:
        backfill = _backfill(self.instance, self.backfill_id)
        self.data, self.partitions_since = backfill.get_asset_backfill_data(self.asset_graph), 0

    def finished(self, run_id: str) -> None:
        run = self.instance.get_run_by_id(run_id)
        if run.status == dg.DagsterRunStatus.SUCCESS:
            self.partitions_since += _partitions_of(self.instance, run, self.asset_graph)

    def progress(self) -> BackfillProgress:
        return _progress(self.instance, self.backfill_id, self.data, self.partitions_since, self.began)


def _progress(
    instance: dg.DagsterInstance,
    backfill_id: str,
    data: AssetBackfillData | None,
    partitions_since: int,
    began: float,
) -> BackfillProgress:
    runs = dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill_id})
    finished = dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill_id}, statuses=FINISHED_RUN)
    return BackfillProgress(
        runs_done=instance.get_runs_count(finished),
        runs_requested=instance.get_runs_count(runs),
        partitions_done=(data.materialized_subset.num_partitions_and_non_partitioned_assets if data else 0)
        + partitions_since,
        partitions_targeted=data.target_subset.num_partitions_and_non_partitioned_assets if data else 0,
        seconds=time.perf_counter() - began,
    )


def _partitions_of(instance: dg.DagsterInstance, run: dg.DagsterRun, asset_graph: Any) -> int:
    keys = run.asset_selection or set()
    start, end = run.tags.get(ASSET_PARTITION_RANGE_START_TAG), run.tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if not keys or not start:
        return len(keys)
    partitions = asset_graph.get(next(iter(keys))).partitions_def
    with partition_loading_context(dynamic_partitions_store=instance):
        return len(keys) * len(partitions.get_partition_keys_in_range(PartitionKeyRange(start, end)))


def _follow(
    instance: dg.DagsterInstance,
    backfill_id: str,
    began: float,
    progress: Callable[[BackfillProgress], None],
) -> None:
    while (current := _backfill(instance, backfill_id)).status not in ENDED_BACKFILL:
        progress(_progress(instance, backfill_id, current.asset_backfill_data, 0, began))
        time.sleep(FOLLOW_INTERVAL_S)


def _backfill(instance: dg.DagsterInstance, backfill_id: str) -> PartitionBackfill:
    found = instance.get_backfill(backfill_id)
    if found is None:
        raise ValueError(f"no backfill {backfill_id} in the instance at {instance.root_directory}")
    return found


def _report(instance: dg.DagsterInstance, backfill_id: str, began: float, *, driven: bool) -> BackfillReport:
    runs = instance.get_runs(dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill_id}))
    failed = [
        f"{r.run_id} ({r.tags.get(ASSET_PARTITION_RANGE_START_TAG, r.tags.get('dagster/partition', '-'))}"
        f"..{r.tags.get(ASSET_PARTITION_RANGE_END_TAG, '')})"
        for r in runs
        if r.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
    ]
    ended = _backfill(instance, backfill_id)
    return BackfillReport(
        backfill_id=backfill_id,
        status=ended.status.value,
        error=ended.error.message if ended.error else None,
        runs=len(runs),
        failed=failed,
        seconds=time.perf_counter() - began,
        driven=driven,
    )


def scoped_cells(warehouse: Warehouse, scope: Scope, start: date, end: date) -> list[tuple[date, str]]:
    """(date, venue) cells with a tracked meeting inside `scope` between start and end inclusive."""
    query = resources.files("racing_platform.lib").joinpath("sql/tracked_meetings.sql").read_text()
    meetings = warehouse.query(query, [start, end])
    registry = load_venues()
    cells = []
    for row in meetings.itertuples(index=False):
        venue = registry.by_slug(row.venue_slug)
        if scope.covers(row.state, venue.tier if venue else None, False, False):
            cells.append((pd.Timestamp(row.meeting_date).date(), row.venue_slug))
    return cells
