"""`win_model`: a CatBoost win model trained on everything resulted before a cutoff."""

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from racing_platform.lib.failures import failures_by_class, step_location
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, WAREHOUSE_RETRY
from racing_platform.model.registry import save_version
from racing_platform.model.training import (
    DEFAULT_PARAMS,
    fit,
    fit_until_holdout_stops_improving,
    log_loss,
    training_rows,
    uniform_log_loss,
    win_probabilities,
)
from racing_platform.settings import load_settings
from racing_platform.warehouse.resource import Warehouse

# The last days before the cutoff are held out to report honest (out-of-time) metrics.
HOLDOUT_DAYS = 14
MIN_TRAINING_RACES = 30


class WinModelConfig(dg.Config):
    cutoff: str | None = None
    """Train on races dated strictly before this YYYY-MM-DD date (default: today, platform time zone)."""


def _today() -> date:
    return datetime.now(ZoneInfo(load_settings().timezone)).date()


@dg.asset(
    group_name="model",
    owners=OWNERS,
    kinds={"catboost", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    deps=["runner_features", "race_results"],
    description="CatBoost win model (jockey, trainer, venue and going as native categoricals) trained on "
    "runner features and results strictly before a cutoff. Each version is stored with its cutoff, "
    "parameters, training rows, out-of-time metrics and a content hash (table model_versions).",
)
def win_model(
    context: dg.AssetExecutionContext, config: WinModelConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    with failures_by_class(step_location(context)):
        return train_win_model(warehouse, config, context.log)


def train_win_model(
    warehouse: Warehouse, config: WinModelConfig, log: logging.Logger
) -> dg.MaterializeResult:
    """Train on everything resulted before the cutoff, store the version, report its metrics."""
    cutoff = date.fromisoformat(config.cutoff) if config.cutoff else _today()
    with warehouse.connect() as conn:
        rows = training_rows(conn, cutoff)
    races = rows["race_code"].nunique() if len(rows) else 0
    if races < MIN_TRAINING_RACES:
        raise dg.Failure(
            f"only {races} resulted races with features before {cutoff}; need {MIN_TRAINING_RACES}. "
            "Backfill race cards, results and runner features first.",
            allow_retries=False,
        )
    split = cutoff - timedelta(days=HOLDOUT_DAYS)
    train, holdout = rows[rows["meeting_date"].dt.date < split], rows[rows["meeting_date"].dt.date >= split]
    metrics = {"holdout_from": split.isoformat(), "holdout_races": int(holdout["race_code"].nunique())}
    params = DEFAULT_PARAMS
    if train["race_code"].nunique() >= MIN_TRAINING_RACES and len(holdout):
        # The holdout also picks the number of trees, so its log loss is slightly optimistic.
        probe = fit_until_holdout_stops_improving(train, holdout)
        params = {**DEFAULT_PARAMS, "iterations": probe.get_best_iteration() + 1}
        metrics["holdout_log_loss"] = round(log_loss(holdout, win_probabilities(probe, holdout)), 4)
        metrics["holdout_uniform_log_loss"] = round(uniform_log_loss(holdout), 4)
    model = fit(rows, params)
    version = save_version(
        warehouse,
        model,
        cutoff=cutoff,
        params=params,
        training_rows=len(rows),
        training_races=int(races),
        metrics=metrics,
    )
    importance = model.get_feature_importance(prettified=True).head(10)
    log.info(f"win_model {version.version}: cutoff {cutoff}, {len(rows)} rows, {races} races, {metrics}")
    return dg.MaterializeResult(
        metadata={
            "model_version": version.version,
            "cutoff": cutoff.isoformat(),
            "training_rows": len(rows),
            "training_races": int(races),
            "trees": params["iterations"],
            **{k: v for k, v in metrics.items() if isinstance(v, (int, float))},
            "top_features": dg.MetadataValue.md(importance.to_markdown(index=False)),
        }
    )
