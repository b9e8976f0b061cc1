"""A small hand-built World: every scenario the simulator and the asset graph must handle, by name.

Calendar (all UTC; Melbourne is UTC+11 in March):
* 5100001 Flemington 2026-02-14: history, two resulted races (so horses have form).
* 5100002 Flemington 2026-03-07: three races; R1 has a scratching (saddlecloth 4 at 2026-03-06T22:00Z)
  and an emergency (saddlecloth 7) scratched the evening before; R3's track is Soft when it runs.
* 5100003 Flemington 2026-03-07 trials: the same venue racing twice on one day.
* 5100004 Sportsbet Sandown Hillside 2026-03-07: abandoned (announced 2026-03-06T20:00Z).
* 5100005 Rosehill Gardens 2026-03-07: listed late (2026-03-06T00:00Z).
"""

from __future__ import annotations

import zlib
from datetime import date

import pandas as pd

from racing_platform.simulator.world.model import World

MEET = "5100002"
RACE_DAY = date(2026, 3, 7)
BEFORE_LISTING = "2026-03-01T00:00:00Z"
BEFORE_FIELDS = "2026-03-03T00:00:00Z"
ACCEPTANCES = "2026-03-04T12:00:00Z"
FINAL_FIELDS = "2026-03-06T12:00:00Z"
RACE_MORNING = "2026-03-06T23:00:00Z"  # after the R1 scratching, before R1 (01:15Z)
R1_START = "2026-03-07T01:15:00Z"
AFTER_MEETING = "2026-03-07T06:00:00Z"
LATER = "2026-04-01T00:00:00Z"


def ts(value: str) -> pd.Timestamp:
    return pd.Timestamp(value).tz_convert("UTC")


NAT = pd.NaT


def horse_code(label: str) -> str:
    """Test labels "H7" become racing.com-like numeric codes ("5300007")."""
    return str(5_300_000 + int(label.lstrip("H")))


def jockey_code(n: int) -> str:
    return str(775_000 + n)


def trainer_code(n: int) -> str:
    return str(20_970_000 + n)


def _meeting(
    code, venue, day, *, listed, fields, final, trial=False, abandoned_at=None, condition="Good", rating=4
):
    return {
        "meet_code": code,
        "venue_code": venue,
        "meeting_date": day,
        "is_trial": trial,
        "is_jumpout": False,
        "abandoned": abandoned_at is not None,
        "abandoned_at": ts(abandoned_at) if abandoned_at else NAT,
        "listed_at": ts(listed),
        "fields_at": ts(fields),
        "final_fields_at": ts(final),
        "track_condition": condition,
        "track_rating": rating,
        "rail_position": "True",
        "weather": "Fine",
    }


def _race(
    code,
    meet,
    number,
    start,
    distance,
    *,
    condition="Good",
    rating=4,
    winning_cs=7000,
    group="ungrouped",
    rdc_class="BM 70",
    cond_text="Handicap. No age restriction.",
):
    return {
        "race_code": code,
        "meet_code": meet,
        "race_number": number,
        "start_time_utc": ts(start),
        "distance_m": distance,
        "name": f"Race {number} Handicap",
        "name_form": "BM70",
        "class_name": "BM70",
        "rdc_class": rdc_class,
        "group": group,
        "condition": cond_text,
        "prize_money_total": 100000.0,
        "prize_money": [60000.0, 20000.0, 10000.0, 5000.0, 3000.0, 2000.0],
        "track_condition": condition,
        "track_rating": rating,
        "winning_time_cs": winning_cs,
        "sectional_800_cs": winning_cs - 4700,
        "sectional_800_400_cs": 2400,
        "sectional_400_finish_cs": 2300,
    }


def _entries(race_code, horses, *, finishes, sps, probs, scratched=None, emergencies=(), claim=None):
    """finishes/sps/probs per horse in saddlecloth order; scratched maps saddlecloth -> scratched_at."""
    scratched = scratched or {}
    rows = []
    winner_margin = 1.5
    for i, horse in enumerate(horses, start=1):
        finish = finishes[i - 1]
        rows.append(
            {
                "entry_id": f"{race_code}{i:02d}",
                "race_code": race_code,
                "horse_code": horse_code(horse),
                "saddlecloth": i,
                "barrier": i,
                "weight_kg": 60.0 - i * 0.5,
                "claim_kg": (claim or {}).get(i, 0.0),
                "jockey_code": jockey_code((i % 4) + 1),
                "trainer_code": trainer_code((i % 3) + 1),
                "handicap_rating": 70 + i,
                "emergency": i in emergencies,
                "emergency_number": 1 if i in emergencies else pd.NA,
                "scratched_at": ts(scratched[i]) if i in scratched else NAT,
                "finish": finish,
                "margin_lengths": (winner_margin if finish == 1 else (finish - 1) * 1.25 + 0.22)
                if finish is not None and finish < 100
                else float("nan"),
                "starting_price": sps[i - 1] if sps[i - 1] is not None else float("nan"),
                "true_win_prob": probs[i - 1],
            }
        )
    return rows


def build_world() -> World:
    venues = pd.DataFrame(
        [
            {
                "venue_code": "149",
                "venue_name": "Flemington",
                "display_name": "Flemington",
                "slug": "flemington",
                "abbr": "FLEM",
                "state": "VIC",
                "timezone": "Australia/Melbourne",
                "tier": "metro",
                "barrier_bias": 0.1,
            },
            {
                "venue_code": "152",
                "venue_name": "Sandown Hillside",
                "display_name": "Sportsbet Sandown Hillside",
                "slug": "sandown-hillside",
                "abbr": "SAND",
                "state": "VIC",
                "timezone": "Australia/Melbourne",
                "tier": "metro",
                "barrier_bias": 0.05,
            },
            {
                "venue_code": "349",
                "venue_name": "Rosehill Gardens",
                "display_name": "Rosehill Gardens",
                "slug": "rosehill-gardens",
                "abbr": "RHIL",
                "state": "NSW",
                "timezone": "Australia/Sydney",
                "tier": "metro",
                "barrier_bias": 0.2,
            },
        ]
    )
    meetings = pd.DataFrame(
        [
            _meeting(
                "5100001",
                "149",
                date(2026, 2, 14),
                listed="2026-02-09T00:00:00Z",
                fields="2026-02-11T06:00:00Z",
                final="2026-02-12T06:00:00Z",
            ),
            _meeting(
                MEET,
                "149",
                RACE_DAY,
                listed="2026-03-02T00:00:00Z",
                fields="2026-03-04T06:00:00Z",
                final="2026-03-05T06:00:00Z",
            ),
            _meeting(
                "5100003",
                "149",
                RACE_DAY,
                listed="2026-03-05T00:00:00Z",
                fields="2026-03-06T00:00:00Z",
                final="2026-03-06T00:00:00Z",
                trial=True,
            ),
            _meeting(
                "5100004",
                "152",
                RACE_DAY,
                listed="2026-03-02T00:00:00Z",
                fields="2026-03-04T06:00:00Z",
                final="2026-03-05T06:00:00Z",
                abandoned_at="2026-03-06T20:00:00Z",
            ),
            _meeting(
                "5100005",
                "349",
                RACE_DAY,
                listed="2026-03-06T00:00:00Z",
                fields="2026-03-06T01:00:00Z",
                final="2026-03-06T02:00:00Z",
                condition="Soft",
                rating=5,
            ),
        ]
    )
    races = pd.DataFrame(
        [
            _race("6100011", "5100001", 1, "2026-02-14T01:15:00Z", 1200, winning_cs=6990),
            _race(
                "6100012",
                "5100001",
                2,
                "2026-02-14T01:50:00Z",
                1400,
                winning_cs=8277,
                group="Group 2",
                rdc_class="Group 2",
                cond_text="Set Weights. Group 2.",
            ),
            _race("6100021", MEET, 1, R1_START, 1200, winning_cs=6945),
            _race("6100022", MEET, 2, "2026-03-07T01:50:00Z", 1400, winning_cs=8290),
            _race(
                "6100023", MEET, 3, "2026-03-07T02:25:00Z", 1600, condition="Soft", rating=5, winning_cs=9701
            ),
            _race("6100031", "5100003", 1, "2026-03-06T22:30:00Z", 1000, winning_cs=5980, rdc_class="Trial"),
            _race("6100041", "5100004", 1, "2026-03-07T01:00:00Z", 1100),
            _race("6100051", "5100005", 1, "2026-03-07T04:00:00Z", 1500, condition="Soft", rating=5),
        ]
    )
    rows = []
    rows += _entries(
        "6100011",
        ["H1", "H2", "H3", "H4", "H5"],
        finishes=[2, 1, 3, 5, 4],
        sps=[3.1, 2.7, 10.0, 21.0, 8.0],
        probs=[0.3, 0.35, 0.1, 0.05, 0.2],
    )
    rows += _entries(
        "6100012",
        ["H6", "H7", "H8", "H9", "H10"],
        finishes=[1, 4, 2, 3, 109],
        sps=[4.0, 6.0, 3.0, 5.0, None],
        probs=[0.25, 0.15, 0.3, 0.2, 0.1],
        scratched={5: "2026-02-13T22:00:00Z"},
    )
    rows += _entries(
        "6100021",
        ["H1", "H2", "H3", "H4", "H5", "H6", "H7"],
        finishes=[1, 3, 2, 109, 5, 4, 109],
        sps=[3.1, 2.7, 10.0, None, 21.0, 8.0, None],
        probs=[0.3, 0.35, 0.1, 0.0, 0.05, 0.2, 0.0],
        scratched={4: "2026-03-06T22:00:00Z", 7: "2026-03-05T09:00:00Z"},
        emergencies=(7,),
        claim={2: 2.0},
    )
    rows += _entries(
        "6100022",
        ["H8", "H9", "H10", "H11", "H12"],
        finishes=[3, 1, 2, 5, 4],
        sps=[4.0, 3.5, 5.0, 9.0, 7.0],
        probs=[0.2, 0.3, 0.25, 0.1, 0.15],
    )
    rows += _entries(
        "6100023",
        ["H13", "H14", "H15", "H16"],
        finishes=[4, 2, 1, 3],
        sps=[9.0, 3.0, 2.5, 4.0],
        probs=[0.1, 0.3, 0.35, 0.25],
    )
    rows += _entries(
        "6100031", ["H17", "H18", "H19"], finishes=[1, 2, 3], sps=[None] * 3, probs=[0.4, 0.35, 0.25]
    )
    rows += _entries("6100041", ["H20", "H21"], finishes=[None, None], sps=[None] * 2, probs=[0.5, 0.5])
    rows += _entries(
        "6100051",
        ["H22", "H23", "H24", "H25"],
        finishes=[2, 1, 4, 3],
        sps=[3.0, 2.8, 8.0, 6.0],
        probs=[0.3, 0.32, 0.15, 0.23],
    )
    entries = pd.DataFrame(rows)
    entries["emergency_number"] = entries["emergency_number"].astype("Int64")
    horses = pd.DataFrame(
        [
            {
                "horse_code": horse_code(f"H{n}"),
                "horse_name": f"Test Horse {n}",
                "sex": "Gelding" if n % 2 else "Mare",
                "foal_date": date(2021, 9, 1 + n % 20),
                "colour": "Bay",
                "sire": "Zoustar",
                "dam": f"Dam {n}",
                "country": "NZ" if n == 3 else "AUS",
                "ability": 0.1 * n,
                "distance_pref_m": 1400.0,
                "going_pref": 0.0,
            }
            for n in range(1, 26)
        ]
    )
    jockeys = pd.DataFrame(
        [
            {
                "jockey_code": jockey_code(n),
                "jockey_name": name,
                "url_slug": slug,
                "is_apprentice": n == 4,
                "skill": 0.5,
            }
            for n, name, slug in [
                (1, "J.B.McDonald", "james-mc-donald"),
                (2, "T.Clark", "tim-clark"),
                (3, "A.Roper", "anna-roper"),
                (4, "D.Gibbons", "dylan-gibbons"),
            ]
        ]
    )
    trainers = pd.DataFrame(
        [
            {"trainer_code": trainer_code(n), "trainer_name": name, "skill": 0.5}
            for n, name in [(1, "K.Waugh"), (2, "Gai Waterhouse & Adrian Bott"), (3, "B.Baker")]
        ]
    )
    world = World(
        seed=0,
        venues=venues,
        meetings=meetings,
        races=races,
        entries=entries,
        odds_for_race=lambda code: odds_for_race(world, code),
        horses=horses,
        jockeys=jockeys,
        trainers=trainers,
        meta={"built_by": "racing_platform_tests.worlds"},
    )
    return world


def odds_for_race(world: World, race_code: str) -> pd.DataFrame:
    """Three price moves per runner and bookmaker: after acceptances, after final fields, 10 min before."""
    race = world.races.set_index("race_code").loc[race_code]
    meeting = world.meetings.set_index("meet_code").loc[race["meet_code"]]
    if meeting["is_trial"]:
        return pd.DataFrame(columns=["entry_id", "provider_code", "update_time_utc", "price"])
    moments = [
        meeting["fields_at"] + pd.Timedelta(hours=1),
        meeting["final_fields_at"] + pd.Timedelta(hours=1),
        race["start_time_utc"] - pd.Timedelta(minutes=10),
    ]
    rows = []
    for entry in world.entries[world.entries["race_code"] == race_code].itertuples():
        base = 1.0 / max(entry.true_win_prob, 0.02)
        for provider in ("SB2", "LB2"):
            for step, moment in enumerate(moments):
                wobble = (zlib.crc32(f"{entry.entry_id}{provider}{step}".encode()) % 7 - 3) / 10
                rows.append(
                    {
                        "entry_id": entry.entry_id,
                        "provider_code": provider,
                        "update_time_utc": moment,
                        "price": round(max(1.1, base * 1.1 + wobble), 2),
                    }
                )
    return pd.DataFrame(rows)
