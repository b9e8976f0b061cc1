"""A DuckDB lock held by another real process: a reader fails the writer at once, a writer is waited for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
import pytest

from racing_platform.lib.failures import is_transient
from racing_platform.model.assets import win_model
from racing_platform.warehouse import resource
from racing_platform.warehouse.resource import (
    LockHolder,
    Warehouse,
    WarehouseBusyError,
    WarehouseHeldByReaderError,
    lock_holder,
)

_HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    conn = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read-only")
    print("holding", flush=True)
    time.sleep(float(sys.argv[3]))
    conn.close()
    """
)


@contextmanager
def holding(warehouse: Warehouse, mode: str, seconds: float = 60.0) -> Iterator[subprocess.Popen]:
    """Another Python process holding the DuckDB file open in `mode` for `seconds` (killed on exit)."""
    with warehouse.connect():
        pass  # the file and its schema exist before the holder opens it
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, warehouse.database, mode, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_read_only_holder_fails_the_writer_at_once_naming_its_process(warehouse):
    with holding(warehouse, "read-only") as reader:
        started = time.monotonic()
        with pytest.raises(WarehouseHeldByReaderError) as caught, warehouse.connect() as conn:
            conn.execute("SELECT 1")
        elapsed = time.monotonic() - started
    assert elapsed < 5
    message = str(caught.value)
    assert f"is open in process {reader.pid} (" in message and "read-only" in message
    assert "a reader blocks every writer: close it" in message and warehouse.database in message
    assert not is_transient(caught.value)


def test_a_writer_holding_the_lock_for_three_seconds_is_waited_for(warehouse):
    with holding(warehouse, "read-write", seconds=3.0) as writer:
        started = time.monotonic()
        with warehouse.connect() as conn:
            waited = time.monotonic() - started
            assert conn.execute("SELECT count(*) FROM meetings").fetchone() == (0,)
        assert writer.wait(timeout=5) == 0
    assert 1.0 < waited < resource.LOCK_WAIT_S


def test_a_writer_holding_the_lock_too_long_is_a_transient_fault_naming_it(warehouse, monkeypatch):
    monkeypatch.setattr(resource, "LOCK_WAIT_S", 1.0)
    with holding(warehouse, "read-write") as writer:
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError) as caught, warehouse.connect() as conn:
            conn.execute("SELECT 1")
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 4
    assert f"process {writer.pid} (" in str(caught.value) and "another writer" in str(caught.value)
    assert is_transient(caught.value)


def test_an_asset_blocked_by_a_reader_fails_once_without_a_retry(warehouse):
    with dg.instance_for_test() as instance, holding(warehouse, "read-only") as reader:
        started = time.monotonic()
        result = dg.materialize(
            [win_model],
            instance=instance,
            resources={"warehouse": warehouse},
            run_config={"ops": {"win_model": {"config": {"cutoff": "2026-03-07"}}}},
            raise_on_error=False,
        )
        elapsed = time.monotonic() - started
    assert not result.success and elapsed < 10
    events = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in events and events.count("STEP_FAILURE") == 1
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    description = failure.event_specific_data.error.message
    assert "win_model" in description and f"process {reader.pid}" in description


def test_a_holder_that_cannot_be_inspected_counts_as_a_writer(tmp_path):
    path = str(tmp_path / "x.duckdb")
    without_pid = duckdb.IOException(f'IO Error: Could not set lock on file "{path}": Resource busy')
    gone = duckdb.IOException(
        f'IO Error: Could not set lock on file "{path}": Conflicting lock is held in /usr/bin/duckdb '
        "(PID 999999999). See also https://duckdb.org/docs/stable/connect/concurrency"
    )
    assert lock_holder(without_pid, path) == LockHolder(None, "?", "unknown")
    assert lock_holder(gone, path) == LockHolder(999999999, "?", "unknown")
    assert lock_holder(duckdb.IOException("IO Error: No space left on device"), path) is None
