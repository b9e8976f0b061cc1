"""A warehouse with hand-made predictions, results, model versions and truth: numbers checkable by hand.

The day 2026-03-07 at flemington (versions: v1 cutoff 2026-03-01, v2 cutoff 2026-03-10):

* R1 (race 7001, 3 runners, saddlecloth 2 wins): blend 0.3/0.5/0.2, stage 1 0.4/0.4/0.2, SP 2.5/2.0/5.0,
  truth 0.2/0.6/0.2; an older snapshot (other probabilities) must be ignored.

Every race jumps on its day at the JUMPS time (table races), after all its snapshots.
* R2 (race 7002, 2 runners, saddlecloth 2 wins): blend 0.8/0.2, stage 1 0.5/0.5, SP 1.5/4.0, truth 0.3/0.7.
* R3 (race 7003, 2 runners ran, only one priced): skipped.

2026-03-05: race 7051 priced by v2, whose training reached 2026-03-09: must never be evaluated.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from racing_platform.warehouse.resource import Warehouse

DAY = date(2026, 3, 7)
LEAKED_DAY = date(2026, 3, 5)
VENUE = "flemington"
JUMPS = {"7001": "01:15", "7002": "01:50", "7003": "02:25", "7051": "01:15"}  # UTC, on the race's day


def hand_frame() -> pd.DataFrame:
    """R1 and R2 as the runner frame the metrics read (market: 1/SP normalised per race)."""
    return pd.DataFrame(
        {
            "race_code": ["7001", "7001", "7001", "7002", "7002"],
            "saddlecloth": [1, 2, 3, 1, 2],
            "won": [False, True, False, False, True],
            "starting_price": [2.5, 2.0, 5.0, 1.5, 4.0],
            "uniform": [1 / 3, 1 / 3, 1 / 3, 0.5, 0.5],
            "stage1": [0.4, 0.4, 0.2, 0.5, 0.5],
            "blend": [0.3, 0.5, 0.2, 0.8, 0.2],
            "market": [
                0.4 / 1.1,
                0.5 / 1.1,
                0.2 / 1.1,
                (1 / 1.5) / (1 / 1.5 + 0.25),
                0.25 / (1 / 1.5 + 0.25),
            ],
            "oracle": [0.2, 0.6, 0.2, 0.3, 0.7],
        }
    )


def _predictions(race, number, runners, version, predicted_at, day=DAY) -> list[dict]:
    """runners: (saddlecloth, stage1, blend)."""
    return [
        {
            "meeting_date": day,
            "venue_slug": VENUE,
            "meet_code": "9001",
            "race_code": race,
            "race_number": number,
            "horse_code": f"H{race}{cloth}",
            "horse_name": f"Horse {race}/{cloth}",
            "saddlecloth": cloth,
            "barrier": cloth,
            "stage1_probability": stage1,
            "win_probability": blend,
            "rank": 1,
            "fair_odds": 1 / blend,
            "market_price": None,
            "market_probability": None,
            "model_version": version,
            "card_hash": f"card-{predicted_at}",
            "predicted_at": pd.Timestamp(predicted_at, tz="UTC"),
        }
        for cloth, stage1, blend in runners
    ]


def _results(race, number, runners, day=DAY) -> list[dict]:
    """runners: (saddlecloth, finish_position, starting_price, scratched)."""
    return [
        {
            "meet_code": "9001",
            "meeting_date": day,
            "venue_slug": VENUE,
            "race_code": race,
            "race_number": number,
            "horse_code": f"H{race}{cloth}",
            "saddlecloth": cloth,
            "scratched": scratched,
            "finish_position": position,
            "starting_price": sp,
        }
        for cloth, position, sp, scratched in runners
    ]


def _races(race, number, day=DAY, start=None) -> list[dict]:
    """The race's row in races: its jump (start, else JUMPS on its day) decides which snapshot counts."""
    return [
        {
            "meet_code": "9001",
            "meeting_date": day,
            "venue_slug": VENUE,
            "race_code": race,
            "race_number": number,
            "start_time_utc": pd.Timestamp(start or f"{day}T{JUMPS[race]}", tz="UTC"),
        }
    ]


def _insert(conn, table: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    conn.register("_rows", frame)
    conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    conn.unregister("_rows")


def fill(warehouse: Warehouse) -> None:
    with warehouse.connect() as conn:
        _insert(
            conn,
            "model_versions",
            [
                {
                    "version": version,
                    "cutoff": cutoff,
                    "trained_at": pd.Timestamp(trained, tz="UTC"),
                    "params": "{}",
                    "training_rows": 100,
                    "training_races": 10,
                    "metrics": "{}",
                    "path": f"/nowhere/{version}.cbm",
                }
                for version, cutoff, trained in [
                    ("v1", date(2026, 3, 1), "2026-03-01T01:00"),
                    ("v2", date(2026, 3, 10), "2026-03-10T01:00"),
                ]
            ],
        )
        _insert(
            conn,
            "predictions",
            _predictions("7001", 1, [(1, 0.2, 0.1), (2, 0.2, 0.1), (3, 0.6, 0.8)], "v1", "2026-03-06T08:00")
            + _predictions("7001", 1, [(1, 0.4, 0.3), (2, 0.4, 0.5), (3, 0.2, 0.2)], "v1", "2026-03-06T22:00")
            + _predictions("7002", 2, [(1, 0.5, 0.8), (2, 0.5, 0.2)], "v1", "2026-03-06T22:00")
            + _predictions("7003", 3, [(1, 0.5, 1.0)], "v1", "2026-03-06T22:00")
            + _predictions("7051", 1, [(1, 0.5, 0.5), (2, 0.5, 0.5)], "v2", "2026-03-04T22:00", LEAKED_DAY),
        )
        _insert(
            conn,
            "races",
            _races("7001", 1) + _races("7002", 2) + _races("7003", 3) + _races("7051", 1, LEAKED_DAY),
        )
        _insert(
            conn,
            "results",
            _results("7001", 1, [(1, 2, 2.5, False), (2, 1, 2.0, False), (3, 3, 5.0, False)])
            + _results("7002", 2, [(1, 2, 1.5, False), (2, 1, 4.0, False)])
            + _results("7003", 3, [(1, 1, 2.0, False), (2, 2, 3.0, False)])
            + _results("7051", 1, [(1, 1, 2.0, False), (2, 2, 2.0, False)], LEAKED_DAY),
        )
        _insert(
            conn,
            "simulator_truth",
            [
                {
                    "meeting_date": DAY,
                    "venue_slug": VENUE,
                    "race_code": race,
                    "horse_code": f"H{race}{cloth}",
                    "saddlecloth": cloth,
                    "true_win_prob": p,
                }
                for race, cloth, p in [
                    ("7001", 1, 0.2),
                    ("7001", 2, 0.6),
                    ("7001", 3, 0.2),
                    ("7002", 1, 0.3),
                    ("7002", 2, 0.7),
                ]
            ],
        )


@pytest.fixture
def filled(tmp_path, monkeypatch) -> Warehouse:
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path / "data"))
    warehouse = Warehouse(database=str(tmp_path / "racing.duckdb"))
    fill(warehouse)
    return warehouse
