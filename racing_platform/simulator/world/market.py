"""The betting market: a noisy, favourite-longshot-biased view of the truth with a bookmaker's margin.

Every runner carries a hidden `market_score` = its true performance score + Gaussian error of sd
`market_noise` (the market does not know everything; drawn in careers.py). Prices come from
softmax(flb_beta x market_score) over the runners still in the race at that moment (flb_beta < 1 flattens the
book: longshots are overbet), scaled up by an overround and rounded to the price ladder. Both are world
parameters (generate_world(market_noise=..., flb_beta=...)); the defaults are careers.RaceModel.market_noise
(0.3) and FLB_BETA (0.78). Early prices carry an extra opening error that decays to zero at the jump; each
provider adds its own small error and margin. The starting price is the consensus at the jump without
provider error.

All randomness here is counter-based (a hash of seed, entry, provider, update), so any race's fluctuations can
be recomputed on demand, and many races' closing prices in one vectorised call, with identical results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from racing_platform.simulator.world.model import ODDS_COLUMNS
from racing_platform.simulator.world.segments import group_sum

FLB_BETA = 0.78  # default favourite-longshot bias (a world parameter: generate_world(flb_beta=...))
FLB_BETA_RANGE = (0.5, 1.0)  # 1.0: no bias; 0.5: a very flat book
MARKET_NOISE_RANGE = (0.0, 1.5)  # sd of the market's error on the performance score (logit units)
BOOKMAKERS = {"SB2": 1.165, "LB2": 1.155, "PB3": 1.175, "BT": 1.15}  # provider -> base overround (10 runners)
TOTES = {"V": 1.17, "N": 1.17, "Q": 1.18}
PROVIDERS = tuple(BOOKMAKERS) + tuple(TOTES)
SP_OVERROUND = 1.165
OVERROUND_PER_RUNNER = 0.005
OPENING_ERROR = 0.35
PROVIDER_ERROR = 0.08

_LADDER = np.unique(
    np.round(
        np.concatenate(
            [
                np.arange(1.01, 2.0, 0.01),
                np.arange(2.0, 3.0, 0.05),
                np.arange(3.0, 5.0, 0.1),
                np.arange(5.0, 10.0, 0.5),
                np.arange(10.0, 21.0, 1.0),
                [23, 26, 31, 34, 41, 51, 61, 71, 81, 101, 126, 151, 201, 251, 301, 501],
            ]
        ),
        2,
    )
)
_LOG_LADDER = np.log(_LADDER)


def ladder_price(raw: np.ndarray) -> np.ndarray:
    """Nearest price on the bookmakers' ladder (in log space), within $1.01..$501."""
    logs = np.log(np.clip(raw, _LADDER[0], _LADDER[-1]))
    hi = np.clip(np.searchsorted(_LOG_LADDER, logs), 1, len(_LADDER) - 1)
    lo = hi - 1
    pick = np.where(logs - _LOG_LADDER[lo] < _LOG_LADDER[hi] - logs, lo, hi)
    return _LADDER[pick]


def tote_price(raw: np.ndarray) -> np.ndarray:
    return np.clip(np.round(raw, 1), 1.1, 999.0)


_MASK64 = (1 << 64) - 1


def _mix(*keys: np.ndarray) -> np.ndarray:
    """splitmix64 over a tuple of integer keys -> uint64 (vectorised, deterministic).

    Leading scalar keys (seed, race, provider, ...) are folded with Python integers first, the same
    arithmetic modulo 2**64 without numpy's per-call cost on one-element values.
    """
    h = 0
    folded = 0
    for k in keys:
        if not isinstance(k, int | np.integer) or isinstance(k, bool) or not -(2**63) <= k <= _MASK64:
            break
        h = ((h ^ (int(k) & _MASK64)) + 0x9E3779B97F4A7C15) & _MASK64
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK64
        h = h ^ (h >> 31)
        folded += 1
    with np.errstate(over="ignore"):
        h = np.full(np.broadcast(*keys).shape, h, dtype=np.uint64)
        for k in keys[folded:]:
            h = h ^ np.asarray(k).astype(np.uint64)
            h = h + np.uint64(0x9E3779B97F4A7C15)
            h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = h ^ (h >> np.uint64(31))
    return h


def hash_uniform(*keys: np.ndarray) -> np.ndarray:
    return ((_mix(*keys) >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def hash_normal(*keys: np.ndarray) -> np.ndarray:
    u1 = hash_uniform(*keys, 1)
    u2 = hash_uniform(*keys, 2)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def starting_prices(
    seed: int,
    race: np.ndarray,
    entry: np.ndarray,
    market_score: np.ndarray,
    runs: np.ndarray,
    flb_beta: float = FLB_BETA,
) -> np.ndarray:
    """SP for every runner of the given (betting) races; NaN for non-runners. Arrays are per entry."""
    sp = np.full(len(race), np.nan)
    idx = np.flatnonzero(runs)
    if len(idx) == 0:
        return sp
    q = _softmax(flb_beta * market_score[idx], race[idx])
    n = group_sum(np.ones(len(idx)), race[idx])
    overround = SP_OVERROUND + OVERROUND_PER_RUNNER * (n - 10) + 0.012 * hash_normal(seed, race[idx], 99)
    sp[idx] = ladder_price(1.0 / (q * overround))
    return sp


def _softmax(score: np.ndarray, group: np.ndarray) -> np.ndarray:
    _, inverse = np.unique(group, return_inverse=True)
    top = np.full(inverse.max() + 1, -np.inf)
    np.maximum.at(top, inverse, score)
    peak = top[inverse]
    weight = np.exp(score - peak)
    return weight / np.bincount(inverse, weights=weight)[inverse]


def _provider_overround(seed: int, race: np.ndarray, provider: np.ndarray, n: np.ndarray) -> np.ndarray:
    base = np.array([BOOKMAKERS.get(p) or TOTES[p] for p in PROVIDERS])[provider]
    return base + OVERROUND_PER_RUNNER * (n - 10) + 0.01 * hash_normal(seed, race, provider, 3)


def closing_prices(
    seed: int,
    race: np.ndarray,
    entry: np.ndarray,
    market_score: np.ndarray,
    runs: np.ndarray,
    flb_beta: float = FLB_BETA,
) -> pd.DataFrame:
    """Each bookmaker's last price before the jump for every runner: (race, entry, provider_code, price)."""
    idx = np.flatnonzero(runs)
    frames = []
    for p, code in enumerate(BOOKMAKERS):
        r, e = race[idx], entry[idx]
        score = flb_beta * market_score[idx] + PROVIDER_ERROR * hash_normal(seed, e, p, 1)
        q = _softmax(score, r)
        n = group_sum(np.ones(len(idx)), r)
        price = ladder_price(1.0 / (q * _provider_overround(seed, r, np.full(len(r), p), n)))
        frames.append(pd.DataFrame({"race": r, "entry": e, "provider_code": code, "price": price}))
    return pd.concat(frames, ignore_index=True)


def race_odds(
    seed: int,
    race_key: int,
    entry_key: np.ndarray,
    entry_id: np.ndarray,
    market_score: np.ndarray,
    scratched_at: pd.Series,
    opens_at: pd.Timestamp,
    jump_at: pd.Timestamp,
    closes_at: pd.Timestamp | None = None,
    flb_beta: float = FLB_BETA,
) -> pd.DataFrame:
    """All price updates of one race, every provider, from market open to the jump (or an abandonment)."""
    if len(entry_key) == 0 or opens_at >= jump_at:
        return pd.DataFrame(columns=ODDS_COLUMNS)
    span = (jump_at - opens_at).total_seconds()
    scratch_s = np.array([(t - opens_at).total_seconds() if pd.notna(t) else np.inf for t in scratched_at])
    stop_s = span if closes_at is None else min(span, (closes_at - opens_at).total_seconds())
    # Every hash is drawn for all providers at once (element by element the same numbers as one
    # provider at a time): a race costs a few dozen numpy calls instead of a few hundred.
    providers = np.arange(len(PROVIDERS))
    toted = np.array([code in TOTES for code in PROVIDERS])
    start_draw = hash_uniform(seed, race_key, providers, 10)
    count_draw = hash_uniform(seed, race_key, providers, 11)
    last_draw = hash_uniform(seed, race_key, providers, 9)
    most_updates = 4 + 12 + 6
    update_draws = hash_uniform(seed, race_key, providers[:, None], 12 + np.arange(most_updates)[None, :])
    times = []
    for p, tote in enumerate(toted):
        start_frac = 0.7 + 0.25 * start_draw[p] if tote else 0.05 * start_draw[p]
        n_updates = 4 + int(12 * count_draw[p]) + (6 if tote else 0)
        u = np.sort(update_draws[p, :n_updates])
        at = span * (start_frac + (1 - start_frac) * (1 - (1 - u) ** 2.2))
        at = np.r_[span * start_frac, at[:-1], span - 60 * last_draw[p]]
        at = np.unique(np.round(at))
        times.append(at[at < stop_s])
    longest = max(len(at) for at in times)
    shared_opening = hash_normal(seed, entry_key, 20) * 0.7
    own_opening = hash_normal(seed, entry_key[:, None], providers[None, :], 21)
    provider_error = hash_normal(seed, entry_key[:, None], providers[None, :], 1)
    drifts = hash_normal(
        seed, entry_key[:, None, None], providers[None, :, None], 100 + np.arange(longest)[None, None, :]
    )
    overround_noise = hash_normal(seed, race_key, providers, 3)
    base_overround = np.array([BOOKMAKERS.get(p) or TOTES[p] for p in PROVIDERS])
    frames = []
    for p, (code, tote, at) in enumerate(zip(PROVIDERS, toted, times, strict=True)):
        if len(at) == 0:
            continue
        remaining = (span - at) / span  # 1 at the open, 0 at the jump
        live = scratch_s[:, None] > at[None, :]  # entry x update
        opening = OPENING_ERROR * (shared_opening + own_opening[:, p] * 0.5)
        drift = 0.04 * drifts[:, p, : len(at)]
        beta = flb_beta * (0.93 if tote else 1.0)
        score = (
            beta * market_score[:, None]
            + PROVIDER_ERROR * provider_error[:, p][:, None]
            + opening[:, None] * remaining[None, :] ** 0.8
            + drift * np.sqrt(remaining)[None, :]
        )
        score = np.where(live, score, -np.inf)
        top = score.max(axis=0, keepdims=True)
        weight = np.where(live, np.exp(score - np.where(np.isfinite(top), top, 0)), 0.0)
        field_size = live.sum(axis=0)
        q = weight / np.maximum(weight.sum(axis=0, keepdims=True), 1e-300)
        # _provider_overround, with its hash drawn above
        overround = (
            np.full(len(at), base_overround[p]) + OVERROUND_PER_RUNNER * (field_size - 10)
        ) + 0.01 * np.full(len(at), overround_noise[p])
        with np.errstate(divide="ignore"):
            raw = 1.0 / (q * overround[None, :])
        price = tote_price(raw) if tote else ladder_price(raw)
        e_idx, t_idx = np.nonzero(live)  # entry-major, updates in time order within an entry
        quoted = price[e_idx, t_idx]
        changed = np.ones(len(quoted), dtype=bool)  # emit a price only when it moves
        changed[1:] = (quoted[1:] != quoted[:-1]) | (e_idx[1:] != e_idx[:-1])
        frames.append((e_idx[changed], np.full(changed.sum(), code), at[t_idx[changed]], quoted[changed]))
    if not frames:
        return pd.DataFrame(columns=ODDS_COLUMNS)
    entries, codes, seconds, prices = (np.concatenate(part) for part in zip(*frames, strict=True))
    return pd.DataFrame(
        {
            "entry_id": entry_id[entries],
            "provider_code": codes,
            "update_time_utc": opens_at + pd.to_timedelta(seconds, unit="s"),
            "price": prices,
        }
    )[ODDS_COLUMNS]
