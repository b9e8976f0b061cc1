"""Shared helpers and fixtures for the client, politeness, archive and discovery tests.

Test modules import the `*_fixture` functions they use (the source test folder's conftest belongs to the
parser tests); each is registered under the name without the suffix. Nothing here fakes the server:
simulator-backed fixtures start the real simulator over HTTP.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from racing_platform.source.client import RacingComClient
from racing_platform.source.config import ClientConfig, SecretStr
from racing_platform.source.politeness import Politeness
from racing_platform_tests.paths import RACING_COM_FIXTURES

if TYPE_CHECKING:  # the simulator and pandas load lazily: spawned worker processes import this module
    from racing_platform.simulator.testing import SimulatorControl
    from racing_platform.simulator.world.model import World

FIXTURES_DIR = RACING_COM_FIXTURES
DATA_DIR = Path(__file__).resolve().parent / "data"
TEST_API_KEY = "da2-testkeythatmustneverleak0123456789"


class FakeClock:
    """Wall clock that only moves when slept on, so rate-limit arithmetic is exact."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingSleep:
    """Injected retry sleep: records the requested waits and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@dataclass(frozen=True)
class SampleMeeting:
    """A resulted meeting of the simulator's world, and an instant after it when everything is visible."""

    date: str
    meet_code: str
    race_numbers: tuple[int, ...]
    now: datetime


@dataclass(frozen=True)
class LiveSimulator:
    url: str
    control: SimulatorControl
    meeting: SampleMeeting


@functools.lru_cache(maxsize=1)
def sample_world() -> World:
    """The shared hand-built test world (racing_platform_tests.worlds), built once per session."""
    from racing_platform_tests.worlds import build_world

    return build_world()


def pick_meeting(world: World) -> SampleMeeting:
    """The first meeting that raced (not a trial, not abandoned) with at least three races."""
    import pandas as pd

    meetings = world.meetings[~world.meetings["is_trial"] & ~world.meetings["abandoned"]]
    races = world.races.groupby("meet_code")
    for meeting in meetings.sort_values(["meeting_date", "meet_code"]).itertuples():
        if meeting.meet_code not in races.groups:
            continue
        its_races = races.get_group(meeting.meet_code)
        if len(its_races) >= 3:
            last_start = its_races["start_time_utc"].max()
            return SampleMeeting(
                date=meeting.meeting_date.isoformat(),
                meet_code=str(meeting.meet_code),
                race_numbers=tuple(sorted(int(n) for n in its_races["race_number"])),
                now=(last_start + pd.Timedelta(days=1)).to_pydatetime(),
            )
    raise AssertionError("the simulator's world has no resulted meeting with three races")


@contextlib.contextmanager
def live_simulator() -> Iterator[LiveSimulator]:
    from racing_platform.simulator.testing import running_simulator

    world = sample_world()
    meeting = pick_meeting(world)
    with running_simulator(world, now=meeting.now) as sim:
        yield LiveSimulator(url=sim.url, control=sim.control, meeting=meeting)


@pytest.fixture(scope="module", name="simulator_module")
def simulator_module_fixture() -> Iterator[LiveSimulator]:
    with live_simulator() as sim:
        yield sim


@pytest.fixture(name="sim")
def sim_fixture(simulator_module: LiveSimulator) -> LiveSimulator:
    """The module's simulator with no queued faults and an empty request log."""
    simulator_module.control.clear_faults()
    simulator_module.control.clear_requests()
    return simulator_module


@pytest.fixture(name="make_client")
def make_client_fixture(tmp_path: Path, sim: LiveSimulator) -> Iterator[Callable[..., RacingComClient]]:
    """Build clients against the simulator with the test key, state files in tmp_path and no real waits.

    Keyword arguments override `ClientConfig` fields; `run_id`, `sleep` and `politeness` go to the client.
    """
    clients: list[RacingComClient] = []

    def make(
        *,
        run_id: str = "test-run",
        sleep: Callable[[float], None] | None = None,
        politeness: Politeness | None = None,
        **overrides: Any,
    ) -> RacingComClient:
        config = ClientConfig(
            url=sim.url,
            api_key=SecretStr(TEST_API_KEY),
            politeness_db=tmp_path / "politeness.sqlite",
            archive_path=tmp_path / "archive.sqlite",
        ).with_overrides(**overrides)
        client = RacingComClient(
            config, run_id=run_id, sleep=sleep or RecordingSleep(), politeness=politeness
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def fetch_in_another_process(
    url: str, config_fields: dict[str, Any], calls: list[tuple[str, dict]], start_together: Barrier
) -> None:
    """Process target: a fresh client with real waits fetches `calls` once every process is ready."""
    config = ClientConfig(url=url, api_key=SecretStr(TEST_API_KEY)).with_overrides(**config_fields)
    with RacingComClient(config, run_id="multi-process") as client:
        start_together.wait(timeout=60)
        for operation, variables in calls:
            client.execute(operation, variables)


def max_requests_in_any_window(times: list[float], window_s: float = 1.0) -> int:
    """Most request timestamps inside any closed interval of `window_s` seconds."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, stamp in enumerate(ordered):
        while stamp - ordered[first] > window_s:
            first += 1
        most = max(most, last - first + 1)
    return most
