"""`runner_features` over ~1M history rows vs a bare DuckDB scan of the same rows.

A synthetic `form_lines` table (vectorised numpy: four years of races at the registry's venues, ~12
starts per horse over a two-year career, Zipf-weighted jockeys and trainers) and a card of several
cells on the day after it go into a real DuckDB file with the warehouse schema. Each cell's real
features/sql/runner_features.sql is timed against `count(*)`/`sum(...)` over every form line before
that day: the scan any point-in-time feature needs at least once.
"""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources

import numpy as np
import pandas as pd

from racing_platform.benchmarks.timing import best_of, ratio, scratch_env, stopwatch, table
from racing_platform.features.queries import runner_features_of
from racing_platform.source.venues import load_venues
from racing_platform.warehouse.resource import Warehouse

CARD_DAY = date(2026, 3, 7)
HISTORY_DAYS = 4 * 365
STARTS_PER_HORSE = 12
CAREER_SHARE = 0.5  # of the history a horse's starts are spread over
JOCKEYS, TRAINERS = 1_200, 2_000
CLASSES = ["Maiden", "Class 1", "Class 3", "BM 58", "BM 64", "BM 72", "BM 84", "Listed", "Group 3", "Group 1"]
CONDITIONS = ["Good", "Soft", "Heavy", "Firm", "Synthetic"]
CONDITION_WEIGHTS = [0.55, 0.25, 0.08, 0.04, 0.08]
DISTANCES = [1000, 1100, 1200, 1300, 1400, 1600, 1800, 2000, 2400, 3200]


def bench_sql(name: str) -> str:
    return resources.files("racing_platform.benchmarks").joinpath(f"sql/{name}.sql").read_text()


def synthetic_form_lines(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """About `rows` form lines ending the day before CARD_DAY, one block of rows per race."""
    fields = rng.integers(6, 17, size=rows // 6)
    fields = fields[: int(np.searchsorted(np.cumsum(fields), rows)) + 1]
    races = len(fields)
    day_offset = np.sort(rng.integers(1, HISTORY_DAYS + 1, size=races))[::-1]
    slugs = np.array([venue.slug for venue in load_venues().simulated_venues])
    venue = rng.integers(0, len(slugs), size=races)
    meeting_date = pd.Timestamp(CARD_DAY) - pd.to_timedelta(day_offset, unit="D")
    meet_id = pd.factorize(pd.Series(day_offset) * 1000 + venue)[0]
    start = pd.DatetimeIndex(meeting_date).tz_localize("UTC") + pd.to_timedelta(
        rng.integers(0, 480, size=races), unit="min"
    )
    race_of_row = np.repeat(np.arange(races), fields)
    n = len(race_of_row)
    finish = np.arange(n) - np.repeat(np.cumsum(fields) - fields, fields) + 1
    # A horse races over CAREER_SHARE of the history: rows map to horses through a sliding window in time.
    horses = max(1, n // STARTS_PER_HORSE)
    age = 1.0 - day_offset[race_of_row] / HISTORY_DAYS
    horse = ((age * (1 - CAREER_SHARE) + rng.random(n) * CAREER_SHARE) * horses).astype(np.int64)
    return pd.DataFrame(
        {
            "meeting_date": meeting_date.date[race_of_row],
            "venue_slug": slugs[venue][race_of_row],
            "meet_code": (1_000_000 + meet_id[race_of_row]).astype(str),
            "race_code": (3_000_000 + race_of_row).astype(str),
            "start_time_utc": start[race_of_row],
            "distance_m": rng.choice(DISTANCES, size=races)[race_of_row],
            "race_class": rng.choice(CLASSES, size=races)[race_of_row],
            "class_rank": rng.uniform(1, 13, size=races)[race_of_row],
            "track_condition": rng.choice(CONDITIONS, p=CONDITION_WEIGHTS, size=races)[race_of_row],
            "track_rating": rng.integers(1, 11, size=races)[race_of_row],
            "field_size": fields[race_of_row],
            "horse_code": horse_codes(horse),
            "barrier": rng.integers(1, 17, size=n),
            "weight_kg": rng.uniform(53.0, 61.0, size=n).round(1),
            "claim_kg": np.where(rng.random(n) < 0.15, 2.0, 0.0),
            "jockey_code": zipf_codes(rng, JOCKEYS, n, "J"),
            "trainer_code": zipf_codes(rng, TRAINERS, n, "T"),
            "finish_position": finish,
            "margin_lengths": np.where(finish == 1, 0.0, rng.gamma(2.0, 1.5, size=n)).round(2),
            "starting_price": np.exp(rng.normal(2.2, 0.8, size=n)).round(2),
            "won": finish == 1,
            "placed": finish <= 3,
        }
    )


def horse_codes(index: np.ndarray) -> np.ndarray:
    return (5_000_000 + index).astype(str)


def zipf_codes(rng: np.random.Generator, people: int, n: int, prefix: str) -> np.ndarray:
    """Codes of `people` riders or stables, a few busy and a long tail (weights 1/rank^0.8)."""
    weights = 1.0 / np.arange(1, people + 1) ** 0.8
    return np.char.add(prefix, rng.choice(people, size=n, p=weights / weights.sum()).astype(str))


def card(lines: pd.DataFrame, rng: np.random.Generator, cells: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Races and runners of `cells` meetings on CARD_DAY: 8 races of 12, mostly horses with recent form."""
    horses = int(lines["horse_code"].astype(int).max()) - 5_000_000 + 1
    venues = lines["venue_slug"].drop_duplicates().head(cells).to_numpy()
    race_rows, runner_rows = [], []
    for cell, venue in enumerate(venues):
        meet_code = str(2_000_000 + cell)
        for number in range(1, 9):
            race_code = f"{meet_code}-{number}"
            race_rows.append(
                {
                    "meet_code": meet_code,
                    "meeting_date": CARD_DAY,
                    "venue_slug": venue,
                    "race_code": race_code,
                    "race_number": number,
                    "race_class": str(rng.choice(CLASSES)),
                    "distance_m": int(rng.choice(DISTANCES)),
                    "track_condition": "Good",
                    "track_rating": 4,
                    "start_time_utc": pd.Timestamp(CARD_DAY, tz="UTC") + timedelta(minutes=35 * number),
                }
            )
            # 1 in 20 is a debutant (a code beyond every horse with form).
            picks = rng.integers(int(0.6 * horses), int(1.05 * horses), size=12)
            for saddlecloth, horse in enumerate(picks, start=1):
                runner_rows.append(
                    {
                        "meet_code": meet_code,
                        "meeting_date": CARD_DAY,
                        "venue_slug": venue,
                        "race_code": race_code,
                        "race_number": number,
                        "horse_code": str(5_000_000 + horse),
                        "horse_name": f"Horse {horse}",
                        "saddlecloth": saddlecloth,
                        "barrier": saddlecloth,
                        "weight_kg": 57.0,
                        "claim_kg": 0.0,
                        "jockey_code": str(zipf_codes(rng, JOCKEYS, 1, "J")[0]),
                        "trainer_code": str(zipf_codes(rng, TRAINERS, 1, "T")[0]),
                        "scratched": False,
                    }
                )
    return pd.DataFrame(race_rows), pd.DataFrame(runner_rows)


def run(*, rows: int, cells: int = 8, repeat: int = 3, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with scratch_env("features") as scratch:
        with stopwatch() as built:
            lines = synthetic_form_lines(rows, rng)
            races, runners = card(lines, rng, cells)
        warehouse = Warehouse(database=str(scratch / "features.duckdb"))
        with warehouse.connect() as conn, stopwatch() as loaded:
            for name, frame in (("form_lines", lines), ("races", races), ("runners", runners)):
                conn.register("_frame", frame)
                conn.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _frame")
                conn.unregister("_frame")
        with warehouse.connect() as conn:
            stats = conn.execute(bench_sql("history_stats")).fetchone()
            scan_sql = bench_sql("history_scan")
            measured = []
            for venue in races["venue_slug"].unique():
                features = runner_features_of(conn, CARD_DAY, venue)
                query = best_of(lambda v=venue: runner_features_of(conn, CARD_DAY, v), repeat)
                scan = best_of(lambda: conn.execute(scan_sql, {"day": CARD_DAY}).fetchall(), repeat)
                with_form = int((features["career_starts"] > 0).sum())
                measured.append((venue, len(features), with_form, query, scan))
    table(
        "Synthetic history",
        ["form lines", "horses", "jockeys", "trainers", "races", "build (numpy) s", "load into DuckDB s"],
        [[*stats[:4], stats[4], built[0], loaded[0]]],
    )
    rows_out = [
        [venue, runners_, with_form, f"{1000 * query:.1f}", f"{1000 * scan:.1f}", ratio(query, scan)]
        for venue, runners_, with_form, query, scan in measured
    ]
    query_total = sum(m[3] for m in measured)
    scan_total = sum(m[4] for m in measured)
    runners_total = sum(m[1] for m in measured)
    rows_out.append(
        [
            f"**{len(measured)} cells**",
            runners_total,
            sum(m[2] for m in measured),
            f"{1000 * query_total:.1f}",
            f"{1000 * scan_total:.1f}",
            ratio(query_total, scan_total),
        ]
    )
    table(
        f"runner_features.sql per cell over {stats[0]:,} form lines vs a bare scan (best of {repeat}); "
        f"{runners_total / query_total:.0f} runners/s, {len(measured) / query_total:.1f} cells/s",
        ["cell", "runners", "with form", "features ms", "scan ms", "features / scan"],
        rows_out,
    )
