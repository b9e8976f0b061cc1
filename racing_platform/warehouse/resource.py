"""The warehouse resource: DuckDB with transactional slice replacement and lock failures by class.

A slice is the rows of a table matching some key values, e.g. one (meeting_date, venue_slug) cell
or one meeting_date. Replacing slices is DELETE + INSERT of every table involved inside one
transaction, matching columns by name: a crash in between loses nothing and a reordered frame cannot
shift data between columns (the stock DuckDB IO manager does neither; see docs/ARCHITECTURE.md).

Key types are normalised once, here: `replace_slices` turns every key column stored as DATE into
`datetime.date` in the keys and in every frame (date objects, datetime64, Timestamps and 'YYYY-MM-DD'
strings of one day are the same day), so rows read back with `query` (DuckDB hands DATE to pandas as
datetime64) can be mixed with freshly built ones. `query` itself returns what DuckDB returns.

The DuckDB file has one writer at a time. `get_connection` replaces dagster_duckdb's ~100 s blind backoff
with a look at who holds the lock (the PID DuckDB names, its open file in /proc): a read-only holder (a
notebook, a BI tool, `duckdb -readonly`) blocks every writer until it closes, so that fails at once with
`WarehouseHeldByReaderError`; another writer will finish, so that is waited for up to `LOCK_WAIT_S` and
then raised as `WarehouseBusyError`, a transient fault the step's RetryPolicy retries.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_random_exponential

from racing_platform.lib.failures import TransientFault

LOCK_WAIT_S = 20.0
"""How long a writer waits for another writer's lock before handing over to the step's RetryPolicy."""
_LOCK_WAIT_MAX_STEP_S = 1.0

# DuckDB 1.4: 'Could not set lock on file "<path>": Conflicting lock is held in <exe> (PID <n>)...'
_LOCK_CONFLICT = re.compile(r'Could not set lock on file "(?P<path>[^"]+)"')
_LOCK_HOLDER_PID = re.compile(r"Conflicting lock is held in .*? \(PID (?P<pid>\d+)\)")
_O_ACCMODE, _O_RDONLY = 0o3, 0o0


class WarehouseBusyError(TransientFault, RuntimeError):
    """Another writer kept the DuckDB file locked for `LOCK_WAIT_S`: the step's RetryPolicy retries later."""


class WarehouseHeldByReaderError(RuntimeError):
    """A process holds the DuckDB file open read-only: no writer gets in until it closes; not retried."""


@dataclass(frozen=True)
class LockHolder:
    """The process DuckDB names as holding the file's lock, and how it has the file open."""

    pid: int | None
    command: str
    mode: str
    """'read-only', 'read-write', or 'unknown' (no PID in the message, or no access to /proc/<pid>)."""

    def describe(self, path: str) -> str:
        who = f"process {self.pid} ({self.command})" if self.pid else "another process"
        mode = "in a mode /proc does not show" if self.mode == "unknown" else self.mode
        return f"DuckDB file {path} is open in {who} {mode}"


def lock_holder(error: duckdb.IOException, database: str) -> LockHolder | None:
    """Who holds `database`'s lock according to `error`; None when `error` is not a lock conflict."""
    message = str(error)
    if not _LOCK_CONFLICT.search(message):
        return None
    found = _LOCK_HOLDER_PID.search(message)
    if not found:
        return LockHolder(None, "?", "unknown")
    pid = int(found["pid"])
    return LockHolder(pid, _command_of(pid), _open_mode(pid, database))


def _command_of(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(raw.decode(errors="replace").replace("\0", " ").split())[:200] or "?"


def _open_mode(pid: int, database: str) -> str:
    """'read-only' when every descriptor `pid` holds on the file was opened O_RDONLY (fdinfo `flags`).

    Checked on DuckDB 1.4.4: `read_only=True` opens the file O_RDONLY (flags 0100000) under a POSIX READ
    lock, a writer O_RDWR (02100002) under a WRITE lock; the conflict message names the holder's PID.
    """
    target = os.path.realpath(database)
    modes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") != target:
                    continue
                fdinfo = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
            except OSError:
                continue
            flags = int(re.search(r"^flags:\s*([0-7]+)", fdinfo, re.MULTILINE).group(1), 8)
            modes.add("read-only" if flags & _O_ACCMODE == _O_RDONLY else "read-write")
    except OSError:
        return "unknown"
    if not modes:
        return "unknown"
    return "read-only" if modes == {"read-only"} else "read-write"


class EmptyReplacementError(RuntimeError):
    """An empty result would have erased stored rows: refused (not retried), never taken as data."""


def _schema_sql() -> str:
    return resources.files("racing_platform.warehouse").joinpath("sql/schema.sql").read_text()


# Databases whose schema this process has already brought up to date (DDL on every connect is slow).
_SCHEMA_APPLIED: set[str] = set()


class Warehouse(DuckDBResource):
    """The DuckDB file behind every asset. One writer at a time: steps using it sit in pool `duckdb`."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection; a lock held by a reader fails at once, one held by a writer is waited
        for up to `LOCK_WAIT_S` (jittered) and then raised as the transient `WarehouseBusyError`."""
        retrying = Retrying(
            retry=retry_if_exception_type(WarehouseBusyError),
            stop=stop_after_delay(LOCK_WAIT_S),
            wait=wait_random_exponential(multiplier=0.1, max=_LOCK_WAIT_MAX_STEP_S),
            reraise=True,
        )
        conn = retrying(self._open_once)
        try:
            yield conn
        finally:
            conn.close()

    def _open_once(self) -> duckdb.DuckDBPyConnection:
        config = {"custom_user_agent": "dagster", **self.connection_config}
        try:
            return duckdb.connect(self.database, read_only=False, config=config)
        except duckdb.IOException as exc:
            holder = lock_holder(exc, self.database)
            if holder is None:
                raise
            if holder.mode == "read-only":
                raise WarehouseHeldByReaderError(
                    f"{holder.describe(self.database)}; a reader blocks every writer: close it "
                    "(or open the file from a copy), then re-run"
                ) from exc
            raise WarehouseBusyError(
                f"{holder.describe(self.database)} (another writer); still locked after {LOCK_WAIT_S:g} s "
                "of waiting, the step's RetryPolicy will try again"
            ) from exc

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.get_connection() as conn:
            if self.database == ":memory:" or self.database not in _SCHEMA_APPLIED:
                conn.execute(_schema_sql())
                _SCHEMA_APPLIED.add(self.database)
            yield conn

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Rows as DuckDB hands them to pandas (DATE columns as datetime64)."""
        with self.connect() as conn:
            return conn.execute(sql, params or []).df()

    def replace_slices(
        self,
        frames: Mapping[str, pd.DataFrame],
        keys: pd.DataFrame | Mapping[str, pd.DataFrame],
        *,
        allow_empty: frozenset[str] = frozenset(),
        conn: duckdb.DuckDBPyConnection | None = None,
    ) -> dict[str, int]:
        """Make each frame the whole content of its table for the `keys` slices, in one transaction.

        `keys` holds one row per slice; its columns are the key columns (present in every frame). A
        mapping gives each table its own slices (a run writes the cells of one table that passed their
        checks, and another table's that passed theirs, together). A slice whose frame has no rows never
        silently wipes its stored rows unless its table is in `allow_empty`, i.e. emptiness has been
        verified (an abandoned meeting, a race with no result yet): slice by slice, so one cell with
        rows cannot carry another cell's emptiness through.
        """
        if conn is None:
            with self.connect() as own:
                return self.replace_slices(frames, keys, allow_empty=allow_empty, conn=own)
        keys_of = dict(keys) if isinstance(keys, Mapping) else dict.fromkeys(frames, keys)
        key_cols = sorted({c for k in keys_of.values() for c in k.columns})
        date_cols = _date_columns(conn, list(frames), key_cols)
        keys_of = {table: _with_dates(keys_of[table], date_cols, "keys") for table in frames}
        frames = {table: _with_dates(frame, date_cols, table) for table, frame in frames.items()}
        for table, frame in frames.items():
            _check_inside(table, frame, keys_of[table])
        try:
            conn.execute("BEGIN TRANSACTION")
            for table, frame in frames.items():
                _replace(conn, table, frame, keys_of[table], table in allow_empty)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return {table: len(frame) for table, frame in frames.items()}


def _replace(
    conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, keys: pd.DataFrame, may_empty: bool
) -> None:
    """DELETE the `keys` slices of `table`, INSERT `frame` by name (inside the caller's transaction)."""
    if keys.empty:
        return
    join = " AND ".join(f"t.{c} = _keys.{c}" for c in keys.columns)
    conn.register("_keys", keys)
    try:
        if not may_empty:
            _refuse_emptied_slices(conn, table, frame, keys, join)
        conn.execute(f"DELETE FROM {table} t USING _keys WHERE {join}")
        if len(frame):
            conn.register("_frame", frame)
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
            conn.unregister("_frame")
    finally:
        conn.unregister("_keys")


def _refuse_emptied_slices(
    conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, keys: pd.DataFrame, join: str
) -> None:
    """Raise if a slice without rows in `frame` has stored rows (`_keys` holds the slices)."""
    cols = list(keys.columns)
    covered = pd.MultiIndex.from_frame(frame[cols].astype(str)) if len(frame) else None
    empty = keys if covered is None else keys[~pd.MultiIndex.from_frame(keys.astype(str)).isin(covered)]
    if empty.empty:
        return
    conn.register("_empty", empty)
    try:
        on = join.replace("_keys.", "_empty.")
        stored = conn.execute(f"SELECT count(*) FROM {table} t JOIN _empty ON {on}").fetchone()[0]
    finally:
        conn.unregister("_empty")
    if stored:
        raise EmptyReplacementError(
            f"{table}: refusing to replace {stored} stored row(s) of {_describe(empty)} with nothing"
        )


def _date_columns(conn: duckdb.DuckDBPyConnection, tables: list[str], key_cols: list[str]) -> list[str]:
    """The key columns stored as DATE in any of `tables`."""
    if not tables or not key_cols:
        return []
    stored = conn.execute(
        "SELECT DISTINCT column_name FROM information_schema.columns "
        "WHERE table_name IN (SELECT unnest(?)) AND column_name IN (SELECT unnest(?)) AND data_type = 'DATE'",
        [tables, key_cols],
    ).fetchall()
    return [c for c in key_cols if (c,) in stored]


def _with_dates(frame: pd.DataFrame, date_cols: list[str], what: str) -> pd.DataFrame:
    """`frame` with each of `date_cols` as `datetime.date`; a value with a time of day is refused."""
    if frame.empty or not date_cols:
        return frame
    converted = {}
    for col in date_cols:
        try:
            stamps = pd.to_datetime(frame[col], format="mixed")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{what}: key column {col} holds a value that is not a date ({exc})") from exc
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_localize(None)
        timed = stamps.notna() & (stamps != stamps.dt.normalize())
        if timed.any():
            raise ValueError(
                f"{what}: key column {col} is a DATE but {int(timed.sum())} value(s) carry a time of day, "
                f"e.g. {frame.loc[timed, col].iloc[0]!r}"
            )
        converted[col] = stamps.dt.date
    return frame.assign(**converted)


def _check_inside(table: str, frame: pd.DataFrame, keys: pd.DataFrame) -> None:
    """Refuse rows outside the slices being replaced: they would survive the delete and duplicate."""
    if frame.empty:
        return
    cols = list(keys.columns)
    inside = pd.MultiIndex.from_frame(keys[cols].astype(str))
    rows = pd.MultiIndex.from_frame(frame[cols].astype(str))
    stray = int((~rows.isin(inside)).sum())
    if stray:
        raise ValueError(
            f"{table}: {stray} row(s) fall outside the slices being replaced ({_describe(keys)})"
        )


def _describe(keys: pd.DataFrame) -> str:
    return ", ".join("|".join(str(v) for v in row) for row in keys.itertuples(index=False))
