"""The predictions preview of a cell holding two meetings: a venue racing twice in a day (hand-made card).

Flemington on 2026-03-07 (Melbourne is UTC+11): meeting 5100003 (trials) runs its R1 at 09:30 local, the
main meeting 5100002 its R1 at 12:15 and R2 at 12:50. Both R1s are "R1": the card must keep them apart.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from racing_platform.predictions.assets import card_metadata
from racing_platform.predictions.pricing import CARD_FACTS, PREDICTION_COLUMNS

PROVIDER = "SB2"
ZONE = "Australia/Melbourne"
# (meet_code, race_code, race_number, race_name, start_time_utc, runners)
RACES = [
    ("5100002", "6100021", 1, "Main R1", "2026-03-07T01:15:00Z", 3),
    ("5100002", "6100022", 2, "Main R2", "2026-03-07T01:50:00Z", 2),
    ("5100003", "6100031", 1, "Trial R1", "2026-03-06T22:30:00Z", 2),
]


def two_meeting_card() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The priced rows (PREDICTION_COLUMNS) and card facts of the cell 2026-03-07|flemington."""
    priced, facts = [], []
    for meet, race, number, name, start, runners in RACES:
        for cloth in range(1, runners + 1):
            probability = 1 / runners
            priced.append(
                {
                    "meeting_date": date(2026, 3, 7),
                    "venue_slug": "flemington",
                    "meet_code": meet,
                    "race_code": race,
                    "race_number": number,
                    "horse_code": f"{race}-{cloth}",
                    "horse_name": f"{name} horse {cloth}",
                    "saddlecloth": cloth,
                    "barrier": cloth,
                    "stage1_probability": probability,
                    "win_probability": probability,
                    "rank": cloth,
                    "fair_odds": 1 / probability,
                    "market_price": 1 / probability,
                    "market_probability": probability,
                    "model_version": "v1",
                    "card_hash": "card",
                    "predicted_at": pd.Timestamp("2026-03-06T21:00:00Z"),
                }
            )
            facts.append(
                {
                    "race_code": race,
                    "saddlecloth": cloth,
                    "race_name": name,
                    "distance_m": 1000,
                    "race_class": "BM64",
                    "start_time_utc": pd.Timestamp(start),
                    "timezone": ZONE,
                    "jockey_name": f"J.{name}",
                    "weight_kg": 58.0,
                }
            )
    # Stored order: by race number, as the cell's features come (both R1s first).
    priced = pd.DataFrame(priced)[PREDICTION_COLUMNS].sort_values(["race_number", "rank"], kind="stable")
    return priced.reset_index(drop=True), pd.DataFrame(facts)[["race_code", "saddlecloth", *CARD_FACTS]]


def sections(preview: str) -> list[tuple[str, list[str]]]:
    """Each race of a markdown card: its heading and the horses of its table."""
    found = []
    for block in preview.split("\n\n**")[1:]:
        heading, table = block.split("**\n\n", 1)
        rows = [line for line in table.splitlines() if line.startswith("|")][2:]
        found.append((heading, [row.strip("|").split("|")[1].strip() for row in rows]))
    return found


def test_a_cell_with_two_meetings_prints_each_race_once_in_jump_order_naming_its_meeting():
    priced, facts = two_meeting_card()

    metadata = card_metadata(priced, facts, PROVIDER)

    races = sections(metadata["preview"].value)
    assert [heading for heading, _ in races] == [
        "R1 Trial R1 — 1000 m BM64 — jumps 09:30 AEDT — meeting 5100003",
        "R1 Main R1 — 1000 m BM64 — jumps 12:15 AEDT — meeting 5100002",
        "R2 Main R2 — 1000 m BM64 — jumps 12:50 AEDT — meeting 5100002",
    ]
    assert [horses for _, horses in races] == [
        ["Trial R1 horse 1", "Trial R1 horse 2"],
        ["Main R1 horse 1", "Main R1 horse 2", "Main R1 horse 3"],
        ["Main R2 horse 1", "Main R2 horse 2"],
    ]
    # The header's race count and the card's sections agree.
    assert metadata["races"] == len(races) == 3
    assert ": 3 races, 7 runners" in metadata["preview"].value


def test_a_cell_with_one_meeting_does_not_name_it():
    priced, facts = two_meeting_card()
    main = priced[priced["meet_code"] == "5100002"]

    races = sections(card_metadata(main, facts, PROVIDER)["preview"].value)

    assert [heading for heading, _ in races] == [
        "R1 Main R1 — 1000 m BM64 — jumps 12:15 AEDT",
        "R2 Main R2 — 1000 m BM64 — jumps 12:50 AEDT",
    ]
