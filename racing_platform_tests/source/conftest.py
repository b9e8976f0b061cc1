"""The three public racing.com responses (reference section 4), loaded fresh per test so edits stay local.

* races.json: getNoCacheRacesForMeet, Flemington 2026-03-07 (10 races, results lines only).
* raceEntries.json: getRaceEntriesForField_CD, Rosehill Gardens R1 (15 runners, odds with flucs, no date).
* raceResult.json: getRaceResults_CD, Royal Randwick 2026-03-07 R3 (14 entries, 5 scratched).
"""

from __future__ import annotations

import json
from functools import cache

import pytest

from racing_platform_tests.paths import RACING_COM_FIXTURES


@cache
def fixture_text(name: str) -> str:
    return (RACING_COM_FIXTURES / name).read_text(encoding="utf-8")


def load_fixture(name: str) -> dict:
    return json.loads(fixture_text(name))


@pytest.fixture
def races_payload() -> dict:
    return load_fixture("races.json")


@pytest.fixture
def race_entries_payload() -> dict:
    return load_fixture("raceEntries.json")


@pytest.fixture
def race_result_payload() -> dict:
    return load_fixture("raceResult.json")
