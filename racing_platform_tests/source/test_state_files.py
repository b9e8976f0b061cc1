"""The client's SQLite state files are opened by many processes at once (concurrent runs, the CLI)."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

from racing_platform.source.archive import ResponseArchive

OPENERS = 6


def _open_together(path: str, barrier) -> None:
    barrier.wait(timeout=60)
    ResponseArchive(path).record(
        "GetMeetingByDate_CD", {"date": "2026-03-07"}, {"data": {}}, fetched_at=datetime.now(UTC)
    )


def test_processes_opening_a_new_state_file_at_once_all_get_it(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(OPENERS)
    path = str(tmp_path / "archive.sqlite")
    workers = [context.Process(target=_open_together, args=(path, barrier)) for _ in range(OPENERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * OPENERS
    archive = ResponseArchive(path)
    assert len(archive) == 1  # one content, fetched six times
    (record,) = archive.iter_records()
    assert record.fetch_count == OPENERS
