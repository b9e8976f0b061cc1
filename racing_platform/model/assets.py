"""`win_model`: walk-forward model versions, each stage 1 (CatBoost) + the Benter blend before a cutoff."""

import logging
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd

from racing_platform.evaluation.plots import png_markdown
from racing_platform.lib.failures import failures_by_class, step_location
from racing_platform.lib.metadata import table_schema
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, WAREHOUSE_RETRY
from racing_platform.model.plots import importance_png
from racing_platform.model.registry import ModelVersion, list_versions
from racing_platform.model.walk_forward import NotEnoughHistory, cutoffs_every, train_walk_forward
from racing_platform.paths import data_dir
from racing_platform.settings import load_settings
from racing_platform.warehouse.resource import Warehouse


class WinModelConfig(dg.Config):
    cutoff: str | None = None
    """Train on races dated strictly before this YYYY-MM-DD date (default: today, platform time zone)."""
    walk_forward_from: str | None = None
    """Also train a version at every `every_days` from this date up to the cutoff (walk-forward)."""
    every_days: int = 7


def _today() -> date:
    return datetime.now(ZoneInfo(load_settings().timezone)).date()


@dg.asset(
    group_name="model",
    owners=OWNERS,
    kinds={"catboost", "duckdb"},
    metadata={"dagster/column_schema": table_schema("model_versions")},
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    deps=["runner_features", "race_results"],
    description="Walk-forward win model versions. Each is stage 1 — CatBoost with a per-race softmax "
    "(QuerySoftMax) over runner features — and stage 2 — a conditional logit over ln p(stage 1) and "
    "ln p(market) (Benter) — trained only on races strictly before its cutoff. Stored in model_versions "
    "(content hash, cutoff, params, blend weights, rows, metrics); the metadata lists every version.",
)
def win_model(
    context: dg.AssetExecutionContext, config: WinModelConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    with failures_by_class(step_location(context)):
        return train_win_model(warehouse, config, context.log)


def train_win_model(
    warehouse: Warehouse, config: WinModelConfig, log: logging.Logger
) -> dg.MaterializeResult:
    """Train the configured cutoffs (those already trained are kept) and report the newest version."""
    cutoff = date.fromisoformat(config.cutoff) if config.cutoff else _today()
    first = date.fromisoformat(config.walk_forward_from) if config.walk_forward_from else cutoff
    cutoffs = [*cutoffs_every(first, cutoff, config.every_days), cutoff]
    try:
        versions = train_walk_forward(warehouse, cutoffs, load_settings().odds_provider, log)
    except NotEnoughHistory as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc
    newest = versions[-1]
    importance = feature_importance(newest)
    png = importance_png(
        importance.head(TOP_FEATURES), f"Stage 1 of {newest.version} (cutoff {newest.cutoff})"
    )
    return dg.MaterializeResult(
        metadata={
            "model_version": newest.version,
            "cutoff": newest.cutoff.isoformat(),
            "training_rows": newest.training_rows,
            "training_races": newest.training_races,
            "trees": newest.params["iterations"],
            "blend_weight_stage1": round(newest.blend.stage1, 4),
            "blend_weight_market": round(newest.blend.market, 4),
            **{k: _readable(v) for k, v in newest.metrics.items() if isinstance(v, (int, float))},
            "feature_importance_plot": dg.MetadataValue.md(png_markdown(png, "feature importance")),
            "feature_importance_plot_path": dg.MetadataValue.path(str(save_png(png, newest.version))),
            "top_features": dg.MetadataValue.md(
                importance.head(TOP_FEATURES).round(2).to_markdown(index=False)
            ),
            "versions": dg.MetadataValue.md(
                versions_table(list_versions(warehouse)).to_markdown(index=False)
            ),
        }
    )


TOP_FEATURES = 15


def feature_importance(version: ModelVersion) -> pd.DataFrame:
    """Stage 1's features by importance (CatBoost's PredictionValuesChange, summing to 100), highest first."""
    table = version.load().get_feature_importance(type="PredictionValuesChange", prettified=True)
    return table.set_axis(["feature", "importance"], axis=1)


def save_png(png: bytes, version: str) -> Path:
    """The version's feature-importance plot as a file (data_dir()/model/<version>_importance.png)."""
    path = data_dir() / "model" / f"{version}_importance.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


def _readable(value):
    """Metrics at 4 decimals: the UI shows a float's every digit."""
    return round(value, 4) if isinstance(value, float) else value


def versions_table(versions: list[ModelVersion]) -> pd.DataFrame:
    """Every stored version, newest cutoff first: what each learned from and how its blend weighs."""
    return pd.DataFrame(
        [
            {
                "version": v.version,
                "cutoff": v.cutoff.isoformat(),
                "stage 1 before": v.metrics.get("stage1_trained_before"),
                "stage 1 races": v.training_races,
                "trees": v.params.get("iterations"),
                "w stage1": round(v.blend.stage1, 3),
                "w market": round(v.blend.market, 3),
                "window races": v.metrics.get("blend_window_races"),
                "window LL stage1": _readable(v.metrics.get("blend_window_stage1_log_loss")),
                "window LL blend": _readable(v.metrics.get("blend_window_blend_log_loss")),
                "window LL market": _readable(v.metrics.get("blend_window_market_log_loss")),
            }
            for v in sorted(versions, key=lambda v: v.cutoff, reverse=True)
        ]
    )
