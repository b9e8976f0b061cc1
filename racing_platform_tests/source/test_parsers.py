from __future__ import annotations

import copy
import datetime as dt
import gc
import logging
import time

import pandas as pd
import pandera.errors
import pytest
import requests

from racing_platform.contracts import SCHEMAS, ResultsSchema, RunnersSchema
from racing_platform.paths import REPO_ROOT
from racing_platform.simulator.testing import running_simulator
from racing_platform.source import parsers
from racing_platform.source.client import load_operation
from racing_platform.source.formats import MAX_ENTRIES_PER_RACE, MAX_RACES_PER_MEETING
from racing_platform.source.parsers import (
    MEETINGS_BY_DATE,
    RACE_FIELD,
    RACE_RESULTS,
    RACES_FOR_MEET,
    RACES_NO_CACHE,
    TABLE_COLUMNS,
    ParseError,
    detect_operation,
    empty_table,
    parse_response,
)

RANDWICK = {"meetCode": "5193242", "raceNumber": 3}
RANDWICK_DAY = {"meeting_date": dt.date(2026, 3, 7)}
ROSEHILL = {"meetCode": "5193246", "raceNumber": 1}
ROSEHILL_DAY = {"meeting_date": dt.date(2026, 3, 21)}  # the response names no date; the caller knows it
FLEMINGTON = {"meetCode": "5193238"}
FETCHED_AT = "2026-03-07T09:00:00Z"
FORM = "https://www.racing.com/form"


def by_horse(frame: pd.DataFrame, name: str) -> pd.Series:
    rows = frame[frame["horse_name"] == name]
    assert len(rows) == 1, f"expected one row for {name}, got {len(rows)}"
    return rows.iloc[0]


def validate_all(tables) -> None:
    for name, frame in tables.items():
        SCHEMAS[name].validate(frame, lazy=True)


# -- operation detection -------------------------------------------------------------------------------


def test_detects_each_fixture_operation_with_and_without_envelope(
    races_payload, race_entries_payload, race_result_payload
):
    for payload, expected in [
        (races_payload, RACES_NO_CACHE),
        (race_entries_payload, RACE_FIELD),
        (race_result_payload, RACE_RESULTS),
    ]:
        assert detect_operation(payload) == expected
        assert detect_operation(payload["data"]) == expected


def test_a_field_the_answer_lacks_is_null_like_a_field_it_sends_as_null(race_result_payload):
    """The client checks answers against the document it sent; the parser reads whatever was selected."""
    entry = race_result_payload["data"]["getRaceForm"]["formRaceEntries"][0]
    del entry["weight"], entry["margin"]
    result = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY).results.iloc[0]
    assert pd.isna(result["weight_kg"]) and pd.isna(result["margin_lengths"])


def test_envelope_or_not_parses_the_same(race_result_payload):
    with_envelope = parse_response(race_result_payload, variables=RANDWICK)
    bare = parse_response(race_result_payload["data"], variables=RANDWICK)
    for name, frame in with_envelope.items():
        pd.testing.assert_frame_equal(frame, getattr(bare, name))


def test_operation_names_and_client_document_names_are_accepted(races_payload, race_result_payload):
    assert parse_response(races_payload, operation="getRaceNumberList_CD").operation == RACES_NO_CACHE
    assert parse_response(race_result_payload, operation="getRaceForm").operation == RACE_RESULTS
    with pytest.raises(ParseError, match="unknown operation 'getHorseProfile'"):
        parse_response(races_payload, operation="getHorseProfile")


def test_graphql_errors_are_a_parse_error():
    with pytest.raises(ParseError, match="Unauthorized"):
        parse_response(
            {"data": None, "errors": [{"message": "Unauthorized", "errorType": "UnauthorizedException"}]}
        )


# -- Royal Randwick R3 results (raceResult.json) -----------------------------------------------------------


def test_randwick_results_pin_the_winner_and_runner_up(race_result_payload):
    tables = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY)
    results = tables.results
    assert len(results) == 14

    chayan = by_horse(results, "Chayan")
    assert chayan["finish_position"] == 1
    assert chayan["saddlecloth"] == 2
    assert chayan["barrier"] == 7
    assert chayan["weight_kg"] == 56.5
    assert chayan["starting_price"] == pytest.approx(3.10)
    assert chayan["margin_lengths"] == 0.0  # racing.com sends 2.97L, the margin to second
    assert chayan["jockey_name"] == "J.B.McDonald"
    assert chayan["jockey_code"] == "775359"
    assert chayan["horse_code"] == "5369579"
    assert chayan["winning_time_s"] == pytest.approx(69.45)

    agrarian_girl = by_horse(results, "Agrarian Girl")
    assert agrarian_girl["finish_position"] == 2
    assert agrarian_girl["margin_lengths"] == pytest.approx(2.97)
    assert agrarian_girl["starting_price"] == pytest.approx(2.70)
    assert by_horse(results, "Miss Trump")["margin_lengths"] == pytest.approx(12.42)


def test_randwick_scratchings_are_non_runners_without_position_or_barrier(race_result_payload):
    results = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY).results
    scratched = results[results["scratched"]]
    assert len(scratched) == 5
    assert scratched["finish_position"].isna().all()
    assert scratched["barrier"].isna().all()  # racing.com sends barrierNumber 0
    assert (scratched["finish_code"] == 109).all()
    assert scratched["starting_price"].isna().all()
    assert results.loc[~results["scratched"], "finish_position"].tolist() == [2, 1, 3, 4, 6, 7, 8, 5, 9]


def test_randwick_meeting_context(race_result_payload):
    tables = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY)
    race = tables.races.iloc[0]
    assert race["race_code"] == "5449708"
    assert race["meet_code"] == "5193242"
    assert race["race_number"] == 3
    assert race["meeting_date"] == dt.date(2026, 3, 7)
    assert race["state"] == "NSW"
    assert race["venue"] == "Royal Randwick"
    assert race["venue_slug"] == "royal-randwick"
    assert race["race_class"] == "Group 2"
    assert race["winning_time_s"] == pytest.approx(69.45)
    assert pd.isna(race["start_time_utc"])  # the results document selects no time
    assert set(tables.results["meeting_date"]) == {dt.date(2026, 3, 7)}
    assert set(tables.results["venue_slug"]) == {"royal-randwick"}


def test_results_date_falls_back_to_the_entries_meet_url_without_context(race_result_payload):
    races = parse_response(race_result_payload).races
    assert races.loc[0, "meeting_date"] == dt.date(2026, 3, 7)  # race.meet.meetUrl ends /form/2026-03-07/...


def test_randwick_odds_one_row_per_runner_and_provider(race_result_payload):
    tables = parse_response(
        race_result_payload, variables=RANDWICK, context=RANDWICK_DAY, fetched_at=FETCHED_AT
    )
    odds = tables.odds
    assert len(odds) == 161
    assert not odds.duplicated(["entry_id", "provider_code"]).any()
    chayan_sb = odds[(odds["saddlecloth"] == 2) & (odds["provider_code"] == "SB2")].iloc[0]
    assert chayan_sb["win_price"] == pytest.approx(3.00)
    assert chayan_sb["place_price"] == pytest.approx(1.30)
    assert chayan_sb["is_market_mover"]
    assert chayan_sb["fetched_at"] == pd.Timestamp(FETCHED_AT)
    favourite = odds[odds["is_favourite"].fillna(False)]
    assert set(favourite["saddlecloth"]) == {1}  # Agrarian Girl
    assert odds.loc[odds["provider_code"] == "OP", "place_price"].isna().all()

    flucs = tables.odds_flucs
    keys = flucs[["meet_code", "meeting_date", "venue_slug", "race_code", "race_number"]].drop_duplicates()
    assert keys.values.tolist() == [["5193242", dt.date(2026, 3, 7), "royal-randwick", "5449708", 3]]
    assert (flucs["fetched_at"] == pd.Timestamp(FETCHED_AT)).all()  # stored per cell like the odds
    first = flucs[(flucs["saddlecloth"] == 2) & (flucs["provider_code"] == "SB2")].iloc[:2]
    assert first["update_time_utc"].tolist() == [
        pd.Timestamp(1772593225, unit="s", tz="UTC"),
        pd.Timestamp(1772593313, unit="s", tz="UTC"),
    ]
    assert first["win_price"].tolist() == [5.50, 4.60]
    assert (flucs["win_price"].isna() | flucs["win_price"].gt(1)).all()  # "$0.00" suspended -> null


def test_results_response_also_yields_the_field_as_it_ran(race_result_payload):
    runners = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY).runners
    assert len(runners) == 14
    assert by_horse(runners, "Chayan")["last_five"] == ["2", "7", "1"]
    assert runners["handicap_rating"].isna().all()  # the results document does not select it


# -- Flemington race list (races.json) ---------------------------------------------------------------------


def test_flemington_race_list(races_payload):
    tables = parse_response(races_payload, variables=FLEMINGTON)
    races = tables.races
    assert len(races) == 10
    assert races["race_number"].tolist() == [6, 3, 1, 5, 2, 7, 9, 4, 10, 8]  # racing.com does not sort
    assert sorted(races["race_number"]) == list(range(1, 11))

    r6 = races[races["race_number"] == 6].iloc[0]
    assert r6["race_code"] == "5435930"
    assert r6["distance_m"] == 1400
    assert r6["track_condition"] == "Good"
    assert r6["track_rating"] == 4
    assert r6["prize_money_total"] == 300000.0
    assert r6["prize_money"][:2] == [180000.0, 54000.0]
    assert r6["start_time_utc"] == pd.Timestamp("2026-03-07T04:05:00Z")
    assert r6["start_time_local"] == pd.Timestamp("2026-03-07 15:05")
    assert r6["timezone"] == "Australia/Melbourne"
    assert r6["meeting_date"] == dt.date(2026, 3, 7)
    assert r6["state"] == "VIC"
    assert r6["venue_slug"] == "flemington"
    assert r6["meet_code"] == "5193238"
    assert r6["winning_time_s"] == pytest.approx(82.77)
    assert r6["sectional_800_s"] == pytest.approx(36.17)
    assert not r6["is_trial"] and not r6["is_jumpout"]


def test_flemington_result_lines_have_null_runner_columns(races_payload):
    results = parse_response(races_payload, variables=FLEMINGTON).results
    assert len(results) == 107
    assert results["saddlecloth"].isna().all() and results["barrier"].isna().all()
    assert results["claim_kg"].isna().all()  # not selected: unknown, not 0
    r6 = results[results["race_number"] == 6]
    assert by_horse(r6, "Zambales")["finish_position"] == 2
    assert (r6["finish_position"] == 1).sum() == 1
    assert r6["scratched"].sum() == 2 and r6.loc[r6["scratched"], "finish_position"].isna().all()
    r9 = results[results["race_number"] == 9]
    assert (r9["finish_position"] == 11).sum() == 2  # a dead heat is data, not a duplicate
    assert parse_response(races_payload, variables=FLEMINGTON).runners.empty


# -- Rosehill Gardens R1 field (raceEntries.json) -----------------------------------------------------------


def test_rosehill_field(race_entries_payload):
    tables = parse_response(race_entries_payload, variables=ROSEHILL, context=ROSEHILL_DAY)
    runners = tables.runners
    assert len(runners) == 15
    assert tables.results.empty  # pre-race: no placings yet

    northern_eyes = by_horse(runners, "Northern Eyes")
    assert northern_eyes["saddlecloth"] == 1
    assert northern_eyes["barrier"] == 13
    assert northern_eyes["weight_kg"] == 60.0
    assert northern_eyes["claim_kg"] == 2.0
    assert northern_eyes["carried_weight_kg"] == 58.0
    assert northern_eyes["handicap_rating"] == 72
    assert northern_eyes["last_five"] == ["2", "9", "-", "0", "8"]
    assert northern_eyes["jockey_code"] == "20841213"
    assert by_horse(runners, "Agita")["claim_kg"] == 0.0  # apprenticeCanClaim false

    race = tables.races.iloc[0]
    assert race["track_rating"] is pd.NA  # trackRating "0" = unrated
    assert race["distance_m"] == 1500
    assert race["race_status"] == "FinalFields"
    assert race["class_name"] == "MIDWAY BM72"
    assert race["meet_code"] == "5193246" and race["race_number"] == 1
    assert race["venue_slug"] == "rosehill-gardens"
    assert len(tables.odds) == 60
    assert tables.odds_flucs["update_time_utc"].min() == pd.Timestamp("2026-03-18 04:30:55", tz="UTC")


def test_field_without_context_keeps_codes_from_the_entries_and_a_null_date(race_entries_payload):
    race = parse_response(race_entries_payload).races.iloc[0]
    assert race["meet_code"] == "5193246"  # from formRaceEntries[].meetCode
    assert race["race_number"] == 1  # from formRaceEntries[].raceNumber
    assert race["meeting_date"] is None


# -- contracts on the fixtures -----------------------------------------------------------------------------


def test_fixture_tables_honour_the_contracts(races_payload, race_entries_payload, race_result_payload):
    validate_all(parse_response(races_payload, variables=FLEMINGTON, fetched_at=FETCHED_AT))
    validate_all(parse_response(race_entries_payload, variables=ROSEHILL, context=ROSEHILL_DAY))
    validate_all(parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY))


def test_contracts_declare_the_parser_columns_and_dtypes(race_result_payload):
    tables = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY)
    for name, frame in tables.items():
        assert list(frame.columns) == list(TABLE_COLUMNS[name])
        declared = SCHEMAS[name].to_schema().columns
        assert set(declared) == set(frame.columns), name


def test_contract_rejects_an_impossible_weight_and_a_zero_barrier(race_entries_payload):
    runners = parse_response(race_entries_payload, variables=ROSEHILL, context=ROSEHILL_DAY).runners
    runners.loc[0, "weight_kg"] = 85.0
    runners.loc[1, "barrier"] = 0
    with pytest.raises(pandera.errors.SchemaErrors) as raised:
        RunnersSchema.validate(runners, lazy=True)
    assert set(raised.value.failure_cases["column"]) == {"weight_kg", "barrier"}


def test_contract_rejects_a_lone_response_without_its_meeting_date(race_entries_payload):
    with pytest.raises(pandera.errors.SchemaErrors):
        RunnersSchema.validate(parse_response(race_entries_payload).runners, lazy=True)


def test_empty_tables_have_the_declared_dtypes():
    tables = parse_response({"data": {"GetMeetingByDate": []}})
    assert tables.operation == MEETINGS_BY_DATE
    for name, frame in tables.items():
        assert frame.empty and list(frame.columns) == list(TABLE_COLUMNS[name])
        SCHEMAS[name].validate(frame)
    assert str(empty_table("races")["start_time_utc"].dtype) == "datetime64[ns, UTC]"
    assert str(empty_table("runners")["saddlecloth"].dtype) == "Int64"


# -- racing.com's traps --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scratched_first", [True, False])
def test_a_saddlecloth_listed_twice_keeps_the_runner_that_ran(race_result_payload, scratched_first):
    entries = race_result_payload["data"]["getRaceForm"]["formRaceEntries"]
    ran = next(e for e in entries if e["raceEntryNumber"] == 8)
    ghost = {
        **copy.deepcopy(ran),
        "id": "99999999",
        "horseName": "Scratched Emergency",
        "scratched": True,
        "finish": 109,
        "position": 109,
        "barrierNumber": 0,
        "startingPrice": None,
        "odds": [],
    }
    entries.insert(entries.index(ran) + (0 if scratched_first else 1), ghost)

    tables = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY)
    for frame in (tables.runners, tables.results):
        eight = frame[frame["saddlecloth"] == 8]
        assert eight["entry_id"].tolist() == ["15503197"]
        assert eight["horse_name"].tolist() == ["Naadra"]
        assert not eight["scratched"].any()
    validate_all(tables)


def test_two_runners_on_one_saddlecloth_are_both_kept_and_the_contract_refuses_them(race_result_payload):
    """The issue's case: the second horse on saddlecloth 8 finished 11th and used to be dropped silently."""
    entries = race_result_payload["data"]["getRaceForm"]["formRaceEntries"]
    ran = next(e for e in entries if e["raceEntryNumber"] == 8)
    entries.append({**copy.deepcopy(ran), "id": "99999998", "horseName": "Second On Eight", "finish": 11})

    tables = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY)
    for frame, schema in ((tables.runners, RunnersSchema), (tables.results, SCHEMAS["results"])):
        assert sorted(frame.loc[frame["saddlecloth"] == 8, "horse_name"]) == ["Naadra", "Second On Eight"]
        with pytest.raises(pandera.errors.SchemaErrors, match="two horses that ran on one saddlecloth"):
            schema.validate(frame, lazy=True)


def test_a_wrong_type_names_operation_race_field_path_and_rule(race_result_payload):
    race_result_payload["data"]["getRaceForm"]["formRaceEntries"][4]["barrierNumber"] = {"live": 4}
    with pytest.raises(ParseError) as raised:
        parse_response(race_result_payload)
    error = raised.value
    assert (error.operation, error.field, error.race) == (RACE_RESULTS, "barrierNumber", "5449708")
    assert str(error) == (
        "getRaceForm (getRaceResults_CD) race 5449708 (meetCode 5193242 R3), formRaceEntries[4]: "
        "field 'barrierNumber': value {'live': 4} is not an integer"
    )


def test_a_race_list_missing_a_field_keeps_the_race_with_a_null(races_payload):
    del races_payload["data"]["getNoCacheRacesForMeet"][2]["distance"]
    races = parse_response(races_payload, variables=FLEMINGTON).races
    assert len(races) == 10 and pd.isna(races.loc[2, "distance_m"])


def test_a_present_null_is_data_not_drift(race_entries_payload):
    entry = race_entries_payload["data"]["getRaceForm"]["formRaceEntries"][0]
    entry["weight"] = None  # before acceptances racing.com has no weights
    entry["barrierNumber"] = None
    runner = parse_response(race_entries_payload).runners.iloc[0]
    assert (
        pd.isna(runner["weight_kg"]) and pd.isna(runner["barrier"]) and pd.isna(runner["carried_weight_kg"])
    )


def test_an_unreadable_value_names_the_field_and_the_race(race_entries_payload):
    race_entries_payload["data"]["getRaceForm"]["formRaceEntries"][3]["weight"] = "fifty-eight"
    with pytest.raises(
        ParseError, match=r"race 5449752 .*formRaceEntries\[3\]: field 'weight'.*'56.5kg'"
    ) as raised:
        parse_response(race_entries_payload)
    assert raised.value.field == "weight" and raised.value.race == "5449752"


def test_unknown_venue_is_parsed_and_logged(race_result_payload, caplog):
    race_result_payload["data"]["getRaceForm"]["venue"] = {
        "venueName": "Ladbrokes Wattle Flat",
        "state": "WA",
    }
    with caplog.at_level(logging.WARNING, logger="racing_platform.source.parsers"):
        tables = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY)
    race = tables.races.iloc[0]
    assert race["venue"] == "Ladbrokes Wattle Flat"
    assert race["venue_slug"] == "wattle-flat"
    assert race["state"] == "WA"
    assert race["timezone"] == "Australia/Perth"
    assert len(tables.results) == 14  # never dropped
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Ladbrokes Wattle Flat" in warnings[0].getMessage()


def test_race_times_with_seven_digit_fractions(races_payload):
    races_payload["data"]["getNoCacheRacesForMeet"][0]["time"] = "2026-03-07T04:05:00.1234567Z"
    start = parse_response(races_payload).races.loc[0, "start_time_utc"]
    assert start == pd.Timestamp("2026-03-07T04:05:00.1234567Z")


# -- GetMeetingByDate, with and without nested races ---------------------------------------------------------


def meetings_payload(races_payload) -> dict:
    flemington_races = copy.deepcopy(races_payload["data"]["getNoCacheRacesForMeet"][:2])
    for race in flemington_races:
        del race["meet"], race["trackCode"]  # nested races inherit the meeting's venue
    return {"data": {"GetMeetingByDate": [
        {"id": "5193238", "venue": "Flemington", "date": "2026-03-07", "state": "VIC", "isTrial": 0,
         "isJumpOut": 0, "meetUrl": f"{FORM}/2026-03-07/flemington", "races": flemington_races},
        {"id": "5193300", "venue": "Sportsbet Sandown Hillside", "date": "2026-03-07", "state": "VIC",
         "isTrial": True, "isJumpOut": False, "meetUrl": f"{FORM}/2026-03-07/sandown-hillside"},
        {"id": "5193301", "venue": "Picklebet Park Wattle Flat", "date": "2026-03-07", "state": "WA",
         "isTrial": 0, "isJumpOut": 1, "meetUrl": f"{FORM}/2026-03-07/wattle-flat"},
        {"id": "5193238", "venue": "Flemington", "date": "2026-03-07", "state": "VIC", "isTrial": 0,
         "isJumpOut": 0, "meetUrl": f"{FORM}/2026-03-07/flemington"},
    ]}}  # fmt: skip


def test_meetings_by_date(races_payload, caplog):
    with caplog.at_level(logging.WARNING, logger="racing_platform.source.parsers"):
        tables = parse_response(meetings_payload(races_payload), fetched_at=FETCHED_AT)
    meetings = tables.meetings.set_index("meet_code")
    assert list(meetings.index) == ["5193238", "5193300", "5193301"]  # VIC folded in twice: once
    assert meetings.loc["5193300", "venue"] == "Sandown Hillside"
    assert meetings.loc["5193300", "venue_slug"] == "sandown-hillside"  # sponsor stripped
    assert meetings.loc["5193301", "venue_slug"] == "wattle-flat"  # unknown venue, sponsor stripped too
    assert meetings.loc["5193301", "timezone"] == "Australia/Perth"
    assert meetings["is_trial"].tolist() == [False, True, False]
    assert meetings["is_jumpout"].tolist() == [False, False, True]
    assert set(meetings["meeting_date"]) == {dt.date(2026, 3, 7)}
    assert any("Wattle Flat" in r.getMessage() for r in caplog.records)
    validate_all(tables)


def test_meetings_by_date_with_nested_races_emit_races_and_results(races_payload):
    tables = parse_response(meetings_payload(races_payload))
    races = tables.races
    assert races["race_code"].tolist() == ["5435930", "5435931"]
    assert set(races["meet_code"]) == {"5193238"} and set(races["venue_slug"]) == {"flemington"}
    assert races.loc[0, "start_time_local"] == pd.Timestamp("2026-03-07 15:05")
    assert set(tables.results["meet_code"]) == {"5193238"}
    assert len(tables.results) == 22
    validate_all(tables)


def test_a_listing_from_another_document_parses(races_payload):
    """BetMate's `RacingEngineMeetingsByDate` selects no state: the registry knows the venue's."""
    payload = meetings_payload(races_payload)
    del payload["data"]["GetMeetingByDate"][1]["state"]
    meeting = parse_response(payload).meetings.set_index("meet_code").loc["5193300"]
    assert (meeting["state"], meeting["timezone"]) == ("VIC", "Australia/Melbourne")


@pytest.mark.parametrize("null_flag", [None, ""])
def test_null_trial_and_jumpout_flags_mean_an_ordinary_meeting(races_payload, null_flag):
    """racing.com's own meeting filter keeps `!isTrial && !isJumpOut`: null is not a trial."""
    payload = meetings_payload(races_payload)
    for meeting in payload["data"]["GetMeetingByDate"]:
        meeting["isTrial"] = meeting["isJumpOut"] = null_flag
    tables = parse_response(payload)
    assert tables.meetings["is_trial"].tolist() == [False] * 3
    assert tables.meetings["is_jumpout"].notna().all() and not tables.races["is_trial"].any()
    validate_all(tables)


# -- getRacesForMeet with the full field nested --------------------------------------------------------------


def selected_fields(document: str, field: str) -> set[str]:
    """Names the client's `document` selects inside `field` (first occurrence, depth first)."""
    stack = [load_operation(document).definition.selection_set]
    while stack:
        for selection in stack.pop().selections:
            if selection.name.value == field:
                return {s.name.value for s in selection.selection_set.selections}
            if selection.selection_set is not None:
                stack.append(selection.selection_set)
    raise KeyError(field)


def races_for_meet_payload(race_result_payload) -> dict:
    """The §2.2(b) `Races` shape: track on the meet, runners with odds but no apprentice fields or flucs."""
    result = race_result_payload["data"]["getRaceForm"]
    selected = "trainerName jockeyName trainerCode jockeyCode margin winningTime startingPrice odds"
    keep = selected_fields("Races", "formRaceEntries") | set(selected.split())
    entries = [{k: v for k, v in e.items() if k in keep} for e in result["formRaceEntries"]]
    for entry in entries:
        entry["odds"] = [{k: o[k] for k in ("providerCode", "oddsWin", "oddsPlace")} for o in entry["odds"]]
    race = {"id": result["id"], "raceNumber": 3, "raceStatus": "Paying", "distance": "1200m",
            "time": "2026-03-07T03:50:00.0000000Z", "name": "Sweet Embrace Stakes", "rdcClass": "Group 2",
            "class": "G2", "group": "Group 2", "condition": None, "prizeMoney": None, "raceTime": "1:09.45",
            "meet": {"trackCondition": "Soft", "trackRating": "5", "weather": "Fine", "state": "NSW"},
            "formRaceEntries": entries}  # fmt: skip
    return {"data": {"getRacesForMeet": [race]}}


def test_races_for_meet_with_full_field(race_result_payload):
    payload = races_for_meet_payload(race_result_payload)
    tables = parse_response(
        payload, variables={"meetCode": "5193242"}, context={"venue": "Royal Randwick", "state": "NSW"}
    )
    assert tables.operation == RACES_FOR_MEET
    race = tables.races.iloc[0]
    assert (race["track_condition"], race["track_rating"]) == ("Soft", 5)  # from the meet object
    assert race["start_time_local"] == pd.Timestamp("2026-03-07 14:50")  # AEDT
    assert race["meeting_date"] == dt.date(2026, 3, 7)
    assert race["venue_slug"] == "royal-randwick"
    assert len(tables.runners) == 14 and tables.runners["claim_kg"].isna().all()
    chayan = by_horse(tables.results, "Chayan")
    assert (chayan["finish_position"], chayan["margin_lengths"], chayan["starting_price"]) == (1, 0.0, 3.10)
    assert len(tables.odds) == 161 and tables.odds_flucs.empty
    validate_all(tables)


# -- the simulator, over real HTTP, with the client's own query documents ------------------------------------


@pytest.mark.parametrize(
    "now", ["2026-03-06T23:00:00Z", "2026-03-07T06:00:00Z"]
)  # race morning; after racing
def test_every_client_document_against_the_simulator_parses_and_honours_the_contracts(now):
    # The simulator's hand-built test world; imported here so a change there fails this test, not the module.
    from racing_platform_tests.worlds import MEET, RACE_DAY, build_world

    documents = {
        path.stem: path.read_text() for path in (REPO_ROOT / "racing_platform/source/queries").iterdir()
    }
    calls = [
        ("GetMeetingByDate_CD", {"date": RACE_DAY.isoformat()}),
        ("GetMeetingByDateWithRaces_CD", {"date": RACE_DAY.isoformat()}),
        ("getRaceNumberList_CD", {"meetCode": MEET}),
        ("Races", {"meetCode": MEET}),
        ("getRaceEntriesForField_CD", {"meetCode": MEET, "raceNumber": 1}),
        ("getRaceResults_CD", {"meetCode": MEET, "raceNumber": 1}),
    ]
    with running_simulator(build_world(), now=now) as sim:

        def fetch(document: str, variables: dict) -> dict:
            response = requests.post(
                sim.url, json={"query": documents[document], "variables": variables}, timeout=10
            )
            response.raise_for_status()
            return response.json()

        meeting = (
            parse_response(fetch(*calls[0]), variables=calls[0][1]).meetings.set_index("meet_code").loc[MEET]
        )
        context = {
            "meeting_date": meeting["meeting_date"],
            "venue": meeting["venue"],
            "state": meeting["state"],
        }
        for document, variables in calls:
            tables = parse_response(
                fetch(document, variables),
                operation=document,
                variables=variables,
                context=context,
                fetched_at=now,
            )
            validate_all(tables)
            assert len(tables.races) or len(tables.meetings), document
            if "raceNumber" in variables:
                assert set(tables.runners["race_number"]) == {1} and len(tables.runners) > 0, document


# -- nulls, zeros, names and sizes as racing.com sends them ------------------------------------------------


def test_a_country_race_list_with_zero_sectionals_stores_nulls_and_passes(races_payload):
    """Moe's race list carries 0 for sectionals it does not have; 0.0 used to fail `gt=0`."""
    for race in races_payload["data"]["getNoCacheRacesForMeet"]:
        race["toEightHundredMetresSeconds"] = 0
        race["eightHundredToFourHundredMetresSeconds"] = "0"
        race["fourHundredToFinishMetresSeconds"] = 0
        race["raceTime"] = "0:00.00"
        for entry in race["formRaceEntries"]:
            entry["winningTime"] = "0"
    tables = parse_response(races_payload, variables=FLEMINGTON)
    sectionals = ["sectional_800_s", "sectional_800_400_s", "sectional_400_finish_s", "winning_time_s"]
    assert tables.races[sectionals].isna().all().all()
    assert tables.results["winning_time_s"].isna().all()
    validate_all(tables)


def test_names_are_stored_without_control_characters_and_line_separators(race_entries_payload):
    race = race_entries_payload["data"]["getRaceForm"]
    entry = race["formRaceEntries"][0]
    entry["horseName"] = "Northern\nEyes\u2028"
    entry["jockeyName"] = "\tA.Roper\x00"
    entry["trainerName"] = "K.\u200bWaugh\u2029\r\n"
    race["venue"]["venueName"] = "Rosehill\tGardens"
    race["nameForm"] = "MIDWAY\n\nBM72"
    tables = parse_response(race_entries_payload, variables=ROSEHILL, context=ROSEHILL_DAY)
    runner = tables.runners.iloc[0]
    assert (runner["horse_name"], runner["jockey_name"], runner["trainer_name"]) == (
        "Northern Eyes", "A.Roper", "K.Waugh"
    )  # fmt: skip
    assert tables.races.loc[0, "name_form"] == "MIDWAY BM72"
    assert tables.races.loc[0, "venue_slug"] == "rosehill-gardens"
    validate_all(tables)


@pytest.mark.parametrize(
    ("where", "field", "limit"),
    [
        ("entries", "formRaceEntries", MAX_ENTRIES_PER_RACE),
        ("races", "getNoCacheRacesForMeet", MAX_RACES_PER_MEETING),
    ],
)
def test_an_answer_above_the_documented_size_is_refused_before_per_row_work(
    races_payload, where, field, limit
):
    races = races_payload["data"]["getNoCacheRacesForMeet"]
    if where == "entries":
        races[0]["formRaceEntries"] = [races[0]["formRaceEntries"][0]] * 20_000
    else:
        races[:] = [races[0]] * 20_000
    started = time.perf_counter()
    with pytest.raises(ParseError, match=rf"field '{field}': 20000 items, more than the {limit} .*refused"):
        parse_response(races_payload, variables=FLEMINGTON)
    assert time.perf_counter() - started < 0.5


def big_field(race_result_payload: dict, runners: int) -> dict:
    """The Randwick result with `runners` entries (each with its 13 providers' prices and moves)."""
    payload = copy.deepcopy(race_result_payload)
    race = payload["data"]["getRaceForm"]
    entries = race["formRaceEntries"]
    race["formRaceEntries"] = [
        {**entries[i % len(entries)], "id": str(10**8 + i), "raceEntryNumber": i + 1} for i in range(runners)
    ]
    return payload


def test_parsing_time_grows_linearly_with_the_runners(race_result_payload, monkeypatch):
    """A 20,000-runner race took 97 s. Measured within this test, so the ratio holds on any machine."""
    monkeypatch.setattr(parsers, "MAX_ENTRIES_PER_RACE", 10_000)  # the size guard would refuse both

    payloads = {runners: big_field(race_result_payload, runners) for runners in (500, 2_000)}
    best = dict.fromkeys(payloads, float("inf"))
    for _ in range(3):  # interleaved, best of three: other processes slow both sizes alike
        for runners, payload in payloads.items():
            gc.collect()
            started = time.perf_counter()
            parse_response(payload, variables=RANDWICK, context=RANDWICK_DAY)
            best[runners] = min(best[runners], time.perf_counter() - started)
    assert best[2_000] / best[500] < 6, f"seconds by runners {best}: not linear"


# -- each value from where racing.com sends it; errors name the race -----------------------------------


def test_a_race_without_a_track_condition_keeps_its_own_track_rating(races_payload):
    """Condition and rating are each the race's, else its meeting's: a race sending trackCondition null
    used to take both from `meet`, which in M, L and F carries no rating, losing the race's "4"."""
    race = races_payload["data"]["getNoCacheRacesForMeet"][0]
    race["trackCondition"] = None
    race["meet"]["trackCondition"] = "Soft"
    stored = parse_response(races_payload, variables=FLEMINGTON).races.iloc[0]
    assert (stored["track_condition"], stored["track_rating"]) == ("Soft", 4)

    race["trackRating"], race["meet"]["trackRating"] = None, "6"
    stored = parse_response(races_payload, variables=FLEMINGTON).races.iloc[0]
    assert (stored["track_condition"], stored["track_rating"]) == ("Soft", 6)


@pytest.mark.parametrize(
    ("sent_state", "state", "timezone", "local_start"),
    [
        (None, "VIC", "Australia/Melbourne", "2026-03-07 15:05"),
        ("vic", "VIC", "Australia/Melbourne", "2026-03-07 15:05"),
        ("NSW", "NSW", "Australia/Sydney", "2026-03-07 15:05"),
        ("QLD", "QLD", "Australia/Brisbane", "2026-03-07 14:05"),  # no daylight saving: the clock shows it
    ],
)
def test_a_known_venue_takes_the_answers_state_and_that_states_time_zone(
    races_payload, caplog, sent_state, state, timezone, local_start
):
    """The registry is compiled by hand: Flemington sent with state NSW was stored NSW on Melbourne's zone."""
    for race in races_payload["data"]["getNoCacheRacesForMeet"]:
        race["meet"]["state"] = sent_state
    with caplog.at_level(logging.WARNING, logger="racing_platform.source.parsers"):
        races = parse_response(races_payload, variables=FLEMINGTON).races
    assert set(races["venue_slug"]) == {"flemington"}
    assert set(races["state"]) == {state} and set(races["timezone"]) == {timezone}
    assert races.loc[0, "start_time_local"] == pd.Timestamp(local_start)  # 04:05 UTC
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if state == "VIC":
        assert warnings == []
    else:  # once per answer, not once per race
        assert (
            len(warnings) == 1 and "Flemington" in warnings[0] and f"the answer says {state}" in warnings[0]
        )


def test_a_zero_total_prize_money_is_not_measured_and_the_places_sum_is_stored(races_payload):
    """totalPrizeMoney 0 is racing.com's "not measured"; it used to override the 300,000 of the places."""
    race = races_payload["data"]["getNoCacheRacesForMeet"][0]
    race["totalPrizeMoney"] = "0"
    assert parse_response(races_payload, variables=FLEMINGTON).races.loc[0, "prize_money_total"] == 300000.0
    race["prizeMoney"] = []  # no places either: a race for nothing (a trial)
    assert parse_response(races_payload, variables=FLEMINGTON).races.loc[0, "prize_money_total"] == 0.0


@pytest.mark.parametrize("answer_names_the_race", [True, False], ids=["race_id", "no_race_id"])
@pytest.mark.parametrize("defect", ["oversized", "not_an_object"])
def test_an_unreadable_entry_list_names_the_race(race_result_payload, defect, answer_names_the_race):
    """Errors reading formRaceEntries used to come before the race was known (race None)."""
    race = race_result_payload["data"]["getRaceForm"]
    if defect == "oversized":
        race["formRaceEntries"] = race["formRaceEntries"] * 10  # 140 > MAX_ENTRIES_PER_RACE
    else:
        race["formRaceEntries"][2] = "not an entry"
    if not answer_names_the_race:
        del race["id"]
    with pytest.raises(ParseError, match=r"\(meetCode 5193242 R3\), getRaceForm") as raised:
        parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY)
    if answer_names_the_race:
        assert raised.value.race == "5449708" and "race 5449708 " in str(raised.value)
    else:
        assert raised.value.race == "meetCode 5193242 R3"


def test_a_runner_that_ran_without_a_barrier_is_refused_naming_barrier(race_result_payload):
    """racing.com sends barrierNumber 0 for scratchings and before the draw, both stored null; a placed
    runner with no barrier is a bad answer, not a scratching."""
    entries = race_result_payload["data"]["getRaceForm"]["formRaceEntries"]
    next(entry for entry in entries if entry["horseName"] == "Chayan")["barrierNumber"] = 0
    results = parse_response(race_result_payload, variables=RANDWICK, context=RANDWICK_DAY).results
    assert pd.isna(by_horse(results, "Chayan")["barrier"])
    with pytest.raises(pandera.errors.SchemaErrors) as raised:
        ResultsSchema.validate(results, lazy=True)
    cases = raised.value.failure_cases
    assert set(cases["index"]) == {by_horse(results, "Chayan").name}
    assert cases["check"].str.contains("has a barrier").all()


def test_handicap_rating_zero_is_unrated_and_the_contract_bound_says_so(race_entries_payload):
    race_entries_payload["data"]["getRaceForm"]["formRaceEntries"][0]["handicapRating"] = 0
    runners = parse_response(race_entries_payload, variables=ROSEHILL, context=ROSEHILL_DAY).runners
    assert pd.isna(runners.loc[0, "handicap_rating"])
    RunnersSchema.validate(runners)
    runners.loc[0, "handicap_rating"] = 0
    with pytest.raises(pandera.errors.SchemaError, match="handicap_rating"):
        RunnersSchema.validate(runners)
