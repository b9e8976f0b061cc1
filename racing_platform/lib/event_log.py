"""The local profile's Dagster event log: Dagster's SQLite storage, made fit for range runs.

A range run over a season of (date, venue) cells records one materialization per partition and asset:
thousands of events. Dagster's `SqliteEventLogStorage` writes each on its own, twice (the run's file
and the cross-run index), building a new SQLAlchemy engine for every connection, so every statement is
compiled afresh: ~7-10 ms an event on the 2-core machine, most of a backfill's cost beyond its work.
This storage keeps Dagster's schema, files and semantics and changes two things:

- one engine per database file, kept: its compiled-statement cache lives on (connections are still
  opened per use, `NullPool`, so no connection crosses threads or processes);
- `store_event_batch`: when `DAGSTER_EVENT_BATCH_SIZE` is set (`BATCH_SIZE`, exported by
  `enable_event_batches` wherever runs execute), Dagster hands a ranged step's materializations over
  as one batch. They are written in one transaction per file, with exactly what `store_event` writes
  for each (the run's rows, the index rows, their tags, the asset's latest-materialization row), so
  readers see all of a step's partitions or none of them. Dagster ships batch writes only for
  PostgreSQL; any batch this class does not recognise goes through `store_event` one by one.

Configured in configs/dagster/dagster.yaml (`event_log_storage`); the production profile's PostgreSQL
storage batches on its own.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import dagster._check as check
from dagster._config import Field, StringSource
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

# Events a ranged step's batch may hold: far more than a season's cells of one venue.
BATCH_SIZE = 10_000
BATCH_SIZE_VARIABLE = "DAGSTER_EVENT_BATCH_SIZE"
# Engines kept for run files: a webserver reads many runs; each engine is only a cache, no connection.
KEPT_RUN_ENGINES = 64


def enable_event_batches() -> None:
    """Let Dagster hand ranged steps' materializations over in batches, in this process and its runs."""
    os.environ.setdefault(BATCH_SIZE_VARIABLE, str(BATCH_SIZE))


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log with kept engines and one transaction per ranged step's batch."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._base_dir_from_home = base_dir is None
        super().__init__(base_dir or _default_base_dir(), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Any):
        return cls(inst_data=inst_data, **config_value)

    def register_instance(self, instance) -> None:
        """Refuse an instance in another folder than DAGSTER_HOME, where this storage writes by default."""
        super().register_instance(instance)
        expected = os.path.join(instance.root_directory, "history", "runs")
        if self._base_dir_from_home and os.path.realpath(self._base_dir) != os.path.realpath(expected):
            raise dg.DagsterInvariantViolationError(
                f"BatchingSqliteEventLogStorage writes to {self._base_dir}, but its instance is in "
                f"{instance.root_directory}: set DAGSTER_HOME to the instance's folder, "
                "or base_dir in its config"
            )

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
            if len(self._engines) > KEPT_RUN_ENGINES:
                self._engines.popitem(last=False)[1].dispose()
        self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._transaction(shard) as conn:
            yield conn

    @contextmanager
    def _transaction(self, shard: str) -> Iterator[Connection]:
        """A connection to `shard` in a transaction; the caller holds `_db_lock`."""
        check.str_param(shard, "shard")
        engine = self._engine(shard)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        with engine.connect() as conn, conn.begin():
            yield conn

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if not _one_runs_asset_events(events):
            super().store_event_batch(events)
            return
        run_rows = [self._event_to_row(e) for e in events]
        # The index commits inside the run file's transaction: if anything fails before the index
        # commits, neither file keeps the batch and Dagster's fallback (`store_event` one by one)
        # writes each event once. If the run file alone fails to commit after the index did, its rows
        # are written again on their own: a fallback would put the batch in the index twice.
        index_committed = False
        try:
            with self._db_lock, self._transaction(events[0].run_id) as run_file:
                run_file.execute(SqlEventLogStorageTable.insert(), run_rows)
                with self._transaction(INDEX_SHARD_NAME) as index:
                    self._index_batch(index, events)
                index_committed = True
        except Exception:
            if not index_committed:
                raise
            with self.run_connection(events[0].run_id) as run_file:
                run_file.execute(SqlEventLogStorageTable.insert(), run_rows)

    def _index_batch(self, index: Connection, events: Sequence[EventLogEntry]) -> None:
        """What `store_event` writes to the index for each event, in one transaction."""
        ids = [index.execute(self.prepare_insert_event(e)).inserted_primary_key[0] for e in events]
        self._store_asset_event_tags(index, events, ids)
        # Each event would overwrite its asset's row in turn: the last one per asset is what stays
        # (a batch is of one event type, `_one_runs_asset_events`).
        latest = {e.get_dagster_event().asset_key: (e, i) for e, i in zip(events, ids, strict=True)}
        for event, event_id in latest.values():
            self._store_asset_event(index, event, event_id)


def _one_runs_asset_events(events: Sequence[EventLogEntry]) -> bool:
    """One run's asset events of one type (Dagster batches a ranged output's events, or planned ones)."""
    if not events or not all(e.is_dagster_event for e in events):
        return False
    kinds = {e.get_dagster_event().event_type for e in events}
    return (
        len(kinds) == 1
        and kinds <= ASSET_EVENTS
        and len({e.run_id for e in events}) == 1
        and all(e.get_dagster_event().asset_key is not None for e in events)
    )


def _default_base_dir() -> str:
    """Where Dagster's default SQLite storage keeps run event logs, so an existing home keeps its history.

    A custom storage is not told its instance's folder: it is DAGSTER_HOME, as for every Dagster process
    that loads an instance from its dagster.yaml (`DagsterInstance.get()`, the webserver, the daemon).
    """
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError("BatchingSqliteEventLogStorage: set DAGSTER_HOME, or base_dir in its config")
    return os.path.join(home, "history", "runs")
