"""The features carry signal: the win model, trained on earlier dates without odds, beats guessing later."""

from __future__ import annotations

import pandas as pd

from racing_platform.evaluation.metrics import log_loss
from racing_platform.model.registry import get_version
from racing_platform.model.training import FEATURES, training_rows, win_probabilities
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.features.generated_history import PROVIDER, RACE_DAY, SIGNAL_CUTOFF

# Measured on the session's history: 2.213 against 2.337 for the uniform baseline over 157 later races
# (standard error of the difference ~0.03). The margin asks for well over half of that.
MIN_GAIN = 0.05


def test_the_win_model_beats_the_uniform_baseline_on_later_races(history):
    # Stage 1 is the fundamental model: past starts' prices are form, today's market is not a feature.
    assert not [c for c in FEATURES if "price" in c or "odds" in c or c.startswith("market_probability")]
    warehouse = Warehouse(database=str(history.database))
    model = get_version(warehouse, history.model_version)
    assert model.cutoff == SIGNAL_CUTOFF
    with warehouse.connect() as conn:
        rows = training_rows(conn, RACE_DAY, PROVIDER)
    later = rows[rows["meeting_date"] >= pd.Timestamp(SIGNAL_CUTOFF)].reset_index(drop=True)
    assert later["race_code"].nunique() >= 120

    model_loss = log_loss(later, win_probabilities(model.load(), later))
    uniform = log_loss(later, 1.0 / later.groupby("race_code")["race_code"].transform("size").to_numpy())

    assert model_loss < uniform - MIN_GAIN, f"model {model_loss:.4f} vs uniform {uniform:.4f}"
