"""The replay endpoint answers like a GraphQL server from the recordings: projected, aliased, null-filled."""

from __future__ import annotations

import requests

from racing_platform.source.client import load_operation
from racing_platform_tests.replay.recordings import FLEMINGTON_MEET_CODE, ROSEHILL_DATE, recorded_payload
from racing_platform_tests.replay.server import RawAnswer

RANDWICK = {"meetCode": "5193242", "raceNumber": 3}


def _post(replay, query: str, variables: dict, operation: str | None = None) -> requests.Response:
    body = {"query": query, "variables": variables, "operationName": operation}
    return requests.post(replay.url, json=body, timeout=10)


def test_the_answer_is_the_recording_projected_onto_the_selection(replay):
    query = """query Q($meetCode: ID!, $raceNumber: Int!) {
      race: getRaceForm(meetCode: $meetCode, raceNumber: $raceNumber) {
        id raceNumber notRecorded
        entries: formRaceEntries { horseName ...Draw }
      }
    }
    fragment Draw on RaceEntryItem { barrierNumber saddle: raceEntryNumber }"""
    answer = _post(replay, query, RANDWICK, "Q").json()
    recorded = recorded_payload("raceResult")["data"]["getRaceForm"]
    race = answer["data"]["race"]
    assert set(race) == {"id", "raceNumber", "notRecorded", "entries"}  # unselected fields dropped
    assert race["id"] == recorded["id"] and race["notRecorded"] is None
    assert race["entries"] == [
        {"horseName": e["horseName"], "barrierNumber": e["barrierNumber"], "saddle": e["raceEntryNumber"]}
        for e in recorded["formRaceEntries"]
    ]


def test_the_clients_own_documents_are_answered_over_get_and_post(replay):
    operation = load_operation("getRaceResults_CD")
    posted = _post(replay, operation.text, RANDWICK, operation.name).json()
    got = requests.get(
        replay.url,
        params={"query": operation.text, "variables": '{"meetCode": "5193242", "raceNumber": 3}'},
        timeout=10,
    ).json()
    assert posted == got and "errors" not in posted
    assert posted["data"]["GetBettingData"] == recorded_payload("raceResult")["data"]["GetBettingData"]
    entry = posted["data"]["getRaceForm"]["formRaceEntries"][0]
    assert entry["bonusMoney"] == "0" and entry["finish"] == 2  # from the body and from the fragment


def test_the_synthesized_listing_names_every_recorded_meeting_on_its_day(replay):
    operation = load_operation("GetMeetingByDate_CD")
    by_day = {
        day: _post(replay, operation.text, {"date": day}, operation.name).json()["data"]["GetMeetingByDate"]
        for day in ("2026-03-07", ROSEHILL_DATE, "2026-03-08")
    }
    assert [m["id"] for m in by_day["2026-03-07"]] == [FLEMINGTON_MEET_CODE, "5193242"]
    assert [m["venue"] for m in by_day[ROSEHILL_DATE]] == ["Rosehill Gardens"]
    assert by_day["2026-03-08"] == []
    flemington = by_day["2026-03-07"][0]
    assert flemington["state"] is None and flemington["venueCode"] == "149"  # not recorded -> null


def test_an_unrecorded_request_is_answered_not_found(replay):
    operation = load_operation("Races")
    answer = _post(replay, operation.text, {"meetCode": "1"}, operation.name).json()
    assert answer["data"] == {"getRacesForMeet": None}
    assert answer["errors"][0]["errorType"] == "NotFound"


def test_mutations_queued_answers_and_edits_last_until_reset(replay):
    operation = load_operation("Races")

    def renamed(payload: dict) -> dict:
        payload["data"]["getRaceForm"]["formRaceEntries"][0]["horseName"] = "Renamed"
        return payload

    replay.endpoint.recordings.mutate("raceResult", renamed)
    replay.endpoint.queue("Races", RawAnswer(503, b"busy", "text/plain"))
    first = _post(replay, operation.text, {"meetCode": "5193242"}, operation.name)
    second = _post(replay, operation.text, {"meetCode": "5193242"}, operation.name).json()
    assert first.status_code == 503
    assert second["data"]["getRacesForMeet"][0]["formRaceEntries"][0]["horseName"] == "Renamed"
    replay.endpoint.edit_answers("Races", lambda answer: {"data": {}})
    assert _post(replay, operation.text, {"meetCode": "5193242"}, operation.name).json() == {"data": {}}
    assert [r["operation"] for r in replay.endpoint.requests] == ["Races"] * 3

    replay.endpoint.reset()
    restored = _post(replay, operation.text, {"meetCode": "5193242"}, operation.name).json()
    assert restored["data"]["getRacesForMeet"][0]["formRaceEntries"][0]["horseName"] == "Agrarian Girl"
