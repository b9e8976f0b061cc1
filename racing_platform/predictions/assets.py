"""`predictions`: price every runner of a cell's card with the newest model trained before its day."""

import dagster as dg
import pandas as pd

from racing_platform.lib.cell_runs import CellOutcome, Verdict, run_cells
from racing_platform.lib.failures import failures_by_class, step_location
from racing_platform.lib.metadata import frame_metadata
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, WAREHOUSE_RETRY
from racing_platform.model.registry import version_for
from racing_platform.partitions import Cell, meeting_cells
from racing_platform.predictions.pricing import card_hash, price_card
from racing_platform.settings import load_settings
from racing_platform.warehouse.resource import Warehouse

SUM_TOLERANCE = 1e-6


@dg.asset(
    partitions_def=meeting_cells,
    group_name="predictions",
    owners=OWNERS,
    kinds={"catboost", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["runner_features", "win_model"],
    check_specs=[
        dg.AssetCheckSpec(
            "predictions_contract",
            asset="predictions",
            blocking=True,
            description="Probabilities in [0, 1] summing to 1 per race and snapshot; every non-scratched "
            "runner of the card priced, once.",
        )
    ],
    description="Each runner's win probability (normalised per race), rank, fair odds and the market's "
    "probability (configured provider, overround removed) next to it. A snapshot per card version: "
    "predicted_at is when the card's content was first priced, so a field change adds a snapshot.",
)
def predictions(context: dg.AssetExecutionContext, warehouse: Warehouse):
    with failures_by_class(step_location(context)):
        provider = load_settings().odds_provider
        yield from run_cells(context, lambda cell: price_cell(warehouse, cell, provider))


def price_cell(warehouse: Warehouse, cell: Cell, provider: str) -> CellOutcome:
    """Price the cell's card with the newest model trained before its day; write it if it passes."""
    features = warehouse.query(
        "SELECT * FROM runner_features WHERE meeting_date = ? AND venue_slug = ? "
        "ORDER BY race_number, saddlecloth",
        [cell.meeting_date, cell.venue_slug],
    )
    if features.empty:
        none = {"card": "none: no runner features for this cell"}
        return CellOutcome(metadata=none, verdicts={"predictions_contract": Verdict(True, none)})
    model = version_for(warehouse, cell.meeting_date)
    if model is None:
        raise dg.Failure(
            f"{cell}: no win_model version trained before {cell.meeting_date}", allow_retries=False
        )
    content = card_hash(features)
    seen_at = first_seen(warehouse, cell, content)
    predicted_at = seen_at if seen_at is not None else pd.Timestamp.now(tz="UTC").floor("us")
    odds = warehouse.query(
        "SELECT * FROM odds WHERE meeting_date = ? AND venue_slug = ?",
        [cell.meeting_date, cell.venue_slug],
    )
    priced = price_card(features, odds, model, provider, predicted_at)
    verdict = predictions_verdict(priced, features)
    if not verdict.blocks:
        if seen_at is None:
            record_card_version(warehouse, cell, content, predicted_at)
        keys = cell.keys_frame().assign(
            predicted_at=predicted_at, card_hash=content, model_version=model.version
        )
        warehouse.replace_slices({"predictions": priced}, keys)
    return CellOutcome(
        metadata={
            **frame_metadata(
                priced,
                preview_columns=[
                    "race_number",
                    "saddlecloth",
                    "horse_name",
                    "win_probability",
                    "fair_odds",
                    "market_probability",
                ],
            ),
            "model_version": model.version,
            "predicted_at": str(predicted_at),
        },
        verdicts={"predictions_contract": verdict},
    )


def first_seen(warehouse: Warehouse, cell: Cell, content_hash: str) -> pd.Timestamp | None:
    """When this card content was first priced for the cell (None if it is new)."""
    seen = warehouse.query(
        "SELECT first_seen_at FROM card_versions WHERE meeting_date = ? AND venue_slug = ? AND card_hash = ?",
        [cell.meeting_date, cell.venue_slug, content_hash],
    )
    return pd.Timestamp(seen["first_seen_at"].iloc[0]).tz_convert("UTC") if len(seen) else None


def record_card_version(warehouse: Warehouse, cell: Cell, content_hash: str, seen_at: pd.Timestamp) -> None:
    """Recorded only with the card's first prices, so a blocked card leaves no trace."""
    with warehouse.connect() as conn:
        conn.execute(
            "INSERT INTO card_versions VALUES (?, ?, ?, ?)",
            [cell.meeting_date, cell.venue_slug, content_hash, seen_at],
        )


def predictions_verdict(priced: pd.DataFrame, features: pd.DataFrame) -> Verdict:
    problems = []
    if not priced["win_probability"].between(0, 1).all():
        problems.append("win_probability outside [0, 1]")
    sums = priced.groupby("race_code")["win_probability"].sum()
    off = sums[(sums - 1).abs() > SUM_TOLERANCE]
    if len(off):
        problems.append(f"races whose probabilities do not sum to 1: {', '.join(off.index[:10])}")
    if priced.duplicated(["race_code", "saddlecloth"]).any():
        problems.append("runners priced twice (duplicate race_code, saddlecloth)")
    runners = features.loc[~features["scratched"].astype(bool), ["race_code", "saddlecloth"]]
    unpriced = runners.merge(priced[["race_code", "saddlecloth"]], how="left", indicator=True)
    unpriced = unpriced[unpriced["_merge"] == "left_only"]
    if len(unpriced):
        problems.append(f"{len(unpriced)} runner(s) not priced")
    if problems:
        return Verdict(False, {"problems": dg.MetadataValue.json(problems)}, problem="; ".join(problems))
    return Verdict(True, {"races": int(sums.size), "runners": len(priced)})
