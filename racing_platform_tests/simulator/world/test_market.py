"""The market: per-provider price fluctuations until the jump, a favourite-longshot-biased book, SP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from racing_platform.simulator.world import generator, market
from racing_platform.simulator.world.market import (
    BOOKMAKERS,
    PROVIDERS,
    closing_prices,
    hash_normal,
    hash_uniform,
    ladder_price,
)
from racing_platform.simulator.world.model import ODDS_COLUMNS
from racing_platform_tests.simulator.world.conftest import run_races


def _race_with_a_late_scratching(world) -> str:
    entries = world.entries.merge(world.races[["race_code", "start_time_utc"]], on="race_code")
    late = entries[(entries["start_time_utc"] - entries["scratched_at"]) < pd.Timedelta(hours=4)]
    betting = set(run_races(world)["race_code"])
    return next(code for code in late["race_code"] if code in betting)


def test_odds_cover_every_provider_from_acceptances_to_the_jump(small_world):
    w = small_world
    race_code = run_races(w)["race_code"].iloc[10]
    odds = w.odds_for_race(race_code)
    assert list(odds.columns) == ODDS_COLUMNS
    assert set(odds["provider_code"]) == set(PROVIDERS)
    race = w.races.set_index("race_code").loc[race_code]
    meeting = w.meetings.set_index("meet_code").loc[race["meet_code"]]
    assert (odds["update_time_utc"] >= meeting["fields_at"]).all()
    assert (odds["update_time_utc"] < race["start_time_utc"]).all()
    assert odds["price"].between(1.01, 999).all()
    per_runner = odds.groupby(["entry_id", "provider_code"]).size()
    assert per_runner.median() >= 2  # prices move
    entries = w.entries[w.entries["race_code"] == race_code]
    assert set(odds["entry_id"]) <= set(entries["entry_id"])


def test_a_late_scratching_stops_its_prices_and_shortens_the_rest(small_world):
    w = small_world
    race_code = _race_with_a_late_scratching(w)
    odds = w.odds_for_race(race_code)
    entries = w.entries[w.entries["race_code"] == race_code].set_index("entry_id")
    for entry_id, at in entries["scratched_at"].dropna().items():
        assert (odds.loc[odds["entry_id"] == entry_id, "update_time_utc"] < at).all()
    runners = entries[entries["scratched_at"].isna()].index
    final = (
        odds[odds["entry_id"].isin(runners)]
        .sort_values("update_time_utc")
        .groupby(["provider_code", "entry_id"])
        .tail(1)
    )
    book = (
        (1 / final[final["provider_code"].isin(list(BOOKMAKERS))]["price"])
        .groupby(final["provider_code"])
        .sum()
    )
    assert book.between(1.05, 1.35).all()


def test_no_odds_for_trials_and_unknown_races_are_named(small_world):
    w = small_world
    trial_meetings = w.meetings[w.meetings["is_trial"] | w.meetings["is_jumpout"]]["meet_code"]
    trial_race = w.races[w.races["meet_code"].isin(set(trial_meetings))]["race_code"].iloc[0]
    assert w.odds_for_race(trial_race).empty
    with pytest.raises(KeyError, match="unknown race_code '0000001'"):
        w.odds_for_race("0000001")


def test_closing_prices_agree_with_the_last_fluctuation(small_world):
    w = small_world
    race_code = run_races(w)["race_code"].iloc[25]
    entries = w.entries[(w.entries["race_code"] == race_code) & w.entries["scratched_at"].isna()]
    book = w.odds_for_race
    closing = closing_prices(
        w.seed,
        np.full(len(entries), int(race_code)),
        entries["entry_id"].astype(np.int64).to_numpy(),
        book.market_scores(entries["entry_id"]),
        np.ones(len(entries), dtype=bool),
    )
    odds = book(race_code)
    last = odds.sort_values("update_time_utc").groupby(["provider_code", "entry_id"]).tail(1)
    merged = closing.assign(entry_id=closing["entry"].astype(str)).merge(
        last, on=["entry_id", "provider_code"]
    )
    assert len(merged) == len(entries) * len(BOOKMAKERS)
    assert (np.abs(np.log(merged["price_x"] / merged["price_y"])) < 0.15).mean() > 0.95


def test_starting_price_favourite_is_usually_the_truth_favourite(small_world):
    races = set(run_races(small_world)["race_code"])
    run = small_world.entries[
        small_world.entries["race_code"].isin(races) & small_world.entries["scratched_at"].isna()
    ]
    sp_fav = run.loc[run.groupby("race_code")["starting_price"].idxmin(), "entry_id"]
    truth_fav = run.loc[run.groupby("race_code")["true_win_prob"].idxmax(), "entry_id"]
    agree = len(set(sp_fav) & set(truth_fav)) / len(races)
    assert 0.45 < agree < 0.95  # informed but not omniscient


def test_price_ladder_and_counter_based_randomness():
    assert list(ladder_price(np.array([1.004, 2.07, 4.63, 19.4, 22.0, 700.0]))) == [
        1.01,
        2.05,
        4.6,
        19.0,
        23.0,
        501.0,
    ]
    keys = np.arange(100_000)
    u = hash_uniform(5, keys, 3)
    assert 0.49 < u.mean() < 0.51 and u.min() > 0 and u.max() < 1
    z = hash_normal(5, keys)
    assert abs(z.mean()) < 0.02 and 0.98 < z.std() < 1.02
    assert np.array_equal(hash_uniform(5, keys[:10], 3), u[:10])


# ----- the fast paths against the plain, one-provider-at-a-time reference --------------------------


def _reference_mix(*keys) -> np.ndarray:
    """splitmix64 over every key with numpy, scalars included (what market._mix folds faster)."""
    with np.errstate(over="ignore"):
        h = np.zeros(np.broadcast(*keys).shape, dtype=np.uint64)
        for k in keys:
            h = h ^ np.asarray(k).astype(np.uint64)
            h = h + np.uint64(0x9E3779B97F4A7C15)
            h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = h ^ (h >> np.uint64(31))
    return h


def _reference_normal(*keys) -> np.ndarray:
    u1, u2 = (
        ((_reference_mix(*keys, i) >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53 for i in (1, 2)
    )
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _reference_uniform(*keys) -> np.ndarray:
    return ((_reference_mix(*keys) >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def _reference_race_odds(
    seed,
    race_key,
    entry_key,
    entry_id,
    market_score,
    scratched_at,
    opens_at,
    jump_at,
    closes_at,
    flb_beta=market.FLB_BETA,
):
    """market.race_odds as first written: every hash drawn provider by provider."""
    span = (jump_at - opens_at).total_seconds()
    scratch_s = np.array([(t - opens_at).total_seconds() if pd.notna(t) else np.inf for t in scratched_at])
    stop_s = span if closes_at is None else min(span, (closes_at - opens_at).total_seconds())
    frames = []
    for p, code in enumerate(PROVIDERS):
        tote = code in market.TOTES
        draw = _reference_uniform(seed, race_key, p, 10)
        start_frac = 0.7 + 0.25 * draw if tote else 0.05 * draw
        n_updates = 4 + int(12 * _reference_uniform(seed, race_key, p, 11)) + (6 if tote else 0)
        u = np.sort(_reference_uniform(seed, race_key, p, 12 + np.arange(n_updates)))
        at = span * (start_frac + (1 - start_frac) * (1 - (1 - u) ** 2.2))
        at = np.r_[span * start_frac, at[:-1], span - 60 * _reference_uniform(seed, race_key, p, 9)]
        at = np.unique(np.round(at))
        at = at[at < stop_s]
        if len(at) == 0:
            continue
        remaining = (span - at) / span
        live = scratch_s[:, None] > at[None, :]
        opening = market.OPENING_ERROR * (
            _reference_normal(seed, entry_key, 20) * 0.7 + _reference_normal(seed, entry_key, p, 21) * 0.5
        )
        drift = 0.04 * _reference_normal(seed, entry_key[:, None], p, 100 + np.arange(len(at))[None, :])
        score = (
            flb_beta * (0.93 if tote else 1.0) * market_score[:, None]
            + market.PROVIDER_ERROR * _reference_normal(seed, entry_key, p, 1)[:, None]
            + opening[:, None] * remaining[None, :] ** 0.8
            + drift * np.sqrt(remaining)[None, :]
        )
        score = np.where(live, score, -np.inf)
        top = score.max(axis=0, keepdims=True)
        weight = np.where(live, np.exp(score - np.where(np.isfinite(top), top, 0)), 0.0)
        q = weight / np.maximum(weight.sum(axis=0, keepdims=True), 1e-300)
        base = (market.BOOKMAKERS.get(code) or market.TOTES[code]) * np.ones(len(at))
        overround = (base + market.OVERROUND_PER_RUNNER * (live.sum(axis=0) - 10)) + 0.01 * _reference_normal(
            seed, np.full(len(at), race_key), np.full(len(at), p), 3
        )
        with np.errstate(divide="ignore"):
            raw = 1.0 / (q * overround[None, :])
        price = market.tote_price(raw) if tote else market.ladder_price(raw)
        e_idx, t_idx = np.nonzero(live)
        quoted = price[e_idx, t_idx]
        changed = np.ones(len(quoted), dtype=bool)
        changed[1:] = (quoted[1:] != quoted[:-1]) | (e_idx[1:] != e_idx[:-1])
        frames.append((e_idx[changed], np.full(changed.sum(), code), at[t_idx[changed]], quoted[changed]))
    entries, codes, seconds, prices = (np.concatenate(part) for part in zip(*frames, strict=True))
    return pd.DataFrame(
        {
            "entry_id": entry_id[entries],
            "provider_code": codes,
            "update_time_utc": opens_at + pd.to_timedelta(seconds, unit="s"),
            "price": prices,
        }
    )[ODDS_COLUMNS]


def test_hashes_fold_scalar_keys_to_the_same_numbers():
    rng = np.random.default_rng(0)
    entries = rng.integers(0, 10**9, 14)
    for keys in [
        (7, 5_123_456, 3, 10),
        (7, 5_123_456, 3, 12 + np.arange(9)),
        (7, entries, 20),
        (np.int64(7), entries[:, None], 2, 100 + np.arange(11)[None, :]),
        (7, -5, 2**63 + 5, np.uint64(2**64 - 1)),
    ]:
        assert np.array_equal(market._mix(*keys), _reference_mix(*keys))
        assert np.shape(market._mix(*keys)) == np.shape(_reference_mix(*keys))
        assert np.array_equal(hash_normal(*keys), _reference_normal(*keys))


def test_race_odds_equal_the_provider_by_provider_reference(small_world, monkeypatch):
    """Every betting race of the world, late scratchings and abandonments included, price for price."""
    book = small_world.odds_for_race
    races = run_races(small_world)["race_code"].tolist()
    abandoned = small_world.meetings.loc[small_world.meetings["abandoned"], "meet_code"]
    races += small_world.races.loc[small_world.races["meet_code"].isin(abandoned), "race_code"].tolist()
    fast = {code: book(code) for code in races}
    monkeypatch.setattr(generator, "race_odds", _reference_race_odds)
    compared = 0
    for code in races:
        reference = book(code) if len(fast[code]) else pd.DataFrame(columns=ODDS_COLUMNS)
        if len(fast[code]):
            pd.testing.assert_frame_equal(fast[code], reference, check_exact=True)
            compared += 1
    assert compared > 100
