"""`predictions`: price every runner of a cell's card with the newest model trained before its day."""

from collections.abc import Sequence
from functools import cache
from importlib import resources

import dagster as dg
import pandas as pd

from racing_platform.lib.cell_runs import (
    Outcome,
    Verdict,
    cells_of,
    cells_params,
    nothing_there,
    record_run,
    rows_by_cell,
    where,
)
from racing_platform.lib.failures import failures_by_class
from racing_platform.lib.metadata import table_schema
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, WAREHOUSE_RETRY
from racing_platform.model.registry import version_for
from racing_platform.partitions import Cell, meeting_cells
from racing_platform.predictions.pricing import (
    CARD_FACTS,
    PREDICTION_DESCRIPTIONS,
    card_hash,
    local_time,
    price_card,
    race_card_markdown,
)
from racing_platform.settings import load_settings
from racing_platform.warehouse.resource import Warehouse

SUM_TOLERANCE = 1e-6


@dg.asset(
    partitions_def=meeting_cells,
    group_name="predictions",
    owners=OWNERS,
    kinds={"catboost", "duckdb"},
    metadata={"dagster/column_schema": table_schema("predictions", PREDICTION_DESCRIPTIONS)},
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["runner_features", "win_model"],
    check_specs=[
        dg.AssetCheckSpec(
            "predictions_contract",
            asset="predictions",
            blocking=True,
            description="Stage-1 and blended probabilities in [0, 1] summing to 1 per race and snapshot "
            "over the final field; every non-scratched runner of the card priced, once.",
        )
    ],
    description="Each runner of the final field priced by the newest model version trained before its day: "
    "stage-1 (fundamental) probability, the market's (configured provider's last price, overround "
    "removed) and their Benter blend — win_probability, the platform's price, with rank and fair odds. "
    "A snapshot per card version: predicted_at is when the card's content was first priced, so a "
    "scratching adds a snapshot priced over the new field and keeps the old one.",
)
def predictions(context: dg.AssetExecutionContext, warehouse: Warehouse):
    with failures_by_class(where("predictions", list(context.partition_keys))):
        outcomes = price_cells(warehouse, cells_of(context), load_settings().odds_provider)
    yield from record_run(context, {"predictions": outcomes})


@cache
def _sql(name: str) -> str:
    return resources.files("racing_platform.predictions").joinpath(f"sql/{name}.sql").read_text()


def price_cells(warehouse: Warehouse, cells: Sequence[Cell], provider: str) -> dict[str, Outcome]:
    """Price each cell's card with the newest model trained before its day; write all that pass at once.

    A snapshot is keyed by when its card content was first priced (card_versions), recorded in the
    same transaction as its first prices, so a blocked card leaves no trace. Returns each cell's
    outcome by partition key.
    """
    models = {day: version_for(warehouse, day) for day in sorted({c.meeting_date for c in cells})}
    params = cells_params(cells)
    outcomes: dict[str, Outcome] = {}
    frames: dict[str, list[pd.DataFrame]] = {"predictions": [], "card_versions": []}
    keys: dict[str, list[pd.DataFrame]] = {"predictions": [], "card_versions": []}
    with warehouse.connect() as conn:
        features_of = rows_by_cell(conn.execute(_sql("cells_features"), params).df())
        all_odds = conn.execute(_sql("cells_odds"), params).df()
        all_seen = conn.execute(_sql("cells_card_versions"), params).df()
        priced_before = rows_by_cell(conn.execute(_sql("cells_snapshot_prices"), params).df())
        facts_of = rows_by_cell(conn.execute(_sql("cells_card_facts"), params).df())
        odds_of, seen_of = rows_by_cell(all_odds), rows_by_cell(all_seen)
        for cell in cells:
            features = features_of.get(cell)
            if features is None:
                outcomes[str(cell)] = nothing_there("card", "no runner features for this cell")
                continue
            model = models[cell.meeting_date]
            if model is None:
                raise dg.Failure(
                    f"{cell}: no win_model version trained before {cell.meeting_date}", allow_retries=False
                )
            content = card_hash(features)
            seen = seen_of.get(cell, all_seen.head(0))
            seen = seen[seen["card_hash"] == content]
            new_card = seen.empty
            predicted_at = (
                pd.Timestamp.now(tz="UTC").floor("us")
                if new_card
                else pd.Timestamp(seen["first_seen_at"].iloc[0]).tz_convert("UTC")
            )
            odds = (
                odds_of.get(cell, all_odds.head(0))
                if new_card
                else snapshot_market(priced_before.get(cell), predicted_at, provider)
            )
            priced = price_card(features, odds, model, provider, predicted_at)
            verdict = predictions_verdict(priced, features)
            if not verdict.blocks:
                keys["predictions"].append(
                    cell.keys_frame().assign(
                        predicted_at=predicted_at, card_hash=content, model_version=model.version
                    )
                )
                frames["predictions"].append(priced)
                if new_card:
                    version = cell.keys_frame().assign(card_hash=content)
                    keys["card_versions"].append(version)
                    frames["card_versions"].append(version.assign(first_seen_at=predicted_at))
            outcomes[str(cell)] = Outcome(
                metadata=card_metadata(priced, facts_of.get(cell), provider),
                verdicts={"predictions_contract": verdict},
            )
        writing = {table: parts for table, parts in frames.items() if parts}
        if writing:
            warehouse.replace_slices(
                {table: pd.concat(parts, ignore_index=True) for table, parts in writing.items()},
                {table: pd.concat(keys[table], ignore_index=True) for table in writing},
                conn=conn,
            )
    return outcomes


def snapshot_market(stored: pd.DataFrame | None, predicted_at: pd.Timestamp, provider: str) -> pd.DataFrame:
    """A stored snapshot's market prices as the odds it was priced with (none stored: no market)."""
    columns = ["race_code", "saddlecloth", "provider_code", "win_price", "fetched_at"]
    if stored is None:
        return pd.DataFrame(columns=columns)
    at = pd.to_datetime(stored["predicted_at"], utc=True) == predicted_at
    snapshot = stored[at].rename(columns={"market_price": "win_price"})
    return snapshot.assign(provider_code=provider, fetched_at=predicted_at)[columns]


def card_metadata(priced: pd.DataFrame, facts: pd.DataFrame | None, provider: str) -> dict:
    """A cell's snapshot as its materialization shows it: rows and the whole priced card by
    race (pricing.race_card_markdown), its times on the venue's clock."""
    if priced.empty:  # every runner of the card scratched: nothing to show
        return {
            "dagster/row_count": len(priced),
            "preview": dg.MetadataValue.md("_no runner_"),
        }
    card = priced.merge(
        (_no_facts() if facts is None else facts)[["race_code", "saddlecloth", *CARD_FACTS]],
        how="left",
        on=["race_code", "saddlecloth"],
    )
    zones = card["timezone"].dropna()
    predicted_at = local_time(priced["predicted_at"].iloc[0], zones.iloc[0] if len(zones) else None)
    races, priced_runners = card["race_code"].nunique(), int(card["market_price"].notna().sum())
    header = (
        f"Priced {predicted_at:%Y-%m-%d %H:%M %Z} with model {priced['model_version'].iloc[0]}: "
        f"{races} races, {len(card)} runners ({priced_runners} with a {provider} price). Stage 1 is the "
        f"fundamental model, Blend the platform's price (fair odds = 1 / blend), Market % the {provider} "
        "price without its overround; times are the venue's."
    )
    return {
        "dagster/row_count": len(priced),
        "races": races,
        "model_version": str(priced["model_version"].iloc[0]),
        "predicted_at": predicted_at.isoformat(),
        "preview": dg.MetadataValue.md(f"{header}\n\n{race_card_markdown(card, provider)}"),
    }


def _no_facts() -> pd.DataFrame:
    return pd.DataFrame(columns=["race_code", "saddlecloth", *CARD_FACTS])


def predictions_verdict(priced: pd.DataFrame, features: pd.DataFrame) -> Verdict:
    problems = []
    for column in ("stage1_probability", "win_probability"):
        if not priced[column].between(0, 1).all():
            problems.append(f"{column} outside [0, 1]")
        sums = priced.groupby("race_code")[column].sum()
        off = sums[(sums - 1).abs() > SUM_TOLERANCE]
        if len(off):
            problems.append(f"races whose {column} does not sum to 1: {', '.join(off.index[:10])}")
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
