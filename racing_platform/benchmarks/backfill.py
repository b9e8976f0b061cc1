"""A backfill through every stage as Dagster runs vs the same transforms called directly in one process.

Dagster path: `lib/backfill.py` (`backfill_days`, `backfill_cells`, `run_assets`) on a fresh instance
and DuckDB file, exactly the demo's sequence: meetings, cards, form lines, form book, features, the
win model, the last day's prices. Direct path: the functions the assets call (`list_meetings`,
`fetch_cell`, `parse_cell`, the contracts, `Warehouse.replace_slices`, the features SQL, training,
pricing) on fresh DuckDB files, with no run, event, check or metadata bookkeeping, once before and once
after the Dagster path. Every pass gets its own simulator over the same world, so none is served from
caches another warmed.

Where the difference goes: the instance's run and step records split each stage's Dagster time into
launching runs, runs outside their steps, and steps beyond the direct transforms. Range runs over cells
without a meeting (the asset does next to nothing there) at several lengths are fitted as
`seconds = a + b x (cells x assets)`: `a` is a run's fixed cost, `b` the bookkeeping per cell and asset
(the constants lib/range_plan.py plans with); `runs x a + cell-assets x b` is set against the difference.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
import numpy as np
import pandas as pd

from racing_platform import contracts
from racing_platform.benchmarks.timing import ratio, scratch_env, stopwatch, table
from racing_platform.cards.assets import tracked_meetings
from racing_platform.cards.fetch import fetch_cell
from racing_platform.cards.tables import parse_cell
from racing_platform.demo import CARD_ASSETS, scoped_cells
from racing_platform.features.assets import features_verdict
from racing_platform.features.queries import form_lines_of, runner_features_of, sql
from racing_platform.lib.backfill import backfill_cells, backfill_days, run_assets
from racing_platform.lib.dagster_home import ensure_dagster_home
from racing_platform.lib.range_plan import CELL_ASSET_OVERHEAD_S, RUN_OVERHEAD_S, plan_range_runs
from racing_platform.lib.validation import contract_failures
from racing_platform.model.assets import HOLDOUT_DAYS, MIN_TRAINING_RACES
from racing_platform.model.registry import save_version, version_for
from racing_platform.model.training import (
    DEFAULT_PARAMS,
    fit,
    fit_until_holdout_stops_improving,
    log_loss,
    training_rows,
    win_probabilities,
)
from racing_platform.partitions import Cell
from racing_platform.predictions.assets import predictions_verdict
from racing_platform.predictions.pricing import price_card
from racing_platform.resources import resources_for
from racing_platform.settings import Scope, load_settings
from racing_platform.simulator.testing import running_simulator
from racing_platform.simulator.world.generator import generate_world
from racing_platform.source.assets import list_meetings
from racing_platform.source.client import RacingComClient
from racing_platform.source.config import ClientConfig
from racing_platform.warehouse.resource import Warehouse

DEFAULT_LAST_DAY = date(2026, 3, 7)
EMPTY_RANGE_CELLS = (1, 8, 32)
EMPTY_DAYS_LISTED = max(EMPTY_RANGE_CELLS)


@dataclass
class Stage:
    name: str
    runs: int
    cell_assets: int  # partitions x assets the Dagster runs materialized (empty bridged cells included)
    dagster_s: float = 0.0  # wall time of backfill_days / backfill_cells / run_assets
    in_runs_s: float = 0.0  # the runs' own start..end (run records)
    in_steps_s: float = 0.0  # their steps' start..end (step stats): the asset bodies and their events
    direct_s: float = 0.0  # mean of the two direct passes


@dataclass
class Window:
    first: date
    last: date
    scope: Scope

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def simulator_now(self) -> str:
        """The evening after the last day: every race of the window is resulted."""
        return f"{self.last + timedelta(days=1)}T08:00:00Z"


def run(*, days: int, last: date = DEFAULT_LAST_DAY, scope: Scope | None = None, seed: int = 0) -> None:
    window = Window(last - timedelta(days=days - 1), last, scope or load_settings().demo_scope)
    with stopwatch() as generated:
        world = generate_world(seed, start=window.first, end=window.last)
    print(
        f"world: seed {seed}, {window.first}..{window.last}, {len(world.meetings)} meetings "
        f"(all states), generated in {generated[0]:.1f} s",
        flush=True,
    )
    # direct, Dagster, direct: load drifting on the shared machine biases neither side.
    _say_load("direct path (1 of 2) starts")
    before, before_parts = direct_path(world, window)
    _say_load("Dagster path starts")
    stages, fixed = dagster_path(world, window)
    _say_load("direct path (2 of 2) starts")
    after, after_parts = direct_path(world, window)
    _say_load("all paths done")
    print(f"direct passes: {sum(before.values()):.1f} s and {sum(after.values()):.1f} s")
    for name, stage in stages.items():
        stage.direct_s = (before[name] + after[name]) / 2
    card_parts = {part: (before_parts[part] + after_parts[part]) / 2 for part in before_parts}
    report(window, stages, fixed, card_parts)


def _say_load(moment: str) -> None:
    """Load averages as the paths change over: the two paths run one after the other on a shared machine."""
    one, five, _ = os.getloadavg()
    print(f"{moment}: load average {one:.2f} (1 min), {five:.2f} (5 min)", flush=True)


# ------------------------------------------------------------------------------------------ Dagster


def dagster_path(world, window: Window) -> tuple[dict[str, Stage], tuple[float, float, list]]:
    with scratch_env("backfill-dagster"), running_simulator(world, now=window.simulator_now) as sim:
        os.environ["RACING_COM_GRAPHQL_URL"] = sim.url
        try:
            ensure_dagster_home()
            from racing_platform.definitions import ASSETS

            defs = dg.Definitions(assets=ASSETS, resources=resources_for(), executor=dg.in_process_executor)
            warehouse: Warehouse = defs.resources["warehouse"]
            with dg.DagsterInstance.get() as instance:
                stages = _dagster_stages(defs, instance, warehouse, window)
                fixed = _bookkeeping_fit(defs, instance, window)
        finally:
            del os.environ["RACING_COM_GRAPHQL_URL"]
    return stages, fixed


def _dagster_stages(defs, instance, warehouse: Warehouse, window: Window) -> dict[str, Stage]:
    first, last = window.first, window.last
    stages: dict[str, Stage] = {}

    def days_stage(name: str) -> None:
        known = _run_ids(instance)
        report = backfill_days(defs, instance, [name], first, last)
        _check(name, report.failed)
        stages[name] = _timed_stage(instance, known, Stage(name, report.runs, window.days, report.seconds))

    def cells_stage(name: str, assets: list[str], cells) -> None:
        known = _run_ids(instance)
        plan = plan_range_runs(cells, assets_per_cell=len(assets))
        report = backfill_cells(defs, instance, assets, cells)
        _check(name, report.failed)
        cell_assets = sum(r.days for r in plan) * len(assets)
        stages[name] = _timed_stage(instance, known, Stage(name, report.runs, cell_assets, report.seconds))

    days_stage("meetings")
    history = scoped_cells(warehouse, window.scope, first, last)
    cells_stage("cards", CARD_ASSETS, history)
    days_stage("form_lines")
    days_stage("form_book")
    cells_stage("runner_features", ["runner_features"], history)
    known = _run_ids(instance)
    with stopwatch() as took:
        trained = run_assets(
            defs,
            instance,
            ["win_model"],
            run_config={"ops": {"win_model": {"config": {"cutoff": str(pricing_day(history))}}}},
        )
    _check("win_model", [] if trained.success else ["win_model"])
    stages["win_model"] = _timed_stage(instance, known, Stage("win_model", 1, 1, took[0]))
    cells_stage("predictions", ["predictions"], [c for c in history if c[0] == pricing_day(history)])
    return stages


def pricing_day(cells: list[tuple[date, str]]) -> date:
    """The window's last racing day in scope plays "today": the model trains on the days before it."""
    return max(day for day, _ in cells)


def _run_ids(instance) -> set[str]:
    return {run.run_id for run in instance.get_runs()}


def _timed_stage(instance, known: set[str], stage: Stage) -> Stage:
    """Split the stage's wall time with the instance's own records: inside its runs, inside their steps."""
    new = list(_run_ids(instance) - known)
    if not new:
        return stage
    records = instance.get_run_records(dg.RunsFilter(run_ids=new))
    stage.in_runs_s = sum(r.end_time - r.start_time for r in records if r.start_time and r.end_time)
    stage.in_steps_s = sum(
        step.end_time - step.start_time
        for run_id in new
        for step in instance.get_run_step_stats(run_id)
        if step.start_time and step.end_time
    )
    return stage


def _check(stage: str, failed: list[str]) -> None:
    if failed:
        raise RuntimeError(f"backfill benchmark: {stage} failed for {', '.join(failed[:5])}")


def _bookkeeping_fit(defs, instance, window: Window) -> tuple[float, float, list]:
    """Fit `seconds = a + b x cell-assets` on range runs over cells without a meeting."""
    first_empty = window.first - timedelta(days=EMPTY_DAYS_LISTED)
    listed = backfill_days(defs, instance, ["meetings"], first_empty, window.first - timedelta(days=1))
    _check("meetings (empty days)", listed.failed)
    venue = sorted(instance.get_dynamic_partitions("venue"))[0]
    points = []
    for assets in (["runner_features"], CARD_ASSETS):
        for cells in EMPTY_RANGE_CELLS:
            keys = (f"{first_empty}|{venue}", f"{first_empty + timedelta(days=cells - 1)}|{venue}")
            best = float("inf")
            for _ in range(2):
                with stopwatch() as took:
                    result = run_assets(defs, instance, assets, partition_range=keys)
                _check(f"{'+'.join(assets)} over empty cells", [] if result.success else [keys[0]])
                best = min(best, took[0])
            points.append((len(assets), cells, best))
    design = np.array([[1.0, n_assets * cells] for n_assets, cells, _ in points])
    seconds = np.array([s for _, _, s in points])
    (run_s, cell_asset_s), *_ = np.linalg.lstsq(design, seconds, rcond=None)
    return float(run_s), float(cell_asset_s), points


# ------------------------------------------------------------------------------------------- direct


def direct_path(world, window: Window) -> tuple[dict[str, float], dict[str, float]]:
    """The assets' transforms in order, in this process, on a fresh DuckDB file and simulator.

    Returns seconds per stage, and where the cards stage's time went (fetch, parse, contracts, write)."""
    seconds: dict[str, float] = {}
    card_parts: dict[str, float] = defaultdict(float)
    with scratch_env("backfill-direct") as scratch, running_simulator(world, now=window.simulator_now) as sim:
        warehouse = Warehouse(database=str(scratch / "direct.duckdb"))
        config = ClientConfig.from_env({**os.environ, "RACING_COM_GRAPHQL_URL": sim.url})
        with RacingComClient(config, run_id="bench-direct") as client:

            def timed(name: str, work: Callable[[], None]) -> None:
                with stopwatch() as took:
                    work()
                seconds[name] = took[0]

            days = [window.first + timedelta(days=i) for i in range(window.days)]
            timed("meetings", lambda: _meetings(client, warehouse, days))
            cells = [Cell(d, v) for d, v in scoped_cells(warehouse, window.scope, window.first, window.last)]
            timed("cards", lambda: [_cards(client, warehouse, cell, card_parts) for cell in cells])
            timed("form_lines", lambda: _form_lines(warehouse, days))
            timed("form_book", lambda: _form_book(warehouse, window.last))
            timed("runner_features", lambda: [_runner_features(warehouse, cell) for cell in cells])
            today = pricing_day([(cell.meeting_date, cell.venue_slug) for cell in cells])
            timed("win_model", lambda: _win_model(warehouse, today))
            provider = load_settings().odds_provider
            todays = [cell for cell in cells if cell.meeting_date == today]
            timed("predictions", lambda: [_predictions(warehouse, cell, provider) for cell in todays])
    return seconds, card_parts


def _meetings(client, warehouse: Warehouse, days: list[date]) -> None:
    frames = [list_meetings(client, day) for day in days]
    listed = pd.concat(frames, ignore_index=True)
    if contract_failures(contracts.MeetingsSchema, listed) is not None:
        raise RuntimeError("direct path: meetings broke their contract")
    listings = pd.DataFrame(
        {
            "meeting_date": days,
            "listed": [len(f) for f in frames],
            "tracked": [int(f["tracked"].sum()) for f in frames],
            "fetched_at": pd.Timestamp.now(tz="UTC"),
        }
    )
    warehouse.replace_slices(
        {"meetings": listed, "meeting_listings": listings}, pd.DataFrame({"meeting_date": days})
    )


def _cards(client, warehouse: Warehouse, cell: Cell, parts: dict[str, float]) -> None:
    """raw_race_cards, race_cards and race_results of one cell (each asset re-reads and re-parses)."""
    with adding(parts, "fetch (HTTP + simulator)"):
        fetched = fetch_cell(client, cell, tracked_meetings(warehouse, cell))
    with adding(parts, "write"):
        warehouse.replace_slices(
            {"raw_race_cards": fetched.raw, "fetch_failures": fetched.failures},
            cell.keys_frame(),
            allow_empty=frozenset({"fetch_failures"}),
        )
    with adding(parts, "read + parse (twice: race_cards, race_results)"):
        tables = _parsed(warehouse, cell)
    with adding(parts, "contracts"):
        for table_name, schema, frame in (
            ("races", contracts.RacesSchema, tables.races),
            ("runners", contracts.RunnersSchema, tables.runners),
            ("odds", contracts.OddsSchema, tables.odds),
        ):
            _contract(table_name, schema, frame)
    with adding(parts, "write"):
        warehouse.replace_slices(
            {"races": tables.races, "runners": tables.runners, "odds": tables.odds}, cell.keys_frame()
        )
    with adding(parts, "read + parse (twice: race_cards, race_results)"):
        results = _parsed(warehouse, cell).results
    with adding(parts, "contracts"):
        _contract("results", contracts.ResultsSchema, results)
    with adding(parts, "write"):
        warehouse.replace_slices({"results": results}, cell.keys_frame())


@contextlib.contextmanager
def adding(parts: dict[str, float], name: str) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        parts[name] += time.perf_counter() - began


def _parsed(warehouse: Warehouse, cell: Cell):
    meetings = tracked_meetings(warehouse, cell)
    raw = warehouse.query(
        "SELECT * FROM raw_race_cards WHERE meeting_date = ? AND venue_slug = ? ORDER BY last_fetched_at",
        [cell.meeting_date, cell.venue_slug],
    )
    return parse_cell(raw, meetings)


def _contract(name: str, schema, frame: pd.DataFrame) -> None:
    if contract_failures(schema, frame) is not None:
        raise RuntimeError(f"direct path: {name} broke its contract")


def _form_lines(warehouse: Warehouse, days: list[date]) -> None:
    with warehouse.connect() as conn:
        lines = pd.concat([form_lines_of(conn, day) for day in days], ignore_index=True)
        warehouse.replace_slices({"form_lines": lines}, pd.DataFrame({"meeting_date": days}), conn=conn)


def _form_book(warehouse: Warehouse, day: date) -> None:
    warehouse.query(
        "SELECT count(*), count(DISTINCT race_code), max(meeting_date) FROM form_lines "
        "WHERE meeting_date < ?",
        [day],
    )
    with warehouse.connect() as conn:
        conn.execute(sql("meetings_without_form"), {"since": day - timedelta(days=30), "day": day}).df()


def _runner_features(warehouse: Warehouse, cell: Cell) -> None:
    with warehouse.connect() as conn:
        card_rows = conn.execute(
            "SELECT count(*) FROM runners WHERE meeting_date = ? AND venue_slug = ?",
            [cell.meeting_date, cell.venue_slug],
        ).fetchone()[0]
        if card_rows == 0:
            return
        features = runner_features_of(conn, cell.meeting_date, cell.venue_slug)
        if features_verdict(features, card_rows).blocks:
            raise RuntimeError(f"direct path: runner_features of {cell} broke its contract")
        warehouse.replace_slices({"runner_features": features}, cell.keys_frame(), conn=conn)


def _win_model(warehouse: Warehouse, cutoff: date) -> None:
    """As the asset: the holdout picks the number of trees (and is scored), then the fit on everything."""
    with warehouse.connect() as conn:
        rows = training_rows(conn, cutoff)
    split = cutoff - timedelta(days=HOLDOUT_DAYS)
    train, holdout = rows[rows["meeting_date"].dt.date < split], rows[rows["meeting_date"].dt.date >= split]
    params, metrics = DEFAULT_PARAMS, {}
    if train["race_code"].nunique() >= MIN_TRAINING_RACES and len(holdout):
        probe = fit_until_holdout_stops_improving(train, holdout)
        params = {**DEFAULT_PARAMS, "iterations": probe.get_best_iteration() + 1}
        metrics["holdout_log_loss"] = log_loss(holdout, win_probabilities(probe, holdout))
    save_version(
        warehouse,
        fit(rows, params),
        cutoff=cutoff,
        params=params,
        training_rows=len(rows),
        training_races=int(rows["race_code"].nunique()),
        metrics=metrics,
    )


def _predictions(warehouse: Warehouse, cell: Cell, provider: str) -> None:
    """As the asset, less its card_versions ledger (one small insert per new card)."""
    features = warehouse.query(
        "SELECT * FROM runner_features WHERE meeting_date = ? AND venue_slug = ? "
        "ORDER BY race_number, saddlecloth",
        [cell.meeting_date, cell.venue_slug],
    )
    if features.empty:
        return
    model = version_for(warehouse, cell.meeting_date)
    predicted_at = pd.Timestamp.now(tz="UTC").floor("s")
    odds = warehouse.query(
        "SELECT * FROM odds WHERE meeting_date = ? AND venue_slug = ?", [cell.meeting_date, cell.venue_slug]
    )
    priced = price_card(features, odds, model, provider, predicted_at)
    if predictions_verdict(priced, features).blocks:
        raise RuntimeError(f"direct path: predictions of {cell} broke their contract")
    keys = cell.keys_frame().assign(predicted_at=predicted_at, model_version=model.version)
    warehouse.replace_slices({"predictions": priced}, keys)


# ------------------------------------------------------------------------------------------- report


def report(
    window: Window, stages: dict[str, Stage], fixed: tuple[float, float, list], card_parts: dict[str, float]
) -> None:
    run_s, cell_asset_s, points = fixed
    cards_s = stages["cards"].direct_s
    table(
        "Direct path: where the cards stage's time goes",
        ["part", "seconds", "share"],
        [[part, seconds, f"{100 * seconds / cards_s:.0f} %"] for part, seconds in card_parts.items()],
    )
    table(
        "Dagster bookkeeping: range runs over cells without a meeting (best of 2)",
        ["assets", "cells", "cell-assets", "run s", "fit a + b x cell-assets s"],
        [
            [n_assets, cells, n_assets * cells, seconds, run_s + cell_asset_s * n_assets * cells]
            for n_assets, cells, seconds in points
        ],
    )
    print(
        f"fit: a = {run_s:.3f} s per run, b = {1000 * cell_asset_s:.1f} ms per cell and asset "
        f"(lib/range_plan.py plans with {RUN_OVERHEAD_S} s and {1000 * CELL_ASSET_OVERHEAD_S:.0f} ms)"
    )
    total = Stage(
        "**all**",
        sum(s.runs for s in stages.values()),
        sum(s.cell_assets for s in stages.values()),
        sum(s.dagster_s for s in stages.values()),
        sum(s.in_runs_s for s in stages.values()),
        sum(s.in_steps_s for s in stages.values()),
        sum(s.direct_s for s in stages.values()),
    )
    rows = [
        [
            stage.name,
            stage.runs,
            stage.cell_assets,
            stage.dagster_s,
            stage.direct_s,
            ratio(stage.dagster_s, stage.direct_s),
            stage.dagster_s - stage.in_runs_s,
            stage.in_runs_s - stage.in_steps_s,
            stage.in_steps_s - stage.direct_s,
            stage.runs * run_s + stage.cell_assets * cell_asset_s,
        ]
        for stage in [*stages.values(), total]
    ]
    states, tiers = "/".join(sorted(window.scope.states)), "/".join(sorted(window.scope.tiers))
    table(
        f"Backfill {window.first}..{window.last} ({window.days} days, {states} {tiers}): Dagster runs vs "
        "the same transforms called directly; where the difference goes",
        [
            "stage",
            "runs",
            "cell-assets",
            "Dagster s",
            "direct s",
            "Dagster / direct",
            "launching runs s",
            "in runs, outside steps s",
            "in steps, beyond direct s",
            "fit: runs x a + cell-assets x b s",
        ],
        rows,
    )
    difference = total.dagster_s - total.direct_s
    fitted = total.runs * run_s + total.cell_assets * cell_asset_s
    print(
        f"wall time {total.dagster_s:.0f} s as Dagster runs ({total.runs} runs launched) vs "
        f"{total.direct_s:.0f} s direct: {difference:.0f} s more, of which "
        f"{total.dagster_s - total.in_runs_s:.0f} s launching runs, "
        f"{total.in_runs_s - total.in_steps_s:.0f} s in runs outside steps, "
        f"{total.in_steps_s - total.direct_s:.0f} s inside steps; the empty-cell fit predicts {fitted:.0f} s",
        flush=True,
    )
