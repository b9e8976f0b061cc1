"""Stage 1, the fundamental model: CatBoost over runner features, a softmax within each race.

CatBoost's QuerySoftMax loss is the conditional logit itself: a runner's score is turned into its
chance against the other runners of its race (its group), so probabilities are fitted as they are
used, over the final field. Race-constant columns (field size, the race's class) only matter through
interactions; jockey and trainer enter through their strike rates, not their codes (thousands of
codes, most seen a few times, fit noise).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources

import duckdb
import numpy as np
import pandas as pd
from catboost import CatBoost, Pool

from racing_platform.features.assets import RATING_COLUMNS

CATEGORICAL = ["track_condition", "venue_slug"]
NUMERIC = [
    "distance_m",
    "class_rank",
    "track_rating",
    "barrier",
    "barrier_rel",
    "barrier_rel_by_distance",
    "weight_kg",
    "weight_change_kg",
    "weight_vs_field",
    "handicap_rating",
    "handicap_gap_to_top",
    "career_starts",
    "career_win_rate",
    "career_place_rate",
    "recent_win_rate",
    "recent_place_rate",
    "avg_norm_finish_last5",
    "norm_finish_last1",
    "norm_finish_last2",
    "norm_finish_last3",
    "margin_last1",
    "margin_last2",
    "margin_last3",
    "days_since_last_run",
    "first_up",
    "second_up",
    "class_change",
    *RATING_COLUMNS,
    "distance_starts",
    "distance_place_rate",
    "track_starts",
    "track_place_rate",
    "going_starts",
    "going_place_rate",
    "jockey_rides_365d",
    "jockey_win_rate_365d",
    "trainer_runners_365d",
    "trainer_win_rate_365d",
]
FEATURES = NUMERIC + CATEGORICAL

DEFAULT_PARAMS = {
    "loss_function": "QuerySoftMax",
    "iterations": 600,
    "learning_rate": 0.08,
    "depth": 6,
    "l2_leaf_reg": 5.0,
    "random_seed": 7,
    "thread_count": 2,
    "verbose": False,
    "allow_writing_files": False,
}

# Trees added without improving the later races' log loss before fitting stops.
EARLY_STOPPING_ROUNDS = 40


@cache
def _sql(name: str) -> str:
    return resources.files("racing_platform.model").joinpath(f"sql/{name}.sql").read_text()


def training_rows(
    conn: duckdb.DuckDBPyConnection, cutoff: date, provider: str, since: date = date.min
) -> pd.DataFrame:
    """Runners of resulted races dated in [since, cutoff), with features, label and the market's price."""
    return conn.execute(_sql("training_rows"), {"cutoff": cutoff, "provider": provider, "since": since}).df()


def _matrix(frame: pd.DataFrame) -> pd.DataFrame:
    x = frame[FEATURES].copy()
    for column in CATEGORICAL:
        x[column] = x[column].astype("string").fillna("unknown").astype(str)
    for column in NUMERIC:
        x[column] = pd.to_numeric(x[column], errors="coerce").astype("float64")
    return x


def _pool(rows: pd.DataFrame) -> Pool:
    """Rows grouped by race (contiguous, as QuerySoftMax needs); labelled when `won` is there."""
    label = rows["won"].astype(int) if "won" in rows else None
    return Pool(_matrix(rows), label=label, group_id=_race_groups(rows), cat_features=CATEGORICAL)


def _race_groups(rows: pd.DataFrame) -> np.ndarray:
    codes = rows["race_code"].astype(str)
    blocks = int(codes.ne(codes.shift()).sum())
    if blocks != codes.nunique():
        raise ValueError("each race's runners must be contiguous rows (sort by race_code)")
    return pd.factorize(codes)[0]


def fit(rows: pd.DataFrame, params: dict | None = None) -> CatBoost:
    model = CatBoost(params or DEFAULT_PARAMS)
    model.fit(_pool(rows))
    return model


def fit_until_later_races_stop_improving(train: pd.DataFrame, later: pd.DataFrame) -> CatBoost:
    """Fit on `train`, keeping the trees up to the best log loss on the `later` races."""
    model = CatBoost(DEFAULT_PARAMS)
    model.fit(_pool(train), eval_set=_pool(later), early_stopping_rounds=EARLY_STOPPING_ROUNDS)
    return model


def win_probabilities(model: CatBoost, runners: pd.DataFrame) -> np.ndarray:
    """Each runner's chance of winning among the rows of its race (the final field): sums to 1 per race."""
    score = model.predict(
        _pool(runners.drop(columns="won", errors="ignore")), prediction_type="RawFormulaVal"
    )
    return race_softmax(np.asarray(score, dtype=float), runners["race_code"].to_numpy())


def race_softmax(score: np.ndarray, race_code: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({"score": score, "race": race_code})
    shifted = np.exp(frame["score"] - frame.groupby("race")["score"].transform("max"))
    return (shifted / shifted.groupby(frame["race"]).transform("sum")).to_numpy()
