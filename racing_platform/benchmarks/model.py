"""The model's costs on a season: training one walk-forward version, and pricing a race.

The history is `racing-platform evaluate`'s for the chosen world (built on first use, then reused from
its folder). Training: `train_version` with the held-out season's first day as cutoff (stage 1 on the
season before the blend window, early stopping, the blend's fit), against a bare CatBoost fit of a
fixed BASELINE_TREES on the same stage-1 rows (how fast this machine fits trees right now). Pricing:
`price_card` on held-out cells (stage 1, the market, the blend), per race, against stage 1's
probabilities alone on the same runners. Best of rounds; wall time.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from racing_platform.benchmarks.timing import best_of, ratio, stopwatch, table
from racing_platform.evaluation.command import World, prepare_history
from racing_platform.lib.cell_runs import cells_params, rows_by_cell
from racing_platform.model.registry import version_for
from racing_platform.model.training import DEFAULT_PARAMS, fit, training_rows, win_probabilities
from racing_platform.model.walk_forward import blend_window_start, train_version
from racing_platform.predictions.assets import _sql as predictions_sql
from racing_platform.predictions.pricing import price_card
from racing_platform.settings import Scope, load_settings

BASELINE_TREES = 100
PRICED_CELLS = 20
ROUNDS = 3


def run(*, seed: int, scope: Scope, today: date) -> dict:
    history = prepare_history(World(seed), seasons=2, scope=scope, today=today, say=print)
    warehouse, cutoff = history.warehouse, history.held_out_start
    provider = load_settings().odds_provider
    with warehouse.connect() as conn:
        rows = training_rows(conn, cutoff, provider)
    day = rows["meeting_date"].dt.date
    stage1_rows = rows[day < blend_window_start(day, rows["race_code"], cutoff)]
    with stopwatch() as trained:
        version = train_version(warehouse, cutoff, provider, logging.getLogger("bench"))
    with stopwatch() as baseline:
        fit(stage1_rows, {**DEFAULT_PARAMS, "iterations": BASELINE_TREES})
    races = int(rows["race_code"].nunique())
    table(
        f"Training one version (cutoff {cutoff}) on the season before it",
        ["what", "runners", "races", "seconds", "vs baseline"],
        [
            [
                "train_version (stage 1 + early stopping + blend)",
                len(rows),
                races,
                trained[0],
                ratio(trained[0], baseline[0]),
            ],
            [
                f"baseline: CatBoost, {BASELINE_TREES} trees, stage-1 rows",
                len(stage1_rows),
                "",
                baseline[0],
                "1.00x",
            ],
        ],
    )
    cells = history.held_out[:PRICED_CELLS]
    with warehouse.connect() as conn:
        features_of = rows_by_cell(conn.execute(predictions_sql("cells_features"), cells_params(cells)).df())
        all_odds = conn.execute(predictions_sql("cells_odds"), cells_params(cells)).df()
    odds_of = rows_by_cell(all_odds)
    cards = [(features_of[c], odds_of.get(c, all_odds.head(0))) for c in cells if c in features_of]
    model = version_for(warehouse, cards[0][0]["meeting_date"].iloc[0].date()) or version
    now = pd.Timestamp.now(tz="UTC")
    loaded = model.load()
    races_priced = sum(f["race_code"].nunique() for f, _ in cards)
    pricing = best_of(lambda: [price_card(f, o, model, provider, now) for f, o in cards], ROUNDS)
    stage1 = best_of(
        lambda: [win_probabilities(loaded, f[~f["scratched"].astype(bool)]) for f, _ in cards], ROUNDS
    )
    per_race_ms, stage1_ms = 1000 * pricing / races_priced, 1000 * stage1 / races_priced
    table(
        f"Pricing {len(cards)} held-out cells ({races_priced} races)",
        ["what", "ms per race", "vs baseline"],
        [
            ["price_card (load, stage 1, market, blend)", per_race_ms, ratio(per_race_ms, stage1_ms)],
            ["baseline: stage 1 probabilities alone (model loaded)", stage1_ms, "1.00x"],
        ],
    )
    return {
        "B6_training_s_per_season": {"value": round(trained[0], 1), "unit": "s", "races": races},
        "B6_inference_ms_per_race": {"value": round(per_race_ms, 2), "unit": "ms"},
    }
