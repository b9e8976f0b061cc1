"""Training data, fitting and race-normalised win probabilities.

The label is "won the race"; CatBoost's raw probabilities are renormalised within each race so the
non-scratched runners' probabilities sum to 1 (a runner's chance depends on who it meets).
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, Pool

CATEGORICAL = ["jockey_code", "trainer_code", "venue_slug", "track_condition"]
NUMERIC = [
    "distance_m",
    "class_rank",
    "track_rating",
    "field_size",
    "barrier",
    "barrier_rel",
    "barrier_rel_by_distance",
    "weight_kg",
    "claim_kg",
    "weight_change_kg",
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
    "iterations": 400,
    "learning_rate": 0.05,
    "depth": 6,
    "l2_leaf_reg": 5.0,
    "loss_function": "Logloss",
    "random_seed": 7,
    "thread_count": 2,
    "verbose": False,
    "allow_writing_files": False,
}

# Trees added without improving the holdout log loss before fitting stops.
EARLY_STOPPING_ROUNDS = 50

TRAINING_ROWS_SQL = """
SELECT f.*, (r.finish_position = 1) AS won
FROM runner_features f
JOIN results r ON r.race_code = f.race_code AND r.horse_code = f.horse_code
WHERE f.meeting_date < ? AND NOT f.scratched AND r.finish_position IS NOT NULL
  AND f.race_code IN (SELECT race_code FROM results WHERE finish_position = 1)
ORDER BY f.meeting_date, f.race_code, f.saddlecloth
"""


def training_rows(conn: duckdb.DuckDBPyConnection, cutoff: date) -> pd.DataFrame:
    """Runners of resulted races dated strictly before `cutoff`, with their features and the label."""
    return conn.execute(TRAINING_ROWS_SQL, [cutoff]).df()


def _matrix(frame: pd.DataFrame) -> pd.DataFrame:
    x = frame[FEATURES].copy()
    for column in CATEGORICAL:
        x[column] = x[column].astype("string").fillna("unknown").astype(str)
    for column in NUMERIC:
        x[column] = pd.to_numeric(x[column], errors="coerce").astype("float64")
    return x


def _pool(rows: pd.DataFrame) -> Pool:
    return Pool(_matrix(rows), label=rows["won"].astype(int), cat_features=CATEGORICAL)


def fit(rows: pd.DataFrame, params: dict | None = None) -> CatBoostClassifier:
    model = CatBoostClassifier(**(params or DEFAULT_PARAMS))
    model.fit(_pool(rows))
    return model


def fit_until_holdout_stops_improving(train: pd.DataFrame, holdout: pd.DataFrame) -> CatBoostClassifier:
    """Fit on `train`, keeping the trees up to the best log loss on the later `holdout`.

    A few months of history is a few hundred races: a fixed 400 trees overfit it and can price worse
    than the uniform baseline, so the number of trees is chosen out of time (see win_model).
    """
    model = CatBoostClassifier(**DEFAULT_PARAMS)
    model.fit(_pool(train), eval_set=_pool(holdout), early_stopping_rounds=EARLY_STOPPING_ROUNDS)
    return model


def win_probabilities(model: CatBoostClassifier, runners: pd.DataFrame) -> np.ndarray:
    """Each runner's chance of winning its race; sums to 1 over a race's rows."""
    raw = model.predict_proba(Pool(_matrix(runners), cat_features=CATEGORICAL))[:, 1]
    totals = pd.Series(raw, index=runners.index).groupby(runners["race_code"]).transform("sum")
    return raw / totals.to_numpy()


def log_loss(rows: pd.DataFrame, probability: np.ndarray) -> float:
    """Mean over races of -ln p(winner): the project's one log loss."""
    winners = probability[rows["won"].astype(bool).to_numpy()]
    return float(-np.log(np.clip(winners, 1e-12, 1.0)).mean())


def uniform_log_loss(rows: pd.DataFrame) -> float:
    field = rows.groupby("race_code")["race_code"].transform("size").to_numpy()
    return log_loss(rows, 1.0 / field)
