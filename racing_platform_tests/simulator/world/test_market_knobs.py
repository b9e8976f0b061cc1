"""World knobs for the market: market_noise and flb_beta change the prices and nothing else."""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pandas as pd
import pytest
import requests

from racing_platform.simulator.testing import simulator_process
from racing_platform.simulator.world import store
from racing_platform.simulator.world.generator import (
    GENERATOR_VERSION,
    generate_world,
    load_world,
    world_cache_dir,
    world_tables,
)
from racing_platform_tests.simulator.world.conftest import run_races

PINNED_VENUES = ["flemington", "caulfield", "geelong", "royal-randwick"]
KNOB_VENUES = [
    *("flemington", "caulfield", "moonee-valley", "sandown-hillside", "geelong", "ballarat"),
    *("bendigo", "cranbourne", "royal-randwick", "rosehill-gardens", "newcastle", "wyong"),
]


def _pinned_world(**knobs):
    return generate_world(7, start=date(2024, 3, 1), end=date(2024, 3, 31), venues=PINNED_VENUES, **knobs)


def _digest(values: np.ndarray) -> str:
    return hashlib.sha256(values.tobytes()).hexdigest()[:16]


def _odds_digest(frame: pd.DataFrame) -> str:
    return _digest(pd.util.hash_pandas_object(frame, index=False).to_numpy())


@pytest.fixture(scope="module")
def knob_worlds():
    """The same two months under the default market, a noisier one and a flatter (more biased) one."""

    def world(**knobs):
        return generate_world(
            5, start=date(2024, 4, 1), end=date(2024, 5, 31), venues=KNOB_VENUES, scale=0.8, **knobs
        )

    return {"default": world(), "noisy": world(market_noise=1.0), "flat": world(flb_beta=0.6)}


def sp_market(world) -> pd.DataFrame:
    """Runners of run, betting races with the SP-implied probability (overround removed) and the truth."""
    races = set(run_races(world)["race_code"])
    runners = world.entries[world.entries["race_code"].isin(races) & world.entries["starting_price"].notna()]
    runners = runners.assign(implied=1.0 / runners["starting_price"].astype(float))
    runners["implied"] /= runners.groupby("race_code")["implied"].transform("sum")
    return runners


def market_log_loss(runners: pd.DataFrame) -> float:
    return float(-np.log(runners.loc[runners["finish"] == 1, "implied"]).mean())


def test_the_default_world_is_byte_identical_to_before_the_knobs():
    """Digests taken before market_noise/flb_beta became parameters (GENERATOR_VERSION 5)."""
    assert GENERATOR_VERSION == 5
    for world in (_pinned_world(), _pinned_world(market_noise=0.3, flb_beta=0.78)):
        sp = world.entries["starting_price"].to_numpy(dtype=float)
        assert len(sp) == 2576 and _digest(np.nan_to_num(sp, nan=-1)) == "a16fc1d8db757c2a"
        assert _digest(world.entries["finish"].to_numpy(dtype=float, na_value=-1)) == "828aecab93c0e5c6"
        pinned = {"5400005": "8cb80a368aa6e284", "5400040": "2a64fa1aa1a3151d", "5400077": "842f358c82031348"}
        assert {code: _odds_digest(world.odds_for_race(code)) for code in pinned} == pinned
        assert world.meta["market_noise"] == 0.3 and world.meta["flb_beta"] == 0.78


def test_knobs_change_the_market_only(knob_worlds):
    default = knob_worlds["default"]
    for name in ("noisy", "flat"):
        other = knob_worlds[name]
        for table in ("meetings", "races", "horses"):
            pd.testing.assert_frame_equal(getattr(other, table), getattr(default, table))
        columns = ["entry_id", "race_code", "horse_code", "finish", "margin_lengths", "true_win_prob"]
        pd.testing.assert_frame_equal(other.entries[columns], default.entries[columns])
        assert not np.array_equal(
            other.entries["starting_price"].to_numpy(dtype=float, na_value=np.nan),
            default.entries["starting_price"].to_numpy(dtype=float, na_value=np.nan),
            equal_nan=True,
        )
    assert knob_worlds["noisy"].meta["market_noise"] == 1.0 and knob_worlds["flat"].meta["flb_beta"] == 0.6


def test_more_market_noise_makes_a_worse_market(knob_worlds):
    default, noisy = sp_market(knob_worlds["default"]), sp_market(knob_worlds["noisy"])
    assert default["race_code"].nunique() > 500
    assert market_log_loss(noisy) > market_log_loss(default) + 0.1
    corr_default = np.corrcoef(default["implied"], default["true_win_prob"])[0, 1]
    corr_noisy = np.corrcoef(noisy["implied"], noisy["true_win_prob"])[0, 1]
    assert corr_noisy < corr_default - 0.1
    # the bookmakers see the same (noisier) market: their closing prices track the noisy SP
    race = run_races(knob_worlds["noisy"])["race_code"].iloc[20]
    assert _closing_vs_sp_correlation(knob_worlds["noisy"], race) > 0.9


def test_a_smaller_flb_beta_flattens_every_book(knob_worlds):
    default, flat = sp_market(knob_worlds["default"]), sp_market(knob_worlds["flat"])

    def favourite_implied(runners):
        return runners.groupby("race_code")["implied"].max().mean()

    def longshot_ratio(runners):  # won / implied for SP $21+: below 1 = longshots overbet
        longshots = runners[runners["starting_price"] > 21]
        return (longshots["finish"] == 1).mean() / longshots["implied"].mean()

    assert favourite_implied(flat) < favourite_implied(default) - 0.03
    assert longshot_ratio(flat) < longshot_ratio(default)
    # odds_for_race uses the same beta: the bookmakers' closing favourites are longer too
    races = run_races(knob_worlds["default"])["race_code"].iloc[:40]
    assert _closing_favourite(knob_worlds["flat"], races) > _closing_favourite(knob_worlds["default"], races)
    assert _closing_vs_sp_correlation(knob_worlds["flat"], races.iloc[5]) > 0.9


def _closing(world, race_code: str, provider: str = "SB2") -> pd.Series:
    odds = world.odds_for_race(race_code)
    odds = odds[odds["provider_code"] == provider].sort_values("update_time_utc")
    return odds.groupby("entry_id")["price"].last()


def _closing_favourite(world, race_codes) -> float:
    return float(np.mean([_closing(world, code).min() for code in race_codes]))


def _closing_vs_sp_correlation(world, race_code: str) -> float:
    closing = _closing(world, race_code)
    sp = world.entries.set_index("entry_id").loc[closing.index, "starting_price"].astype(float)
    runs = sp.notna()
    return float(np.corrcoef(np.log(closing[runs]), np.log(sp[runs]))[0, 1])


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"market_noise": -0.1}, "market_noise must be in"),
        ({"market_noise": 1.6}, "market_noise must be in"),
        ({"flb_beta": 0.4}, "flb_beta must be in"),
        ({"flb_beta": 1.01}, "flb_beta must be in"),
    ],
)
def test_knobs_outside_realistic_ranges_are_refused(knobs, message):
    with pytest.raises(ValueError, match=message):
        generate_world(1, start=date(2024, 3, 1), end=date(2024, 3, 2), venues=["flemington"], **knobs)
    with pytest.raises(ValueError, match=message):
        world_cache_dir(0, **knobs)


def test_cache_key_carries_only_non_default_knobs(knob_worlds, tmp_path, monkeypatch):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path))
    default = world_cache_dir(0)
    assert default.name == f"seed-0-v{GENERATOR_VERSION}", "the existing default cache stays valid"
    assert world_cache_dir(0, 0.3, 0.78) == default == world_cache_dir(0, market_noise=None, flb_beta=None)
    assert world_cache_dir(0, market_noise=0.6).name == f"seed-0-v{GENERATOR_VERSION}-noise0.6"
    assert world_cache_dir(0, flb_beta=0.7).name == f"seed-0-v{GENERATOR_VERSION}-flb0.7"
    assert world_cache_dir(0, 1.0, 0.6).name == f"seed-0-v{GENERATOR_VERSION}-noise1-flb0.6"

    # a knob world round-trips through its own cache directory, odds included (flb_beta from meta)
    flat = knob_worlds["flat"]
    seed = 90_419
    store.write_tables(world_cache_dir(seed, flb_beta=0.6), world_tables(flat), flat.meta)
    loaded = load_world(seed, flb_beta=0.6)
    assert load_world(seed, None, 0.6) is loaded and loaded.meta["flb_beta"] == 0.6
    race = run_races(flat)["race_code"].iloc[7]
    pd.testing.assert_frame_equal(loaded.odds_for_race(race), flat.odds_for_race(race))
    assert not store.is_complete(world_cache_dir(seed)), "the default world of that seed is another cache"


def test_simulator_process_and_cli_pass_the_knobs(tmp_path, monkeypatch):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path))  # the server would cache a new world here
    with simulator_process(4, now="2026-03-07T00:00:00Z", market_noise=0.6, flb_beta=0.7) as sim:
        health = requests.get(sim.url + "_sim/health", timeout=5).json()
        assert health["seed"] == 4 and health["market"] == {"market_noise": 0.6, "flb_beta": 0.7}
    with pytest.raises(RuntimeError, match="flb-beta"), simulator_process(4, flb_beta=0.2):
        pass
