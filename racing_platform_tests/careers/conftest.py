"""Careers fixtures: a generated world with careers long enough to page, served over real HTTP, and a
warehouse holding its cards, so `fetch_careers` runs on real DuckDB against the real simulator."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import pytest

from racing_platform.cards.assets import build_cards_and_results, fetch_raw_cards
from racing_platform.partitions import Cell
from racing_platform.simulator.testing import RunningSimulator, running_simulator
from racing_platform.simulator.world.generator import generate_world
from racing_platform.simulator.world.model import World
from racing_platform.source.assets import store_meetings
from racing_platform.source.client import RacingComClient
from racing_platform.source.config import ClientConfig
from racing_platform.warehouse.resource import Warehouse

FIRST, LAST = date(2024, 1, 1), date(2024, 12, 31)
VENUES = ["flemington", "caulfield", "moonee-valley"]


@pytest.fixture(scope="session")
def career_world() -> World:
    """A year at three venues: enough starts for careers of more than one page."""
    return generate_world(5, start=FIRST, end=LAST, venues=VENUES)


@pytest.fixture(scope="session")
def career_sim(career_world) -> RunningSimulator:
    with running_simulator(career_world, now=f"{LAST}T12:00:00Z") as sim:
        yield sim


@dataclass
class Careers:
    """The simulator, a warehouse with the cards of `cells`, and clients whose clock is the simulator's."""

    sim: RunningSimulator
    warehouse: Warehouse
    cells: list[Cell]
    tmp: object

    def client(self, now: str, **overrides) -> RacingComClient:
        """A client at simulator time `now` (its fetched_at), the simulator's clock set there too."""
        self.sim.control.set_clock(now)
        config = ClientConfig.from_env(
            {
                "RACING_COM_GRAPHQL_URL": self.sim.url,
                "RACING_COM_POLITENESS_DB": str(self.tmp / "politeness.sqlite"),
                "RACING_COM_ARCHIVE_PATH": str(self.tmp / "archive.sqlite"),
            }
        ).with_overrides(**overrides)
        moment = pd.Timestamp(now).to_pydatetime()
        return RacingComClient(config, now=lambda: moment)

    def career_requests(self) -> list[dict]:
        return [r for r in self.sim.control.requests_log() if "GetRaceEntryItemByHorsePaged" in str(r)]

    def horses(self, cell: Cell) -> set[str]:
        rows = self.warehouse.query(
            "SELECT horse_code FROM runners WHERE meeting_date = ? AND venue_slug = ? AND NOT scratched",
            [cell.meeting_date, cell.venue_slug],
        )
        return set(rows["horse_code"])


@pytest.fixture(scope="session")
def cards_file(career_sim, tmp_path_factory):
    """A DuckDB file with the cards of every tracked cell of March and September 2024, made once."""
    folder = tmp_path_factory.mktemp("career_cards")
    warehouse = Warehouse(database=str(folder / "racing.duckdb"))
    setup = Careers(career_sim, warehouse, [], folder)
    days = [d for start in (date(2024, 3, 1), date(2024, 9, 1)) for d in _month(start)]
    with setup.client(f"{LAST}T12:00:00Z") as client:
        store_meetings(client, warehouse, days)
        tracked = warehouse.query(
            "SELECT DISTINCT meeting_date, venue_slug FROM meetings WHERE tracked ORDER BY ALL"
        )
        cells = [Cell(r.meeting_date.date(), r.venue_slug) for r in tracked.itertuples()]
        fetch_raw_cards(client, warehouse, cells)
        build_cards_and_results(warehouse, cells)
    return folder / "racing.duckdb", cells


@pytest.fixture
def careers(career_sim, cards_file, tmp_path) -> Careers:
    """A copy of the cards file for this test, and the simulator with no requests logged or faults queued."""
    source, cells = cards_file
    shutil.copy(source, tmp_path / "racing.duckdb")
    career_sim.control.clear_requests()
    yield Careers(career_sim, Warehouse(database=str(tmp_path / "racing.duckdb")), cells, tmp_path)
    career_sim.control.clear_faults()


def _month(start: date) -> list[date]:
    return [start + timedelta(days=i) for i in range(30)]


@pytest.fixture
def at_morning_of() -> Callable[[Cell], str]:
    """Simulator time on a cell's day before its first race (10-11 am in Sydney): a career fetched then
    holds every earlier start, and counts as known up to the cell's date."""
    return lambda cell: f"{cell.meeting_date}T00:00:00Z"
