"""The response archive: content-addressed, append-only, re-readable without the network."""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle
import sqlite3
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from racing_platform.source.archive import ResponseArchive, content_sha256, iter_archive
from racing_platform.source.parsers import parse_response
from racing_platform_tests.source.fixtures_client import (  # noqa: F401 - fixtures register by import
    FIXTURES_DIR,
    make_client_fixture,
    sim_fixture,
    simulator_module_fixture,
)

T0 = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)
VARIABLES = {"meetCode": "5193242"}


@pytest.fixture
def races_body():
    return json.loads((FIXTURES_DIR / "races.json").read_text())


def test_sha256_is_of_the_canonical_json_of_operation_variables_and_body():
    body = {"data": {"b": 1, "a": [1, 2]}}
    expected = hashlib.sha256(
        b'{"body":{"data":{"a":[1,2],"b":1}},"operation":"op","variables":{"x":"1"}}'
    ).hexdigest()

    assert content_sha256("op", {"x": "1"}, body) == expected
    assert content_sha256("op", {"x": "1"}, {"data": {"a": [1, 2], "b": 1}}) == expected
    assert content_sha256("op", {"x": "2"}, body) != expected


def test_refetching_unchanged_content_only_moves_last_fetched_at(tmp_path, races_body):
    archive = ResponseArchive(tmp_path / "a.sqlite")
    first = archive.record("getRaceNumberList_CD", VARIABLES, races_body, fetched_at=T0)
    again = archive.record("getRaceNumberList_CD", VARIABLES, races_body, fetched_at=T0 + timedelta(hours=2))

    assert again == first and len(archive) == 1
    record = archive.get(first)
    assert (record.first_fetched_at, record.last_fetched_at, record.fetch_count) == (
        T0,
        T0 + timedelta(hours=2),
        2,
    )
    assert record.body == races_body


def test_changed_content_is_a_new_record_and_the_old_one_is_kept(tmp_path, races_body):
    archive = ResponseArchive(tmp_path / "a.sqlite")
    old = archive.record("getRaceNumberList_CD", VARIABLES, races_body, fetched_at=T0)
    changed = json.loads(json.dumps(races_body))
    changed["data"]["getNoCacheRacesForMeet"][0]["raceStatus"] = "Abandoned"
    new = archive.record("getRaceNumberList_CD", VARIABLES, changed, fetched_at=T0 + timedelta(minutes=5))

    assert new != old
    assert [r.sha256 for r in archive.iter_records()] == [old, new]
    assert archive.get(old).body == races_body


def test_one_serialisation_gives_the_old_hash_the_stored_blob_and_the_raw_text(tmp_path):
    """The hash must stay what earlier archives hold: sha256 of the whole document serialised at once."""
    body = {"data": {"zé": ["ü\u2028", 1.5, None, True], "a": {"quote": '"\\', "n": 3}}}
    variables = {"raceNumber": 2, "meetCode": "ß1"}
    archive = ResponseArchive(tmp_path / "a.sqlite")

    first = archive.record_answer("op", variables, body, fetched_at=T0)
    again = archive.record_answer("op", variables, body, fetched_at=T0 + timedelta(hours=1))

    document = {"operation": "op", "variables": variables, "body": body}
    old_text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.sha256 == again.sha256 == hashlib.sha256(old_text.encode("utf-8")).hexdigest()
    assert first.body_text == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with sqlite3.connect(archive.path) as db:
        [(blob, count)] = db.execute("SELECT body, fetch_count FROM responses").fetchall()
    assert gzip.decompress(blob).decode("utf-8") == first.body_text and count == 2
    assert (first.first_fetched_at, first.last_fetched_at) == (T0, T0)
    assert (again.first_fetched_at, again.last_fetched_at) == (T0, T0 + timedelta(hours=1))


def test_a_pickled_archive_writes_through_its_own_connection(tmp_path):
    archive = ResponseArchive(tmp_path / "a.sqlite")
    archive.record("op", {}, {"data": {"x": 1}}, fetched_at=T0)
    copy = pickle.loads(pickle.dumps(archive))
    copy.record("op", {}, {"data": {"x": 2}}, fetched_at=T0)
    assert len(archive) == len(copy) == 2


def test_bodies_cannot_be_rewritten_or_deleted(tmp_path):
    archive = ResponseArchive(tmp_path / "a.sqlite")
    sha = archive.record("op", {}, {"data": {"x": 1}}, fetched_at=T0)

    with sqlite3.connect(archive.path) as db:
        with pytest.raises(sqlite3.DatabaseError, match="immutable"):
            db.execute("UPDATE responses SET body = x'00' WHERE sha256 = ?", (sha,))
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM responses")
    assert archive.get(sha).body == {"data": {"x": 1}}


def test_iteration_filters_by_operation_and_outcome(tmp_path):
    path = tmp_path / "a.sqlite"
    archive = ResponseArchive(path)
    archive.record("A", {}, {"data": {"a": 1}}, fetched_at=T0)
    archive.record("B", {}, {"data": {"b": 1}}, fetched_at=T0 + timedelta(seconds=1))
    archive.record(
        "A",
        {},
        {"errors": [{"message": "boom"}]},
        fetched_at=T0 + timedelta(seconds=2),
        outcome="graphql_error",
    )

    assert [r.operation for r in iter_archive(path)] == ["A", "B"]
    assert [r.body for r in iter_archive(path, operation="A")] == [{"data": {"a": 1}}]
    assert [r.outcome for r in iter_archive(path, outcome=None)] == ["ok", "ok", "graphql_error"]


def test_reading_an_archive_that_does_not_exist_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="no response archive at .*missing.sqlite"):
        list(iter_archive(tmp_path / "missing.sqlite"))
    assert not (tmp_path / "missing.sqlite").exists()


def test_naive_timestamps_are_refused(tmp_path):
    with pytest.raises(ValueError, match="timezone-aware"):
        ResponseArchive(tmp_path / "a.sqlite").record("op", {}, {}, fetched_at=datetime(2026, 3, 7))


def test_parsers_rerun_from_the_archive_alone_give_the_live_tables(sim, make_client):
    client = make_client()
    meeting = sim.meeting
    live = [
        client.meetings_by_date(meeting.date),
        client.meetings_by_date(meeting.date, with_races=True),
        client.races_for_meet(meeting.meet_code),
        client.races_for_meet(meeting.meet_code, full_field=True),
        *(client.race_field(meeting.meet_code, n) for n in meeting.race_numbers),
        *(client.race_results(meeting.meet_code, n) for n in meeting.race_numbers),
    ]
    refetched = client.meetings_by_date(meeting.date)

    records = {record.sha256: record for record in iter_archive(client.config.archive_path)}
    assert set(records) == {fetched.sha256 for fetched in live}
    assert refetched.sha256 == live[0].sha256 and records[refetched.sha256].fetch_count == 2
    runners = 0
    for fetched in live:
        record = records[fetched.sha256]
        assert (record.operation, record.variables) == (fetched.operation, fetched.variables)
        from_live = parse_response(
            fetched.payload,
            operation=fetched.operation,
            variables=fetched.variables,
            fetched_at=fetched.fetched_at,
        )
        from_archive = parse_response(
            record.body,
            operation=record.operation,
            variables=record.variables,
            fetched_at=record.first_fetched_at,
        )
        for name, frame in from_live.items():
            pd.testing.assert_frame_equal(
                getattr(from_archive, name), frame, obj=f"{fetched.operation}.{name}"
            )
        runners += len(from_live.runners)
    assert runners > 0, "the comparison covered real runner rows"
