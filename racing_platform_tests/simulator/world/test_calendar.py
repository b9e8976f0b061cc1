"""The national calendar at full scale: ~7 meetings a day, Saturday metro cards, abandonments, doubles."""

from __future__ import annotations

import pandas as pd


def test_about_seven_race_meetings_a_day_nationally(month_world):
    meetings = month_world.meetings
    racing = meetings[~meetings["is_trial"] & ~meetings["is_jumpout"]]
    per_day = racing.groupby("meeting_date").size()
    assert len(per_day) == 30
    assert 6.0 <= per_day.mean() <= 8.5
    weekday = pd.to_datetime(per_day.index).weekday
    assert per_day[weekday == 5].mean() > per_day[weekday != 5].mean()
    assert (meetings["is_trial"] | meetings["is_jumpout"]).sum() >= 10
    assert meetings["venue_code"].nunique() >= 50


def test_meetings_have_7_to_10_races_and_metro_saturdays_in_each_big_state(month_world):
    w = month_world
    races = w.races.merge(
        w.meetings[["meet_code", "venue_code", "meeting_date", "is_trial", "is_jumpout"]], on="meet_code"
    )
    racing = races[~races["is_trial"] & ~races["is_jumpout"]]
    per_meeting = racing.groupby("meet_code").size()
    assert per_meeting.between(7, 10).mean() > 0.93
    assert per_meeting.max() <= 10
    venues = w.venues.set_index("venue_code")
    saturday = racing[pd.to_datetime(racing["meeting_date"]).dt.weekday == 5]
    metro = saturday[saturday["venue_code"].map(venues["tier"]) == "metro"]
    assert {"VIC", "NSW", "QLD", "SA", "WA"} <= set(metro["venue_code"].map(venues["state"]))


def test_some_meetings_abandoned_and_some_venues_race_twice_a_day(month_world):
    meetings = month_world.meetings
    racing = meetings[~meetings["is_trial"] & ~meetings["is_jumpout"]]
    assert 0 < racing["abandoned"].mean() < 0.05
    twice = meetings.groupby(["venue_code", "meeting_date"])["meet_code"].nunique()
    assert (twice == 2).any()
    assert meetings["meet_code"].is_unique


def test_track_conditions_follow_the_australian_scale(month_world):
    meetings = month_world.meetings
    scale = {"Firm": {1, 2}, "Good": {3, 4}, "Soft": {5, 6, 7}, "Heavy": {8, 9, 10}, "Synthetic": {0}}
    assert all(
        r in scale[c] for c, r in zip(meetings["track_condition"], meetings["track_rating"], strict=True)
    )
    shares = meetings["track_condition"].value_counts(normalize=True)
    assert shares.get("Good", 0) > 0.3 and shares.get("Soft", 0) > 0.1
    assert month_world.venues["barrier_bias"].between(0.0, 1.5).all()
