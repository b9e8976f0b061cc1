"""Fail runs whose worker process died (kill -9, OOM, a reboot) and free the pool slots they hold.

Dagster notices a dead run worker only through the daemon's run monitoring, and only with a run
launcher that can check worker health: not the local `DefaultRunLauncher`, not `dagster asset
materialize`, not `execute_in_process`. Such a run stays STARTED and keeps its `duckdb` slot, so every
later run waits for it forever. Here a STARTED run is judged by the process that wrote its latest
RUN_START event, the run worker, which lives as long as the run: the run is dead when no process has
that pid any more, when it is a zombie, or when the process that has it started after the run did
(the pid was reused).

A pid means something only on the host that wrote it, so runs are judged only on an instance that
keeps its runs in SQLite or in memory (the local profile: one machine, one pid namespace). On a shared
database (production) use the daemon's run monitoring with a run launcher that supports worker
health checks (`run_monitoring` in dagster.yaml).

Called while a run waits for a pool slot (lib/pool_wait.py), by the `dead_runs` sensor when the daemon
runs, before `racing-platform` launches runs (lib/backfill.py) and by `racing-platform reap-dead-runs`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.storage.runs import InMemoryRunStorage, SqliteRunStorage

log = logging.getLogger(__name__)

PROC = Path("/proc")
# Covers /proc/stat's one-second boot time and small steps of the wall clock: a live worker is never
# taken for a reused pid. (A worker that died and whose pid was reused within this time goes unnoticed.)
CLOCK_SLACK_S = 5.0
ENDED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
# Runs whose worker should be alive: judged by its pid (STARTING runs have no RUN_START event yet).
LIVE = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


@dataclass(frozen=True)
class ReapedRun:
    run_id: str
    reason: str


def judges_runs_by_pid(instance: dg.DagsterInstance) -> bool:
    """True when every run of the instance ran on this host, so the pid in its events is ours.

    Dagster has no public way to ask where an instance keeps its runs; these two storage classes
    (SQLite files under DAGSTER_HOME, or memory) are documented under Dagster's internals.
    """
    return isinstance(instance.run_storage, SqliteRunStorage | InMemoryRunStorage)


def why_gone(pid: int, alive_at: float) -> str | None:
    """Why `pid`, alive at `alive_at` (epoch seconds), is not that process any more; None if it is."""
    if not (PROC / "self" / "stat").exists():  # not Linux: existence is all we can tell
        try:
            os.kill(pid, 0)  # signal 0: only asks whether the pid exists
        except ProcessLookupError:
            return f"its worker process {pid} no longer exists"
        except PermissionError:
            pass  # it exists, owned by another user
        return None
    try:
        # The command name in parentheses may hold spaces: fields are counted after its ")".
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return f"its worker process {pid} no longer exists"
    if fields[0] in ("Z", "X"):
        return f"its worker process {pid} has exited (state {fields[0]})"
    started = _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    if started > alive_at + CLOCK_SLACK_S:
        return (
            f"its worker process {pid} no longer exists (pid {pid} now belongs to a process started "
            f"at {_iso(started)}, after the run started)"
        )
    return None


def reap_dead_runs(instance: dg.DagsterInstance) -> list[ReapedRun]:
    """End every dead run with the reason and free pool slots nobody will free.

    A dead STARTED run is reported failed; a dead CANCELING one (someone pressed Terminate on a run whose
    worker was already gone, so nothing will ever finish the cancel) is reported canceled.
    """
    if not judges_runs_by_pid(instance):
        return []
    reaped = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=LIVE)):
        run = record.dagster_run
        started = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.RUN_START, ascending=False, limit=1
        ).records
        if not started or started[0].event_log_entry.dagster_event.pid is None:
            continue
        pid, started_at = started[0].event_log_entry.dagster_event.pid, started[0].event_log_entry.timestamp
        reason = why_gone(pid, started_at)
        status = instance.get_run_by_id(run.run_id).status
        if reason is None or status not in LIVE:
            continue  # alive, or ended meanwhile (by itself or another check)
        canceling = status == dg.DagsterRunStatus.CANCELING
        message = (
            f"Run worker died without ending the run: {reason}. It started at {_iso(started_at)} as "
            f"pid {pid}; marked {'canceled' if canceling else 'failed'} by racing_platform's dead-run check "
            f"(pid {os.getpid()}) and its pool slots freed."
        )
        if canceling:
            instance.report_run_canceled(run, message)
        else:
            instance.report_run_failed(run, message)
        _free_slots(instance, run.run_id)
        log.warning(f"run {run.run_id}: {message}")
        reaped.append(ReapedRun(run.run_id, reason))
    _free_slots_of_ended_runs(instance)
    return reaped


def _free_slots_of_ended_runs(instance: dg.DagsterInstance) -> None:
    """What the daemon does after `free_slots_after_run_end_seconds`, done without it too.

    Covers runs ended from outside (e.g. marked failed from the UI) or deleted while holding a slot.
    """
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    holders = storage.get_concurrency_run_ids()
    if not holders:
        return
    grace = instance.run_monitoring_settings.get("free_slots_after_run_end_seconds", 0)
    records = instance.get_run_records(dg.RunsFilter(run_ids=list(holders)))
    by_id = {r.dagster_run.run_id: r for r in records}
    for run_id in holders:
        record = by_id.get(run_id)
        if record is None or (
            record.dagster_run.status in ENDED and (record.end_time or 0) + grace < time.time()
        ):
            _free_slots(instance, run_id)


def _free_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def _boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime line")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fails runs whose worker process died (kill -9, OOM, restart) and frees their `duckdb` "
    "pool slot, so a crashed run never blocks later ones (lib/crashed_runs.py).",
)
def dead_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    reaped = reap_dead_runs(context.instance)
    return dg.SkipReason(describe(reaped))


def describe(reaped: list[ReapedRun]) -> str:
    if not reaped:
        return "no dead runs"
    return "failed dead runs: " + "; ".join(f"{r.run_id} ({r.reason})" for r in reaped)
