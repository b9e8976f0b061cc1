"""Client-side politeness shared by every process on the machine: a per-host rate limiter and request budgets.

Why not a Dagster concurrency pool: a step can sit in only one pool, and the DuckDB-writing steps need theirs
(DuckDB allows one writer), so a source-side limit cannot also be a pool. Dagster runs several runs at once,
each step in its own subprocess, so an in-memory limiter would multiply by the number of processes. The state
therefore lives in one small SQLite file (WAL journal, `BEGIN IMMEDIATE` so read-modify-write is serialised
across processes):

* `rate_slots(host, next_slot)`: a next-slot scheduler. Each attempt atomically reserves
  `slot = max(now, next_slot)` and moves `next_slot` to `slot + 1/max_rps`, then sleeps until its slot
  outside the transaction. Slots are exactly 1/max_rps apart with no burst, so any closed one-second window
  holds at most max_rps + 1 requests (the +1 is the request sitting on the window's closing edge).
* `run_budget(run_id, attempts)`: every attempt, retries included, is charged before it waits for a slot;
  the attempt after the budget raises `BudgetExhaustedError` (never retried).
* `daily_budget(day, attempts)`: an optional cap per UTC day across all runs.

The clock (wall time, shared between processes) and the sleep are injectable so tests run without waiting.
Each process keeps one connection per thread: opening one per attempt cost a connect and, whenever it was the
last connection, a WAL checkpoint on close; the transactions and their locks are the same either way.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from racing_platform.source.config import ClientConfig
from racing_platform.source.errors import BudgetExhaustedError
from racing_platform.source.state_files import prepare

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_slots (host TEXT PRIMARY KEY, next_slot REAL NOT NULL);
CREATE TABLE IF NOT EXISTS run_budget (run_id TEXT PRIMARY KEY, attempts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS daily_budget (day TEXT PRIMARY KEY, attempts INTEGER NOT NULL);
"""
_BUSY_TIMEOUT_S = 30.0


class Politeness:
    def __init__(
        self,
        db_path: Path,
        *,
        max_rps: float | None = None,
        run_budget: int | None = None,
        daily_budget: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_rps is not None and max_rps <= 0:
            raise ValueError(f"max_rps must be positive or None (unlimited), got {max_rps}")
        self.db_path = Path(db_path)
        self.max_rps = max_rps
        self.run_budget = run_budget
        self.daily_budget = daily_budget
        self._clock = clock
        self._sleep = sleep
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        db = self._connection()
        prepare(db, _SCHEMA)

    @classmethod
    def from_config(
        cls,
        config: ClientConfig,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Politeness:
        return cls(
            config.politeness_db,
            max_rps=config.max_rps,
            run_budget=config.run_budget,
            daily_budget=config.daily_budget,
            clock=clock,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return (
            f"Politeness(db_path={str(self.db_path)!r}, max_rps={self.max_rps}, "
            f"run_budget={self.run_budget}, daily_budget={self.daily_budget})"
        )

    def acquire(
        self,
        host: str,
        run_id: str,
        *,
        operation: str = "request",
        variables: dict[str, Any] | None = None,
    ) -> float:
        """Charge one attempt to `run_id` (and today), then wait for `host`'s next free slot.

        Returns the seconds waited. Raises `BudgetExhaustedError` without waiting when a budget is spent.
        """
        with self._immediate() as db:
            now = self._clock()
            self._charge(db, run_id, now, operation, variables)
            slot = self._reserve_slot(db, host, now)
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def attempts_used(self, run_id: str) -> int:
        row = (
            self._connection()
            .execute("SELECT attempts FROM run_budget WHERE run_id = ?", (run_id,))
            .fetchone()
        )
        return row[0] if row else 0

    def attempts_on(self, day: str) -> int:
        row = self._connection().execute("SELECT attempts FROM daily_budget WHERE day = ?", (day,)).fetchone()
        return row[0] if row else 0

    def _charge(
        self,
        db: sqlite3.Connection,
        run_id: str,
        now: float,
        operation: str,
        variables: dict[str, Any] | None,
    ) -> None:
        row = db.execute("SELECT attempts FROM run_budget WHERE run_id = ?", (run_id,)).fetchone()
        used = row[0] if row else 0
        if self.run_budget is not None and used >= self.run_budget:
            raise BudgetExhaustedError(
                operation, variables, f"run {run_id!r} has used its budget of {self.run_budget} attempts"
            )
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        if self.daily_budget is not None:
            row = db.execute("SELECT attempts FROM daily_budget WHERE day = ?", (day,)).fetchone()
            if row and row[0] >= self.daily_budget:
                raise BudgetExhaustedError(
                    operation,
                    variables,
                    f"the daily budget of {self.daily_budget} attempts for {day} is spent",
                )
        db.execute(
            "INSERT INTO run_budget (run_id, attempts) VALUES (?, 1)"
            " ON CONFLICT(run_id) DO UPDATE SET attempts = attempts + 1",
            (run_id,),
        )
        db.execute(
            "INSERT INTO daily_budget (day, attempts) VALUES (?, 1)"
            " ON CONFLICT(day) DO UPDATE SET attempts = attempts + 1",
            (day,),
        )

    def _reserve_slot(self, db: sqlite3.Connection, host: str, now: float) -> float:
        if self.max_rps is None:
            return now
        row = db.execute("SELECT next_slot FROM rate_slots WHERE host = ?", (host,)).fetchone()
        slot = max(now, row[0]) if row else now
        db.execute(
            "INSERT INTO rate_slots (host, next_slot) VALUES (?, ?)"
            " ON CONFLICT(host) DO UPDATE SET next_slot = excluded.next_slot",
            (host, slot + 1.0 / self.max_rps),
        )
        return slot

    def __getstate__(self) -> dict[str, Any]:
        """Pickled or copied without this process's connections; the copy opens its own."""
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _local=threading.local())

    def _connection(self) -> sqlite3.Connection:
        """This thread's autocommit connection, opened again in a forked child (a connection must not cross
        a fork)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            db = sqlite3.connect(self.db_path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
            local.db, local.pid = db, os.getpid()
        return local.db

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that takes the database's write lock up front, so no two processes can
        read the same `next_slot` or budget count."""
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
