"""Dead runs are judged by their worker's pid, failed with the reason, and their pool slots freed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
from click.testing import CliRunner

from racing_platform.cli import main
from racing_platform.lib.backfill import run_assets
from racing_platform.lib.crashed_runs import dead_runs, reap_dead_runs, why_gone
from racing_platform.lib.policies import DUCKDB_POOL
from racing_platform_tests.lib.dead_runs import start_a_run_and_die


def _claimed_by(instance: dg.DagsterInstance) -> set[str]:
    return {
        slot.run_id for slot in instance.event_log_storage.get_concurrency_info(DUCKDB_POOL).claimed_slots
    }


def test_the_sensor_fails_a_run_whose_worker_was_killed_and_frees_its_slot(project_instance):
    run_id, pid = start_a_run_and_die()
    assert _claimed_by(project_instance) == {run_id}

    with dg.build_sensor_context(instance=project_instance) as context:
        skipped = dead_runs(context)

    assert (
        run_id in skipped.skip_message
        and f"its worker process {pid} no longer exists" in skipped.skip_message
    )
    assert project_instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    (failure,) = project_instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    assert f"worker process {pid} no longer exists" in failure.event_log_entry.message
    assert _claimed_by(project_instance) == set()
    assert reap_dead_runs(project_instance) == []  # judged once


def test_the_command_line_fails_dead_runs_before_anything_is_launched(project_instance):
    run_id, pid = start_a_run_and_die()

    first, second = (CliRunner().invoke(main, ["reap-dead-runs"]) for _ in range(2))

    assert first.exit_code == 0, first.output
    assert f"failed dead runs: {run_id} (its worker process {pid} no longer exists)" in first.output
    assert second.output.strip() == "no dead runs"
    assert project_instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE


def test_racing_platform_fails_dead_runs_before_it_launches_a_run(project_instance):
    dead_run, _ = start_a_run_and_die()

    @dg.asset(pool=DUCKDB_POOL)
    def next_write() -> None:
        """A step that needs the `duckdb` slot the dead run holds."""

    result = run_assets(dg.Definitions(assets=[next_write]), project_instance, ["next_write"])

    assert result.success
    (failed,) = project_instance.get_records_for_run(
        dead_run, of_type=dg.DagsterEventType.RUN_FAILURE
    ).records
    (started,) = project_instance.get_records_for_run(
        result.run_id, of_type=dg.DagsterEventType.RUN_START
    ).records
    assert failed.event_log_entry.timestamp < started.event_log_entry.timestamp


def test_a_live_run_is_left_alone_and_an_ended_run_keeps_its_slot_for_the_grace_period(project_instance):
    @dg.asset(pool=DUCKDB_POOL)
    def checks_while_running(context) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"reaped": len(reap_dead_runs(context.instance))})

    result = dg.materialize([checks_while_running], instance=project_instance)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("checks_while_running")
    assert materialization.metadata["reaped"].value == 0  # its own run, STARTED in this live process

    # A slot left behind by an ended run is freed after `free_slots_after_run_end_seconds` (15 s in
    # dagster.yaml), as the daemon would; one held by a run that no longer exists at once.
    storage = project_instance.event_log_storage
    storage.claim_concurrency_slot(DUCKDB_POOL, "deleted-run", "left_behind")
    assert reap_dead_runs(project_instance) == []
    assert _claimed_by(project_instance) == set()
    storage.claim_concurrency_slot(DUCKDB_POOL, result.run_id, "left_behind")
    assert reap_dead_runs(project_instance) == []
    assert _claimed_by(project_instance) == {result.run_id}


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_why_gone_tells_a_live_worker_from_an_exited_a_zombie_and_a_reused_pid():
    assert why_gone(os.getpid(), time.time()) is None
    # This process started after 1970: had the run's worker written an event then, this is another process.
    assert "now belongs to a process started at" in why_gone(os.getpid(), 0.0)

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while _state(child.pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert why_gone(child.pid, time.time()) == f"its worker process {child.pid} has exited (state Z)"
    child.wait()
    assert why_gone(child.pid, time.time()) == f"its worker process {child.pid} no longer exists"


def test_a_dead_run_someone_tried_to_terminate_is_canceled_and_frees_its_slot(project_instance):
    run_id, pid = start_a_run_and_die()
    # Terminate from the UI: the run goes CANCELING, and with its worker gone nothing finishes the cancel.
    project_instance.run_launcher.terminate(run_id)
    assert project_instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.CANCELING

    (reaped,) = reap_dead_runs(project_instance)

    assert reaped.run_id == run_id and str(pid) in reaped.reason
    assert project_instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.CANCELED
    assert _claimed_by(project_instance) == set()
