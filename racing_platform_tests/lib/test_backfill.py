"""History through Dagster's own asset backfills, driven in-process, on a real instance, DuckDB file and
simulator: the backfill is the instance's, its runs belong to the code location, partitions show it."""

from __future__ import annotations

import logging
import sys
import time
from datetime import date

import dagster as dg
import pytest
from click.testing import CliRunner
from dagster._core.execution.backfill import BulkActionStatus
from dagster._daemon.backfill import execute_backfill_jobs
from dagster._daemon.daemon import BackfillDaemon
from dagster._daemon.types import DaemonHeartbeat

from racing_platform.cli import main
from racing_platform.lib.backfill import (
    _driver_lock,
    backfill,
    plan_cells,
    run_backfill,
    scoped_cells,
    submit_backfill,
    workspace,
)
from racing_platform.lib.dagster_home import ensure_dagster_home
from racing_platform.settings import load_settings
from racing_platform.simulator.testing import running_simulator
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.worlds import LATER, RACE_DAY

CARD_ASSETS = ["raw_race_cards", "race_cards", "race_results"]
DAYS = (date(2026, 3, 6), date(2026, 3, 8))


@pytest.fixture
def home_instance(tmp_path, monkeypatch, tiny_world):
    """DAGSTER_HOME, DuckDB file and simulator of this test only, as the code location reads them."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("RACING_DUCKDB_PATH", str(tmp_path / "racing.duckdb"))
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path / "data"))
    # The code location reads its resources' settings when imported: import it afresh for this test.
    monkeypatch.delitem(sys.modules, "racing_platform.definitions", raising=False)
    ensure_dagster_home()
    with running_simulator(tiny_world, now=LATER) as sim, dg.DagsterInstance.get() as instance:
        monkeypatch.setenv("RACING_COM_GRAPHQL_URL", sim.url)
        yield instance


def _materialized(instance: dg.DagsterInstance, asset: str) -> set[str]:
    return set(instance.get_materialized_partitions(dg.AssetKey(asset)))


def test_three_days_of_history_are_two_dagster_backfills_with_their_runs_and_partitions(
    home_instance, tmp_path
):
    instance = home_instance
    listed = backfill(instance, ["meetings"], days=DAYS)
    cells = scoped_cells(Warehouse(database=str(tmp_path / "racing.duckdb")), load_settings().scope, *DAYS)
    assert sorted(cells) == [(RACE_DAY, v) for v in ("flemington", "rosehill-gardens", "sandown-hillside")]
    progress = []
    cards = backfill(instance, CARD_ASSETS, cells=cells, progress=progress.append)

    # Both are the instance's backfills (the UI's Backfills tab), completed.
    assert {b.backfill_id: b.status for b in instance.get_backfills()} == {
        listed.backfill_id: BulkActionStatus.COMPLETED_SUCCESS,
        cards.backfill_id: BulkActionStatus.COMPLETED_SUCCESS,
    }
    assert (listed.runs, cards.runs, listed.failed, cards.failed) == (1, 1, [], [])
    # Their runs were created by the backfill for the code location, as the daemon would have.
    runs = instance.get_runs()
    assert {r.tags["dagster/backfill"] for r in runs} == {listed.backfill_id, cards.backfill_id}
    assert {r.remote_job_origin.location_name for r in runs} == {"racing_platform"}
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    # Dagster's run planning made exactly the planned range runs of the cells.
    (cards_run,) = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": cards.backfill_id}))
    assert [run.keys for run in plan_cells(instance, cells, len(CARD_ASSETS))] == [
        (
            cards_run.tags["dagster/asset_partition_range_start"],
            cards_run.tags["dagster/asset_partition_range_end"],
        )
    ]
    # Per-partition status: every listed day, every cell with a meeting, nothing else.
    assert _materialized(instance, "meetings") == {"2026-03-06", "2026-03-07", "2026-03-08"}
    for asset in CARD_ASSETS:
        assert _materialized(instance, asset) == {f"{d}|{v}" for d, v in cells}, asset
    assert (
        progress[-1].runs_done == 1 and progress[-1].partitions_done == progress[-1].partitions_targeted == 9
    )


def test_with_a_dagster_daemon_running_the_backfill_is_only_followed(home_instance):
    instance = home_instance
    backfill_id = submit_backfill(instance, ["meetings"], days=(RACE_DAY, RACE_DAY))
    instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), BackfillDaemon.daemon_type(), "elsewhere"))
    polls = []

    def daemon_ends_it(progress) -> None:  # stands for the daemon, which would run it and end it
        polls.append(progress)
        instance.update_backfill(instance.get_backfill(backfill_id).with_status(BulkActionStatus.CANCELED))

    report = run_backfill(instance, backfill_id, progress=daemon_ends_it)

    assert (report.driven, report.status, report.runs) == (False, "CANCELED", 0)
    assert len(polls) == 1 and polls[0].partitions_targeted == 1
    assert instance.get_runs() == []


def test_the_cli_backfills_every_history_asset_in_the_order_of_the_asset_graph(home_instance):
    instance = home_instance
    result = CliRunner().invoke(main, ["backfill", "--start", "2026-03-06", "--end", "2026-03-08"])
    assert result.exit_code == 0, result.output
    assert result.output.count("COMPLETED_SUCCESS") == 2  # meetings, then everything else as one backfill
    day_keys = {"2026-03-06", "2026-03-07", "2026-03-08"}
    cell_keys = {f"2026-03-07|{v}" for v in ("flemington", "rosehill-gardens", "sandown-hillside")}
    for asset in ("meetings", "form_lines", "form_book"):
        assert _materialized(instance, asset) == day_keys, asset
    for asset in ("raw_race_cards", "race_cards", "race_results", "horse_careers", "runner_features"):
        assert _materialized(instance, asset) == cell_keys, asset
    # Dagster ran each asset once its parents in the backfill were done: runner_features after
    # form_book, form_book after form_lines of the day before, form_lines after the day's cards (the
    # cards' run also fetched their horses' careers: same cells, same run). The
    # first day's form_book only needs form_lines outside the range, so it ran at once, on its own.
    runs = {}
    for record in reversed(instance.get_run_records()):  # oldest first: the newest run of each wins
        runs[",".join(sorted(k.to_user_string() for k in record.dagster_run.asset_selection))] = record
    order = [
        "horse_careers,race_cards,race_results,raw_race_cards",
        "form_lines",
        "form_book",
        "runner_features",
    ]
    assert all(runs[a].end_time <= runs[b].start_time for a, b in zip(order, order[1:], strict=False))
    (first_book,) = [
        r.dagster_run
        for r in instance.get_run_records()
        if r.dagster_run.tags.get("dagster/asset_partition_range_start") == "2026-03-06"
        and r.dagster_run.asset_selection == {dg.AssetKey("form_book")}
    ]
    assert first_book.tags["dagster/asset_partition_range_end"] == "2026-03-06"
    assert len(instance.get_run_records()) == 6


def test_a_failed_run_fails_the_backfill_and_is_reported_with_its_range(home_instance):
    instance = home_instance
    instance.add_dynamic_partitions("venue", ["flemington"])
    # The day was never listed (no `meetings` run): the cell fails rather than pass for empty.
    report = backfill(instance, CARD_ASSETS, cells=[(RACE_DAY, "flemington")])

    (run,) = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert (report.status, report.runs) == ("COMPLETED_FAILED", 1)
    assert report.failed == [f"{run.run_id} (2026-03-07|flemington..2026-03-07|flemington)"]
    assert instance.get_backfill(report.backfill_id).status == BulkActionStatus.COMPLETED_FAILED


def test_a_driver_runs_what_a_stopped_daemon_left_queued(home_instance):
    instance = home_instance
    backfill_id = submit_backfill(instance, ["meetings"], days=(RACE_DAY, RACE_DAY))
    with workspace(instance) as context:  # one daemon tick: its runs go to the instance's run queue
        list(
            execute_backfill_jobs(context, logging.getLogger(__name__), [instance.get_backfill(backfill_id)])
        )
    (queued,) = instance.get_runs()
    assert queued.status == dg.DagsterRunStatus.QUEUED

    report = run_backfill(instance, backfill_id)

    assert (report.status, report.runs, report.driven) == ("COMPLETED_SUCCESS", 1, True)
    assert instance.get_run_by_id(queued.run_id).status == dg.DagsterRunStatus.SUCCESS


def test_a_re_imported_code_location_writes_where_it_now_points(home_instance, tmp_path, monkeypatch):
    """Dagster caches the last job definition per process: the same backfill after the code location
    was imported again for another DuckDB file must write that file, not the first one."""
    instance = home_instance
    assert backfill(instance, ["meetings"], days=(RACE_DAY, RACE_DAY)).failed == []
    second = tmp_path / "second.duckdb"
    monkeypatch.setenv("RACING_DUCKDB_PATH", str(second))
    monkeypatch.delitem(sys.modules, "racing_platform.definitions", raising=False)

    assert backfill(instance, ["meetings"], days=(RACE_DAY, RACE_DAY)).failed == []

    listed = Warehouse(database=str(second)).query("SELECT DISTINCT meeting_date FROM meeting_listings")
    assert [d.date() for d in listed["meeting_date"]] == [RACE_DAY]


def test_a_second_driver_of_the_same_backfill_only_follows_it(home_instance):
    instance = home_instance
    backfill_id = submit_backfill(instance, ["meetings"], days=(RACE_DAY, RACE_DAY))
    polls = []

    def first_driver_ends_it(progress) -> None:  # stands for the first driver, which would run it
        polls.append(progress)
        instance.update_backfill(instance.get_backfill(backfill_id).with_status(BulkActionStatus.CANCELED))

    with _driver_lock(instance, backfill_id) as first:  # another driver is on it
        report = run_backfill(instance, backfill_id, progress=first_driver_ends_it)

    assert first
    assert (report.driven, report.status, report.runs) == (False, "CANCELED", 0)
    assert len(polls) == 1
    assert instance.get_runs() == []
