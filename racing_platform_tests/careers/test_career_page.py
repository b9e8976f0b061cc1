"""The career parser on hand-written pages in exactly racing.com's formats (reference §2.5, §3)."""

from __future__ import annotations

import copy
import datetime as dt

import pandas as pd
import pytest

from racing_platform.contracts import HorseStartsSchema
from racing_platform.source.formats import normalise_race_class
from racing_platform.source.parsers import ParseError, parse_career_page

FETCHED = "2026-03-08T01:00:00Z"
TIMING = {
    "toEightHundredMetresSeconds": 4620, "standardTimeTo800Difference": "+0.10L",
    "eightHundredToFourHundredMetresSeconds": 2380, "standardTime800To400Difference": "-0.20L",
    "fourHundredToFinishMetresSeconds": 2290, "standardTime400ToFinishDifference": "+0.05L",
    "finishTimeSeconds": 9290, "standardTimeDifference": "+0.72L",
}  # fmt: skip


def _race(**over) -> dict:
    race = {
        "id": "5449708", "date": "2026-03-07", "isTrial": 0, "isJumpOut": 0,
        "venue": {"venueName": "Royal Randwick"}, "venueCode": "188", "distance": "1400m", "raceNumber": 3,
        "class": "MIDWAY BM72", "trackCondition": "Soft", "trackRating": "6", "runnersCount": 12,
        "group": "ungrouped", "nameForm": "BM72", "totalPrizeMoney": "300000.00", "raceTime": "1:22.77",
        "standardTimeDifference": "+0.72L", "toEightHundredMetresSeconds": 4620,
        "eightHundredToFourHundredMetresSeconds": 2380, "fourHundredToFinishMetresSeconds": 2290,
    }  # fmt: skip
    return {**race, **over}


def _item(**over) -> dict:
    item = {
        "id": "43125011", "finish": 1, "finishAbv": "1st", "horseName": "Chayan", "horseCountry": None,
        "trainerName": "C.Waller", "raceEntryNumber": 4, "race": _race(), "weightCarried": "56.5kg",
        "jockeyName": "J.B.McDonald", "barrierNumber": 7, "margin": "2.97L", "startingPrice": "$3.10",
        "winningTime": "8277", "positionAtSettledAbv": "3rd", "positionAt800Abv": "3rd",
        "positionAt400Abv": "2nd", "standardTimeDifference": "+0.72L", "timeSectional": None,
        "comment": "Settled third, strong late.", "commentStewards": None, "handicapRating": 71,
        "timing": TIMING, "LastEvaluatedKey": "eyJob3JzZUNvZGUiOiI4ODAwMSJ9",
    }  # fmt: skip
    return {**item, **over}


PAGE = {
    "data": {
        "GetRaceEntryItemByHorsePaged": [
            _item(),
            _item(
                id="43100022", finish=4, finishAbv="4th", margin="1.25L", startingPrice="$12.00",
                weightCarried="58kg", barrierNumber=2, handicapRating=0,
                race=_race(id="5440001", date="2026-02-14", **{"class": "CL1"}, trackRating="0",
                           distance="1217m", venueCode="149", venue={"venueName": "Flemington"}),
            ),
            _item(
                id="43090033", finish=109, finishAbv="SCR", margin="0L", startingPrice="$0.00",
                barrierNumber=0, race=_race(id="5430002", date="2026-01-20", **{"class": "MDN-SW"}),
            ),
            _item(
                id="43080044", finish=5, finishAbv="5th", margin="6.50L", startingPrice=None,
                race=_race(id="5420003", date="2025-12-30T13:00:00.000Z", isTrial=1, group="Group 1",
                           **{"class": "Trial"}),
            ),
            _item(id="43070055", finish=None, finishAbv=None, margin=None, startingPrice=None,
                  race=_race(id="5410004", date="2026-03-21")),
        ]
    }
}  # fmt: skip


def _parse(page=PAGE, **kw):
    args = {"horse_code": "88001", "page": 2, "fetched_at": FETCHED}
    return parse_career_page(page, **{**args, **kw})


def test_a_page_in_racing_com_formats_becomes_horse_starts():
    parsed = _parse()
    starts = parsed.starts
    assert parsed.items == 5 and len(starts) == 4  # the entry not yet run (no finish) is not a start
    win, fourth, scratched, trial = (row._asdict() for row in starts.itertuples(index=False))
    assert win == {
        "horse_code": "88001", "entry_id": "43125011", "race_code": "5449708",
        "race_date": dt.date(2026, 3, 7), "venue_code": "188", "venue_name": "Royal Randwick",
        "race_number": 3, "distance_m": 1400, "race_class": "BM 72", "track_condition": "Soft",
        "track_rating": 6, "runners_count": 12, "is_trial": False, "is_jumpout": False, "scratched": False,
        "finish_position": 1, "margin_lengths": 2.97, "starting_price": 3.1, "weight_kg": 56.5, "barrier": 7,
        "jockey_name": "J.B.McDonald", "trainer_name": "C.Waller", "handicap_rating": 71,
        "fetched_at": win["fetched_at"],
    }  # fmt: skip
    assert str(win["fetched_at"]) == "2026-03-08 01:00:00+00:00"
    # The winner keeps its margin as racing.com gives it: the margin to second.
    assert fourth["margin_lengths"] == 1.25 and fourth["weight_kg"] == 58.0 and fourth["distance_m"] == 1217
    assert (
        fourth["race_class"] == "Class 1"
        and fourth["track_rating"] is pd.NA
        and fourth["handicap_rating"] is pd.NA
    )
    assert scratched["scratched"] and scratched["finish_position"] is pd.NA
    assert scratched["barrier"] is pd.NA and scratched["starting_price"] != scratched["starting_price"]
    assert scratched["race_class"] == "Maiden"
    # A race time with a zone is read on the platform's calendar: 13:00Z on the 30th is the 31st in Sydney.
    assert (
        trial["race_date"] == dt.date(2025, 12, 31) and trial["is_trial"] and trial["race_class"] == "Group 1"
    )
    HorseStartsSchema.validate(starts.assign(class_rank=None))


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("race", "distance"), "fourteen hundred", "distance"),
        (("margin",), "2.97 lengths", "margin"),
        (("startingPrice",), {"win": 3.1}, "startingPrice"),
        (("weightCarried",), "heavy", "weightCarried"),
        (("race", "date"), "07/03/2026", "date"),
        (("finish",), "first", "finish"),
    ],
)
def test_a_malformed_value_names_the_horse_page_item_and_field(path, value, field):
    page = copy.deepcopy(PAGE)
    target = page["data"]["GetRaceEntryItemByHorsePaged"][1]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ParseError) as raised:
        _parse(page)
    message = str(raised.value)
    assert "horse 88001 page 2" in message and "GetRaceEntryItemByHorsePaged[1]" in message
    assert f"field {field!r}" in message and raised.value.field == field


def test_a_page_that_is_not_a_list_of_objects_is_refused():
    with pytest.raises(ParseError, match="horse 88001 page 2"):
        _parse({"data": {"GetRaceEntryItemByHorsePaged": [1, 2]}})
    with pytest.raises(ParseError, match="field 'GetRaceEntryItemByHorsePaged'"):
        _parse({"data": {"GetRaceEntryItemByHorsePaged": {"id": "1"}}})
    assert _parse({"data": {"GetRaceEntryItemByHorsePaged": None}}).starts.empty


@pytest.mark.parametrize(
    ("text", "group", "expected"),
    [
        ("MIDWAY BM72", "ungrouped", "BM 72"), ("Benchmark 64", None, "BM 64"),
        ("3YO MDN-SW", None, "Maiden"),
        ("CL3", None, "Class 3"), ("Class 1", None, "Class 1"), ("STAKES", "Listed", "Listed"),
        ("GR2", None, "Group 2"), ("RST 58", None, "RST 58"), (None, None, None),
    ],
)  # fmt: skip
def test_racing_com_class_text_in_the_races_tables_words(text, group, expected):
    assert normalise_race_class(text, group) == expected
