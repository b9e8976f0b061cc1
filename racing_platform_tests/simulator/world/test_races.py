"""Invariants of fields, results, weights, barriers, times and sectionals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from racing_platform_tests.simulator.world.conftest import run_races, runners


def _with_meetings(world) -> pd.DataFrame:
    cols = [
        "meet_code",
        "venue_code",
        "meeting_date",
        "is_trial",
        "is_jumpout",
        "abandoned",
        "abandoned_at",
        "listed_at",
        "fields_at",
        "final_fields_at",
    ]
    return world.races.merge(world.meetings[cols], on="meet_code")


def test_fields_after_scratchings_are_6_to_16_in_races_and_small_in_trials(small_world):
    run = runners(small_world)
    sizes = run.groupby("race_code").size()
    races = run_races(small_world)
    assert sizes[races["race_code"]].between(6, 16).all()
    trials = _with_meetings(small_world).query("is_trial or is_jumpout")["race_code"]
    assert len(trials) > 0
    assert sizes[trials].between(3, 8).all()


def test_exactly_one_winner_per_run_race_and_109_only_for_scratchings(small_world):
    w = small_world
    entries = w.entries.merge(_with_meetings(w)[["race_code", "abandoned"]], on="race_code")
    ran = entries[~entries["abandoned"]]
    scratched = ran["scratched_at"].notna()
    assert (ran.loc[scratched, "finish"] == 109).all()
    assert (ran.loc[~scratched, "finish"] != 109).all()
    winners = ran[ran["finish"] == 1].groupby("race_code").size()
    assert winners.reindex(ran["race_code"].unique(), fill_value=0).eq(1).all()
    placings = (
        ran[~scratched]
        .groupby("race_code")["finish"]
        .apply(lambda f: sorted(f) == list(range(1, len(f) + 1)))
    )
    assert placings.all()
    abandoned = entries[entries["abandoned"]]
    assert abandoned["finish"].isna().sum() == abandoned["scratched_at"].isna().sum()


def test_true_probabilities_sum_to_one_over_the_final_field(small_world):
    run = runners(small_world)
    totals = run.groupby("race_code")["true_win_prob"].sum()
    assert np.allclose(totals, 1.0)
    assert small_world.entries.loc[small_world.entries["scratched_at"].notna(), "true_win_prob"].isna().all()


def test_margins_winner_shows_margin_to_second_and_grow_with_placing(small_world):
    run = runners(small_world)
    run = run[run["finish"].notna()].sort_values(["race_code", "finish"])
    first = run[run["finish"] == 1].set_index("race_code")["margin_lengths"]
    second = run[run["finish"] == 2].set_index("race_code")["margin_lengths"]
    assert (first > 0).all()
    assert np.allclose(first, second.loc[first.index])
    behind = run[run["finish"] >= 2]
    assert (behind.groupby("race_code")["margin_lengths"].diff().dropna() >= 0).all()
    assert run["margin_lengths"].max() < 80


def test_weights_barriers_and_claims(small_world):
    entries = small_world.entries
    assert entries["weight_kg"].between(45, 75).all()
    assert entries["weight_kg"].between(50, 62).mean() > 0.95
    assert (entries["weight_kg"] * 2 == (entries["weight_kg"] * 2).round()).all()
    assert entries["claim_kg"].isin([0.0, 1.5, 2.0, 3.0]).all()
    draws = entries.groupby("race_code")["barrier"].apply(lambda b: sorted(b) == list(range(1, len(b) + 1)))
    assert draws.all()
    cloths = entries.groupby("race_code")["saddlecloth"].apply(
        lambda b: sorted(b) == list(range(1, len(b) + 1))
    )
    assert cloths.all()
    emergencies = entries[entries["emergency"]]
    assert emergencies["emergency_number"].between(1, 4).all()
    assert entries.loc[~entries["emergency"], "emergency_number"].isna().all()


def test_start_times_local_hours_and_race_spacing(small_world):
    races = _with_meetings(small_world)
    venues = small_world.venues.set_index("venue_code")["timezone"]
    local_hours = [
        t.tz_convert(venues[v]).hour + t.tz_convert(venues[v]).minute / 60
        for t, v in zip(races["start_time_utc"], races["venue_code"], strict=True)
    ]
    assert min(local_hours) >= 11.0 and max(local_hours) <= 22.0
    ordered = races.sort_values(["meet_code", "race_number"])
    gaps = ordered.groupby("meet_code")["start_time_utc"].diff().dropna().dt.total_seconds() / 60
    racing = ~ordered.loc[gaps.index, "is_trial"] & ~ordered.loc[gaps.index, "is_jumpout"]
    assert gaps[racing].between(30, 35).all()
    assert (gaps > 0).all()
    numbers = ordered.groupby("meet_code")["race_number"].apply(
        lambda n: list(n) == list(range(1, len(n) + 1))
    )
    assert numbers.all()


def test_visibility_timestamps_are_ordered(small_world):
    races = _with_meetings(small_world)
    first_race = races.groupby("meet_code")["start_time_utc"].min()
    meetings = small_world.meetings.set_index("meet_code")
    assert (meetings["listed_at"] < meetings["fields_at"]).all()
    assert (meetings["fields_at"] < meetings["final_fields_at"]).all()
    assert (meetings["final_fields_at"] < first_race[meetings.index]).all()
    listed_days = (first_race[meetings.index] - meetings["listed_at"]).dt.days
    trial = meetings["is_trial"] | meetings["is_jumpout"]
    assert listed_days[~trial].between(4, 8).all()  # nominations about a week ahead
    assert listed_days[trial].between(1, 3).all()
    abandoned = meetings[meetings["abandoned"]]
    assert (abandoned["abandoned_at"] > abandoned["fields_at"]).all()
    assert (abandoned["abandoned_at"] < first_race[abandoned.index]).all()
    assert meetings.loc[~meetings["abandoned"], "abandoned_at"].isna().all()


def test_scratchings_fall_between_acceptances_and_the_jump_some_late(small_world):
    entries = small_world.entries.merge(
        _with_meetings(small_world)[["race_code", "fields_at", "start_time_utc"]], on="race_code"
    )
    scratched = entries[entries["scratched_at"].notna()]
    assert len(scratched) > 20
    assert (scratched["scratched_at"] > scratched["fields_at"]).all()
    assert (scratched["scratched_at"] < scratched["start_time_utc"]).all()
    lead = (scratched["start_time_utc"] - scratched["scratched_at"]).dt.total_seconds() / 3600
    assert (lead < 5).any() and (lead > 12).any()
    share = len(scratched) / len(entries)
    assert 0.04 < share < 0.2


def test_winning_times_and_sectionals_make_sense(small_world):
    races = run_races(small_world)
    total = races["winning_time_cs"].astype(int)
    parts = (
        races[["sectional_800_cs", "sectional_800_400_cs", "sectional_400_finish_cs"]].astype(int).sum(axis=1)
    )
    assert (parts == total).all()
    assert (races[["sectional_800_400_cs", "sectional_400_finish_cs"]].astype(int) > 2000).all().all()
    good_1200 = races[(races["distance_m"] == 1200) & (races["track_condition"] == "Good")]
    assert good_1200["winning_time_cs"].astype(int).between(6700, 7400).all()
    assert good_1200["winning_time_cs"].astype(int).median() / 100 > 69
    heavy = races[races["track_condition"] == "Heavy"]
    if len(heavy):
        pace = (
            (races["winning_time_cs"].astype(int) / races["distance_m"])
            .groupby(races["track_condition"])
            .mean()
        )
        assert pace["Heavy"] > pace["Good"]
    conditions = dict(zip(races["track_condition"], races["track_rating"], strict=False))
    scale = {
        "Firm": range(1, 3),
        "Good": range(3, 5),
        "Soft": range(5, 8),
        "Heavy": range(8, 11),
        "Synthetic": [0],
    }
    assert all(rating in scale[cond] for cond, rating in conditions.items())


def test_starting_prices_only_for_runners_of_betting_races(small_world):
    w = small_world
    run = runners(w)
    betting = run[run["race_code"].isin(set(run_races(w)["race_code"]))]
    assert betting["starting_price"].notna().all()
    assert betting["starting_price"].between(1.01, 501).all()
    assert run.loc[~run["race_code"].isin(set(run_races(w)["race_code"])), "starting_price"].isna().all()
    assert w.entries.loc[w.entries["scratched_at"].notna(), "starting_price"].isna().all()
