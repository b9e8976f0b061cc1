"""`runner_features` over ~1M history rows vs a bare DuckDB scan of the same rows, at 1x, 2x and 4x.

A synthetic `form_lines` table (vectorised numpy: four years of races at the registry's venues, ~12
starts per horse over a two-year career, Zipf-weighted jockeys and trainers) and cards inside it go
into a real DuckDB file with the warehouse schema: one venue's meetings a week apart, the latest on
the day after the history ends (the shape of a backfill run of `runner_features`, which holds the venue
and ranges over the dates), and other venues' meetings on that last day (a run holding the date).
The real features/sql/runner_features.sql is timed for the venue's cells in one
`runner_features_of_cells` call (B2: what the asset calls), for the last day's venues in one call, and
for the last cell alone (`runner_features_of`), against `count(*)`/`sum(...)` over every form line
before the last day: the scan any point-in-time feature needs at least once
(benchmarks/sql/history_scan.sql), and the same scan also reading the horse, jockey and trainer codes
the features find their rows by (history_scan_codes.sql), which no such query can skip. Times are
process CPU time (DuckDB's threads included), best of interleaved rounds: on a shared machine other
work inflates wall time but hardly CPU time. Wall times are printed beside them.
The history is built at a quarter, a half and all of the asked rows to show how the cost grows (B5).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

import numpy as np
import pandas as pd

from racing_platform.benchmarks.timing import scratch_env, stopwatch, table
from racing_platform.features.queries import runner_features_of, runner_features_of_cells
from racing_platform.partitions import Cell
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


def card(
    lines: pd.DataFrame, rng: np.random.Generator, cells: int, day: date = CARD_DAY
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Races and runners of the first `cells` venues' meetings on `day`: 8 races of 12, mostly horses
    with recent form."""
    horses = int(lines["horse_code"].astype(int).max()) - 5_000_000 + 1
    venues = lines["venue_slug"].drop_duplicates().head(cells).to_numpy()
    race_rows, runner_rows = [], []
    for cell, venue in enumerate(venues):
        meet_code = f"{day:%Y%m%d}{cell:02d}"
        for number in range(1, 9):
            race_code = f"{meet_code}-{number}"
            race_rows.append(
                {
                    "meet_code": meet_code,
                    "meeting_date": day,
                    "venue_slug": venue,
                    "race_code": race_code,
                    "race_number": number,
                    "race_class": str(rng.choice(CLASSES)),
                    "distance_m": int(rng.choice(DISTANCES)),
                    "track_condition": "Good",
                    "track_rating": 4,
                    "start_time_utc": pd.Timestamp(day, tz="UTC") + timedelta(minutes=35 * number),
                }
            )
            # 1 in 20 is a debutant (a code beyond every horse with form); no horse runs twice in a race.
            picks = rng.choice(np.arange(int(0.6 * horses), int(1.05 * horses)), size=12, replace=False)
            for saddlecloth, horse in enumerate(picks, start=1):
                runner_rows.append(
                    {
                        "meet_code": meet_code,
                        "meeting_date": day,
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


CELLS = 8  # the venue's meetings in B2, and the venues of the last day
MEETING_EVERY = timedelta(days=7)
SCALES = (1, 2, 4)  # B5: the history at a quarter, a half and all of the asked rows
B2_DEFINITION = (
    "B2 = CPU ms per cell of {cells} cells of one venue a week apart (the last on the day after the "
    "history ends) computed in one runner_features_of_cells call, / CPU ms of one bare scan of every "
    "form line before that last day (benchmarks/sql/history_scan.sql); best of {repeat} interleaved rounds."
)


@dataclass(frozen=True)
class Timing:
    """Best-of CPU and wall seconds of one work."""

    cpu_s: float
    wall_s: float


@dataclass(frozen=True)
class Measured:
    """One history size: what it holds and the best-of timings of each work on it."""

    stats: tuple  # form lines, horses, jockeys, trainers, races (history_stats.sql)
    built_s: float
    loaded_s: float
    cells: int
    runners_with_form: float  # share of the venue's runners with at least one earlier start
    best: dict[str, Timing]  # scan, codes_scan, season (one venue's cells), day (one day's venues), alone

    def per_cell(self, work: str) -> Timing:
        took = self.best[work]
        cells = 1 if work == "alone" else self.cells
        return Timing(took.cpu_s / cells, took.wall_s / cells)

    def x_scan(self, work: str, *, wall: bool = False) -> float:
        took, scan = self.per_cell(work), self.best["scan"]
        return took.wall_s / scan.wall_s if wall else took.cpu_s / scan.cpu_s


def run(*, rows: int, cells: int = CELLS, repeat: int = 7, seed: int = 0) -> dict[str, dict]:
    """Print the figures at a quarter, a half and all of `rows` form lines; return them for `--json`."""
    print(B2_DEFINITION.format(cells=cells, repeat=repeat), flush=True)
    sizes = [measure(rows * scale // SCALES[-1], cells, repeat, seed) for scale in SCALES]
    table(
        "Synthetic history",
        [
            "form lines",
            "horses",
            "jockeys",
            "trainers",
            "races",
            "venue's runners with form",
            "build (numpy) s",
            "load into DuckDB s",
        ],
        [[*m.stats, f"{m.runners_with_form:.0%}", m.built_s, m.loaded_s] for m in sizes],
    )
    works = [
        ("season", f"{cells} cells of a venue, weekly, one call"),
        ("day", f"{cells} venues of a day, one call"),
        ("alone", "one cell alone"),
    ]
    table(
        f"runner_features.sql per cell vs a bare scan: CPU ms (wall ms), best of {repeat}",
        [
            "form lines",
            "scan",
            "scan + codes",
            *[label for _, label in works],
            *[f"{w} / scan" for w, _ in works],
        ],
        [
            [
                f"{m.stats[0]:,}",
                _ms(m.best["scan"]),
                _ms(m.best["codes_scan"]),
                *[_ms(m.per_cell(work)) for work, _ in works],
                *[f"{m.x_scan(work):.2f}x ({m.x_scan(work, wall=True):.2f}x)" for work, _ in works],
            ]
            for m in sizes
        ],
    )
    return figures(sizes)


def figures(sizes: list[Measured]) -> dict[str, dict]:
    """B2 at the largest history, B5 at each: per cell of a venue's meetings computed together (the
    range runs' path), against one bare scan of the history before the last of them."""
    full, smallest = sizes[-1], sizes[0]
    lines, linear = f"{full.stats[0]:,} form lines", SCALES[-1] / SCALES[0]
    return {
        "B2": {
            "value": round(full.x_scan("season"), 2),
            "unit": f"x bare scan (CPU), per cell of {full.cells} weekly cells of a venue together, {lines}",
            "target": 2.0,
        },
        "B2_single_cell": {
            "value": round(full.x_scan("alone"), 2),
            "unit": f"x bare scan (CPU), one cell per query, {lines}",
            "target": 2.0,
        },
        "B5_features": {
            "value": round(full.per_cell("season").cpu_s / smallest.per_cell("season").cpu_s, 2),
            "unit": f"CPU ms per cell at {SCALES[-1]}x the history / at 1x (linear = {linear:g})",
            "target": linear,
            "points": [
                {
                    "form_lines": m.stats[0],
                    "cpu_ms_per_cell": round(1000 * m.per_cell("season").cpu_s, 2),
                    "cpu_ms_alone": round(1000 * m.per_cell("alone").cpu_s, 2),
                    "cpu_ms_scan": round(1000 * m.best["scan"].cpu_s, 2),
                    "x_scan": round(m.x_scan("season"), 2),
                    "x_scan_day": round(m.x_scan("day"), 2),
                    "x_scan_alone": round(m.x_scan("alone"), 2),
                }
                for m in sizes
            ],
        },
    }


def measure(rows: int, cells: int, repeat: int, seed: int) -> Measured:
    rng = np.random.default_rng(seed)
    season_days = [CARD_DAY - k * MEETING_EVERY for k in reversed(range(cells))]
    with scratch_env("features") as scratch:
        with stopwatch() as built:
            lines = synthetic_form_lines(rows, rng)
            # The last day's venues (the season's venue among them), then the venue's earlier meetings.
            cards = [card(lines, rng, cells, CARD_DAY)] + [
                card(lines, rng, 1, day) for day in season_days[:-1]
            ]
        warehouse = Warehouse(database=str(scratch / "features.duckdb"))
        with warehouse.connect() as conn, stopwatch() as loaded:
            conn.execute("SET enable_progress_bar = false")  # a bar per insert would bury the tables
            tables = {
                "form_lines": lines,
                "races": pd.concat([races for races, _ in cards]),
                "runners": pd.concat([runners for _, runners in cards]),
            }
            for name, frame in tables.items():
                conn.register("_frame", frame)
                conn.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _frame")
                conn.unregister("_frame")
        with warehouse.connect() as conn:
            stats = conn.execute(bench_sql("history_stats")).fetchone()
            venue = str(cards[0][0]["venue_slug"].iloc[0])  # card() takes the venues in order
            season = [Cell(day, venue) for day in season_days]
            day = [Cell(CARD_DAY, str(v)) for v in cards[0][0]["venue_slug"].unique()]
            scan, codes_scan = bench_sql("history_scan"), bench_sql("history_scan_codes")
            best = best_interleaved(
                {
                    "scan": lambda: conn.execute(scan, {"day": CARD_DAY}).fetchall(),
                    "codes_scan": lambda: conn.execute(codes_scan, {"day": CARD_DAY}).fetchall(),
                    "season": lambda: runner_features_of_cells(conn, season),
                    "day": lambda: runner_features_of_cells(conn, day),
                    "alone": lambda: runner_features_of(conn, CARD_DAY, venue),
                },
                repeat,
            )
            features = pd.concat(runner_features_of_cells(conn, season).values())
    with_form = float((features["career_starts"] > 0).mean())
    return Measured(tuple(stats), built[0], loaded[0], len(season), with_form, best)


def best_interleaved(works: dict[str, Callable[[], object]], repeat: int) -> dict[str, Timing]:
    """Each work's fastest of `repeat` rounds, CPU and wall apart, every round running them all in
    turn: a burst of load from elsewhere on a shared machine then slows a query and its baseline alike."""
    cpu: dict[str, list[float]] = {name: [] for name in works}
    wall: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(repeat):
        for name, work in works.items():
            began_cpu, began_wall = time.process_time(), time.perf_counter()
            work()
            cpu[name].append(time.process_time() - began_cpu)
            wall[name].append(time.perf_counter() - began_wall)
    return {name: Timing(min(cpu[name]), min(wall[name])) for name in works}


def _ms(took: Timing) -> str:
    return f"{1000 * took.cpu_s:.1f} ({1000 * took.wall_s:.1f})"
