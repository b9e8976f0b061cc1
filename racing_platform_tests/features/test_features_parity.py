"""The set-based runner_features.sql answers every cell of a call as it answers the cell alone, and its
card and connection columns are exactly what the query it replaced gave (issue 9).

The reference is the old query, kept in sql/runner_features_reference.sql, run one cell at a time.
The new query answers every cell of a call at once, whatever their days (a backfill run holds the
venue and ranges over the dates). Both run on the six months of a generated world's history (real
parsing, real form lines) and on four years of the benchmark's synthetic history, where jockeys' and
trainers' 365-day windows are cut short by the history's start on some days and by its own length on
others, and cards sit inside the history so later form lines exist that neither query may read.
A horse's form now comes from its racing.com career (horse_starts, issue 10), not from form lines as
in the reference: those columns are pinned by hand-worked values in test_point_in_time.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from racing_platform.benchmarks.features import CARD_DAY, card, synthetic_form_lines
from racing_platform.features.queries import runner_features_of, runner_features_of_cells
from racing_platform.partitions import Cell
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.features.columns import CARD_COLUMNS, CONNECTION_COLUMNS, KEY_COLUMNS

REFERENCE = (Path(__file__).with_name("sql") / "runner_features_reference.sql").read_text()
CLOSE = {"check_exact": False, "rtol": 1e-9, "atol": 1e-9}  # sums may add up in another order
# What the reference computes from the same sources as the query: the card and form lines (the card
# columns added with careers are not in it).
ADDED_CARD_COLUMNS = ["weight_vs_field", "handicap_rating", "handicap_gap_to_top"]
SHARED = [c for c in KEY_COLUMNS + CARD_COLUMNS + CONNECTION_COLUMNS if c not in ADDED_CARD_COLUMNS]


def reference_features(conn: duckdb.DuckDBPyConnection, cell: Cell) -> pd.DataFrame:
    """The old query's rows, with the ties of its order (a cell with two meetings has two race 1s)
    settled by race code, as the new query settles them."""
    reference = conn.execute(REFERENCE, {"day": cell.meeting_date, "venue": cell.venue_slug}).df()
    return reference.sort_values(["race_number", "saddlecloth", "race_code"], kind="stable").reset_index(
        drop=True
    )


def cells_with_cards(conn: duckdb.DuckDBPyConnection) -> list[Cell]:
    stored = conn.execute("SELECT DISTINCT meeting_date, venue_slug FROM runners ORDER BY ALL").fetchall()
    return [Cell(day, venue) for day, venue in stored]


def assert_same_as_reference(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every cell alone and all together alike, and against the reference; returns the reference rows."""
    cells = cells_with_cards(conn)
    together = runner_features_of_cells(conn, cells)
    expected = []
    for cell in cells:
        reference = reference_features(conn, cell)
        alone = runner_features_of(conn, cell.meeting_date, cell.venue_slug)
        pd.testing.assert_frame_equal(alone[SHARED], reference[SHARED], **CLOSE)
        # One query per day types each column once for all its cells: Int64 may stand for int64.
        pd.testing.assert_frame_equal(together[cell], alone, check_dtype=False, **CLOSE)
        expected.append(reference)
    return pd.concat(expected, ignore_index=True)


def assert_has_every_kind_of_runner(features: pd.DataFrame) -> None:
    """The comparison covers seasoned horses and debutants, busy and idle jockeys and trainers."""
    assert (features["career_starts"] >= 5).sum() > 50
    assert (features["career_starts"] == 0).sum() > 5
    for column in ("jockey_rides_365d", "trainer_runners_365d"):
        assert features[column].nunique() > 10


def test_every_cell_of_the_generated_history_matches_the_reference(history):
    with Warehouse(database=str(history.database)).connect() as conn:
        features = assert_same_as_reference(conn)
    assert len(features) > 1000
    assert_has_every_kind_of_runner(features)


CARD_DAYS = [CARD_DAY - timedelta(days=1100), CARD_DAY - timedelta(days=400), CARD_DAY]
# One venue every five weeks from the history's first months to its end, as a backfill run holds it.
SEASON_DAYS = [CARD_DAY - timedelta(days=1451 - 35 * k) for k in range(42)]


@pytest.fixture(scope="module")
def synthetic_history(tmp_path_factory) -> Warehouse:
    """Four years of the benchmark's form lines, cards of three venues on three days inside them, and
    cards of one of those venues on SEASON_DAYS."""
    rng = np.random.default_rng(7)
    # A synthetic horse can run twice at one start time, where "its last run" has no answer.
    lines = synthetic_form_lines(60_000, rng).drop_duplicates(["horse_code", "start_time_utc"])
    warehouse = Warehouse(database=str(tmp_path_factory.mktemp("synthetic") / "racing.duckdb"))
    cards = [card(lines, rng, cells=3, day=day) for day in CARD_DAYS]
    cards += [card(lines, rng, cells=1, day=day) for day in SEASON_DAYS]
    tables = {
        "form_lines": lines,
        "races": pd.concat([races for races, _ in cards]),
        "runners": pd.concat([runners for _, runners in cards]),
    }
    with warehouse.connect() as conn:
        for table, rows in tables.items():
            conn.register("rows_frame", rows)
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows_frame")
            conn.unregister("rows_frame")
    return warehouse


def test_every_cell_of_a_four_year_synthetic_history_matches_the_reference(synthetic_history):
    with synthetic_history.connect() as conn:
        later_lines = conn.execute("SELECT count(*) FROM form_lines WHERE meeting_date >= ?", [CARD_DAYS[0]])
        assert later_lines.fetchone()[0] > 10_000  # what the early cards must not read
        features = assert_same_as_reference(conn)
    assert sorted(features["meeting_date"].dt.date.unique()) == sorted(CARD_DAYS + SEASON_DAYS)
    assert_has_every_kind_of_runner(features)


class CountingConnection:
    """A connection that counts the statements run through it."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn, self.statements = conn, 0

    def execute(self, *args, **kwargs) -> duckdb.DuckDBPyConnection:
        self.statements += 1
        return self.conn.execute(*args, **kwargs)


@pytest.mark.parametrize(("days_per_query", "queries"), [(128, 1), (16, 3)])
def test_a_venues_season_is_one_query_with_each_days_own_history(
    synthetic_history, monkeypatch, days_per_query, queries
):
    """A range run's cells of one venue over many days: one query per `days_per_query` days, each
    cell as the reference has it."""
    monkeypatch.setattr("racing_platform.features.queries.DAYS_PER_QUERY", days_per_query)
    with synthetic_history.connect() as conn:
        venue = cells_with_cards(conn)[0].venue_slug
        season = [Cell(day, venue) for day in SEASON_DAYS]
        counting = CountingConnection(conn)
        features = runner_features_of_cells(counting, season)
        assert counting.statements == queries
        for cell in season:
            pd.testing.assert_frame_equal(
                features[cell][SHARED], reference_features(conn, cell)[SHARED], check_dtype=False, **CLOSE
            )
    # The first cells' windows are cut short by the history's start, the last ones' are full.
    first, last = (features[cell]["jockey_rides_365d"].mean() for cell in (season[0], season[-1]))
    assert first < last / 10


def test_cells_without_a_card_get_an_empty_frame(synthetic_history):
    with synthetic_history.connect() as conn:
        no_card = Cell(date(2020, 1, 1), "flemington")
        with_card = cells_with_cards(conn)[0]
        features = runner_features_of_cells(conn, [no_card, with_card])
    assert features[no_card].empty
    assert list(features[no_card].columns) == list(features[with_card].columns)
    assert len(features[with_card]) == 96
