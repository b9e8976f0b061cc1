from __future__ import annotations

import json
import math
import re

import pytest
from click.testing import CliRunner

from racing_platform.source.cli import parse
from racing_platform.source.parsers import TABLES

from .conftest import RACING_COM_FIXTURES, load_fixture

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
WALL_CLOCK = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
CODE_COLUMNS = {
    "meet_code",
    "race_code",
    "entry_id",
    "horse_code",
    "jockey_code",
    "trainer_code",
    "venue_code",
}


def run_parse(*args: str) -> list[dict]:
    result = CliRunner().invoke(parse, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]  # every line is one JSON object
    for row in rows:
        assert row["table"] in TABLES
        for value in row.values():
            assert not (isinstance(value, float) and math.isnan(value))
    return rows


def check_formats(rows: list[dict]) -> None:
    for row in rows:
        for column in ("meeting_date",):
            if row.get(column) is not None:
                assert DATE.match(row[column]), row[column]
        for column in ("start_time_utc", "fetched_at", "update_time_utc"):
            if row.get(column) is not None:
                assert UTC_TIME.match(row[column]), row[column]
        if row.get("start_time_local") is not None:
            assert WALL_CLOCK.match(row["start_time_local"])
        for column in CODE_COLUMNS & row.keys():
            assert row[column] is None or isinstance(row[column], str)
        for column in ("scratched", "is_trial", "is_jumpout"):
            if column in row:
                assert row[column] in (True, False, None)


@pytest.mark.parametrize("fixture", ["races.json", "raceEntries.json", "raceResult.json"])
def test_every_fixture_prints_valid_json_lines(fixture):
    rows = run_parse(RACING_COM_FIXTURES / fixture)
    assert rows
    check_formats(rows)


def test_race_list_rows_carry_the_documented_formats():
    rows = run_parse(RACING_COM_FIXTURES / "races.json", "--var", "meetCode=5193238", "--table", "races")
    assert {row["table"] for row in rows} == {"races"}
    r6 = next(row for row in rows if row["race_number"] == 6)
    assert r6["start_time_utc"] == "2026-03-07T04:05:00Z"
    assert r6["start_time_local"] == "2026-03-07T15:05:00"
    assert r6["meeting_date"] == "2026-03-07"
    assert r6["meet_code"] == "5193238"
    assert r6["distance_m"] == 1400 and isinstance(r6["distance_m"], int)
    assert r6["track_rating"] == 4
    assert r6["prize_money_total"] == 300000.0
    assert r6["prize_money"][0] == 180000.0
    assert r6["class_name"] is None


def test_results_rows_with_context_from_vars():
    rows = run_parse(
        RACING_COM_FIXTURES / "raceResult.json",
        "--operation", "getRaceResults_CD",
        "--var", "date=2026-03-07",
        "--table", "results",
    )  # fmt: skip
    assert len(rows) == 14
    chayan = next(row for row in rows if row["horse_name"] == "Chayan")
    assert chayan["finish_position"] == 1
    assert chayan["starting_price"] == 3.1
    assert chayan["margin_lengths"] == 0.0
    assert chayan["scratched"] is False
    scratched = [row for row in rows if row["scratched"]]
    assert len(scratched) == 5
    assert all(row["finish_position"] is None and row["barrier"] is None for row in scratched)


def test_envelope_less_copy_prints_the_same_rows(tmp_path):
    bare = tmp_path / "raceEntries-bare.json"
    bare.write_text(json.dumps(load_fixture("raceEntries.json")["data"]), encoding="utf-8")
    assert run_parse(bare) == run_parse(RACING_COM_FIXTURES / "raceEntries.json")
    runner = next(row for row in run_parse(bare, "--table", "runners") if row["saddlecloth"] == 1)
    assert (runner["horse_name"], runner["barrier"], runner["weight_kg"], runner["claim_kg"]) == (
        "Northern Eyes", 13, 60.0, 2.0
    )  # fmt: skip
    assert runner["last_five"] == ["2", "9", "-", "0", "8"]


def test_bad_input_fails_with_a_clear_message(tmp_path):
    not_json = tmp_path / "broken.json"
    not_json.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(parse, [str(not_json)])
    assert result.exit_code != 0 and "not a readable JSON response" in result.output

    mistyped = load_fixture("raceResult.json")
    mistyped["data"]["getRaceForm"]["formRaceEntries"][4]["barrierNumber"] = "seven"
    mistyped_file = tmp_path / "mistyped.json"
    mistyped_file.write_text(json.dumps(mistyped), encoding="utf-8")
    result = CliRunner().invoke(parse, [str(mistyped_file)])
    assert result.exit_code != 0
    assert (
        "race 5449708 (meetCode 5193242 R3), formRaceEntries[4]: field 'barrierNumber': "
        "value 'seven' is not an integer" in result.output
    )

    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = CliRunner().invoke(parse, [str(nested)])
    assert result.exit_code != 0 and "not a readable JSON response" in result.output

    result = CliRunner().invoke(parse, [str(RACING_COM_FIXTURES / "races.json"), "--var", "meetCode"])
    assert result.exit_code != 0 and "KEY=VALUE" in result.output


@pytest.mark.parametrize(
    ("fixture", "document"),
    [
        ("races.json", "getRaceNumberList_CD"),
        ("raceEntries.json", "getRaceEntriesForField_CD"),
        ("raceResult.json", "getRaceResults_CD"),
    ],
)
def test_a_recorded_answer_parses_without_the_fields_its_document_asks_for(tmp_path, fixture, document):
    """A body recorded with an older or other document lacks fields the current document selects (the
    recorded field card lacks `tempo`, ...): the file parses, the absent fields are null."""
    assert run_parse(RACING_COM_FIXTURES / fixture, "--operation", document)
    payload = load_fixture(fixture)
    stripped = {"distance", "trackRating", "weight", "startingPrice", "jockeyName", "horse", "odds"}
    _drop_keys(payload, stripped)
    copy = tmp_path / f"stripped-{fixture}"
    copy.write_text(json.dumps(payload), encoding="utf-8")
    rows = run_parse(copy, "--operation", document)
    assert rows and {row["table"] for row in rows} >= {"races"}
    for row in rows:
        for column in ("distance_m", "track_rating", "weight_kg", "starting_price", "jockey_name"):
            assert row.get(column) is None, (row["table"], column)
        assert row["table"] not in ("odds", "odds_flucs")


def test_a_listing_from_another_meetings_document_parses(tmp_path):
    """BetMate's `RacingEngineMeetingsByDate` selects `id venue date state isTrial isJumpOut meetUrl`;
    a listing whose flags came back null is an ordinary meeting."""
    listing = {"data": {"GetMeetingByDate": [
        {"id": "5195500", "venue": "Picklebet Park Wodonga", "date": "2026-09-01", "state": "VIC",
         "isTrial": None, "isJumpOut": None, "meetUrl": None},
    ]}}  # fmt: skip
    listing_file = tmp_path / "listing.json"
    listing_file.write_text(json.dumps(listing), encoding="utf-8")
    (meeting,) = run_parse(listing_file, "--operation", "GetMeetingByDate_CD")
    assert (meeting["meet_code"], meeting["meeting_date"], meeting["is_trial"], meeting["is_jumpout"]) == (
        "5195500", "2026-09-01", False, False
    )  # fmt: skip


def _drop_keys(node, keys: set[str]) -> None:
    if isinstance(node, dict):
        for key in keys & node.keys():
            del node[key]
        for value in node.values():
            _drop_keys(value, keys)
    elif isinstance(node, list):
        for value in node:
            _drop_keys(value, keys)
