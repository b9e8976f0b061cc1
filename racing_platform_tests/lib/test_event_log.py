"""The local event log writes a range run's materializations as one batch and records exactly what
Dagster's own SQLite storage records, event for event, on real instances and files."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME

from racing_platform.lib.event_log import BATCH_SIZE_VARIABLE, BatchingSqliteEventLogStorage
from racing_platform.paths import config_dir

DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]
VENUES = ["caulfield", "flemington", "randwick"]
CELLS = dg.MultiPartitionsDefinition(
    {"date": dg.StaticPartitionsDefinition(DAYS), "venue": dg.StaticPartitionsDefinition(VENUES)}
)
RANGE = ("2026-03-01|flemington", "2026-03-03|flemington")


@dg.asset(partitions_def=CELLS, backfill_policy=dg.BackfillPolicy.single_run())
def cell_rows(context) -> dg.MaterializeResult:
    for key in context.partition_keys:
        context.add_asset_metadata({"cell": key}, partition_key=key)
    return dg.MaterializeResult(metadata={"run_partitions": len(context.partition_keys)})


def _instance(root: Path, monkeypatch, *, batching: bool) -> dg.DagsterInstance:
    """An instance in `root` as Dagster's processes load it: DAGSTER_HOME and its dagster.yaml."""
    root.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(root))
    config = yaml.safe_load((config_dir() / "dagster" / "dagster.yaml").read_text())
    if not batching:
        del config["event_log_storage"]  # Dagster's own SQLite storage, all else the same
    (root / "dagster.yaml").write_text(yaml.safe_dump(config))
    return dg.DagsterInstance.from_config(str(root))


def _range_run(instance: dg.DagsterInstance) -> None:
    start, end = RANGE
    tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
    assert dg.materialize([cell_rows], instance=instance, tags=tags).success


def _recorded(instance: dg.DagsterInstance) -> dict:
    """What a reader of the instance sees of the asset: per partition, latest record, tags, run file."""
    key = cell_rows.key
    records = instance.fetch_materializations(key, limit=100).records
    (run,) = instance.get_runs()
    run_file = Path(instance.event_log_storage._base_dir) / f"{run.run_id}.db"
    with sqlite3.connect(run_file) as conn:
        rows = conn.execute(
            "SELECT partition, count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
            "GROUP BY partition ORDER BY partition"
        ).fetchall()
    latest = instance.get_asset_records([key])[0].asset_entry.last_materialization
    return {
        "partitions": instance.get_materialized_partitions(key),
        "metadata": sorted(
            (r.partition_key, r.asset_materialization.metadata["cell"].value) for r in records
        ),
        "latest": latest.get_dagster_event().partition if latest else None,
        "newest": records[0].partition_key,  # records come newest first
        # The indexed tags of each partition's record (a data version is new in every run: its key only).
        "tags": {
            r.partition_key: {
                name: value if name.startswith("dagster/partition/") else "..."
                for tags in instance.get_event_tags_for_asset(key, filter_event_id=r.storage_id)
                for name, value in tags.items()
            }
            for r in records
        },
        "run_file": rows,
    }


@pytest.fixture
def batches(monkeypatch) -> list[tuple[str, int]]:
    """The batches the storage wrote in one go: (event type, events) each.

    Planned events come as a batch of one per partition too, unless the process creates runs with
    `DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS` (the backfill driver sets it): only the
    materializations are asserted.
    """
    monkeypatch.setenv(BATCH_SIZE_VARIABLE, "1000")
    seen: list[tuple[str, int]] = []
    write = BatchingSqliteEventLogStorage.store_event_batch

    def counted(self, events):
        (kind,) = {e.get_dagster_event().event_type_value for e in events}
        seen.append((kind, len(events)))
        write(self, events)

    monkeypatch.setattr(BatchingSqliteEventLogStorage, "store_event_batch", counted)
    return seen


def _materialization_batches(batches: list[tuple[str, int]]) -> list[int]:
    return [n for kind, n in batches if kind == "ASSET_MATERIALIZATION"]


def test_the_committed_instance_config_uses_the_batching_storage_in_dagsters_own_place(tmp_path, monkeypatch):
    instance = _instance(tmp_path / "home", monkeypatch, batching=True)
    storage = instance.event_log_storage
    assert isinstance(storage, BatchingSqliteEventLogStorage)
    assert Path(storage._base_dir) == tmp_path / "home" / "history" / "runs"


def test_a_range_run_is_one_batch_recorded_exactly_as_dagsters_sqlite_storage_records_it(
    tmp_path, batches, monkeypatch
):
    batched = _instance(tmp_path / "batched", monkeypatch, batching=True)
    stock = _instance(tmp_path / "stock", monkeypatch, batching=False)
    assert not isinstance(stock.event_log_storage, BatchingSqliteEventLogStorage)

    _range_run(batched)
    _range_run(stock)

    assert _materialization_batches(batches) == [3]  # the run's three partitions in one go
    seen = _recorded(batched)
    assert seen == _recorded(stock)
    assert seen["partitions"] == {f"{day}|flemington" for day in DAYS}
    assert seen["metadata"] == [(f"{day}|flemington", f"{day}|flemington") for day in DAYS]
    assert seen["latest"] == seen["newest"]
    assert seen["run_file"] == [(f"{day}|flemington", 1) for day in DAYS]
    assert seen["tags"] == {
        f"{day}|flemington": {
            "dagster/data_version": "...",
            "dagster/partition/date": day,
            "dagster/partition/venue": "flemington",
        }
        for day in DAYS
    }


def test_a_batch_that_fails_in_the_index_leaves_no_trace_and_dagster_writes_it_event_by_event(
    tmp_path, batches, monkeypatch
):
    instance = _instance(tmp_path / "home", monkeypatch, batching=True)
    store_asset_row = BatchingSqliteEventLogStorage._store_asset_event
    failures = []

    def fail_once(self, conn, event, event_id):
        if not failures and event.get_dagster_event().is_step_materialization:
            failures.append(event_id)
            raise sqlite3.OperationalError("disk I/O error")
        store_asset_row(self, conn, event, event_id)

    monkeypatch.setattr(BatchingSqliteEventLogStorage, "_store_asset_event", fail_once)
    _range_run(instance)

    assert failures and _materialization_batches(batches) == [3]
    seen = _recorded(instance)
    # Each partition once in the run's file and once in the index: the failed batch left nothing.
    assert seen["run_file"] == [(f"{day}|flemington", 1) for day in DAYS]
    assert sorted(key for key, _ in seen["metadata"]) == [f"{day}|flemington" for day in DAYS]
    assert seen["latest"] == seen["newest"]


def test_a_batch_whose_run_file_fails_after_the_index_committed_is_written_once_in_each(
    tmp_path, batches, monkeypatch
):
    instance = _instance(tmp_path / "home", monkeypatch, batching=True)
    index_batch, transaction = (
        BatchingSqliteEventLogStorage._index_batch,
        BatchingSqliteEventLogStorage._transaction,
    )
    state = {"indexed": False, "failed": False}

    def indexed(self, index, events):
        index_batch(self, index, events)
        state["indexed"] = events[0].get_dagster_event().is_step_materialization

    @contextmanager
    def run_file_fails_to_commit(self, shard):
        with transaction(self, shard) as conn:
            yield conn
            if shard != INDEX_SHARD_NAME and state["indexed"] and not state["failed"]:
                state["failed"] = True
                raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(BatchingSqliteEventLogStorage, "_index_batch", indexed)
    monkeypatch.setattr(BatchingSqliteEventLogStorage, "_transaction", run_file_fails_to_commit)
    _range_run(instance)

    assert state["failed"] and _materialization_batches(batches) == [3]
    seen = _recorded(instance)
    assert seen["run_file"] == [(f"{day}|flemington", 1) for day in DAYS]
    assert sorted(key for key, _ in seen["metadata"]) == [f"{day}|flemington" for day in DAYS]


def test_an_instance_outside_dagster_home_is_refused_rather_than_split_across_two_folders(
    tmp_path, monkeypatch
):
    _instance(tmp_path / "home", monkeypatch, batching=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "dagster.yaml").write_text((tmp_path / "home" / "dagster.yaml").read_text())

    with pytest.raises(dg.DagsterInvariantViolationError, match="set DAGSTER_HOME to the instance's folder"):
        dg.DagsterInstance.from_config(str(tmp_path / "elsewhere"))
