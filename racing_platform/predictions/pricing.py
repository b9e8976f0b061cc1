"""Turning a cell's features into a priced card snapshot."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from racing_platform.model.registry import ModelVersion
from racing_platform.model.training import win_probabilities

# What makes two cards the same card: the field, not the odds (odds move all day).
CARD_COLUMNS = [
    "race_code",
    "saddlecloth",
    "horse_code",
    "barrier",
    "weight_kg",
    "claim_kg",
    "jockey_code",
    "scratched",
]

PREDICTION_COLUMNS = [
    "meeting_date",
    "venue_slug",
    "meet_code",
    "race_code",
    "race_number",
    "horse_code",
    "horse_name",
    "saddlecloth",
    "barrier",
    "win_probability",
    "rank",
    "fair_odds",
    "market_price",
    "market_probability",
    "model_version",
    "card_hash",
    "predicted_at",
]


def card_hash(features: pd.DataFrame) -> str:
    card = features[CARD_COLUMNS].sort_values(["race_code", "saddlecloth"]).astype(str)
    return hashlib.sha256(card.to_csv(index=False).encode()).hexdigest()[:16]


def market_probabilities(runners: pd.DataFrame, odds: pd.DataFrame, provider: str) -> pd.DataFrame:
    """The provider's latest win price per runner and its probability with the overround removed.

    Overround removal is proportional (normalise 1/price over the race's priced runners), so the
    market's probabilities sum to 1 like the model's; a race missing any runner's price gets none.
    """
    quoted = odds[odds["provider_code"] == provider].sort_values("fetched_at")
    latest = quoted.drop_duplicates(["race_code", "saddlecloth"], keep="last")[
        ["race_code", "saddlecloth", "win_price"]
    ]
    priced = runners[["race_code", "saddlecloth"]].merge(latest, how="left", on=["race_code", "saddlecloth"])
    implied = 1.0 / priced["win_price"]
    complete = priced.groupby("race_code")["win_price"].transform(lambda s: s.notna().all())
    total = implied.groupby(priced["race_code"]).transform("sum")
    priced["market_probability"] = np.where(complete, implied / total, np.nan)
    return priced.rename(columns={"win_price": "market_price"})


def price_card(
    features: pd.DataFrame, odds: pd.DataFrame, model: ModelVersion, provider: str, predicted_at: pd.Timestamp
) -> pd.DataFrame:
    runners = features[~features["scratched"].astype(bool)].reset_index(drop=True)
    probabilities = win_probabilities(model.load(), runners)
    priced = runners.assign(win_probability=probabilities)
    priced["rank"] = (
        priced.groupby("race_code")["win_probability"].rank(ascending=False, method="first").astype(int)
    )
    priced["fair_odds"] = 1.0 / priced["win_probability"]
    market = market_probabilities(priced, odds, provider)
    priced = priced.merge(market, how="left", on=["race_code", "saddlecloth"])
    priced["model_version"] = model.version
    priced["card_hash"] = card_hash(features)
    priced["predicted_at"] = predicted_at
    return priced[PREDICTION_COLUMNS].sort_values(["race_number", "rank"]).reset_index(drop=True)
