"""Careers: horses race many times across seasons, start as maidens, rise in class and rating by winning."""

from __future__ import annotations

import pandas as pd

from racing_platform.simulator.world.classes import CLASSES

LEVEL = {c.rdc_class: c.level for c in CLASSES}


def _form(world) -> pd.DataFrame:
    meetings = world.meetings[
        ~world.meetings["abandoned"] & ~world.meetings["is_trial"] & ~world.meetings["is_jumpout"]
    ]
    races = world.races.merge(meetings[["meet_code", "meeting_date"]], on="meet_code")
    run = world.entries[world.entries["scratched_at"].isna()]
    run = run.merge(races[["race_code", "meeting_date", "start_time_utc", "rdc_class"]], on="race_code")
    return run.sort_values(["horse_code", "start_time_utc"]).reset_index(drop=True)


def test_horses_race_many_times_across_seasons(seasons_world):
    form = _form(seasons_world)
    starts = form.groupby("horse_code").size()
    assert starts.median() >= 5
    assert (starts >= 15).sum() > 100
    season = pd.to_datetime(form["meeting_date"]).map(lambda d: d.year + (d.month >= 8))
    seasons_per_horse = season.groupby(form["horse_code"]).nunique()
    assert (seasons_per_horse == 2).mean() > 0.3


def test_debutants_start_as_maidens_and_never_return_to_maidens_after_winning(seasons_world):
    form = _form(seasons_world)
    first = form.groupby("horse_code").head(1)
    maiden_debut = set(
        first.loc[(first["handicap_rating"] == 0) & (first["rdc_class"] == "Maiden"), "horse_code"]
    )
    assert len(maiden_debut) > 500
    career = form[form["horse_code"].isin(maiden_debut)].copy()
    won = (career["finish"] == 1).astype(int)
    career["wins_before"] = won.groupby(career["horse_code"]).cumsum() - won
    assert (career.loc[career["wins_before"] == 0, "rdc_class"] == "Maiden").all()
    assert (career.loc[career["wins_before"] > 0, "rdc_class"] != "Maiden").all()


def test_a_win_lifts_the_rating_and_the_class(seasons_world):
    form = _form(seasons_world)
    form["next_rating"] = form.groupby("horse_code")["handicap_rating"].shift(-1)
    form["next_level"] = form.groupby("horse_code")["rdc_class"].shift(-1).map(LEVEL)
    form["level"] = form["rdc_class"].map(LEVEL)
    rated_wins = form[(form["finish"] == 1) & (form["handicap_rating"] > 0) & form["next_rating"].notna()]
    below_top = rated_wins[rated_wins["handicap_rating"] < 100]
    assert (below_top["next_rating"] >= below_top["handicap_rating"] + 3).all()
    below_ceiling = rated_wins[rated_wins["handicap_rating"] < 120]
    assert (below_ceiling["next_rating"] > below_ceiling["handicap_rating"]).all()
    assert form["handicap_rating"].quantile(0.999) < 125
    wins = form[(form["finish"] == 1) & form["next_level"].notna()]
    losses = form[(form["finish"] > 4) & form["next_level"].notna()]
    assert (wins["next_level"] - wins["level"]).mean() > 3
    assert (wins["next_level"] - wins["level"]).mean() > (losses["next_level"] - losses["level"]).mean() + 3


def test_runs_come_in_campaigns_with_spells_between(seasons_world):
    form = _form(seasons_world)
    gaps = pd.to_datetime(form["meeting_date"]).groupby(form["horse_code"]).diff().dt.days.dropna()
    assert gaps.min() >= 7
    assert 12 <= gaps.median() <= 35
    assert (gaps > 60).mean() > 0.08  # returns from a spell: first-up runs


def test_better_horses_win_more_and_skilled_people_matter(seasons_world):
    w = seasons_world
    form = _form(w).merge(w.horses[["horse_code", "ability"]], on="horse_code")
    top = form["ability"] > form["ability"].quantile(0.8)
    bottom = form["ability"] < form["ability"].quantile(0.2)
    assert (form.loc[top, "finish"] == 1).mean() > 2 * (form.loc[bottom, "finish"] == 1).mean()
    rides = form.merge(w.jockeys[["jockey_code", "skill", "is_apprentice"]], on="jockey_code")
    per_jockey = rides.groupby("jockey_code").agg(skill=("skill", "first"), rides=("finish", "size"))
    assert per_jockey["rides"].median() > 20
    best = per_jockey["skill"] > per_jockey["skill"].median()
    assert per_jockey.loc[best, "rides"].mean() > per_jockey.loc[~best, "rides"].mean() * 0.8
    trainers_per_horse = form.groupby("horse_code")["trainer_code"].nunique()
    assert (trainers_per_horse > 1).any()  # horses move between stables
    assert (rides.loc[rides["is_apprentice"], "claim_kg"] > 0).mean() > 0.5
    assert (rides.loc[~rides["is_apprentice"], "claim_kg"] == 0).all()


def test_some_riders_change_state_between_seasons(seasons_world):
    w = seasons_world
    states = w.venues.set_index("venue_code")["state"].replace({"ACT": "NSW"})
    rides = w.entries.merge(w.races[["race_code", "meet_code"]], on="race_code").merge(
        w.meetings[["meet_code", "venue_code"]], on="meet_code"
    )
    per_jockey = rides["venue_code"].map(states).groupby(rides["jockey_code"]).nunique()
    assert 0 < (per_jockey > 1).mean() < 0.25


def test_no_horse_runs_twice_a_day_and_the_first_month_is_not_all_debutants(seasons_world):
    form = _form(seasons_world)
    assert not form.duplicated(["horse_code", "meeting_date"]).any()
    first_month = form[pd.to_datetime(form["meeting_date"]) < "2023-09-01"]
    assert (first_month["handicap_rating"] > 0).mean() > 0.5  # established horses from the burn-in


def test_a_horse_is_entered_once_a_day_even_with_trials(small_world):
    w = small_world
    entries = w.entries.merge(w.races[["race_code", "meet_code"]], on="race_code").merge(
        w.meetings[["meet_code", "meeting_date"]], on="meet_code"
    )
    assert not entries.duplicated(["horse_code", "meeting_date"]).any()
