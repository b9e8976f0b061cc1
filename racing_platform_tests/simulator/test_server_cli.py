"""`racing-platform simulator clock` drives a running server through its control endpoint."""

from __future__ import annotations

import json

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
