"""The client's SQLite state files (politeness ledger, response archive), shared by every process."""

from __future__ import annotations

import sqlite3

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_random

# Two processes opening a new state file at once: SQLite answers the loser's switch to WAL "database
# is locked" at once (the busy timeout does not cover it), so the switch is simply tried again.
_PREPARE = dict(
    retry=retry_if_exception_type(sqlite3.OperationalError),
    stop=stop_after_delay(30),
    wait=wait_random(0.01, 0.1),
    reraise=True,
)


def prepare(db: sqlite3.Connection, schema: str) -> None:
    """Put the file in WAL mode and create its tables (`schema` is idempotent)."""
    for attempt in Retrying(**_PREPARE):
        with attempt:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(schema)
