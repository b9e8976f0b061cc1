"""B1 and B5: history through every stage as Dagster asset backfills vs the same functions called directly.

Dagster path: `lib/backfill.py`'s `backfill` on a fresh instance and DuckDB file, the demo's sequence of
backfills (meetings; cards, results, form and features; the win model; the last day's prices), each
driven by Dagster's own asset-backfill iteration with runs executed in this process.
Direct path: the very functions the asset bodies call (imported from the stage modules, never
re-implemented here), over the same partitions grouped the same way (the backfill's range plan), on
a fresh DuckDB file with no run, event, check or metadata bookkeeping — once before and once after the
Dagster path, so load drifting on a shared machine biases neither side. Every pass gets its own
simulator over the same world, so none is served from caches another warmed.

B5 times the direct path again over the window's last quarter and last half: cost at 1x, 2x and 4x the
history (4x is the mean of the two full passes).

The instance's run and step records split each backfill's Dagster time into launching runs (the
backfill iteration, run creation), runs outside their steps, and steps beyond the direct functions.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from racing_platform.benchmarks.timing import ratio, reload_code_location, scratch_env, stopwatch, table
from racing_platform.cards.assets import build_cards_and_results, fetch_raw_cards
from racing_platform.careers.fetch import fetch_careers
from racing_platform.demo import HISTORY_ASSETS
from racing_platform.features.assets import build_form_lines, build_runner_features, judge_form_book
from racing_platform.lib.backfill import CELL_ASSETS, backfill, plan_cells, scoped_cells
from racing_platform.lib.cell_runs import Outcome
from racing_platform.lib.dagster_home import ensure_dagster_home
from racing_platform.model.assets import WinModelConfig, train_win_model
from racing_platform.partitions import Cell
from racing_platform.predictions.assets import price_cells
from racing_platform.settings import Scope, load_settings
from racing_platform.simulator.testing import running_simulator
from racing_platform.simulator.world.generator import generate_world
from racing_platform.source.assets import store_meetings
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse

DEFAULT_LAST_DAY = date(2026, 3, 7)
B1_TARGET_RATIO = 1.5
B1_TARGET_SEASON_S = 600
# The backfills of the demo, in order: what each targets.
BACKFILLS = ("meetings", "history", "win_model", "predictions")
# What grows with the history (B5): the model and today's prices do not need to be rebuilt to see it.
HISTORY_STAGES = ("meetings", "history")
log = logging.getLogger(__name__)


@dataclass
class Stage:
    name: str
    runs: int = 0
    dagster_s: float = 0.0  # wall time of the backfill, submitted and driven
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

    def tail(self, days: int) -> Window:
        return Window(self.last - timedelta(days=days - 1), self.last, self.scope)


def run(*, days: int, last: date = DEFAULT_LAST_DAY, scope: Scope | None = None, seed: int = 0) -> dict:
    """Print the tables; return the B1 and B5 figures for `--json`."""
    window = Window(last - timedelta(days=days - 1), last, scope or load_settings().demo_scope)
    scales = scaling_windows(window)
    with stopwatch() as generated:
        world = generate_world(seed, start=world_first(window, scales), end=window.last)
    print(
        f"world: seed {seed}, {world_first(window, scales)}..{window.last}, {len(world.meetings)} meetings "
        f"(all states), generated in {generated[0]:.1f} s",
        flush=True,
    )
    _say_load("direct path (1 of 2) starts")
    before, cells = direct_path(world, window)
    _say_load("Dagster path starts")
    stages = dagster_path(world, window)
    _say_load("direct path (2 of 2) starts")
    after, _ = direct_path(world, window)
    for name, stage in stages.items():
        stage.direct_s = (before[name] + after[name]) / 2
    _say_load("scaling passes (B5) start")
    scaling = {}
    for times, part in zip((1, 2, 4), scales, strict=True):
        if part == window:
            seconds = {name: (before[name] + after[name]) / 2 for name in HISTORY_STAGES}
            part_cells = cells
        else:
            seconds, part_cells = direct_path(world, part, through=HISTORY_STAGES)
        scaling[f"{times}x"] = (part.days, len(part_cells), sum(seconds[n] for n in HISTORY_STAGES))
    _say_load("all paths done")
    return report(window, stages, scaling, len(cells))


def scaling_windows(window: Window) -> list[Window]:
    """B5's histories at 1x, 2x and 4x, all ending on the window's last day: the window's last quarter,
    half and all of it, or for a window under four weeks the window, twice and four times as long."""
    base = window.days // 4 if window.days >= 28 else window.days
    return [Window(window.last - timedelta(days=base * n - 1), window.last, window.scope) for n in (1, 2, 4)]


def world_first(window: Window, scales: list[Window]) -> date:
    return min(window.first, scales[-1].first)


def _say_load(moment: str) -> None:
    """Load averages as the paths change over: the paths run one after the other on a shared machine."""
    one, five, _ = os.getloadavg()
    print(f"{moment}: load average {one:.2f} (1 min), {five:.2f} (5 min)", flush=True)


# ------------------------------------------------------------------------------------------ Dagster


def dagster_path(world, window: Window) -> dict[str, Stage]:
    with scratch_env("backfill-dagster"), running_simulator(world, now=window.simulator_now) as sim:
        os.environ["RACING_COM_GRAPHQL_URL"] = sim.url
        try:
            ensure_dagster_home()
            reload_code_location()
            from racing_platform.definitions import defs

            warehouse: Warehouse = defs.resources["warehouse"]
            with dg.DagsterInstance.get() as instance:
                return _dagster_stages(instance, warehouse, window)
        finally:
            del os.environ["RACING_COM_GRAPHQL_URL"]


def _dagster_stages(instance: dg.DagsterInstance, warehouse: Warehouse, window: Window) -> dict[str, Stage]:
    stages: dict[str, Stage] = {}

    def stage(name: str, assets: list[str], **target) -> None:
        report = backfill(instance, assets, title=f"benchmark: {name}", **target)
        if report.failed or report.status != "COMPLETED_SUCCESS":
            raise RuntimeError(
                f"backfill benchmark: {name} ended {report.status}: {report.error or ''} "
                f"{', '.join(report.failed[:5])}"
            )
        stages[name] = _timed_stage(instance, report.backfill_id, Stage(name, report.runs, report.seconds))

    stage("meetings", ["meetings"], days=(window.first, window.last))
    cells = scoped_cells(warehouse, window.scope, window.first, window.last)
    today = pricing_day(cells)
    stage("history", HISTORY_ASSETS, days=(window.first, window.last), cells=cells)
    stage("win_model", ["win_model"], run_config=_cutoff_config(today))
    stage("predictions", ["predictions"], cells=[c for c in cells if c[0] == today])
    return stages


def _cutoff_config(day: date) -> dict:
    return {"ops": {"win_model": {"config": {"cutoff": day.isoformat()}}}}


def pricing_day(cells: list[tuple[date, str]]) -> date:
    """The window's last racing day in scope plays "today": the model trains on the days before it."""
    return max(day for day, _ in cells)


def _timed_stage(instance: dg.DagsterInstance, backfill_id: str, stage: Stage) -> Stage:
    """Split the stage's wall time with the instance's own records: inside its runs, inside their steps."""
    records = instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
    stage.in_runs_s = sum(r.end_time - r.start_time for r in records if r.start_time and r.end_time)
    stage.in_steps_s = sum(
        step.end_time - step.start_time
        for record in records
        for step in instance.get_run_step_stats(record.dagster_run.run_id)
        if step.start_time and step.end_time
    )
    return stage


# ------------------------------------------------------------------------------------------- direct


def direct_path(
    world, window: Window, *, through: tuple[str, ...] = BACKFILLS
) -> tuple[dict[str, float], list[tuple[date, str]]]:
    """The asset bodies' functions in backfill order, in this process, on a fresh DuckDB file and simulator.

    Cell functions get the same ranges the backfill's runs get (`plan_cells`), so both sides batch alike.
    Returns seconds per backfill stage (those in `through`) and the window's meeting cells.
    """
    seconds = dict.fromkeys(BACKFILLS, 0.0)
    with (
        scratch_env("backfill-direct") as scratch,
        running_simulator(world, now=window.simulator_now) as sim,
        dg.DagsterInstance.ephemeral() as instance,
    ):
        warehouse = Warehouse(database=str(scratch / "direct.duckdb"))
        provider = load_settings().odds_provider
        days = [window.first + timedelta(days=i) for i in range(window.days)]
        with RacingComResource(graphql_url=sim.url).session("bench-direct") as client:

            def timed(name: str, work: Callable[[], object]) -> None:
                with stopwatch() as took:
                    _all_passed(name, work())
                seconds[name] += took[0]

            def meetings() -> dict[str, Outcome]:
                outcomes, venues = store_meetings(client, warehouse, days)
                instance.add_dynamic_partitions("venue", sorted(venues))
                return outcomes

            timed("meetings", meetings)
            cells = scoped_cells(warehouse, window.scope, window.first, window.last)
            # The history backfill's plan: one set of ranges for its cell assets.
            ranges = plan_cells(instance, cells, sum(a in CELL_ASSETS for a in HISTORY_ASSETS))
            for run in ranges:
                timed("history", lambda run=run: fetch_raw_cards(client, warehouse, run.cells))
                timed("history", lambda run=run: build_cards_and_results(warehouse, run.cells))
                timed("history", lambda run=run: fetch_careers(warehouse, client, run.cells))
            timed("history", lambda: build_form_lines(warehouse, days))
            timed("history", lambda: judge_form_book(warehouse, days))
            for run in ranges:
                timed("history", lambda run=run: build_runner_features(warehouse, run.cells))
        if "win_model" not in through:
            return seconds, cells
        today = pricing_day(cells)
        timed("win_model", lambda: train_win_model(warehouse, WinModelConfig(cutoff=str(today)), log))
        todays = [Cell(*c) for c in cells if c[0] == today]
        timed("predictions", lambda: price_cells(warehouse, todays, provider))
    return seconds, cells


def _all_passed(stage: str, outcomes: object) -> None:
    """A direct pass that wrote less than the Dagster path would compare different work: refuse it."""
    if not isinstance(outcomes, dict):
        return
    for key, outcome in outcomes.items():
        for each in outcome.values() if isinstance(outcome, dict) else [outcome]:
            if isinstance(each, Outcome) and each.blocked:
                raise RuntimeError(f"direct path: {stage} {key} blocked: {each.problems()}")


# ------------------------------------------------------------------------------------------- report


def report(window: Window, stages: dict[str, Stage], scaling: dict, cells: int) -> dict:
    total = Stage(
        "**all**",
        sum(s.runs for s in stages.values()),
        sum(s.dagster_s for s in stages.values()),
        sum(s.in_runs_s for s in stages.values()),
        sum(s.in_steps_s for s in stages.values()),
        sum(s.direct_s for s in stages.values()),
    )
    states, tiers = "/".join(sorted(window.scope.states)), "/".join(sorted(window.scope.tiers))
    table(
        f"B1 — backfill {window.first}..{window.last} ({window.days} days, {cells} meeting cells, {states} "
        f"{tiers}): Dagster asset backfills vs the same functions called directly",
        [
            "backfill",
            "runs",
            "Dagster s",
            "direct s",
            "Dagster / direct",
            "launching runs s",
            "in runs, outside steps s",
            "in steps, beyond direct s",
        ],
        [
            [
                stage.name,
                stage.runs,
                stage.dagster_s,
                stage.direct_s,
                ratio(stage.dagster_s, stage.direct_s),
                stage.dagster_s - stage.in_runs_s,
                stage.in_runs_s - stage.in_steps_s,
                stage.in_steps_s - stage.direct_s,
            ]
            for stage in [*stages.values(), total]
        ],
    )
    base_days, base_cells, base_s = scaling["1x"]
    table(
        "B5 — the direct path at 1x, 2x and 4x the history (the window's last quarter, half, all)",
        ["history", "days", "meeting cells", "direct s", "ms per cell", "cost / (n x cost at 1x)"],
        [
            [name, days_, n_cells, seconds, 1000 * seconds / max(n_cells, 1), seconds / (n * base_s)]
            for (name, (days_, n_cells, seconds)), n in zip(scaling.items(), (1, 2, 4), strict=True)
        ],
    )
    b1 = total.dagster_s / total.direct_s
    print(
        f"B1: {total.dagster_s:.0f} s as Dagster backfills ({total.runs} runs) vs "
        f"{total.direct_s:.0f} s direct: {b1:.2f}x (target <= {B1_TARGET_RATIO}x)",
        flush=True,
    )
    growth = scaling["4x"][2] / (4 * base_s)
    return {
        "B1": {"value": round(b1, 3), "unit": "x direct", "target": B1_TARGET_RATIO},
        "B1_wall": {
            "value": round(total.dagster_s, 1),
            "unit": f"s for {window.days} days",
            "target": B1_TARGET_SEASON_S if window.days >= 365 else None,
        },
        "B5_direct": {
            "value": round(growth, 3),
            "unit": "cost at 4x history / (4 x cost at 1x)",
            "target": 1.0,
            "seconds": {name: round(s, 2) for name, (_, _, s) in scaling.items()},
        },
    }
