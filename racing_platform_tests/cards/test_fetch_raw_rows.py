"""fetch_cell's raw rows carry the archive's own body text and fetch times, not a second serialisation."""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3

from racing_platform.cards.fetch import fetch_cell
from racing_platform.partitions import Cell
from racing_platform.source.archive import iter_archive
from racing_platform.source.parsers import parse_response
from racing_platform_tests.source.fixtures_client import (  # noqa: F401 - fixtures register by import
    make_client_fixture,
    sim_fixture,
    simulator_module_fixture,
)


def test_raw_rows_hold_the_archived_text_under_the_hash_of_that_text(sim, make_client):
    client = make_client()
    day = client.meetings_by_date(sim.meeting.date)
    meetings = parse_response(day.payload, operation=day.operation, variables=day.variables).meetings
    meeting = meetings[meetings["meet_code"] == sim.meeting.meet_code]
    cell = Cell(meeting["meeting_date"].iloc[0], meeting["venue_slug"].iloc[0])

    first = fetch_cell(client, cell, meeting).raw
    again = fetch_cell(client, cell, meeting).raw

    records = {r.sha256: r for r in iter_archive(client.config.archive_path)}
    with sqlite3.connect(client.config.archive_path) as db:
        blobs = dict(db.execute("SELECT sha256, body FROM responses"))
    for row in again.itertuples(index=False):
        document = f'{{"body":{row.body},"operation":"{row.operation}","variables":{row.variables}}}'
        assert hashlib.sha256(document.encode("utf-8")).hexdigest() == row.sha256
        assert gzip.decompress(blobs[row.sha256]).decode("utf-8") == row.body
        assert json.loads(row.body) == records[row.sha256].body
        assert row.last_fetched_at == records[row.sha256].last_fetched_at
    assert list(again["sha256"]) == list(first["sha256"])
    assert list(again["first_fetched_at"]) == list(first["first_fetched_at"])
    assert (again["last_fetched_at"] > first["last_fetched_at"]).all()
