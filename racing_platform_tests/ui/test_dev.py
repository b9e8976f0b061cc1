"""`make dev` (`racing-platform dev`): the three processes start on loopback and every one of them stops.

Each test runs the real command in its own session, as a terminal would, on free ports with its own
DAGSTER_HOME and data directory (holding the demo platform's cached simulator world, so the simulator is
ready in a second instead of generating the world).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import requests

from racing_platform_tests.demo_platform import DemoPlatform, free_loopback_port

START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
SIM_START = "2025-03-01T08:00:00+11:00"
LOCATIONS_QUERY = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"


@dataclass
class DevRun:
    process: subprocess.Popen
    webserver: str
    simulator: str
    home: Path
    log: Path

    def output(self) -> str:
        """The log's last lines without Dagster's beta-API warnings, which flood it."""
        lines = self.log.read_text(errors="replace").splitlines()
        kept = [line for line in lines if line.strip() and "Warning" not in line and "return fn(" not in line]
        return "\n".join(kept[-60:])


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process on the machine."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(stat.parent.name)] = (int(fields[1]), fields[0])
    return table


def _descendants(pid: int) -> set[int]:
    table = _processes()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    table = _processes()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


@pytest.fixture
def start_dev(tmp_path, monkeypatch, demo_platform: DemoPlatform):
    runs: list[DevRun] = []

    def start() -> DevRun:
        data = tmp_path / "data"
        data.mkdir(exist_ok=True)
        if not (data / "simulator").exists():
            (data / "simulator").symlink_to(demo_platform.data_dir / "simulator")
        home = tmp_path / "dagster_home"
        monkeypatch.setenv("DAGSTER_HOME", str(home))  # the instance's event log storage reads it
        web_port, sim_port = free_loopback_port(), free_loopback_port()
        while sim_port == web_port:
            sim_port = free_loopback_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RACING_", "DAGSTER_"))}
        env.update(RACING_DATA_DIR=str(data), DAGSTER_HOME=str(home))
        log = tmp_path / f"dev-{len(runs)}.log"
        command = [sys.executable, "-m", "racing_platform.cli", "dev", "--port", str(web_port)]
        command += ["--simulator-port", str(sim_port), "--now", SIM_START]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        run = DevRun(process, f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{sim_port}", home, log)
        runs.append(run)
        return run

    yield start
    for run in runs:  # a failed assertion must not leave a platform running
        if run.process.poll() is None:
            for pid in _alive(_descendants(run.process.pid)) | {run.process.pid}:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            run.process.wait()


def _listening(port: int) -> set[str]:
    """The local addresses (hex, as in /proc/net/tcp*) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def _wait_up(run: DevRun) -> set[int]:
    """Wait for the webserver (code location loaded), the simulator's world and a daemon heartbeat; return
    the supervisor's descendants."""
    deadline = time.monotonic() + START_TIMEOUT_S
    started = time.time()

    def pending() -> str | None:
        if run.process.poll() is not None:
            pytest.fail(f"racing-platform dev exited with {run.process.returncode}:\n{run.output()}")
        try:
            if not requests.get(f"{run.webserver}/server_info", timeout=5).ok:
                return "webserver"
            locations = requests.post(
                f"{run.webserver}/graphql",
                json={"query": LOCATIONS_QUERY},
                timeout=10,
            ).json()["data"]["workspaceOrError"]["locationEntries"]
            if [entry["loadStatus"] for entry in locations] != ["LOADED"]:
                return "code location"
            if requests.get(f"{run.simulator}/_sim/health", timeout=5).json()["status"] != "ok":
                return "simulator world"
        except requests.RequestException:
            return "ports"
        with dg.DagsterInstance.from_config(str(run.home)) as instance:
            beats = instance.get_daemon_heartbeats()
        if not beats or min(beat.timestamp for beat in beats.values()) < started:
            return "daemon heartbeats"
        return None

    while (waiting := pending()) is not None:
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting for the {waiting} after {START_TIMEOUT_S:.0f} s:\n{run.output()}")
        time.sleep(1)
    return _descendants(run.process.pid)


def _wait_stopped(run: DevRun, processes: set[int]) -> int:
    try:
        code = run.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"racing-platform dev still running {STOP_TIMEOUT_S:.0f} s after the signal")
    deadline = time.monotonic() + 10  # the children are reaped by the supervisor; grandchildren by init
    while _alive(processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(processes), f"left running: {_alive(processes)}\n{run.output()}"
    return code


def test_dev_starts_everything_on_loopback_and_sigterm_stops_it_all(start_dev):
    run = start_dev()
    processes = _wait_up(run)
    # Simulator, webserver and daemon, plus the code servers the webserver and the daemon started.
    assert len(processes) >= 5, processes
    # The simulator's clock starts where asked and runs.
    first = requests.get(f"{run.simulator}/_sim/clock", timeout=5).json()
    assert first["mode"] == "running"
    began = datetime.fromisoformat(SIM_START).astimezone(UTC)
    assert 0 <= (datetime.fromisoformat(first["now"]) - began).total_seconds() < START_TIMEOUT_S + 30
    time.sleep(1.1)
    assert requests.get(f"{run.simulator}/_sim/clock", timeout=5).json()["now"] > first["now"]
    # Both listen on 127.0.0.1 only (0100007F in /proc/net/tcp), not on every address.
    for url in (run.webserver, run.simulator):
        assert _listening(int(url.rsplit(":", 1)[1])) == {"0100007F"}, url

    os.kill(run.process.pid, signal.SIGTERM)
    assert _wait_stopped(run, processes) == 0
    assert "dev platform stopped" in run.output()


def test_ctrl_c_stops_it_all(start_dev):
    run = start_dev()
    processes = _wait_up(run)
    os.killpg(run.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the foreground group
    assert _wait_stopped(run, processes) == 0


def test_a_child_dying_stops_the_others_and_fails(start_dev):
    run = start_dev()
    processes = _wait_up(run)
    simulator = next(
        pid for pid in processes if b"simulator\x00serve" in Path(f"/proc/{pid}/cmdline").read_bytes()
    )
    os.kill(simulator, signal.SIGKILL)
    assert _wait_stopped(run, processes) == 1
    assert "simulator exited with code -9" in run.output()
