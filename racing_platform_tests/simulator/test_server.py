"""The GraphQL surface over real HTTP: documents validate, operations answer, GET and POST both work."""

from __future__ import annotations

import json

import pytest
import requests
from graphql import build_schema, parse, validate

from racing_platform.simulator.server import SCHEMA_PATH
from racing_platform_tests.paths import CLIENT_QUERIES
from racing_platform_tests.paths import REFERENCE_DOCUMENTS as DOCUMENTS
from racing_platform_tests.worlds import AFTER_MEETING, MEET

DOCUMENT_FILES = sorted(DOCUMENTS.glob("*.graphql")) + sorted(CLIENT_QUERIES.glob("*.graphql"))


def post(sim, document: str, variables: dict | None = None, **kwargs) -> requests.Response:
    return requests.post(
        sim.url, json={"query": document, "variables": variables or {}}, timeout=10, **kwargs
    )


def document(name: str) -> str:
    return (DOCUMENTS / f"{name}.graphql").read_text()


@pytest.mark.parametrize("path", DOCUMENT_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_document_validates_against_the_schema(path):
    schema = build_schema(SCHEMA_PATH.read_text())
    errors = validate(schema, parse(path.read_text()))
    assert errors == [], f"{path.name}: {[e.message for e in errors]}"


def test_unknown_fields_are_rejected_like_the_real_server(sim):
    response = post(sim, '{ getRaceForm(meetCode: "5100002", raceNumber: 1) { id trueWinProb } }')
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert "trueWinProb" in error["message"] and error["errorType"] == "ValidationError"


def test_get_meeting_by_date_lists_meetings_of_the_day(sim):
    response = post(sim, document("GetMeetingByDate"), {"date": "2026-03-07"})
    assert response.status_code == 200
    meetings = {m["id"]: m for m in response.json()["data"]["GetMeetingByDate"]}
    assert set(meetings) == {MEET, "5100003", "5100004", "5100005"}
    flemington = meetings[MEET]
    assert flemington == {
        "id": MEET,
        "venue": "Flemington",
        "date": "2026-03-07",
        "state": "VIC",
        "isTrial": 0,
        "isJumpOut": 0,
        "meetUrl": "https://www.racing.com/form/2026-03-07/flemington",
    }
    assert meetings["5100003"]["isTrial"] == 1
    assert meetings["5100003"]["meetUrl"] != flemington["meetUrl"], (
        "two meetings at one venue need distinct URLs"
    )
    assert meetings["5100004"]["venue"] == "Sportsbet Sandown Hillside"
    assert meetings["5100005"]["venue"] == "Rosehill Gardens", "no sponsor: the plain venue name"


def test_get_and_post_return_the_same_answer_and_the_api_key_is_only_noted(sim):
    variables = {"meetCode": MEET, "raceNumber": 1}
    text = document("getRaceEntriesForField_CD")
    by_post = post(sim, text, variables, headers={"x-api-key": "da2-secret"})
    by_get = requests.get(
        sim.url,
        params={
            "query": text,
            "variables": json.dumps(variables),
            "operationName": "getRaceEntriesForField_CD",
        },
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert by_get.status_code == by_post.status_code == 200
    assert by_get.json() == by_post.json()
    assert by_post.json()["data"]["getRaceForm"]["id"] == "6100021"
    log = sim.control.requests_log()
    assert [(r["method"], r["apiKeyPresent"]) for r in log] == [("POST", True), ("GET", False)]
    assert log[1]["operationName"] == "getRaceEntriesForField_CD"
    assert log[0]["rootFields"] == ["getRaceForm"] and log[0]["variables"] == variables
    assert "da2-secret" not in json.dumps(log)
    assert log[0]["monotonic"] <= log[1]["monotonic"]


def test_get_race_form_for_an_unknown_race_is_null_with_an_appsync_error(sim):
    response = post(sim, document("getRaceEntriesForField_CD"), {"meetCode": MEET, "raceNumber": 9})
    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"getRaceForm": None}
    assert body["errors"][0]["errorType"] == "NotFound" and "race number 9" in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["getRaceForm"]


def test_bad_meeting_date_names_the_operation_and_the_rule(sim):
    body = post(sim, document("GetMeetingByDate"), {"date": "07/03/2026"}).json()
    assert body["data"]["GetMeetingByDate"] is None
    assert "GetMeetingByDate: date must be YYYY-MM-DD" in body["errors"][0]["message"]


def test_race_lists_no_cache_is_unsorted_the_cached_one_is_sorted(sim):
    no_cache = post(sim, document("getRaceNumberList_CD"), {"meetCode": MEET}).json()["data"]
    cached = post(sim, document("Races"), {"meetCode": MEET}).json()["data"]
    no_cache_numbers = [r["raceNumber"] for r in no_cache["getNoCacheRacesForMeet"]]
    cached_numbers = [r["raceNumber"] for r in cached["getRacesForMeet"]]
    assert cached_numbers == [1, 2, 3]
    assert sorted(no_cache_numbers) == [1, 2, 3] and no_cache_numbers != [1, 2, 3]


def test_results_document_with_fragment_and_betting_data(sim):
    sim.control.set_clock(AFTER_MEETING)
    body = post(sim, document("getRaceResults_CD"), {"meetCode": MEET, "raceNumber": 1}).json()
    assert "errors" not in body
    race = body["data"]["getRaceForm"]
    winner = next(e for e in race["formRaceEntries"] if e["finish"] == 1)
    assert (
        winner["startingPrice"] == "$3.10" and winner["winningTime"] == "6945" and winner["margin"] == "1.5L"
    )
    pools = {x["poolStatusCode"]: x for x in body["data"]["GetBettingData"]["exotics"]}
    assert pools["Quinella"]["selections"] == "1/3" and pools["Trifecta"]["selections"] == "1/3/2"
    assert all(x["amount"].startswith("$") for x in pools.values())
