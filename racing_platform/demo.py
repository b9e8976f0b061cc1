"""`make demo`: the main job on the embedded defaults, from an empty machine to a priced race card.

Starts the simulator, then builds a season of history and today's prices as Dagster asset backfills
(lib/backfill.py) in the local instance: the same backfills a user launches from the UI or with
`racing-platform backfill`, so `dagster dev` afterwards shows them in the Backfills tab, their runs on
the timeline and every partition's status.
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

from racing_platform.lib.backfill import BackfillProgress, BackfillReport, backfill, scoped_cells
from racing_platform.lib.dagster_home import ensure_dagster_home
from racing_platform.predictions.pricing import card_table, race_heading
from racing_platform.settings import Scope, load_settings
from racing_platform.warehouse.resource import Warehouse

CARD_ASSETS = ["raw_race_cards", "race_cards", "race_results"]
HISTORY_ASSETS = [*CARD_ASSETS, "horse_careers", "form_lines", "form_book", "runner_features"]
PROGRESS_EVERY_S = 10.0


@dataclass
class DemoResult:
    today: date
    history_cells: int
    today_cells: int
    runs: int
    seconds: float
    model_version: str
    card: pd.DataFrame
    agreement: dict
    backfills: list[BackfillReport]


class DemoFailed(RuntimeError):
    """A backfill of the demo ended with failed runs; the message names them."""


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
        reports: list[BackfillReport] = []

        def step(title: str, assets: list[str], **target) -> BackfillReport:
            say(f"{title}")
            report = backfill(instance, assets, title=f"demo: {title}", progress=_progress(say), **target)
            reports.append(report)
            status = "ok" if not report.failed and report.status == "COMPLETED_SUCCESS" else report.status
            say(f"  backfill {report.backfill_id}: {report.runs} run(s) in {report.seconds:.1f} s — {status}")
            if report.failed or report.status != "COMPLETED_SUCCESS":
                raise DemoFailed(
                    f"backfill {report.backfill_id} ({title}) ended {report.status}"
                    + (f"; failed runs: {', '.join(report.failed[:5])}" if report.failed else "")
                    + (f"; {report.error}" if report.error else "")
                    + ". See it in the Dagster UI's Backfills tab."
                )
            return report

        listed_to = today + timedelta(days=1)
        step(f"[1/4] meetings {start} .. {listed_to}", ["meetings"], days=(start, listed_to))
        history = scoped_cells(warehouse, settings.demo_scope, start, today - timedelta(days=1))
        todays = scoped_cells(warehouse, settings.demo_scope, today, today)
        say(f"  {len(history)} history cells and {len(todays)} today in {_describe(settings.demo_scope)}")
        step(
            "[2/4] race cards, results, form and features (one whole-meeting call per meeting)",
            HISTORY_ASSETS,
            days=(start, today),
            cells=history + todays,
        )
        step(
            f"[3/4] win model (trained on races before {today})",
            ["win_model"],
            run_config={"ops": {"win_model": {"config": {"cutoff": today.isoformat()}}}},
        )
        model_meta = _latest_metadata(instance, "win_model")
        say(
            f"  version {model_meta['model_version'].value}: stage 1 on {model_meta['training_races'].value} "
            f"races, blend = {_value(model_meta, 'blend_weight_stage1')} x ln p1 + "
            f"{_value(model_meta, 'blend_weight_market')} x ln p_market; log loss over the "
            f"{_value(model_meta, 'blend_window_races')} races after stage 1's data: uniform "
            f"{_value(model_meta, 'blend_window_uniform_log_loss')}, stage 1 "
            f"{_value(model_meta, 'blend_window_stage1_log_loss')}, market "
            f"{_value(model_meta, 'blend_window_market_log_loss')}, blend "
            f"{_value(model_meta, 'blend_window_blend_log_loss')} (the blend's weights are fitted there)"
        )
        step("[4/4] predictions for today", ["predictions"], cells=todays)
        card = next_race_card(warehouse, today, sim.control.now())
        agreement = blend_market_agreement(warehouse, today)
    return DemoResult(
        today=today,
        history_cells=len(history),
        today_cells=len(todays),
        runs=sum(r.runs for r in reports),
        seconds=time.perf_counter() - began,
        model_version=str(model_meta["model_version"].value),
        card=card,
        agreement=agreement,
        backfills=reports,
    )


def _latest_metadata(instance: dg.DagsterInstance, asset: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    if event is None or event.asset_materialization is None:
        raise DemoFailed(f"{asset} has no materialization; see the Dagster UI")
    return dict(event.asset_materialization.metadata)


def next_race_card(warehouse: Warehouse, today: date, now: datetime) -> pd.DataFrame:
    """Today's priced runners of the next race to jump (or the day's last race once all have run)."""
    query = resources.files("racing_platform.predictions").joinpath("sql/next_race_card.sql").read_text()
    with warehouse.connect() as conn:
        return conn.execute(query, {"day": today, "now": now}).df()


def blend_market_agreement(warehouse: Warehouse, today: date) -> dict:
    """The correlation of the blend's (and stage 1's) log-probabilities with the market's on today's races."""
    query = (
        resources.files("racing_platform.predictions").joinpath("sql/blend_market_agreement.sql").read_text()
    )
    with warehouse.connect() as conn:
        return conn.execute(query, {"day": today}).df().iloc[0].to_dict()


def format_agreement(agreement: dict, provider: str) -> str:
    return (
        f"Today's {int(agreement['races'])} races ({int(agreement['runners'])} runners with {provider} "
        f"prices): the blend's log-probabilities correlate with the market's at "
        f"{agreement['blend_market_log_correlation']:.3f} (stage 1 alone: "
        f"{agreement['stage1_market_log_correlation']:.3f})."
    )


def format_card(card: pd.DataFrame, provider: str) -> str:
    """The next race as a punter reads it: the fundamental model (stage 1), the market and their blend
    (the platform's price) side by side, with the blend's fair odds; the same table as the predictions
    preview in the UI (predictions/pricing.py)."""
    if card.empty:
        return "No priced race today in the demo's scope."
    head = card.iloc[0]
    table = card_table(card, provider).to_string(index=False)
    return f"{head['venue']} {race_heading(card)} (model {head['model_version']})\n{table}"


def _value(metadata: dict, key: str) -> str:
    return str(metadata[key].value) if key in metadata else "n/a"


def _describe(scope: Scope) -> str:
    return f"{'/'.join(sorted(scope.states))} {'/'.join(sorted(scope.tiers))}"


def _progress(say: Callable[[str], None]) -> Callable[[BackfillProgress], None]:
    """One progress line every PROGRESS_EVERY_S (the runs are also live in the UI's Backfills tab)."""
    last = [0.0]

    def report(progress: BackfillProgress) -> None:
        if progress.seconds - last[0] >= PROGRESS_EVERY_S:
            last[0] = progress.seconds
            say(f"    {progress}")

    return report
