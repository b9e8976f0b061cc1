"""Stage 2: the conditional logit over ln p(stage 1) and ln p(market), on hand-made races."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from racing_platform.model.blend import (
    BlendWeights,
    blend_probabilities,
    fit_blend,
    market_filled,
    market_probability,
)


def test_the_market_s_overround_is_removed_over_the_priced_runners():
    price = pd.Series([2.0, 4.0, np.nan, 3.0])  # 0.5 + 0.25 implied in race A (one unpriced), 1/3 in B
    race = pd.Series(["A", "A", "A", "B"])
    np.testing.assert_allclose(market_probability(price, race), [0.5 / 0.75, 0.25 / 0.75, np.nan, 1.0])


def test_an_unpriced_runner_keeps_its_stage1_share_and_the_priced_share_the_rest_as_the_market_does():
    stage1 = np.array([0.5, 0.3, 0.2])
    market = np.array([0.6, 0.4, np.nan])
    # Stage 1 leaves 0.8 to the priced runners; the market splits it 0.6 : 0.4.
    np.testing.assert_allclose(market_filled(stage1, market, np.array(["R"] * 3)), [0.48, 0.32, 0.2])


def test_the_blend_is_a_softmax_of_the_weighted_log_chances_and_sums_to_one_per_race():
    stage1 = np.array([0.5, 0.3, 0.2, 0.7, 0.3])
    market = np.array([0.6, 0.3, 0.1, np.nan, np.nan])  # race S has no prices at all
    race = np.array(["R", "R", "R", "S", "S"])
    weights = BlendWeights(stage1=0.4, market=0.9)

    blended = blend_probabilities(weights, stage1, market, race)

    score = 0.4 * np.log(stage1[:3]) + 0.9 * np.log(market[:3])
    np.testing.assert_allclose(blended[:3], np.exp(score) / np.exp(score).sum())
    tempered = stage1[3:] ** 1.3  # no market: stage 1 at the summed weight
    np.testing.assert_allclose(blended[3:], tempered / tempered.sum())
    np.testing.assert_allclose(pd.Series(blended).groupby(race).sum(), 1.0)


def _simulated_races(races: int, a: float, b: float, rng: np.random.Generator) -> pd.DataFrame:
    """Races of 8 whose winners are drawn from p ∝ p1^a pm^b."""
    race = np.repeat(np.arange(races), 8)
    p1 = rng.dirichlet(np.ones(8) * 2, races).ravel()
    pm = rng.dirichlet(np.ones(8) * 2, races).ravel()
    true = pd.Series(p1**a * pm**b).groupby(race).transform(lambda s: s / s.sum()).to_numpy()
    won = np.zeros(len(race), dtype=bool)
    for r in range(races):
        won[r * 8 + rng.choice(8, p=true[r * 8 : r * 8 + 8])] = True
    return pd.DataFrame({"race": race, "p1": p1, "pm": pm, "won": won})


def test_fitting_recovers_the_weights_the_winners_were_drawn_with():
    rows = _simulated_races(8000, a=0.4, b=0.9, rng=np.random.default_rng(3))
    weights = fit_blend(rows["p1"].to_numpy(), rows["pm"].to_numpy(), rows["race"].to_numpy(), rows["won"])
    # Over seeds the fitted weights spread by about 0.035 at 8,000 races: three of those either side.
    assert weights.stage1 == pytest.approx(0.4, abs=0.1)
    assert weights.market == pytest.approx(0.9, abs=0.1)


def test_without_any_price_the_market_s_weight_is_zero_and_stage1_s_temperature_is_fitted():
    rows = _simulated_races(3000, a=1.6, b=0.0, rng=np.random.default_rng(5))
    no_prices = np.full(len(rows), np.nan)
    weights = fit_blend(rows["p1"].to_numpy(), no_prices, rows["race"].to_numpy(), rows["won"])
    assert weights.market == 0.0
    assert weights.stage1 == pytest.approx(1.6, abs=0.15)
