"""The national racing calendar: which venue races on which day, when, on what going, with what programme.

Metro venues follow a per-state weekly pattern (Saturday plus a midweek card, some Friday/Thursday nights);
provincial and country venues race on one or two preferred weekdays. Track ratings come from a per-venue soil
moisture process fed by seasonal, state-correlated rain. Everything here is decided before any horse is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from racing_platform.simulator.world.classes import CLASS_INDEX, PROGRAMME_MIX

EPOCH = date(1970, 1, 1)

# Saturday metro rotation and midweek metro rotation per state (venue codes), plus night cards.
METRO_SATURDAY = {
    "VIC": ["149", "122", "150", "152", "122", "149"],
    "NSW": ["348", "349", "360", "349", "348"],
    "QLD": ["410", "406"],
    "SA": ["510", "511", "510"],
    "WA": ["602", "604"],
    "NT": ["802"],
}
METRO_MIDWEEK = {  # weekday (Mon=0) -> rotation
    "VIC": {2: ["152", "153", "149", "122", "150"]},
    "NSW": {2: ["360", "320", "349", "348"]},
    "QLD": {2: ["406", "410"]},
    "SA": {3: ["511", "510"]},
    "WA": {2: ["604", "602"]},
    "TAS": {6: ["702", "704"], 3: ["704", "702"]},
}
NIGHT_CARDS = {"150": (4, 0.5), "320": (4, 0.35), "704": (3, 0.4)}  # venue -> (weekday, weekly probability)
NIGHT_CAPABLE = {"150", "320", "704", "124", "174", "106", "131", "412", "328"}
TRIAL_STATES = ("VIC", "NSW", "QLD", "SA", "WA")

# Rain: daily probability by state and month (Jan..Dec); southern winters and northern summers are wet.
_RAIN_SOUTH = [0.18, 0.18, 0.22, 0.28, 0.36, 0.42, 0.45, 0.44, 0.38, 0.32, 0.26, 0.20]
_RAIN_NORTH = [0.42, 0.44, 0.38, 0.24, 0.16, 0.12, 0.10, 0.08, 0.10, 0.16, 0.24, 0.34]
_RAIN_EAST = [0.30, 0.32, 0.32, 0.28, 0.26, 0.26, 0.24, 0.22, 0.22, 0.26, 0.28, 0.30]
RAIN_BY_STATE = {
    "VIC": _RAIN_SOUTH,
    "SA": _RAIN_SOUTH,
    "WA": _RAIN_SOUTH,
    "TAS": _RAIN_SOUTH,
    "NSW": _RAIN_EAST,
    "ACT": _RAIN_EAST,
    "QLD": _RAIN_NORTH,
    "NT": _RAIN_NORTH,
}
RATING_CUTS = np.array([0.0, 4.0, 9.0, 14.0, 20.0, 27.0, 36.0, 48.0])  # moisture >= k-th cut: rating 3 + k

DISTANCES = np.array(
    [1000, 1050, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 2000, 2100, 2200, 2400, 2500, 3200]
)
_DIST_SPRINT = np.array([0.10, 0.04, 0.14, 0.26, 0.10, 0.16, 0.06, 0.10, 0.0, 0.04, 0, 0, 0, 0, 0, 0])
_DIST_OPEN = np.array(
    [0.05, 0.02, 0.10, 0.18, 0.06, 0.14, 0.05, 0.15, 0.02, 0.06, 0.07, 0.02, 0.03, 0.03, 0.01, 0.01]
)


@dataclass
class Calendar:
    """Meetings and their race programmes over [sim_start, end], before fields are drawn."""

    meetings: pd.DataFrame  # one row per meeting (see build_calendar)
    races: pd.DataFrame  # one row per planned race
    venues: pd.DataFrame  # venue attributes incl. barrier_bias and field_limit


def day_number(d: date) -> int:
    return (d - EPOCH).days


def venue_frame(registry_venues, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for v in registry_venues:
        rows.append(
            {
                "venue_code": v.venue_code,
                "venue_name": v.name,
                "display_name": v.display_name or v.name,
                "slug": v.slug,
                "abbr": v.abbr,
                "state": v.state,
                "timezone": v.timezone,
                "tier": v.tier,
            }
        )
    venues = pd.DataFrame(rows)
    n = len(venues)
    tight = venues["venue_code"].isin(["150", "124", "174", "320", "704", "702"]).to_numpy()
    venues["barrier_bias"] = np.round(rng.gamma(4.0, 0.07, n) + 0.15 * tight, 3)
    limit_choices = {"metro": (16, 16, 14), "provincial": (16, 14), "country": (14, 12)}
    venues["field_limit"] = [int(rng.choice(limit_choices[t])) for t in venues["tier"]]
    venues.loc[venues["venue_code"] == "150", "field_limit"] = 14
    venues["speed_factor"] = 1.0 + rng.normal(0, 0.004, n) + np.where(venues["tier"] == "country", 0.006, 0.0)
    return venues


def _track_ratings(venues: pd.DataFrame, days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(venue x day) Australian track ratings 1..10 from a moisture store with evaporation."""
    n_days = len(days)
    months = pd.to_datetime(days, unit="D").month.to_numpy() - 1
    states = sorted(RAIN_BY_STATE)
    state_p = np.array([[RAIN_BY_STATE[s][m] for m in months] for s in states])  # state x day
    state_wet = rng.random((len(states), n_days)) < state_p
    state_amount = rng.gamma(0.8, 9.0, (len(states), n_days))
    idx = np.array([states.index(s) for s in venues["state"]])
    local = rng.random((len(venues), n_days))
    rain = np.where(
        state_wet[idx] & (local < 0.85), state_amount[idx] * rng.gamma(2.0, 0.5, local.shape), 0.0
    )
    rain += np.where(~state_wet[idx] & (local < 0.04), rng.gamma(0.8, 4.0, local.shape), 0.0)
    moisture = np.zeros_like(rain)
    summer = np.isin(months, [11, 0, 1, 2])
    decay = np.where(summer, 0.72, 0.82)
    level = np.full(len(venues), 3.0)
    for t in range(n_days):
        level = level * decay[t] + rain[:, t]
        moisture[:, t] = level
    ratings = 2 + np.searchsorted(RATING_CUTS, moisture, side="right")
    dry = (moisture < 0.3) & summer[None, :] & (rng.random(moisture.shape) < 0.25)
    ratings = np.where(dry, 2, ratings)
    ratings = np.where(dry & (rng.random(moisture.shape) < 0.15), 1, ratings)
    ratings = np.where((ratings == 3) & (rng.random(moisture.shape) < 0.55), 4, ratings)
    return ratings.astype(np.int16)


def _schedule(venues: pd.DataFrame, days: np.ndarray, rng: np.random.Generator, scale: float) -> pd.DataFrame:
    code_to_idx = {c: i for i, c in enumerate(venues["venue_code"])}
    weekdays = (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    week = (days + 3) // 7
    rows: list[tuple[int, int, str]] = []  # (venue idx, day, session)

    for state, rotation in METRO_SATURDAY.items():
        present = [code_to_idx[c] for c in rotation if c in code_to_idx]
        for d, w, wk in zip(days, weekdays, week, strict=True):
            if w == 5 and present and (state != "NT" or wk % 2 == 0):
                rows.append((present[wk % len(present)], d, "day"))
    for state, by_day in METRO_MIDWEEK.items():
        for weekday, rotation in by_day.items():
            present = [code_to_idx[c] for c in rotation if c in code_to_idx]
            for d, w, wk in zip(days, weekdays, week, strict=True):
                if w == weekday and present and (state not in ("SA", "TAS") or rng.random() < 0.75):
                    rows.append((present[wk % len(present)], d, "day"))
    for code, (weekday, p) in NIGHT_CARDS.items():
        if code in code_to_idx:
            for d, w in zip(days, weekdays, strict=True):
                if w == weekday and rng.random() < p:
                    rows.append((code_to_idx[code], d, "night"))

    dow_weight = np.array([1.0, 1.0, 0.7, 1.0, 1.0, 1.4, 1.3])
    for i, tier in enumerate(venues["tier"]):
        if tier == "metro":
            continue
        primary, secondary = rng.choice(7, 2, replace=False, p=dow_weight / dow_weight.sum())
        p_primary, p_secondary = (0.8, 0.22) if tier == "provincial" else (0.55, 0.15)
        for d, w in zip(days, weekdays, strict=True):
            if (w == primary and rng.random() < p_primary) or (w == secondary and rng.random() < p_secondary):
                night = venues["venue_code"].iat[i] in NIGHT_CAPABLE and w in (3, 4) and rng.random() < 0.3
                rows.append((i, d, "night" if night else "day"))

    meetings = pd.DataFrame(rows, columns=["venue_idx", "day", "session"]).drop_duplicates(
        ["venue_idx", "day"]
    )
    if scale < 1.0:
        meetings = meetings[rng.random(len(meetings)) < scale]

    # Now and then a night-capable venue races twice: a twilight card and a separate night card.
    capable = meetings["venue_idx"].map(lambda i: venues["venue_code"].iat[i] in NIGHT_CAPABLE).to_numpy()
    doubles = meetings[
        capable & (meetings["session"] == "day").to_numpy() & (rng.random(len(meetings)) < 0.05)
    ]
    meetings.loc[doubles.index, "session"] = "twilight"
    meetings = pd.concat([meetings, doubles.assign(session="night")], ignore_index=True)

    trials = []
    eligible_trial = [
        i
        for i, (s, t) in enumerate(zip(venues["state"], venues["tier"], strict=True))
        if s in TRIAL_STATES and t in ("metro", "provincial")
    ]
    busy = set(zip(meetings["venue_idx"], meetings["day"], strict=True))
    p_trial = (
        0.04 * scale
    )  # each trial venue about every five weeks: ~1.3 trial meetings a weekday nationally
    for d, w in zip(days, weekdays, strict=True):
        if w >= 5:
            continue
        for i in eligible_trial:
            if (i, d) not in busy and rng.random() < p_trial:
                trials.append((i, d, "trial"))
    meetings = pd.concat(
        [meetings, pd.DataFrame(trials, columns=["venue_idx", "day", "session"])], ignore_index=True
    )
    return meetings


def build_calendar(
    registry_venues, first_day: int, last_day: int, rng: np.random.Generator, scale: float = 1.0
) -> Calendar:
    venues = venue_frame(registry_venues, rng)
    days = np.arange(first_day, last_day + 1)
    ratings = _track_ratings(venues, days, rng)
    meetings = _schedule(venues, days, rng, scale)
    meetings = meetings.sort_values(["day", "venue_idx", "session"], kind="stable").reset_index(drop=True)
    n = len(meetings)
    tier = venues["tier"].to_numpy()[meetings["venue_idx"]]
    weekday = (meetings["day"].to_numpy() + 3) % 7
    session = meetings["session"].to_numpy()
    is_trial_meeting = session == "trial"
    meetings["is_jumpout"] = is_trial_meeting & (rng.random(n) < 0.4)
    meetings["is_trial"] = is_trial_meeting & ~meetings["is_jumpout"].to_numpy()
    meetings["tier"] = tier
    meetings["state"] = venues["state"].to_numpy()[meetings["venue_idx"]]
    meetings["kind"] = np.where(
        tier == "metro", np.where(weekday == 5, "metro_saturday", "metro_midweek"), tier
    )
    meetings.loc[is_trial_meeting, "kind"] = "trial"

    rating = ratings[meetings["venue_idx"].to_numpy(), meetings["day"].to_numpy() - first_day].astype(int)
    synthetic = (venues["venue_code"].to_numpy()[meetings["venue_idx"]] == "174") & (rng.random(n) < 0.35)
    meetings["track_rating"] = np.where(synthetic, 0, rating)
    meetings["abandoned"] = ~is_trial_meeting & (
        (rng.random(n) < 0.006)
        | ((rating >= 10) & (rng.random(n) < 0.35))
        | ((rating == 9) & (rng.random(n) < 0.05))
    )

    n_races = np.select(
        [
            meetings["kind"] == "metro_saturday",
            session == "night",
            session == "twilight",
            is_trial_meeting,
            tier == "country",
        ],
        [
            rng.integers(9, 11, n),
            rng.integers(7, 9, n),
            rng.integers(7, 9, n),
            rng.integers(6, 11, n),
            rng.integers(7, 9, n),
        ],
        rng.integers(7, 10, n),
    )
    meetings["n_races"] = n_races
    gap = np.where(
        is_trial_meeting,
        rng.choice([12, 15, 20], n),
        np.where(meetings["kind"] == "metro_saturday", 35, rng.choice([30, 30, 32, 35], n)),
    )
    first = np.select(
        [is_trial_meeting, session == "night", session == "twilight", meetings["kind"] == "metro_saturday"],
        [
            660 + 5 * rng.integers(0, 7, n),
            1065 + 5 * rng.integers(0, 10, n),
            780 + 5 * rng.integers(0, 10, n),
            730 + 5 * rng.integers(0, 7, n),
        ],
        720 + 5 * rng.integers(0, 19, n),
    )
    first = np.minimum(first, 22 * 60 - (n_races - 1) * gap)
    meetings["first_race_min"] = first
    meetings["gap_min"] = gap
    meetings["rail_position"] = rng.choice(
        [
            "True",
            "True Entire Circuit",
            "Out 2m",
            "Out 3m Entire Circuit",
            "Out 4m",
            "Out 6m 1200m - 400m",
            "Out 8m Entire Circuit",
            "+3m 1000m - 400m",
        ],
        n,
    )
    wet = meetings["track_rating"].to_numpy() >= 6
    meetings["weather"] = np.where(
        wet,
        rng.choice(["Showers", "Rain", "Overcast"], n),
        rng.choice(["Fine", "Fine", "Fine", "Overcast", "Sunny"], n),
    )
    meetings["listed_days"] = rng.integers(5, 8, n)
    meetings["fields_days"] = np.where(is_trial_meeting, 1, rng.integers(2, 4, n))
    meetings["fields_min"] = 600 + 15 * rng.integers(0, 17, n)
    meetings["final_fields_min"] = 900 + 15 * rng.integers(0, 9, n)
    meetings["meeting_idx"] = np.arange(n)

    races = _programmes(meetings, rng)
    races["track_rating"] = _race_ratings(meetings, races, rng)
    return Calendar(meetings=meetings, races=races, venues=venues)


def _programmes(meetings: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n_races = meetings["n_races"].to_numpy()
    meeting_idx = np.repeat(meetings["meeting_idx"].to_numpy(), n_races)
    race_number = (
        np.concatenate([np.arange(1, k + 1) for k in n_races]) if len(n_races) else np.array([], int)
    )
    kind = meetings["kind"].to_numpy()[meeting_idx]
    m = len(meeting_idx)
    class_idx = np.full(m, -1)
    for name, mix in PROGRAMME_MIX.items():
        sel = kind == name
        class_idx[sel] = rng.choice(len(mix), sel.sum(), p=mix)
    trial = kind == "trial"
    sprint = (class_idx == 0) | trial | (rng.random(m) < 0.35)
    distance = np.where(
        sprint,
        rng.choice(DISTANCES, m, p=_DIST_SPRINT / _DIST_SPRINT.sum()),
        rng.choice(DISTANCES, m, p=_DIST_OPEN / _DIST_OPEN.sum()),
    )
    distance = np.where(trial, rng.choice([900, 1000, 1050, 1100, 1200], m), distance)
    restriction = rng.random(m)
    age_rule = np.select([restriction < 0.06, restriction < 0.16], ["2YO", "3YO"], "3UP")
    black_type = class_idx >= CLASS_INDEX["Listed"]
    age_rule = np.where(black_type, np.where(restriction < 0.3, "3YO", "OPEN"), age_rule)
    sex_rule = np.where(rng.random(m) < 0.1, "FM", "ANY")
    return pd.DataFrame(
        {
            "meeting_idx": meeting_idx,
            "race_number": race_number,
            "class_idx": class_idx,
            "distance_m": distance,
            "age_rule": np.where(trial, "OPEN", age_rule),
            "sex_rule": np.where(trial, "ANY", sex_rule),
        }
    )


def _race_ratings(meetings: pd.DataFrame, races: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Going during the meeting: mostly as announced; sometimes rain downgrades it, or it dries out."""
    m = len(meetings)
    change_from = np.where(rng.random(m) < 0.1, rng.integers(2, 9, m), 99)
    step = rng.choice([1, 1, 2, -1], m)
    start = meetings["track_rating"].to_numpy()
    idx = races["meeting_idx"].to_numpy()
    changed = races["race_number"].to_numpy() >= change_from[idx]
    rating = np.where(changed & (start[idx] > 0), np.clip(start[idx] + step[idx], 1, 10), start[idx])
    return rating
