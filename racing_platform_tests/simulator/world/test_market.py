"""The market: per-provider price fluctuations until the jump, a favourite-longshot-biased book, SP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
