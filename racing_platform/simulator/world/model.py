"""The world's tables: the interface between the generator and everything that reads it.

A `World` is a pure function of (seed, calendar). The clock never changes it; it only decides which
rows and which columns a racing.com-shaped response may show (see `simulator.visibility`).
Columns marked (truth) never appear in racing.com-shaped responses; they are served only through
the simulator-only truth channel, for evaluation.

Timestamps are tz-aware UTC pandas Timestamps; dates are `datetime.date` in the venue's local time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

VENUE_COLUMNS = [
    "venue_code",  # str, racing.com track code
    "venue_name",  # str, plain name ("Sandown Hillside")
    "display_name",  # str, name as racing.com shows it, may carry a sponsor ("Sportsbet Sandown Hillside")
    "slug",  # str
    "abbr",  # str
    "state",  # str
    "timezone",  # str, IANA
    "tier",  # str: metro | provincial | country
    "barrier_bias",  # float (truth): strength of the inside-draw advantage at this track
]

MEETING_COLUMNS = [
    "meet_code",  # str, ~7 digits
    "venue_code",  # str
    "meeting_date",  # date, local
    "is_trial",  # bool
    "is_jumpout",  # bool
    "abandoned",  # bool
    "abandoned_at",  # Timestamp UTC or NaT: when the abandonment is announced
    "listed_at",  # Timestamp UTC: meeting appears in GetMeetingByDate (nominations)
    "fields_at",  # Timestamp UTC: acceptances: runners, barriers, weights appear
    "final_fields_at",  # Timestamp UTC: status FinalFields, jockeys confirmed
    "track_condition",  # str: Firm | Good | Soft | Heavy | Synthetic
    "track_rating",  # int 1..10 (Australian scale), 0 when unrated
    "rail_position",  # str
    "weather",  # str
]

RACE_COLUMNS = [
    "race_code",  # str
    "meet_code",  # str
    "race_number",  # int
    "start_time_utc",  # Timestamp UTC
    "distance_m",  # int
    "name",  # str
    "name_form",  # str, short name ("BM64", "3Y MDN-SW")
    "class_name",  # str, racing.com `class` ("MIDWAY BM72")
    "rdc_class",  # str, normalised class ("Maiden", "Class 1", "BM 64", "Listed", "Group 1")
    "group",  # str: "Group 1" | "Group 2" | "Group 3" | "Listed" | "ungrouped"
    "condition",  # str, conditions text
    "prize_money_total",  # float, AUD
    "prize_money",  # list[float]: per position 1..n
    "track_condition",  # str at race time
    "track_rating",  # int at race time
    "winning_time_cs",  # int, centiseconds (post-race)
    "sectional_800_cs",  # int: start -> 800 m (post-race)
    "sectional_800_400_cs",  # int (post-race)
    "sectional_400_finish_cs",  # int (post-race)
]

ENTRY_COLUMNS = [
    "entry_id",  # str
    "race_code",  # str
    "horse_code",  # str
    "saddlecloth",  # int (raceEntryNumber)
    "barrier",  # int >= 1 as drawn
    "weight_kg",  # float, allotted
    "claim_kg",  # float, apprentice claim (0 when none)
    "jockey_code",  # str or None before final fields
    "trainer_code",  # str
    "handicap_rating",  # int
    "emergency",  # bool: listed as an emergency
    "emergency_number",  # int or <NA>
    "scratched_at",  # Timestamp UTC or NaT
    "finish",  # int: 1..n placing, 109 scratched / non-runner (post-race)
    "margin_lengths",  # float: winner: margin to second; others: lengths behind winner (post-race)
    "starting_price",  # float, decimal odds (post-race)
    "true_win_prob",  # float (truth): probability of winning among the final field
]

# Bookmaker prices are too many to store (entries x providers x moves), so the generator supplies a
# deterministic function race_code -> frame with these columns, computed from the seed on demand.
ODDS_COLUMNS = [
    "entry_id",  # str
    "provider_code",  # str (racing.com provider codes: SB2, LB2, PB3, BT, ...)
    "update_time_utc",  # Timestamp UTC: when this price was posted
    "price",  # float, decimal win odds
]

HORSE_COLUMNS = [
    "horse_code",
    "horse_name",
    "sex",
    "foal_date",
    "colour",
    "sire",
    "dam",
    "country",
    "ability",  # float (truth)
    "distance_pref_m",  # float (truth)
    "going_pref",  # float (truth): + likes wet, - likes firm
]

JOCKEY_COLUMNS = ["jockey_code", "jockey_name", "url_slug", "is_apprentice", "skill"]  # skill: truth
TRAINER_COLUMNS = ["trainer_code", "trainer_name", "skill"]  # skill: truth

TRUTH_COLUMNS = {
    "venues": ["barrier_bias"],
    "entries": ["true_win_prob"],
    "horses": ["ability", "distance_pref_m", "going_pref"],
    "jockeys": ["skill"],
    "trainers": ["skill"],
}


@dataclass
class World:
    """All tables of one seeded world. Frames are indexed 0..n; lookups build their own indexes."""

    seed: int
    venues: pd.DataFrame
    meetings: pd.DataFrame
    races: pd.DataFrame
    entries: pd.DataFrame
    odds_for_race: Callable[[str], pd.DataFrame]
    horses: pd.DataFrame
    jockeys: pd.DataFrame
    trainers: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def check_columns(self) -> None:
        """Fail fast when a generator forgets or renames a column the server relies on."""
        expected = {
            "venues": VENUE_COLUMNS,
            "meetings": MEETING_COLUMNS,
            "races": RACE_COLUMNS,
            "entries": ENTRY_COLUMNS,
            "horses": HORSE_COLUMNS,
            "jockeys": JOCKEY_COLUMNS,
            "trainers": TRAINER_COLUMNS,
        }
        for name, cols in expected.items():
            missing = [c for c in cols if c not in getattr(self, name).columns]
            if missing:
                raise ValueError(f"world table {name!r} lacks columns {missing}")
