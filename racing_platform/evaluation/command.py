"""`racing-platform evaluate`: a world's seasons through the platform's own functions, walk-forward models,
and the out-of-time table.

The history is built by the functions the assets call (meetings, cards and results, careers, form,
features) into a DuckDB file of its own per world, reused when it is already complete; the model
versions are trained walk-forward over the held-out season (each only on races before its cutoff);
the held-out season is priced by `price_cells` (each day by the newest version trained before it) and
scored by `evaluate_range`, which refuses any race a version trained on.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from racing_platform.cards.assets import build_cards_and_results, fetch_raw_cards
from racing_platform.careers.fetch import fetch_careers
from racing_platform.evaluation.assets import RangeEvaluation, evaluate_range
from racing_platform.evaluation.metrics import metrics_by_source, on_common_races
from racing_platform.evaluation.truth import capture_truth
from racing_platform.features.assets import build_form_lines, build_runner_features, judge_form_book
from racing_platform.lib.backfill import scoped_cells
from racing_platform.lib.cell_runs import Outcome
from racing_platform.model.walk_forward import cutoffs_every, train_walk_forward
from racing_platform.partitions import Cell
from racing_platform.paths import data_dir
from racing_platform.predictions.assets import price_cells
from racing_platform.settings import Scope, load_settings
from racing_platform.source.assets import store_meetings
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse

SEASON_START = (8, 1)  # Australian racing seasons run 1 August - 31 July
CELLS_PER_CALL = 64


@dataclass(frozen=True)
class World:
    seed: int = 0
    market_noise: float | None = None
    flb_beta: float | None = None

    @property
    def name(self) -> str:
        knobs = [f"noise{self.market_noise:g}"] if self.market_noise is not None else []
        knobs += [f"flb{self.flb_beta:g}"] if self.flb_beta is not None else []
        return "-".join([f"seed{self.seed}", *knobs])


def seasons_before(today: date, seasons: int) -> tuple[date, date, date]:
    """(history start, held-out season start, held-out season end): the last complete season is held out."""
    if seasons < 2:
        raise ValueError("--seasons must be at least 2: the held-out season and one to train on")
    end_year = today.year if (today.month, today.day) > (7, 31) else today.year - 1
    held_out_end = date(end_year, 7, 31)
    held_out_start = date(end_year - 1, *SEASON_START)
    return date(end_year - seasons, *SEASON_START), held_out_start, held_out_end


@dataclass(frozen=True)
class History:
    warehouse: Warehouse
    held_out: list[Cell]
    held_out_start: date
    held_out_end: date


def run_evaluation(
    world: World,
    *,
    seasons: int,
    every_days: int,
    scope: Scope,
    today: date,
    say: Callable[[str], None],
) -> RangeEvaluation:
    history = prepare_history(world, seasons=seasons, scope=scope, today=today, say=say)
    warehouse = history.warehouse
    log = logging.getLogger("racing_platform.evaluate")
    provider = load_settings().odds_provider
    cutoffs = cutoffs_every(history.held_out_start, history.held_out_end, every_days)
    started = time.perf_counter()
    versions = train_walk_forward(warehouse, cutoffs, provider, log, reuse=True)
    took = time.perf_counter() - started
    say(f"  {len(versions)} walk-forward versions ({every_days}-day steps) in {took:.0f} s")
    held_out = history.held_out
    _timed(say, f"pricing {len(held_out)} held-out cells", lambda: price_cells(warehouse, held_out, provider))
    return evaluate_range(warehouse, history.held_out_start, history.held_out_end)


def headline(result: RangeEvaluation) -> dict[str, dict]:
    """Every source's metrics on the same races: those where all of them price every runner."""
    return metrics_by_source(on_common_races(result.evaluation.rows))


def prepare_history(
    world: World, *, seasons: int, scope: Scope, today: date, say: Callable[[str], None]
) -> History:
    """The world's seasons built (or reused) in its own folder, and the held-out season's truth stored."""
    from racing_platform.simulator.testing import simulator_process

    first, held_out_start, held_out_end = seasons_before(today, seasons)
    folder = data_dir() / "evaluate" / world.name
    folder.mkdir(parents=True, exist_ok=True)
    now = f"{held_out_end + timedelta(days=1)}T12:00:00+10:00"
    say(f"world {world.name}: history {first}..{held_out_end}, held out {held_out_start}..{held_out_end}")
    with simulator_process(
        world.seed, now=now, market_noise=world.market_noise, flb_beta=world.flb_beta
    ) as sim:
        sim.control.wait_until_ready()
        # From here on the world's own folder: its DuckDB file, model files, archive and request budget.
        os.environ["RACING_DATA_DIR"] = str(folder)
        os.environ["RACING_COM_GRAPHQL_URL"] = sim.url
        warehouse = Warehouse(database=str(folder / "racing.duckdb"))
        cells = _build_history(warehouse, sim.url, first, held_out_end, scope, say)
        held_out = [c for c in cells if c.meeting_date >= held_out_start]
        _timed(
            say, "truth (simulator only, for scoring)", lambda: capture_truth(warehouse, held_out, sim.url)
        )
    return History(warehouse, held_out, held_out_start, held_out_end)


def _build_history(
    warehouse: Warehouse, url: str, first: date, last: date, scope: Scope, say: Callable[[str], None]
) -> list[Cell]:
    """Every tracked cell of [first, last] in `scope` through the assets' functions. What is stored is
    kept: meetings of days listed, cards and results of cells with runners, careers fetched after the
    races (fetch_careers is incremental); form lines and features are rebuilt (a minute). Each run of
    cells has a client session of its own, as a backfill's range run has (its request budget)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    source = RacingComResource(graphql_url=url)
    listed = set(warehouse.query(_STORED_DAYS, [first, last])["meeting_date"].dt.date)
    unlisted = [day for day in days if day not in listed]
    if unlisted:
        with source.session("evaluate: meetings") as client:
            _timed(
                say, f"meetings of {len(unlisted)} days", lambda: store_meetings(client, warehouse, unlisted)
            )
    cells = [Cell(day, venue) for day, venue in scoped_cells(warehouse, scope, first, last)]
    stored = warehouse.query(_STORED_CELLS, [first, last]).itertuples(index=False)
    with_cards = {Cell(day.date(), venue) for day, venue in stored}
    missing = _venue_runs([cell for cell in cells if cell not in with_cards])
    runs = _venue_runs(cells)

    def each_run(work: Callable, of: list[list[Cell]]) -> list:
        results = []
        for run in of:
            with source.session(f"evaluate: {run[0]}..{run[-1].meeting_date}") as client:
                results.append(work(client, run))
        return results

    if missing:
        _timed(
            say,
            f"cards and results of {sum(map(len, missing))} of {len(cells)} cells",
            lambda: each_run(
                lambda client, run: (
                    fetch_raw_cards(client, warehouse, run),
                    build_cards_and_results(warehouse, run),
                ),
                missing,
            ),
        )
    _timed(
        say,
        "careers of their horses",
        lambda: each_run(lambda c, run: fetch_careers(warehouse, c, run), runs),
    )
    _timed(
        say,
        "form lines and book",
        lambda: (build_form_lines(warehouse, days), judge_form_book(warehouse, days)),
    )
    _timed(say, "runner features", lambda: [build_runner_features(warehouse, run) for run in runs])
    return cells


_STORED_DAYS = "SELECT DISTINCT meeting_date FROM meeting_listings WHERE meeting_date BETWEEN ? AND ?"
_STORED_CELLS = "SELECT DISTINCT meeting_date, venue_slug FROM runners WHERE meeting_date BETWEEN ? AND ?"


def _venue_runs(cells: list[Cell]) -> list[list[Cell]]:
    """Cells by venue in date order, in calls of up to CELLS_PER_CALL (as a backfill's range runs)."""
    ordered = sorted(cells, key=lambda c: (c.venue_slug, c.meeting_date))
    runs = []
    for _, venue_cells in groupby(ordered, key=lambda c: c.venue_slug):
        venue_cells = list(venue_cells)
        runs += [venue_cells[i : i + CELLS_PER_CALL] for i in range(0, len(venue_cells), CELLS_PER_CALL)]
    return runs


def _timed(say: Callable[[str], None], what: str, work: Callable[[], object]) -> None:
    """Run a stage, refuse to go on past a blocked partition (its problems named), say how long it took."""
    started = time.perf_counter()
    blocked = [f"{key}: {o.problems()}" for key, o in _outcomes(work()) if o.blocked]
    if blocked:
        raise RuntimeError(f"{what}: {len(blocked)} partition(s) blocked; first: {blocked[0]}")
    say(f"  {what}: {time.perf_counter() - started:.0f} s")


def _outcomes(result: object) -> list[tuple[str, Outcome]]:
    """The (partition, Outcome) pairs in a stage function's return (or in a list or tuple of them)."""
    if isinstance(result, (list, tuple)):
        return [pair for part in result for pair in _outcomes(part)]
    if not isinstance(result, dict):
        return []
    pairs = []
    for key, value in result.items():
        for outcome in value.values() if isinstance(value, dict) else [value]:
            if isinstance(outcome, Outcome):
                pairs.append((key, outcome))
    return pairs
