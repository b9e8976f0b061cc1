"""The truth channel serves true win probabilities; GraphQL never exposes them."""

from __future__ import annotations

import json

import pytest
import requests
from graphql import build_schema

from racing_platform.simulator.server import SCHEMA_PATH
from racing_platform_tests.paths import REFERENCE_DOCUMENTS as DOCUMENTS
from racing_platform_tests.simulator.conftest import floats
from racing_platform_tests.worlds import AFTER_MEETING, MEET, RACE_MORNING

TRUTH_NAMES = ("truewinprob", "ability", "skill", "barrierbias", "distancepref", "goingpref")


def test_truth_by_race_and_by_meeting(sim):
    rows = sim.control.truth(race_code="6100021")
    assert {r["race_code"] for r in rows} == {"6100021"}
    assert [r["saddlecloth"] for r in rows] == [1, 2, 3, 5, 6], "the final field: scratchings left out"
    assert sum(r["true_win_prob"] for r in rows) == pytest.approx(1.0)
    assert {r["saddlecloth"]: r["true_win_prob"] for r in rows}[2] == pytest.approx(0.35)
    by_meeting = sim.control.truth(meet_code=MEET)
    assert {r["race_code"] for r in by_meeting} == {"6100021", "6100022", "6100023"} and len(by_meeting) == 14
    assert sim.control.truth(race_code="no-such-race") == []


def test_truth_needs_a_meeting_or_a_race(sim):
    response = requests.get(sim.url + "_sim/truth", timeout=10)
    assert response.status_code == 400 and "meetCode" in response.json()["error"]


def test_schema_has_no_field_that_could_carry_truth():
    schema = build_schema(SCHEMA_PATH.read_text())
    names = {
        f"{type_name}.{field}".lower()
        for type_name, graphql_type in schema.type_map.items()
        if not type_name.startswith("__")
        for field in getattr(graphql_type, "fields", {})
    }
    assert len(names) > 300
    assert [n for n in names if any(t in n.split(".")[1] for t in TRUTH_NAMES)] == []


@pytest.mark.parametrize("now", [RACE_MORNING, AFTER_MEETING])
def test_responses_carry_no_truth_values(sim, small_world, now):
    sim.control.set_clock(now)
    true_probs = {round(p, 6) for p in small_world.entries["true_win_prob"]}
    abilities = {round(a, 6) for a in small_world.horses["ability"]}
    for name, variables in [
        ("GetMeetingsNested", {"date": "2026-03-07"}),
        ("getRaceResults_CD", {"meetCode": MEET, "raceNumber": 1}),
        ("getRaceEntriesForField_CD", {"meetCode": MEET, "raceNumber": 2}),
    ]:
        text = (DOCUMENTS / f"{name}.graphql").read_text()
        body = requests.post(sim.url, json={"query": text, "variables": variables}, timeout=10).json()
        assert "errors" not in body
        raw = json.dumps(body).lower()
        assert not any(t in raw for t in ("true_win_prob", "truewinprob", '"ability"', '"skill"'))
        leaked = {round(f, 6) for f in floats(body)} & (true_probs | abilities)
        assert leaked == set(), f"{name}: truth values in a GraphQL response"
