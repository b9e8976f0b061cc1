"""Six months of a generated world's history in a real DuckDB file, built once per test session.

The history goes through the functions the assets call (store_meetings, fetch_cell over HTTP from the
simulator, parse_cell, fetch_careers, the form-line and feature SQL and its contract), without a Dagster
run per cell:
a run costs seconds and the history has ~90 cells. The win model of the session is trained by the real
`win_model` asset. The simulator serves the history without bookmaker prices: rendering odds is most
of its time per meeting and nothing downstream of history reads them; the race day keeps them.

Tests copy the database (`History.copy_to`) before changing anything.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from racing_platform.cards.fetch import fetch_cell
from racing_platform.cards.tables import parse_cell
from racing_platform.careers.fetch import fetch_careers
from racing_platform.features.assets import features_verdict
from racing_platform.features.queries import form_lines_of, runner_features_of
from racing_platform.model.assets import win_model
from racing_platform.partitions import Cell
from racing_platform.settings import load_settings
from racing_platform.simulator.testing import running_simulator
from racing_platform.simulator.world.generator import generate_world
from racing_platform.simulator.world.model import ODDS_COLUMNS, World
from racing_platform.source.assets import store_meetings
from racing_platform.source.client import RacingComClient
from racing_platform.source.config import ClientConfig
from racing_platform.warehouse.resource import Warehouse

SEED = 3
# Metro meetings carry the most races per meeting, and a horse confined to four tracks meets its form
# again within the window: enough signal for a model in a few hundred races.
VENUES = ["flemington", "caulfield", "moonee-valley", "sandown-hillside"]
FIRST_DAY = date(2024, 8, 1)
RACE_DAY = date(2025, 1, 29)  # not in the history: the predictions tests price it before the jump
SIGNAL_CUTOFF = date(2024, 12, 1)  # the session's win_model trains on races before it
PROVIDER = load_settings().odds_provider  # the market's bookmaker


@dataclass(frozen=True)
class History:
    world: World
    database: Path
    model_version: str

    def copy_to(self, path: Path) -> Warehouse:
        """A private copy of the history's DuckDB file at `path`."""
        shutil.copyfile(self.database, path)
        return Warehouse(database=str(path))


_SESSION: dict[str, History] = {}


def session_history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The session's history (built on first use; tests in several packages share it)."""
    if "history" not in _SESSION:
        _SESSION["history"] = _build(tmp_path_factory.mktemp("generated_history"))
    return _SESSION["history"]


def _build(directory: Path) -> History:
    world = generate_world(SEED, start=FIRST_DAY, end=RACE_DAY, venues=VENUES)
    warehouse = Warehouse(database=str(directory / "history.duckdb"))
    days = sorted(day for day in set(world.meetings["meeting_date"]) if day < RACE_DAY)
    without_odds = dataclasses.replace(
        world, odds_for_race=lambda race_code: pd.DataFrame(columns=ODDS_COLUMNS)
    )
    with running_simulator(without_odds, now=f"{RACE_DAY}T00:00:00+11:00") as sim:
        env = {
            "RACING_COM_GRAPHQL_URL": sim.url,
            "RACING_COM_ARCHIVE_PATH": str(directory / "archive.sqlite"),
            "RACING_COM_POLITENESS_DB": str(directory / "politeness.sqlite"),
            "RACING_COM_RUN_BUDGET": "100000",
        }
        with RacingComClient(ClientConfig.from_env(env)) as client:
            store_meetings(client, warehouse, days)
            cells = _load_cells(client, warehouse, days)
            careers = fetch_careers(warehouse, client, cells)
            assert not [key for key, outcome in careers.items() if outcome.blocked]
    _build_form_lines(warehouse, days)
    _build_features(warehouse, cells)
    with pytest.MonkeyPatch.context() as env_patch, dg.instance_for_test() as instance:
        env_patch.setenv("RACING_DATA_DIR", str(directory / "data"))
        trained = dg.materialize(
            [win_model],
            instance=instance,
            resources={"warehouse": warehouse},
            run_config={"ops": {"win_model": {"config": {"cutoff": SIGNAL_CUTOFF.isoformat()}}}},
        )
    version = trained.get_asset_materialization_events()[0].materialization.metadata["model_version"]
    return History(world=world, database=Path(warehouse.database), model_version=str(version.value))


def _load_cells(client: RacingComClient, warehouse: Warehouse, days: list[date]) -> list[Cell]:
    """Races, runners, odds and results of every tracked cell of `days`, as the card assets store them."""
    meetings = warehouse.query(
        "SELECT * FROM meetings WHERE tracked AND meeting_date BETWEEN ? AND ? ORDER BY meet_code",
        [days[0], days[-1]],
    )
    cells = []
    for (day, venue), cell_meetings in meetings.groupby(["meeting_date", "venue_slug"]):
        cell = Cell(pd.Timestamp(day).date(), venue)
        raw = fetch_cell(client, cell, cell_meetings).raw
        tables = parse_cell(raw, cell_meetings)
        warehouse.replace_slices(
            {
                "races": tables.races,
                "runners": tables.runners,
                "odds": tables.odds,
                "results": tables.results,
            },
            cell.keys_frame(),
        )
        cells.append(cell)
    return cells


def _build_form_lines(warehouse: Warehouse, days: list[date]) -> None:
    with warehouse.connect() as conn:
        for day in days:
            lines = form_lines_of(conn, day)
            warehouse.replace_slices({"form_lines": lines}, pd.DataFrame({"meeting_date": [day]}), conn=conn)


def _build_features(warehouse: Warehouse, cells: list[Cell]) -> None:
    """Each cell's features, written only when they pass the asset's blocking contract (as the asset does)."""
    with warehouse.connect() as conn:
        for cell in cells:
            features = runner_features_of(conn, cell.meeting_date, cell.venue_slug)
            card_rows = conn.execute(
                "SELECT count(*) FROM runners WHERE meeting_date = ? AND venue_slug = ?",
                [cell.meeting_date, cell.venue_slug],
            ).fetchone()[0]
            verdict = features_verdict(features, card_rows)
            assert verdict.passed, f"{cell}: {verdict.problem}"
            warehouse.replace_slices({"runner_features": features}, cell.keys_frame(), conn=conn)
