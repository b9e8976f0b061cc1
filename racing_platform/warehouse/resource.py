"""The warehouse resource: DuckDB with transactional slice replacement.

A slice is the rows of a table matching some key values, e.g. one (meeting_date, venue_slug) cell
or one meeting_date. Replacing slices is DELETE + INSERT of every table involved inside one
transaction, matching columns by name: a crash in between loses nothing and a reordered frame cannot
shift data between columns (the stock DuckDB IO manager does neither; see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources

import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource


class EmptyReplacementError(RuntimeError):
    """An empty result would have erased stored rows: treated as an outage, never as data."""


def _schema_sql() -> str:
    return resources.files("racing_platform.warehouse").joinpath("sql/schema.sql").read_text()


# Databases whose schema this process has already brought up to date (DDL on every connect is slow).
_SCHEMA_APPLIED: set[str] = set()


class Warehouse(DuckDBResource):
    """The DuckDB file behind every asset. One writer at a time: steps using it sit in pool `duckdb`."""

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.get_connection() as conn:
            try:
                if self.database == ":memory:" or self.database not in _SCHEMA_APPLIED:
                    conn.execute(_schema_sql())
                    _SCHEMA_APPLIED.add(self.database)
                yield conn
            finally:
                conn.close()

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        with self.connect() as conn:
            return conn.execute(sql, params or []).df()

    def replace_slices(
        self,
        frames: Mapping[str, pd.DataFrame],
        keys: pd.DataFrame,
        *,
        allow_empty: frozenset[str] = frozenset(),
        conn: duckdb.DuckDBPyConnection | None = None,
    ) -> dict[str, int]:
        """Make each frame the whole content of its table for the `keys` slices, in one transaction.

        `keys` holds one row per slice; its columns are the key columns (present in every frame).
        An empty frame never silently wipes stored rows unless its table is in `allow_empty`, i.e.
        emptiness has been verified (an abandoned meeting, a race with no result yet).
        """
        if conn is None:
            with self.connect() as own:
                return self.replace_slices(frames, keys, allow_empty=allow_empty, conn=own)
        key_cols = list(keys.columns)
        for table, frame in frames.items():
            _check_inside(table, frame, keys)
        conn.register("_keys", keys)
        join = " AND ".join(f"t.{c} = _keys.{c}" for c in key_cols)
        try:
            conn.execute("BEGIN TRANSACTION")
            for table, frame in frames.items():
                if frame.empty and table not in allow_empty:
                    stored = conn.execute(f"SELECT count(*) FROM {table} t JOIN _keys ON {join}").fetchone()[
                        0
                    ]
                    if stored:
                        raise EmptyReplacementError(
                            f"{table}: refusing to replace {stored} stored row(s) of "
                            f"{_describe(keys)} with nothing"
                        )
                conn.execute(f"DELETE FROM {table} t USING _keys WHERE {join}")
                if len(frame):
                    conn.register("_frame", frame)
                    conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
                    conn.unregister("_frame")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.unregister("_keys")
        return {table: len(frame) for table, frame in frames.items()}


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
