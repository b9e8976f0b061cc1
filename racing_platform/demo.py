"""`make demo`: the main job on the embedded defaults, from an empty machine to a priced race card.

Starts the simulator, lists meetings (registering venues), backfills recent history with the cheapest
operations, builds form and features, trains the win model and prices today's meetings — all as
Dagster runs in the local instance, so `dagster dev` afterwards shows the history it built.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd

from racing_platform.lib.backfill import backfill_cells, backfill_days, run_assets
from racing_platform.lib.dagster_home import ensure_dagster_home
from racing_platform.settings import Scope, load_settings
from racing_platform.source.venues import load_venues
from racing_platform.warehouse.resource import Warehouse

CARD_ASSETS = ["raw_race_cards", "race_cards", "race_results"]


@dataclass
class DemoResult:
    today: date
    history_cells: int
    today_cells: int
    runs: int
    seconds: float
    model_version: str
    card: pd.DataFrame


def scoped_cells(warehouse: Warehouse, scope: Scope, start: date, end: date) -> list[tuple[date, str]]:
    """(date, venue) cells with a tracked meeting inside `scope` between start and end inclusive."""
    meetings = warehouse.query(
        "SELECT DISTINCT meeting_date, venue_slug, state FROM meetings "
        "WHERE tracked AND meeting_date BETWEEN ? AND ? ORDER BY ALL",
        [start, end],
    )
    registry = load_venues()
    cells = []
    for row in meetings.itertuples(index=False):
        venue = registry.by_slug(row.venue_slug)
        if scope.covers(row.state, venue.tier if venue else None, False, False):
            cells.append((pd.Timestamp(row.meeting_date).date(), row.venue_slug))
    return cells


def run_demo(
    *,
    seed: int = 0,
    history_days: int | None = None,
    today: date | None = None,
    say: Callable[[str], None] = print,
) -> DemoResult:
    from racing_platform.simulator.testing import simulator_process

    settings = load_settings()
    history_days = settings.demo_history_days if history_days is None else history_days
    home = ensure_dagster_home()
    began = time.perf_counter()
    with simulator_process(seed, now=None if today is None else f"{today}T00:00:00+11:00") as sim:
        os.environ["RACING_COM_GRAPHQL_URL"] = sim.url
        say(f"simulator starting (seed {seed}): loading its world ...")
        sim.control.wait_until_ready()
        from racing_platform.definitions import defs

        today = today or datetime.now(ZoneInfo(settings.timezone)).date()
        start = today - timedelta(days=history_days)
        instance = dg.DagsterInstance.get()
        warehouse: Warehouse = defs.resources["warehouse"]
        say(f"simulator at {sim.url} (seed {seed}); Dagster instance {home}; DuckDB {warehouse.database}")
        runs = 0

        def step(title: str, report) -> None:
            nonlocal runs
            runs += report.runs
            status = "ok" if not report.failed else f"FAILED: {', '.join(report.failed[:5])}"
            say(f"  {title}: {report.runs} run(s) in {report.seconds:.1f} s — {status}")

        say(f"[1/6] meetings {start} .. {today + timedelta(days=1)}")
        step("meetings", backfill_days(defs, instance, ["meetings"], start, today + timedelta(days=1)))
        history = scoped_cells(warehouse, settings.demo_scope, start, today - timedelta(days=1))
        todays = scoped_cells(warehouse, settings.demo_scope, today, today)
        say(f"  {len(history)} history cells and {len(todays)} today in {_describe(settings.demo_scope)}")

        say("[2/6] race cards and results (history: one whole-meeting call per meeting)")
        step("cards", backfill_cells(defs, instance, CARD_ASSETS, history + todays, _progress(say)))

        say("[3/6] form lines and the form book")
        step("form_lines", backfill_days(defs, instance, ["form_lines"], start, today))
        step("form_book", backfill_days(defs, instance, ["form_book"], start, today))

        say("[4/6] runner features")
        step(
            "runner_features",
            backfill_cells(defs, instance, ["runner_features"], history + todays, _progress(say)),
        )

        say(f"[5/6] win model (trained on races before {today})")
        trained = run_assets(
            defs,
            instance,
            ["win_model"],
            run_config={"ops": {"win_model": {"config": {"cutoff": today.isoformat()}}}},
        )
        runs += 1
        if not trained.success:
            raise RuntimeError("win_model failed; see the run in the Dagster UI")
        model_meta = trained.get_asset_materialization_events()[0].materialization.metadata
        say(
            f"  version {model_meta['model_version'].value}: {model_meta['training_races'].value} races; "
            f"holdout log loss {_value(model_meta, 'holdout_log_loss')} "
            f"vs uniform {_value(model_meta, 'holdout_uniform_log_loss')}"
        )

        say("[6/6] predictions for today")
        step("predictions", backfill_cells(defs, instance, ["predictions"], todays, _progress(say)))
        card = next_race_card(warehouse, today, sim.control.now())
    return DemoResult(
        today=today,
        history_cells=len(history),
        today_cells=len(todays),
        runs=runs,
        seconds=time.perf_counter() - began,
        model_version=str(model_meta["model_version"].value),
        card=card,
    )


def next_race_card(warehouse: Warehouse, today: date, now: datetime) -> pd.DataFrame:
    """Today's priced runners of the next race to jump (or the day's last race once all have run)."""
    query = resources.files("racing_platform.predictions").joinpath("sql/next_race_card.sql").read_text()
    with warehouse.connect() as conn:
        return conn.execute(query, {"day": today, "now": now}).df()


def format_card(card: pd.DataFrame, provider: str) -> str:
    if card.empty:
        return "No priced race today in the demo's scope."
    head = card.iloc[0]
    local = pd.Timestamp(head["start_time_utc"]).tz_convert(ZoneInfo(load_settings().timezone))
    lines = [
        f"{head['venue']} R{head['race_number']} — {head['race_name']} — {head['distance_m']} m "
        f"{head['race_class']} — jumps {local:%H:%M} Sydney time (model {head['model_version']})",
        f"{'No':>3} {'Horse':<22} {'Bar':>3} {'Jockey':<16} {'Kg':>5} {'Win %':>6} {'Fair $':>7} "
        f"{provider + ' $':>7} {'Mkt %':>6}",
    ]
    for r in card.itertuples(index=False):
        market = f"{r.market_price:7.2f}" if pd.notna(r.market_price) else f"{'-':>7}"
        mprob = f"{100 * r.market_probability:6.1f}" if pd.notna(r.market_probability) else f"{'-':>6}"
        lines.append(
            f"{r.saddlecloth:>3} {str(r.horse_name)[:22]:<22} {_int(r.barrier):>3} "
            f"{str(r.jockey_name)[:16]:<16} {r.weight_kg:5.1f} {100 * r.win_probability:6.1f} "
            f"{r.fair_odds:7.2f} {market} {mprob}"
        )
    return "\n".join(lines)


def _int(value) -> str:
    return "-" if pd.isna(value) else str(int(value))


def _value(metadata: dict, key: str) -> str:
    return str(metadata[key].value) if key in metadata else "n/a"


def _describe(scope: Scope) -> str:
    return f"{'/'.join(sorted(scope.states))} {'/'.join(sorted(scope.tiers))}"


def _progress(say: Callable[[str], None]):
    def report(done: int, total: int, run) -> None:
        if done == total or done % 25 == 0:
            say(f"    {done}/{total} runs (last: {run.venue_slug} {run.start}..{run.end})")

    return report
