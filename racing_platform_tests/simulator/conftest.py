"""The simulator's tests run over the hand-built world of racing_platform_tests/worlds.py."""

from __future__ import annotations

import pytest

from racing_platform.simulator.testing import running_simulator
from racing_platform.simulator.world.model import World
from racing_platform_tests.worlds import RACE_MORNING, build_world


@pytest.fixture(scope="session")
def small_world() -> World:
    return build_world()


@pytest.fixture(scope="session")
def simulator(small_world):
    """One server for the whole session; tests set the clock they need and clear faults afterwards."""
    with running_simulator(small_world, now=RACE_MORNING) as sim:
        yield sim


@pytest.fixture()
def sim(simulator):
    simulator.control.clear_faults()
    simulator.control.clear_requests()
    simulator.control.set_clock(RACE_MORNING)
    yield simulator
    simulator.control.clear_faults()


def floats(node) -> list[float]:
    """Every float in a JSON answer: truth values must not hide among them under another name."""
    if isinstance(node, float):
        return [node]
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        return [f for item in node for f in floats(item)]
    return []
