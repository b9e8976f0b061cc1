"""The clock and what it lets a response reveal: listing, fields, scratchings, prices, results, horse form."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import requests

from racing_platform.simulator.clock import SimClock, iso_utc
from racing_platform_tests.paths import REFERENCE_DOCUMENTS as DOCUMENTS
from racing_platform_tests.worlds import (
    ACCEPTANCES,
    AFTER_MEETING,
    BEFORE_FIELDS,
    BEFORE_LISTING,
    FINAL_FIELDS,
    MEET,
    R1_START,
    RACE_MORNING,
    horse_code,
)

FIELD = (DOCUMENTS / "getRaceEntriesForField_CD.graphql").read_text()
RESULTS = (DOCUMENTS / "getRaceResults_CD.graphql").read_text()
MEETINGS = (DOCUMENTS / "GetMeetingByDate.graphql").read_text()


def at(sim, now: str | pd.Timestamp, document: str, variables: dict) -> dict:
    sim.control.set_clock(str(now))
    body = requests.post(sim.url, json={"query": document, "variables": variables}, timeout=10).json()
    return body


def race_form(sim, now, race_number: int = 1, document: str = FIELD, meet: str = MEET) -> dict | None:
    return at(sim, now, document, {"meetCode": meet, "raceNumber": race_number})["data"]["getRaceForm"]


def by_saddlecloth(race: dict) -> dict[int, dict]:
    return {e["raceEntryNumber"]: e for e in race["formRaceEntries"]}


def shifted(stamp: str, **delta) -> pd.Timestamp:
    return pd.Timestamp(stamp) + pd.Timedelta(**delta)


class TestSimClock:
    def test_frozen_clock_stays_put_and_advances_on_request(self):
        clock = SimClock("2026-03-07T01:00:00Z")
        assert clock.now() == clock.now() == pd.Timestamp("2026-03-07T01:00:00Z")
        assert clock.advance(90) == pd.Timestamp("2026-03-07T01:01:30Z")
        assert clock.state() == {"now": "2026-03-07T01:01:30.000Z", "mode": "frozen", "offset_seconds": 0.0}

    def test_running_clock_keeps_its_offset_from_wall_time(self):
        clock = SimClock("2020-01-01T00:00:00Z", frozen=False)
        first = clock.now()
        assert abs(first - pd.Timestamp("2020-01-01T00:00:00Z")) < pd.Timedelta(seconds=5)
        assert clock.now() >= first
        clock.advance(3600)
        assert clock.now() - first >= pd.Timedelta(hours=1)
        assert clock.state()["mode"] == "running"

    def test_default_is_the_wall_clock_and_naive_times_are_utc(self):
        clock = SimClock()
        assert abs(clock.now() - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(seconds=5)
        assert clock.set("2026-03-07 12:00") == pd.Timestamp("2026-03-07T12:00:00Z")
        assert clock.set("2026-03-07T12:00:00+11:00") == pd.Timestamp("2026-03-07T01:00:00Z")
        clock.reset_to_wall()
        assert abs(clock.now() - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(seconds=5)

    def test_bad_instants_are_refused(self):
        with pytest.raises(ValueError):
            SimClock().set("not a time")

    def test_iso_utc_has_milliseconds_and_z(self):
        assert iso_utc(pd.Timestamp("2026-03-07T15:05:00+11:00")) == "2026-03-07T04:05:00.000Z"


def test_clock_control_endpoint_sets_advances_and_rejects_nonsense(sim):
    assert sim.control.set_clock("2026-03-07T00:00:00Z")["now"] == "2026-03-07T00:00:00.000Z"
    assert sim.control.advance(60)["now"] == "2026-03-07T00:01:00.000Z"
    bad = requests.post(sim.url + "_sim/clock", json={"now": "yesterday-ish"}, timeout=10)
    assert bad.status_code == 400 and "/_sim/clock" in bad.json()["error"]
    assert requests.post(sim.url + "_sim/clock", json={}, timeout=10).status_code == 400


def test_meetings_appear_in_get_meeting_by_date_from_listed_at(sim):
    def listed(now):
        return {m["id"] for m in at(sim, now, MEETINGS, {"date": "2026-03-07"})["data"]["GetMeetingByDate"]}

    assert listed(BEFORE_LISTING) == set()
    assert listed("2026-03-02T00:00:00Z") == {MEET, "5100004"}
    assert listed(shifted("2026-03-06T00:00:00Z", seconds=-1)) == {MEET, "5100003", "5100004"}
    assert listed("2026-03-06T00:00:00Z") == {MEET, "5100003", "5100004", "5100005"}


def test_a_race_of_an_unlisted_meeting_is_null_with_a_not_found_error(sim):
    body = at(sim, BEFORE_LISTING, FIELD, {"meetCode": MEET, "raceNumber": 1})
    assert body["data"]["getRaceForm"] is None
    assert body["errors"][0]["errorType"] == "NotFound" and MEET in body["errors"][0]["message"]
    races = at(sim, BEFORE_LISTING, "query($m: ID!){ getRacesForMeet(meetCode: $m) { id } }", {"m": MEET})
    assert races["data"]["getRacesForMeet"] == []


def test_status_and_runners_follow_nominations_acceptances_final_fields(sim):
    nominations = race_form(sim, BEFORE_FIELDS)
    assert nominations["status"] == "Nominations" and nominations["formRaceEntries"] == []
    acceptances = race_form(sim, ACCEPTANCES)
    assert acceptances["status"] == "Acceptances"
    runners = by_saddlecloth(acceptances)
    assert len(runners) == 7 and runners[1]["weight"] == "59.5kg" and runners[1]["barrierNumber"] == 1
    assert {e["jockeyName"] for e in runners.values()} == {None}, "jockeys are confirmed at final fields"
    final = race_form(sim, FINAL_FIELDS)
    assert final["status"] == "FinalFields"
    assert by_saddlecloth(final)[1]["jockeyName"] == "T.Clark"
    assert by_saddlecloth(final)[2]["apprenticeCanClaim"] is True
    assert by_saddlecloth(final)[2]["apprenticeAllowedClaim"] == "2"


def test_scratchings_appear_at_scratched_at_and_barriers_close_up(sim):
    before = by_saddlecloth(race_form(sim, shifted("2026-03-06T22:00:00Z", seconds=-1)))
    after = by_saddlecloth(race_form(sim, "2026-03-06T22:00:00Z"))
    assert before[4]["scratched"] is False and before[4]["barrierNumber"] == 4
    assert before[7]["scratched"] is True and before[7]["emergency"] is True, (
        "the emergency went the evening before"
    )
    assert after[4]["scratched"] is True and after[4]["barrierNumber"] == 0
    assert after[4]["liveBarrierNumber"] == 4
    assert [after[n]["barrierNumber"] for n in (1, 2, 3, 5, 6)] == [1, 2, 3, 4, 5]


def test_prices_appear_at_their_update_time_latest_is_odds_win(sim):
    def sb2(now):
        entry = by_saddlecloth(race_form(sim, now))[1]
        return next((o for o in entry["odds"] if o["providerCode"] == "SB2"), None)

    assert sb2(ACCEPTANCES.replace("12:00", "06:59")) is None
    early, morning, late = sb2(ACCEPTANCES), sb2(RACE_MORNING), sb2(shifted(R1_START, minutes=-1))
    assert len(early["flucsWin"]) == 1 and len(morning["flucsWin"]) == 2 and len(late["flucsWin"]) == 3
    assert late["oddsWin"] == late["flucsWin"][-1]["amount"]
    assert late["flucsWin"][-1]["updateTime"] == int(shifted(R1_START, minutes=-10).timestamp())
    assert late["id"].endswith("-SB2") and late["id"].startswith(
        by_saddlecloth(race_form(sim, R1_START))[1]["id"]
    )


def test_no_results_before_the_jump_and_until_declared(sim):
    for now in (shifted(R1_START, seconds=-1), R1_START, shifted(R1_START, minutes=4)):
        race = race_form(sim, now, document=RESULTS)
        for entry in race["formRaceEntries"]:
            assert [entry[k] for k in ("position", "finish", "margin", "startingPrice", "winningTime")] == [
                None
            ] * 5
    assert race_form(sim, R1_START, document=RESULTS)["raceStatus"] == "Closed"
    assert (
        at(sim, R1_START, RESULTS, {"meetCode": MEET, "raceNumber": 1})["data"]["GetBettingData"]["exotics"]
        == []
    )
    declared = race_form(sim, shifted(R1_START, minutes=5), document=RESULTS)
    assert declared["raceStatus"] == "Paying"
    runners = by_saddlecloth(declared)
    assert runners[1]["finish"] == 1 and runners[1]["finishAbv"] == "1st" and runners[1]["position"] == 1
    assert (
        runners[4]["finish"] == 109
        and runners[4]["finishAbv"] == "SCR"
        and runners[4]["startingPrice"] is None
    )
    assert race_form(sim, AFTER_MEETING, document=RESULTS)["raceStatus"] == "Results"


def test_track_condition_is_the_meetings_until_the_race_is_run(sim):
    query = """query($meetCode: ID!, $raceNumber: Int!) {
        getRaceForm(meetCode: $meetCode, raceNumber: $raceNumber) { trackCondition trackRating } }"""
    assert race_form(sim, RACE_MORNING, 3, query) == {"trackCondition": "Good", "trackRating": "4"}
    assert race_form(sim, AFTER_MEETING, 3, query) == {"trackCondition": "Soft", "trackRating": "5"}


def test_horse_form_reflects_query_time_not_race_time(sim):
    """racing.com's leakage trap, reproduced: horse{} includes the race being looked at once it is run."""
    before = by_saddlecloth(race_form(sim, RACE_MORNING, document=RESULTS))[1]["horse"]
    after = by_saddlecloth(race_form(sim, AFTER_MEETING, document=RESULTS))[1]["horse"]
    career = {s["key"]: s for s in before["stats"]}["Career"]
    assert (career["starts"], career["firsts"], career["seconds"]) == ("1", "0", "1")
    assert json.loads(before["lastFive"]) == ["2"]
    assert before["lastProfessionalRaceEntryItem"]["raceCode"] == "6100011"
    career = {s["key"]: s for s in after["stats"]}["Career"]
    assert (career["starts"], career["firsts"]) == ("2", "1")
    assert json.loads(after["lastFive"]) == ["2", "1"]
    assert after["lastProfessionalRaceEntryItem"]["raceCode"] == "6100021"
    assert after["id"] == horse_code("H1")
    entry_level = by_saddlecloth(race_form(sim, AFTER_MEETING))[1]
    assert entry_level["trackStats"] == "1:0-1-0", "entry-level stats stay pre-race"


def test_abandoned_meeting_shows_abandoned_and_never_results(sim):
    assert (
        race_form(sim, "2026-03-06T19:59:00Z", meet="5100004", document=RESULTS)["raceStatus"]
        == "FinalFields"
    )
    race = race_form(sim, AFTER_MEETING, meet="5100004", document=RESULTS)
    assert race["raceStatus"] == "Abandoned"
    assert {e["finish"] for e in race["formRaceEntries"]} == {None}
