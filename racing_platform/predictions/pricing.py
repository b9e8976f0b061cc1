"""Turning a cell's features into a priced card snapshot."""

from __future__ import annotations

import hashlib

import pandas as pd

from racing_platform.model.blend import blend_probabilities, market_probability
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
    "stage1_probability",
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


def market_prices(
    runners: pd.DataFrame, odds: pd.DataFrame, provider: str, as_of: pd.Timestamp
) -> pd.DataFrame:
    """The provider's last win price fetched at or before `as_of` per runner of the final field, and its
    probability with the overround removed over the race's priced runners (model/blend.py)."""
    quoted = odds[(odds["provider_code"] == provider) & (odds["fetched_at"] <= as_of)].sort_values(
        "fetched_at"
    )
    latest = quoted.drop_duplicates(["race_code", "saddlecloth"], keep="last")[
        ["race_code", "saddlecloth", "win_price"]
    ]
    priced = runners[["race_code", "saddlecloth"]].merge(latest, how="left", on=["race_code", "saddlecloth"])
    priced["market_probability"] = market_probability(priced["win_price"], priced["race_code"])
    return priced.rename(columns={"win_price": "market_price"})


def price_card(
    features: pd.DataFrame, odds: pd.DataFrame, model: ModelVersion, provider: str, predicted_at: pd.Timestamp
) -> pd.DataFrame:
    """Stage 1, the market and their blend for the card's final field (scratched runners left out, so a
    scratching re-prices the rest); rank and fair odds follow the blend, the platform's price."""
    runners = features[~features["scratched"].astype(bool)].reset_index(drop=True)
    runners = runners.sort_values(["race_code", "saddlecloth"], kind="stable").reset_index(drop=True)
    priced = runners.merge(
        market_prices(runners, odds, provider, predicted_at), how="left", on=["race_code", "saddlecloth"]
    )
    priced["stage1_probability"] = win_probabilities(model.load(), priced)
    races = priced["race_code"].to_numpy()
    priced["win_probability"] = blend_probabilities(
        model.blend, priced["stage1_probability"].to_numpy(), priced["market_probability"].to_numpy(), races
    )
    priced["rank"] = (
        priced.groupby("race_code")["win_probability"].rank(ascending=False, method="first").astype(int)
    )
    priced["fair_odds"] = 1.0 / priced["win_probability"]
    priced["model_version"] = model.version
    priced["card_hash"] = card_hash(features)
    priced["predicted_at"] = predicted_at
    return priced[PREDICTION_COLUMNS].sort_values(["race_number", "rank"]).reset_index(drop=True)
