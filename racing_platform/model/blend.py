"""Stage 2, the Benter blend: a conditional logit over the fundamental model's and the market's log chances.

p_blend(i) ∝ exp(a · ln p_stage1(i) + b · ln p_market(i)) within a race, (a, b) fitted by maximum
likelihood on races the stage-1 model did not train on. The market is the configured provider's last
price before the pricing's as-of time, with the overround removed; never a starting price of a race not
yet run. A runner without a price takes its stage-1 chance inside the priced runners' share of the
race, so a partly priced race is still blended runner by runner.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

FLOOR = 1e-6


@dataclass(frozen=True)
class BlendWeights:
    stage1: float
    market: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def market_probability(price: pd.Series, race_code: pd.Series) -> pd.Series:
    """1/price normalised over the race's priced runners (overround removed); NaN where unpriced."""
    implied = 1.0 / price.where(price > 1.0)
    return implied / implied.groupby(race_code.to_numpy()).transform("sum")


def market_filled(stage1: np.ndarray, market: np.ndarray, race_code: np.ndarray) -> np.ndarray:
    """The market's chances, an unpriced runner taking its stage-1 chance: priced runners share what
    stage 1 leaves to them, in the market's proportions. A race without prices is stage 1's."""
    frame = pd.DataFrame({"p1": stage1, "pm": market, "race": race_code})
    priced = frame["pm"].notna()
    priced_mass = frame["p1"].where(priced, 0.0).groupby(frame["race"]).transform("sum")
    return np.where(priced, frame["pm"].fillna(0.0) * priced_mass, frame["p1"]).astype(float)


def _logits(stage1: np.ndarray, market: np.ndarray) -> np.ndarray:
    return np.column_stack([np.log(np.clip(stage1, FLOOR, 1.0)), np.log(np.clip(market, FLOOR, 1.0))])


def blend_probabilities(
    weights: BlendWeights, stage1: np.ndarray, market: np.ndarray, race_code: np.ndarray
) -> np.ndarray:
    """The blended chances over each race's rows; `market` may hold NaN for unpriced runners."""
    filled = market_filled(stage1, market, race_code)
    score = _logits(stage1, filled) @ np.array([weights.stage1, weights.market])
    return _softmax(score, pd.factorize(race_code)[0])


def fit_blend(stage1: np.ndarray, market: np.ndarray, race_code: np.ndarray, won: np.ndarray) -> BlendWeights:
    """Maximum-likelihood (a, b) of the conditional logit on these races (one winner each). Without a
    single market price the market's weight is 0 and only stage 1's is fitted (its temperature)."""
    filled = market_filled(stage1, market, race_code)
    x = _logits(stage1, filled)
    has_market = bool(np.isfinite(np.asarray(market, dtype=float)).any())
    if not has_market:
        x = x[:, :1]
    group = pd.factorize(race_code)[0]
    winners = np.asarray(won, dtype=bool)

    def negative_log_likelihood(w: np.ndarray) -> tuple[float, np.ndarray]:
        score = x @ w
        peak = _peak(score, group)
        weight = np.exp(score - peak)
        total = np.bincount(group, weights=weight)
        log_partition = np.log(total) + peak[_first_rows(group)]
        p = weight / total[group]
        value = log_partition.sum() - score[winners].sum()
        gradient = (p[:, None] * x).sum(axis=0) - x[winners].sum(axis=0)
        return float(value), gradient

    start = np.array([0.5, 0.5]) if has_market else np.array([1.0])
    result = minimize(negative_log_likelihood, x0=start, jac=True, method="L-BFGS-B")
    if not result.success:
        raise RuntimeError(f"blend fit did not converge: {result.message}")
    return BlendWeights(stage1=float(result.x[0]), market=float(result.x[1]) if has_market else 0.0)


def _peak(score: np.ndarray, group: np.ndarray) -> np.ndarray:
    top = np.full(group.max() + 1, -np.inf)
    np.maximum.at(top, group, score)
    return top[group]


def _first_rows(group: np.ndarray) -> np.ndarray:
    return np.unique(group, return_index=True)[1]


def _softmax(score: np.ndarray, group: np.ndarray) -> np.ndarray:
    weight = np.exp(score - _peak(score, group))
    return weight / np.bincount(group, weights=weight)[group]
