"""The simulator's answers have the real fixtures' shapes and value formats, document for document.

For each public fixture we send the document that produced it and compare, path by path: every key the
fixture's objects carry, the simulator's objects carry too; every non-null scalar the simulator returns
has a format the fixture also shows at that path ("$3.10", "56.5kg", "2.97L", "1400m", centiseconds ...).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import pytest
import requests

from racing_platform_tests.paths import RACING_COM_FIXTURES as FIXTURES
from racing_platform_tests.paths import REFERENCE_DOCUMENTS as DOCUMENTS
from racing_platform_tests.worlds import AFTER_MEETING, MEET, RACE_MORNING

# Editorial content the simulator does not invent: tips, best bets, videos, highlights, track records.
NOT_SIMULATED = ("raceTips", "bestBets", "videoItems", "faisHighlight", "meetTips[]", "trackRecordRace")

STRING_FORMATS = [
    ("money", r"\$\d[\d,]*(\.\d\d)?"),
    ("kg", r"\d+(\.\d+)?kg"),
    ("lengths", r"[+-]?\d+(\.\d+)?L"),
    ("metres", r"\d+m"),
    ("utc-millis", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"),
    ("date", r"\d{4}-\d\d-\d\d"),
    ("integer", r"-?\d+"),
    ("decimal", r"\d+\.\d+"),
    ("percent", r"\d+%"),
    ("colon-stats", r"\d+:\d+-\d+-\d+"),
    ("dash-stats", r"\d+-\d+-\d+-\d+"),
    ("race-time", r"(\d+:)?\d\d?\.\d\d"),
    ("range", r"\d+ - \d+"),
    ("url", r"https://\S+"),
    ("path", r"/\S+"),
]


def value_kind(value) -> str:
    if not isinstance(value, str):
        return type(value).__name__
    for name, pattern in STRING_FORMATS:
        if re.fullmatch(pattern, value):
            return name
    try:
        parsed = json.loads(value)
    except ValueError:
        return "text"
    return f"json-{type(parsed).__name__}" if isinstance(parsed, list | dict) else "text"


def shape(node, path: str = "", keys=None, kinds=None):
    """path -> union of object keys, path -> kinds of non-null scalar values."""
    keys = keys if keys is not None else defaultdict(set)
    kinds = kinds if kinds is not None else defaultdict(set)
    if isinstance(node, dict):
        keys[path] |= set(node)
        for key, value in node.items():
            shape(value, f"{path}.{key}", keys, kinds)
    elif isinstance(node, list):
        for item in node:
            shape(item, f"{path}[]", keys, kinds)
    elif node is not None:
        kinds[path].add(value_kind(node))
    return keys, kinds


def fetch(sim, document: str, variables: dict, now: str) -> dict:
    sim.control.set_clock(now)
    text = (DOCUMENTS / f"{document}.graphql").read_text()
    response = requests.post(sim.url, json={"query": text, "variables": variables}, timeout=10)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body.get("errors")
    return body


CASES = [
    ("races.json", "getRaceNumberList_CD", {"meetCode": MEET}, AFTER_MEETING),
    ("raceEntries.json", "getRaceEntriesForField_CD", {"meetCode": MEET, "raceNumber": 1}, RACE_MORNING),
    ("raceResult.json", "getRaceResults_CD", {"meetCode": MEET, "raceNumber": 1}, AFTER_MEETING),
]


@pytest.mark.parametrize(("fixture", "document", "variables", "now"), CASES, ids=[c[0] for c in CASES])
def test_response_has_every_key_and_format_of_the_real_fixture(sim, fixture, document, variables, now):
    real_keys, real_kinds = shape(json.loads((FIXTURES / fixture).read_text()))
    sim_keys, sim_kinds = shape(fetch(sim, document, variables, now))

    missing_paths = [p for p in real_keys if p not in sim_keys and not any(n in p for n in NOT_SIMULATED)]
    assert missing_paths == [], f"{fixture}: objects the simulator never returns: {missing_paths}"
    missing_keys = {p: sorted(real_keys[p] - sim_keys[p]) for p in real_keys if p in sim_keys}
    assert {p: k for p, k in missing_keys.items() if k} == {}, f"{fixture}: keys missing"

    foreign = {
        path: sorted(kinds - real_kinds[path])
        for path, kinds in sim_kinds.items()
        if real_kinds.get(path) and kinds - real_kinds[path]
    }
    assert foreign == {}, f"{fixture}: simulator values in formats the real API does not use"


def test_shapes_compared_include_the_formats_that_matter(sim):
    """Guard the comparison itself: the fixture paths carrying racing.com's odd formats are covered."""
    _, sim_kinds = shape(fetch(sim, "getRaceResults_CD", {"meetCode": MEET, "raceNumber": 1}, AFTER_MEETING))
    entry = ".data.getRaceForm.formRaceEntries[]"
    expected = {
        f"{entry}.weight": {"kg"},
        f"{entry}.startingPrice": {"money"},
        f"{entry}.margin": {"lengths"},
        f"{entry}.winningTime": {"integer"},
        f"{entry}.horse.lastFive": {"json-list"},
        f"{entry}.odds[].flucsWin[].updateTime": {"int"},
        f"{entry}.odds[].flucsWin[].amount": {"money"},
        f"{entry}.horse.lastProfessionalRaceEntryItem.race.distance": {"metres"},
        ".data.getRaceForm.isTrial": {"int"},
    }
    assert {path: sim_kinds[path] for path in expected} == expected


def test_prize_money_is_an_array_of_json_strings_and_time_is_utc_millis(sim):
    body = fetch(sim, "getRaceNumberList_CD", {"meetCode": MEET}, AFTER_MEETING)
    race = next(r for r in body["data"]["getNoCacheRacesForMeet"] if r["raceNumber"] == 1)
    assert race["prizeMoney"][0] == '{"Position":1,"Value":"60000.00"}'
    assert race["time"] == "2026-03-07T01:15:00.000Z"
    assert (
        race["distance"] == "1200m" and race["trackRating"] == "4" and race["totalPrizeMoney"] == "100000.00"
    )
    assert race["raceTime"] == "1:09.45"
    assert (
        race["toEightHundredMetresSeconds"]
        + race["eightHundredToFourHundredMetresSeconds"]
        + race["fourHundredToFinishMetresSeconds"]
        == 6945
    )
    assert race["meet"]["meetUrl"] == "https://www.racing.com/form/2026-03-07/flemington"
    assert race["meet"]["meetUrlSegment"] == "2026-03-07/flemington"
