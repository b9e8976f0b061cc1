"""Walk-forward model versions: each trained only on races strictly before its cutoff.

A version is the two Benter stages fitted on disjoint stretches of the races before its cutoff: stage 1
on everything up to BLEND_WINDOW before it (its number of trees chosen on the window), the blend's
weights on stage 1's out-of-sample chances over the window. A history too short for that (under
MIN_TRAINING_RACES before the window) leaves its last third of race days to the blend instead.
Predictions on a day use the newest version whose cutoff is on or before it (registry.version_for), so
every race a version prices is after everything it learned from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import pandas as pd

from racing_platform.evaluation.metrics import log_loss
from racing_platform.model.blend import blend_probabilities, fit_blend, market_probability
from racing_platform.model.registry import ModelVersion, list_versions, save_version
from racing_platform.model.training import (
    DEFAULT_PARAMS,
    FEATURES,
    fit_until_later_races_stop_improving,
    training_rows,
    win_probabilities,
)
from racing_platform.warehouse.resource import Warehouse

BLEND_WINDOW = timedelta(days=56)
MIN_TRAINING_RACES = 20


class NotEnoughHistory(ValueError):
    """Too few resulted races before a cutoff to fit a stage."""


def cutoffs_every(first: date, last: date, every_days: int) -> list[date]:
    """Cutoffs from `first` to `last` inclusive, `every_days` apart: one version each."""
    if every_days < 1:
        raise ValueError(f"every_days must be at least 1, got {every_days}")
    return [first + timedelta(days=i) for i in range(0, (last - first).days + 1, every_days)]


def train_version(warehouse: Warehouse, cutoff: date, provider: str, log: logging.Logger) -> ModelVersion:
    """Fit stage 1 and the blend on races before `cutoff`, store and return the version."""
    with warehouse.connect() as conn:
        rows = training_rows(conn, cutoff, provider)
    day = rows["meeting_date"].dt.date
    blend_from = blend_window_start(day, rows["race_code"], cutoff)
    fit_rows, window = rows[day < blend_from], rows[day >= blend_from]
    for stage, part, since in (("stage 1", fit_rows, None), ("the blend", window, blend_from)):
        races = part["race_code"].nunique()
        if races < MIN_TRAINING_RACES:
            span = f"between {since} and {cutoff}" if since else f"before {blend_from}"
            raise NotEnoughHistory(
                f"cutoff {cutoff}: {races} resulted races with features {span} to fit {stage}; need "
                f"{MIN_TRAINING_RACES}. Backfill race cards, careers, results and runner features first."
            )
    stage1 = fit_until_later_races_stop_improving(fit_rows, window)
    p1 = win_probabilities(stage1, window)
    pm = market_probability(window["market_price"], window["race_code"]).to_numpy()
    races = window["race_code"].to_numpy()
    weights = fit_blend(p1, pm, races, window["won"].to_numpy())
    field = window.groupby("race_code")["race_code"].transform("size").to_numpy()
    fully_priced = ~pd.Series(pm).isna().groupby(races).transform("any").to_numpy()
    metrics = {
        "stage1_trained_before": blend_from.isoformat(),
        "blend_window_races": int(window["race_code"].nunique()),
        "blend_window_uniform_log_loss": round(log_loss(window, 1.0 / field), 4),
        "blend_window_stage1_log_loss": round(log_loss(window, p1), 4),
        "blend_window_blend_log_loss": round(
            log_loss(window, blend_probabilities(weights, p1, pm, races)), 4
        ),
        "blend_window_market_log_loss": round(log_loss(window[fully_priced], pm[fully_priced]), 4)
        if fully_priced.any()
        else None,
    }
    version = save_version(
        warehouse,
        stage1,
        cutoff=cutoff,
        params={**DEFAULT_PARAMS, "iterations": stage1.tree_count_, "features": FEATURES},
        blend=weights,
        training_rows=len(fit_rows),
        training_races=int(fit_rows["race_code"].nunique()),
        metrics=metrics,
    )
    log.info(
        f"model {version.version} (cutoff {cutoff}): stage 1 on {len(fit_rows)} runners before {blend_from}, "
        f"{stage1.tree_count_} trees; blend {weights.stage1:.3f} x ln p1 + {weights.market:.3f} x ln pm "
        f"fitted on {metrics['blend_window_races']} races"
    )
    return version


def blend_window_start(day: pd.Series, race_code: pd.Series, cutoff: date) -> date:
    """BLEND_WINDOW before the cutoff, or, when fewer than MIN_TRAINING_RACES fall before that, the
    latest day from which on the races are a third of all (so a short history fits both stages apart)."""
    usual = cutoff - BLEND_WINDOW
    if race_code[day < usual].nunique() >= MIN_TRAINING_RACES:
        return usual
    races_by_day = race_code.groupby(day.to_numpy()).nunique().sort_index()
    from_day_on = races_by_day[::-1].cumsum()[::-1]
    enough = from_day_on[from_day_on >= races_by_day.sum() / 3]
    return enough.index[-1] if len(races_by_day) >= 2 else usual


def train_walk_forward(
    warehouse: Warehouse, cutoffs: Iterable[date], provider: str, log: logging.Logger, *, reuse: bool = False
) -> list[ModelVersion]:
    """A version per cutoff, oldest first. `reuse`: a cutoff that already has a version keeps it (for a
    history that has not changed since; training the same rows again gives the same version)."""
    have = {v.cutoff: v for v in list_versions(warehouse)} if reuse else {}
    return [have.get(c) or train_version(warehouse, c, provider, log) for c in sorted(set(cutoffs))]
