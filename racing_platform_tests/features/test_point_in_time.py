"""Runner features are point-in-time: nothing dated on or after the race day, nothing from the race itself.

The leakage tests run the feature SQL on six months of a generated world's history (generated_history.py);
the exact-value test runs it on hand-built rows whose features can be worked out by hand.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from racing_platform.features.queries import form_lines_of, runner_features_of
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.features.columns import (
    CARD_COLUMNS,
    CONNECTION_COLUMNS,
    FALSE_WITHOUT_FORM,
    KEY_COLUMNS,
    NULL_WITHOUT_FORM,
    ZERO_WITHOUT_FORM,
)

SQL_DIR = Path(__file__).with_name("sql")
DAY = date(2024, 11, 9)  # a Flemington meeting in the middle of the history
NEXT_DAY = date(2024, 11, 13)  # the next meeting: its features learn from DAY's results


def features_of(warehouse: Warehouse, day: date) -> pd.DataFrame:
    venues = warehouse.query(
        "SELECT DISTINCT venue_slug FROM runners WHERE meeting_date = ? ORDER BY 1", [day]
    )
    assert len(venues), f"no card stored for {day}"
    with warehouse.connect() as conn:
        return pd.concat(
            [runner_features_of(conn, day, venue) for venue in venues["venue_slug"]], ignore_index=True
        )


def rebuild_form_lines(warehouse: Warehouse, since: date) -> None:
    """Form lines of every day from `since`, rebuilt from the (altered) results as form_lines does."""
    days = warehouse.query("SELECT DISTINCT meeting_date FROM results WHERE meeting_date >= ?", [since])
    with warehouse.connect() as conn:
        for day in pd.to_datetime(days["meeting_date"]).dt.date:
            keys = pd.DataFrame({"meeting_date": [day]})
            warehouse.replace_slices({"form_lines": form_lines_of(conn, day)}, keys, conn=conn)


def run_sql(warehouse: Warehouse, name: str, day: date) -> None:
    """Run the statements of sql/<name>.sql with $day bound."""
    statements = (SQL_DIR / f"{name}.sql").read_text().split(";\n")
    with warehouse.connect() as conn:
        for statement in filter(str.strip, statements):
            conn.execute(statement, {"day": day})


def delete_from_day(warehouse: Warehouse) -> None:
    with warehouse.connect() as conn:
        for table in ("results", "form_lines"):
            conn.execute(f"DELETE FROM {table} WHERE meeting_date >= ?", [DAY])
        conn.execute("DELETE FROM horse_starts WHERE race_date >= ?", [DAY])


def rewrite_from_day(warehouse: Warehouse) -> None:
    run_sql(warehouse, "outcomes_from_day_rewritten", DAY)
    rebuild_form_lines(warehouse, DAY)
    run_sql(warehouse, "form_lines_from_day_rewritten", DAY)


@pytest.mark.parametrize("change", [delete_from_day, rewrite_from_day], ids=["deleted", "rewritten"])
def test_results_and_form_lines_on_or_after_the_day_never_reach_its_features(history, tmp_path, change):
    warehouse = history.copy_to(tmp_path / "racing.duckdb")
    before, next_before = features_of(warehouse, DAY), features_of(warehouse, NEXT_DAY)
    assert (before["career_starts"] > 0).sum() > 50  # horses with history: there is something to leak into
    later_starts = warehouse.query("SELECT count(*) AS n FROM horse_starts WHERE race_date >= ?", [DAY])
    assert later_starts["n"].iloc[0] > 100  # careers fetched after the day hold its races and later ones

    change(warehouse)

    pd.testing.assert_frame_equal(features_of(warehouse, DAY), before)
    # The change is material: the next meeting's features do learn from DAY's results.
    assert not features_of(warehouse, NEXT_DAY).equals(next_before)


def test_a_race_s_own_outcome_never_reaches_its_features(history, tmp_path):
    warehouse = history.copy_to(tmp_path / "racing.duckdb")
    before, next_before = features_of(warehouse, DAY), features_of(warehouse, NEXT_DAY)
    run_sql(warehouse, "own_outcome_rewritten", DAY)
    rebuild_form_lines(warehouse, DAY)
    pd.testing.assert_frame_equal(features_of(warehouse, DAY), before)
    assert not features_of(warehouse, NEXT_DAY).equals(next_before)


def test_every_column_is_classified_as_key_card_form_or_connections(history):
    features = features_of(Warehouse(database=str(history.database)), DAY)
    classified = (
        KEY_COLUMNS
        + CARD_COLUMNS
        + CONNECTION_COLUMNS
        + NULL_WITHOUT_FORM
        + ZERO_WITHOUT_FORM
        + FALSE_WITHOUT_FORM
    )
    assert sorted(features.columns) == sorted(classified)


@pytest.fixture(scope="module")
def all_features(history) -> pd.DataFrame:
    return Warehouse(database=str(history.database)).query("SELECT * FROM runner_features")


@pytest.mark.parametrize("column", NULL_WITHOUT_FORM + ZERO_WITHOUT_FORM + FALSE_WITHOUT_FORM)
def test_a_first_starter_has_no_form(all_features, column):
    debut = all_features["career_starts"] == 0
    seasoned = all_features.loc[~debut, column]
    first_starters = all_features.loc[debut, column]
    assert debut.sum() > 100
    if column in NULL_WITHOUT_FORM:
        assert first_starters.isna().all()
        assert seasoned.notna().any()
    else:
        assert (first_starters == 0).all()
        assert (seasoned != 0).any()


# ---- exact values on hand-built rows ----------------------------------------------------------------

RACE_DAY = date(2026, 3, 7)
CARD = [  # saddlecloth, horse, barrier, weight, jockey, trainer, scratched
    (1, "A", 3, 58.5, "J1", "T1", False),  # three starts, the last 77 days ago
    (2, "B", 1, 56.0, "J2", "T2", False),  # first start
    (3, "S", 2, 57.0, "J3", "T1", False),  # second up: 20 days after a 137-day spell
    (4, "X", None, 55.0, "J1", "T2", True),  # scratched
]
FORM = [  # day, venue, distance, class, going, field, horse, weight, jockey, trainer, finish, margin
    ("2025-09-01", "caulfield", 1200, "BM 64", "Good", 8, "A", 57.0, "J1", "T1", 1, 0.0),
    ("2025-09-20", "flemington", 1400, "BM 70", "Good", 10, "A", 58.0, "J2", "T1", 4, 2.5),
    ("2025-12-20", "flemington", 1200, "BM 78", "Soft", 12, "A", 59.0, "J1", "T1", 2, 0.5),
    ("2026-03-07", "caulfield", 1200, "BM 70", "Good", 8, "A", 58.0, "J1", "T1", 1, 0.0),  # that day
    ("2026-03-14", "flemington", 1200, "BM 70", "Good", 8, "A", 58.0, "J1", "T1", 1, 0.0),  # later
    ("2025-10-01", "sandown-hillside", 1600, "BM 64", "Good", 9, "S", 56.0, "J3", "T1", 5, 3.0),
    ("2026-02-15", "flemington", 1200, "BM 70", "Good", 10, "S", 57.5, "J3", "T1", 3, 1.0),
    ("2025-03-07", "flemington", 1200, "BM 70", "Good", 10, "Y", 55.0, "J1", "T2", 5, 4.0),  # 365 days
    ("2025-03-06", "flemington", 1200, "BM 70", "Good", 10, "Y", 55.0, "J1", "T2", 1, 0.0),  # 366 days
]


DROPPED_FOR_CAREERS = [
    "venue_slug",
    "meet_code",
    "start_time_utc",
    "won",
    "placed",
    "jockey_code",
    "trainer_code",
]


def insert(warehouse: Warehouse, table: str, rows: pd.DataFrame) -> None:
    with warehouse.connect() as conn:
        conn.register("rows_frame", rows)
        conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows_frame")


@pytest.fixture
def hand_built(warehouse) -> pd.DataFrame:
    cell = {"meeting_date": RACE_DAY, "venue_slug": "flemington", "meet_code": "M1"}
    insert(
        warehouse,
        "races",
        pd.DataFrame(
            [
                {
                    **cell,
                    "race_code": "R1",
                    "race_number": 1,
                    "distance_m": 1200,
                    "race_class": "BM 70",
                    "venue_code": "flemington",
                    "track_condition": "Good",
                    "track_rating": 4,
                    "start_time_utc": pd.Timestamp("2026-03-07T04:00:00Z"),
                }
            ]
        ),
    )
    runners = pd.DataFrame(
        CARD,
        columns=[
            "saddlecloth",
            "horse_code",
            "barrier",
            "weight_kg",
            "jockey_code",
            "trainer_code",
            "scratched",
        ],
    )
    insert(
        warehouse,
        "runners",
        runners.assign(**cell, race_code="R1", race_number=1, horse_name=runners["horse_code"]),
    )
    lines = pd.DataFrame(
        FORM,
        columns=[
            "meeting_date",
            "venue_slug",
            "distance_m",
            "race_class",
            "track_condition",
            "field_size",
            "horse_code",
            "weight_kg",
            "jockey_code",
            "trainer_code",
            "finish_position",
            "margin_lengths",
        ],
    )
    lines["meeting_date"] = pd.to_datetime(lines["meeting_date"]).dt.date
    lines["race_code"] = [f"H{n}" for n in range(len(lines))]
    lines["meet_code"] = lines["race_code"]
    lines["start_time_utc"] = pd.to_datetime(lines["meeting_date"]).dt.tz_localize("UTC") + pd.Timedelta(
        hours=2
    )
    lines["won"] = lines["finish_position"] == 1
    lines["placed"] = lines["finish_position"] <= 3
    insert(warehouse, "form_lines", lines)
    # The same starts as the horses' racing.com careers (horse form), at $4.00 each.
    careers = lines.rename(columns={"meeting_date": "race_date", "field_size": "runners_count"})
    careers = careers.assign(
        entry_id=lines["race_code"],
        venue_code=lines["venue_slug"],
        scratched=False,
        starting_price=4.0,
        fetched_at=pd.Timestamp("2026-03-20T00:00:00Z"),
    )
    insert(warehouse, "horse_starts", careers[[c for c in careers.columns if c not in DROPPED_FOR_CAREERS]])
    with warehouse.connect() as conn:
        conn.execute("UPDATE form_lines SET class_rank = class_rank(race_class)")
        conn.execute("UPDATE horse_starts SET class_rank = class_rank(race_class)")
        return runner_features_of(conn, RACE_DAY, "flemington").set_index("horse_code")


def test_a_horse_with_known_history_gets_the_values_worked_out_by_hand(hand_built):
    a = hand_built.loc["A"]
    assert a["career_starts"] == 3
    assert a["norm_finish_last1"] == pytest.approx(2 / 12)  # 2nd of 12 at its last start
    assert a["norm_finish_last3"] == pytest.approx(1 / 8)
    assert a["avg_norm_finish_last5"] == pytest.approx((1 / 8 + 4 / 10 + 2 / 12) / 3)
    assert a["margin_last2"] == 2.5
    assert a["days_since_last_run"] == 77  # 2025-12-20 -> 2026-03-07
    assert a["first_up"] and not a["second_up"]
    assert a["career_win_rate"] == pytest.approx(1 / 3)
    assert a["career_place_rate"] == pytest.approx(2 / 3)
    assert a["class_change"] == pytest.approx(7.0 - 7.8)
    assert a["weight_change_kg"] == pytest.approx(58.5 - 59.0)
    assert (a["distance_starts"], a["track_starts"], a["going_starts"]) == (3, 2, 2)
    assert a["track_place_rate"] == pytest.approx(0.5)
    # J1 in the 365 days before: A won, A second, Y fifth on the 365th day (not Y's win on the 366th).
    assert a["jockey_rides_365d"] == 3
    assert a["jockey_win_rate_365d"] == pytest.approx(1 / 3)
    assert a["trainer_runners_365d"] == 5  # T1: A three times, S twice
    assert a["trainer_win_rate_365d"] == pytest.approx(1 / 5)
    assert a["field_size"] == 3 and a["barrier_rel"] == pytest.approx(1.0)  # the scratching does not count


def test_ratings_are_worked_out_from_lengths_class_and_trip_and_placed_in_the_field(hand_built):
    a, s = hand_built.loc["A"], hand_built.loc["S"]
    # A's figures, oldest first: BM64 won (3 x 6.4); BM70 4th by 2.5 L over 1400 m (21.0 - 2.5);
    # BM78 2nd by 0.5 L over 1200 m (23.4 - 0.5 x sqrt(1400 / 1200)). Its runs that day and later: none.
    figures = [19.2, 21.0 - 2.5, 23.4 - 0.5 * (1400 / 1200) ** 0.5]
    assert a["rating_last1"] == pytest.approx(figures[-1])
    assert a["rating_avg3"] == pytest.approx(sum(figures) / 3)
    assert a["rating_best5"] == pytest.approx(max(figures))
    assert a["octaves_from_best_run"] == pytest.approx(0.0)  # its best run was over today's 1200 m
    assert a["market_rating_last1"] == pytest.approx(math.log(12 / 4.0))  # $4.00 in a field of 12
    # S: BM64 5th by 3 L over 1600 m, BM70 3rd by 1 L over 1200 m.
    s_figures = [19.2 - 3.0 * (1400 / 1600) ** 0.5, 21.0 - 1.0 * (1400 / 1200) ** 0.5]
    assert s["rating_avg3"] == pytest.approx(sum(s_figures) / 2)
    # In the field (B has no rating, X is scratched): A rates above S.
    assert (a["rating_rank"], s["rating_rank"]) == (1, 2)
    assert a["rating_gap_to_top"] == 0.0
    assert s["rating_gap_to_top"] == pytest.approx(sum(s_figures) / 2 - sum(figures) / 3)
    assert pd.isna(hand_built.loc["B", "rating_rank"]) and pd.isna(hand_built.loc["X", "rating_rank"])


def test_a_second_up_runner_and_a_first_starter(hand_built):
    s, b = hand_built.loc["S"], hand_built.loc["B"]
    assert s["days_since_last_run"] == 20 and s["second_up"] and not s["first_up"]
    assert s["norm_finish_last1"] == pytest.approx(3 / 10)
    assert b["career_starts"] == 0 and pd.isna(b["days_since_last_run"]) and pd.isna(b["career_win_rate"])
    assert b["jockey_rides_365d"] == 1 and b["jockey_win_rate_365d"] == 0.0
    assert len(hand_built) == 4 and bool(hand_built.loc["X", "scratched"])
