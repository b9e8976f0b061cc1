"""A run killed with kill -9 mid-range never blocks the next run, and leaves no record without its rows.

Real processes throughout: `dagster asset materialize` runs on an instance holding the project's
dagster.yaml (pool `duckdb`, limit 1), a real DuckDB file, the simulator over real HTTP. Run A fetches
a three-cell range and hangs in its second cell (a latency fault), holding the pool slot; runs B and C
wait for it. C is stopped with SIGTERM; A is killed with SIGKILL and left unreaped (a zombie, as under
a launcher that never waits for its workers), after which B must start within the documented bound.

A range run writes its cells in one transaction at the end of its step (lib/cell_runs.py), so A,
killed while fetching, committed nothing and recorded nothing: the instance and DuckDB agree. (Killed
between that commit and the end of its step, DuckDB would be ahead of the instance, and a re-run
rewrites the same rows; that window is not reproduced here.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from racing_platform.lib.dagster_home import ensure_dagster_home
from racing_platform.lib.pool_wait import DEAD_RUN_BOUND_S
from racing_platform.simulator.testing import running_simulator
from racing_platform.source.assets import meetings
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.worlds import AFTER_MEETING, RACE_DAY, build_world

DAGSTER = Path(sys.executable).with_name("dagster")
DAY = RACE_DAY.isoformat()
RANGE = f"{DAY}|flemington...{DAY}|sandown-hillside"  # flemington, rosehill-gardens, sandown-hillside
ROSEHILL_MEET = "5100005"  # flemington is fetched, then rosehill-gardens hangs
# A waiting run checks for dead holders every few seconds, then claims at Dagster's slowest backoff.
KILL_TO_START_BOUND_S = DEAD_RUN_BOUND_S
STARTUP_TIMEOUT_S = 60


def _materialize(env: dict, select: str, *partition: str) -> subprocess.Popen:
    command = [str(DAGSTER), "asset", "materialize", "-m", "racing_platform.definitions", "--select", select]
    return subprocess.Popen(
        [*command, *partition], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _wait_for(what: str, condition, process: subprocess.Popen, timeout: float = STARTUP_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if process.poll() is not None:
            pytest.fail(f"{what}: the process exited ({process.returncode}): {process.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.2)
    return found


def _run_of(instance: dg.DagsterInstance, process: subprocess.Popen) -> str | None:
    """The run the process started (its RUN_START event carries the process's pid)."""
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        started = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_START).records
        if started and started[0].event_log_entry.dagster_event.pid == process.pid:
            return run.run_id
    return None


def _blocked_on_pool(instance: dg.DagsterInstance, run_id: str) -> bool:
    engine = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
    return any("blocked by limit for pool duckdb" in (r.event_log_entry.message or "") for r in engine)


def _materialized_cells(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    return {r.event_log_entry.dagster_event.partition for r in records}


def _hanging(sim) -> bool:
    """Rosehill's whole-meeting request has arrived and is being held by its latency fault."""
    return any(
        entry["fault"] == "latency" and (entry["variables"] or {}).get("meetCode") == ROSEHILL_MEET
        for entry in sim.control.requests_log()
    )


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _step_started(instance: dg.DagsterInstance, run_id: str) -> bool:
    return bool(instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records)


def _step_start(instance: dg.DagsterInstance, run_id: str) -> float:
    (record,) = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
    return record.event_log_entry.timestamp


def test_a_killed_run_is_failed_its_slot_freed_and_leaves_no_record_without_its_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path / "data"))
    ensure_dagster_home()
    database = tmp_path / "racing.duckdb"
    processes: list[subprocess.Popen] = []
    with (
        dg.DagsterInstance.get() as instance,
        running_simulator(build_world(), now=AFTER_MEETING) as sim,
    ):
        env = {
            **os.environ,
            "RACING_DUCKDB_PATH": str(database),
            "RACING_COM_GRAPHQL_URL": sim.url,
        }
        listed = dg.materialize(
            [meetings],
            partition_key=DAY,
            instance=instance,
            resources={
                "racing_com": RacingComResource(graphql_url=sim.url),
                "warehouse": Warehouse(database=str(database)),
            },
        )
        assert listed.success
        # Rosehill's whole-meeting call (and the client's retries of it) hang: A sits in its 2nd cell.
        sim.control.queue_faults(
            [{"kind": "latency", "seconds": 60}] * 3,
            match={"operation": "Races", "variables": {"meetCode": ROSEHILL_MEET}},
        )
        try:
            run_a = _materialize(env, "raw_race_cards", "--partition-range", RANGE)
            processes.append(run_a)
            a = _wait_for("run A starts", lambda: _run_of(instance, run_a), run_a)
            _wait_for("A holds the pool slot", lambda: _step_started(instance, a), run_a)
            run_b = _materialize(env, "meetings", "--partition", DAY)
            run_c = _materialize(env, "meetings", "--partition", DAY)
            processes += [run_b, run_c]
            _wait_for("A hangs in its second cell", lambda: _hanging(sim), run_a)
            b = _wait_for("B starts", lambda: _run_of(instance, run_b), run_b)
            c = _wait_for("C starts", lambda: _run_of(instance, run_c), run_c)
            for run_id, process in ((b, run_b), (c, run_c)):
                _wait_for("waits for the pool", lambda r=run_id: _blocked_on_pool(instance, r), process)

            # A waiting run sleeps: CPU time of B's whole process over 3 s of waiting.
            cpu_before, wall_before = _cpu_seconds(run_b.pid), time.monotonic()
            time.sleep(3)
            waiting_cpu = (_cpu_seconds(run_b.pid) - cpu_before) / (time.monotonic() - wall_before)
            print(f"CPU of a run waiting for the pool: {waiting_cpu:.1%} of one core")
            assert waiting_cpu < 0.2

            # A waiting run stops on SIGTERM, ends its run and leaves the pool's queue.
            run_c.send_signal(signal.SIGTERM)
            stop_asked = time.monotonic()
            run_c.wait(timeout=10)
            print(f"SIGTERM -> waiting run exits: {time.monotonic() - stop_asked:.1f} s")
            assert instance.get_run_by_id(c).status == dg.DagsterRunStatus.FAILURE
            pool = instance.event_log_storage.get_concurrency_info("duckdb")
            assert c not in {step.run_id for step in pool.pending_steps}

            # The live holder was left alone while B checked it.
            assert instance.get_run_by_id(a).status == dg.DagsterRunStatus.STARTED
            run_a.kill()
            killed_at = time.time()
            run_b.wait(timeout=KILL_TO_START_BOUND_S + 30)
            assert run_b.returncode == 0, run_b.stderr.read()[-3000:]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                process.wait()

        kill_to_start = _step_start(instance, b) - killed_at
        print(f"kill -9 of the holder -> next run's step starts: {kill_to_start:.1f} s")
        assert kill_to_start < KILL_TO_START_BOUND_S

        killed = instance.get_run_by_id(a)
        assert killed.status == dg.DagsterRunStatus.FAILURE
        (failure,) = instance.get_records_for_run(a, of_type=dg.DagsterEventType.RUN_FAILURE).records
        assert f"its worker process {run_a.pid} has exited" in failure.event_log_entry.message
        assert instance.event_log_storage.get_concurrency_info("duckdb").claimed_slots == []

        # The instance and DuckDB agree on what the killed run committed: nothing.
        with duckdb.connect(str(database), read_only=True) as conn:
            stored = conn.execute(
                "SELECT DISTINCT strftime(meeting_date, '%Y-%m-%d') || '|' || venue_slug FROM raw_race_cards"
            ).fetchall()
        assert {row[0] for row in stored} == set() == _materialized_cells(instance, a)
