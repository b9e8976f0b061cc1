"""The `simulator` CLI: `serve` binds fast with its clock and fault rate; `clock` drives a running server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import requests
from click.testing import CliRunner

from racing_platform.simulator.cli import simulator


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(simulator, list(args))
    return result.exit_code, result.output


def test_clock_command_gets_sets_and_advances(sim):
    base = sim.url.rstrip("/")
    code, out = run("clock", "--url", base, "--set", "2026-03-07T00:00:00Z")
    assert code == 0 and json.loads(out)["now"] == "2026-03-07T00:00:00.000Z"
    code, out = run("clock", "--url", base, "--advance", "90")
    assert code == 0 and json.loads(out)["now"] == "2026-03-07T00:01:30.000Z"
    code, out = run("clock", "--url", base)
    assert code == 0 and json.loads(out) == sim.control.clock()
    code, out = run("clock", "--url", base, "--set", "2026-03-07T00:00:00Z", "--running")
    assert code == 0 and json.loads(out)["mode"] == "running"


def test_clock_command_explains_bad_input(sim):
    base = sim.url.rstrip("/")
    code, out = run("clock", "--url", base, "--set", "later", "--advance", "5")
    assert code != 0 and "only one of" in out
    code, out = run("clock", "--url", base, "--set", "not-a-time")
    assert code != 0 and "/_sim/clock" in out and "400" in out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_within_ten_seconds_with_its_clock_and_fault_rate(tmp_path):
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from racing_platform.simulator.cli import simulator; simulator()",
        "serve",
        "--port",
        str(port),
        "--seed",
        "3",
        "--now",
        "2026-03-07T00:00:00Z",
        "--frozen",
        "--fault-rate",
        "1",
    ]
    # The world loads in the background; keep any cache it writes out of the repository's data dir.
    env = {**os.environ, "RACING_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        health = None
        while health is None and time.monotonic() < deadline:
            try:
                health = requests.get(f"{base}/_sim/health", timeout=1).json()
            except requests.exceptions.ConnectionError:
                time.sleep(0.1)
        assert health is not None, "serve did not answer within 10 s"
        assert health["seed"] == 3 and health["status"] in ("loading", "ok", "failed")
        assert health["clock"] == {"now": "2026-03-07T00:00:00.000Z", "mode": "frozen", "offset_seconds": 0.0}
        try:
            status = requests.post(
                base, json={"query": '{ GetMeetingByDate(date: "2026-03-07") { id } }'}, timeout=10
            ).status_code
        except requests.exceptions.RequestException:
            status = "broken"
        assert status in (502, 503, 504, 429, "broken"), "--fault-rate 1 faults every GraphQL request"
    finally:
        process.terminate()
        process.wait(timeout=10)
