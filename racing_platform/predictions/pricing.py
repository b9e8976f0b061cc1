"""Turning a cell's features into a priced card snapshot."""

from __future__ import annotations

import hashlib

import pandas as pd

from racing_platform.model.blend import blend_probabilities, market_probability
from racing_platform.model.registry import ModelVersion
from racing_platform.model.training import win_probabilities
from racing_platform.settings import load_settings

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


# What the columns the pricing computes mean (the card's columns are described by the contracts).
PREDICTION_DESCRIPTIONS = {
    "stage1_probability": "stage 1's (the fundamental model's) win probability over the final field",
    "win_probability": "the platform's price: the Benter blend of stage 1 and the market",
    "rank": "the runner's rank in its race by the blend (1 = most likely winner)",
    "fair_odds": "decimal odds at which a bet breaks even by the blend: 1 / win_probability",
    "market_price": "the odds provider's last win price fetched at or before predicted_at",
    "market_probability": "the market's probability: 1 / market_price over the race's priced runners "
    "(overround removed); null when the runner has no price",
    "model_version": "the win_model version that priced the card (trained before the day)",
    "card_hash": "hash of the card's field (runners, barriers, weights, jockeys, scratchings)",
    "predicted_at": "when this card content was first priced (UTC): the snapshot's key",
}

# A priced card as a racing user reads it: by race, each runner with the model, the blend and the
# market side by side. The predictions preview and the demo's next race both print it.
CARD_FACTS = [
    "race_name",
    "distance_m",
    "race_class",
    "start_time_utc",
    "timezone",
    "jockey_name",
    "weight_kg",
]


def local_time(moment, zone: str | None) -> pd.Timestamp:
    """A UTC moment on the venue's clock (the platform's calendar zone when the venue's is unknown)."""
    known = isinstance(zone, str) and zone
    return pd.Timestamp(moment).tz_convert(zone if known else load_settings().timezone)


def race_heading(race: pd.DataFrame, name_meeting: bool = False) -> str:
    """`R3 Race name — 1200 m BM64 — jumps 14:35 AEDT`, from a race's card rows (CARD_FACTS); with
    `name_meeting`, ` — meeting 5100003` after it: a cell holds every meeting at its venue that day, and
    a venue racing twice has two R1s."""
    head = race.iloc[0]
    name = f" {head['race_name']}" if pd.notna(head["race_name"]) else ""
    parts = [f"R{int(head['race_number'])}{name}"]
    conditions = " ".join(
        part
        for part in (
            f"{int(head['distance_m'])} m" if pd.notna(head["distance_m"]) else None,
            str(head["race_class"]) if pd.notna(head["race_class"]) else None,
        )
        if part
    )
    if conditions:
        parts.append(conditions)
    if pd.notna(head["start_time_utc"]):
        parts.append(f"jumps {local_time(head['start_time_utc'], head['timezone']):%H:%M %Z}")
    if name_meeting:
        parts.append(f"meeting {head['meet_code']}")
    return " — ".join(parts)


def card_table(race: pd.DataFrame, provider: str) -> pd.DataFrame:
    """A race's runners by saddlecloth as printed strings: an unpriced runner's market shows `-`."""
    rows = race.sort_values("saddlecloth")
    return pd.DataFrame(
        {
            "No": rows["saddlecloth"].map(_whole),
            "Horse": rows["horse_name"].fillna("-"),
            "Bar": rows["barrier"].map(_whole),
            "Jockey": rows["jockey_name"].fillna("-"),
            "Kg": rows["weight_kg"].map(lambda v: _number(v, "{:.1f}")),
            "Stage 1 %": rows["stage1_probability"].map(lambda v: _number(100 * v, "{:.1f}")),
            "Blend %": rows["win_probability"].map(lambda v: _number(100 * v, "{:.1f}")),
            "Fair $": rows["fair_odds"].map(lambda v: _number(v, "{:.2f}")),
            f"{provider} $": rows["market_price"].map(lambda v: _number(v, "{:.2f}")),
            "Market %": rows["market_probability"].map(lambda v: _number(100 * v, "{:.1f}")),
        }
    ).reset_index(drop=True)


def race_card_markdown(card: pd.DataFrame, provider: str) -> str:
    """Every race of a priced card (PREDICTION_COLUMNS with CARD_FACTS): a heading and a table each, in
    jump order. A race is its race_code: a cell with two meetings (a venue racing twice in a day) has two
    R1s, so each heading then names its meeting."""
    name_meeting = card["meet_code"].nunique() > 1
    order = card.sort_values(["start_time_utc", "meet_code", "race_number"], na_position="last")
    sections = []
    for race_code in order["race_code"].unique():
        race = card[card["race_code"] == race_code]
        table = card_table(race, provider)
        align = ["left" if column in ("Horse", "Jockey") else "right" for column in table.columns]
        table = table.to_markdown(index=False, disable_numparse=True, colalign=align)
        sections.append(f"**{race_heading(race, name_meeting)}**\n\n{table}")
    return "\n\n".join(sections)


def _whole(value) -> str:
    return "-" if pd.isna(value) else str(int(value))


def _number(value, spec: str) -> str:
    return "-" if pd.isna(value) else spec.format(value)
