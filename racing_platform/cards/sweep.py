"""The sweeps: the last few days' cells and days whose runs are missing or failed get runs.

The sensors request each stage (run keys) and retry a failed first listing or pricing a few times; a
run that failed past that, or a tick that never came (the daemon was down), leaves work behind.

* `daily_sweep` (cell partitions): cells whose prices or results are missing or failed.
* `daily_day_sweep` (date partitions; an asset job cannot mix the two partitions definitions): days
  never listed (`meetings`), and days whose cells all have their results but that were never closed
  (`daily_evaluation` not materialized).

Each reads only its window: the `meetings` record of each day (source/watch.py `stored_cells`), then
the status of exactly those partitions (`get_status_by_partition`, Dagster's cached partition status)
and each cell's newest `race_results` record (limit 1). Run keys carry the sweep's day, so a sweep
requests a cell or day once and the next day's sweep may try again.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from racing_platform.jobs import CLOSE_DAY_ASSETS, PRICE_CELL_ASSETS, RESULTS_ASSETS
from racing_platform.partitions import Cell, meeting_cells, racing_days
from racing_platform.resources import default_schedule_status
from racing_platform.settings import load_settings
from racing_platform.source.clock import racing_day
from racing_platform.source.watch import MEETINGS_ASSET, day_end, days_from, partition_days, stored_cells

SWEEP_DAYS = 3
"""Yesterday and the two days before: older cells are a backfill's business, not a sweep's."""
DAILY_SWEEP_CRON = "0 5 * * *"  # 05:00 local: every night meeting of yesterday has finished
SETTLED = dg.AssetKey("race_results")
PRICED = dg.AssetKey("predictions")
CLOSED = dg.AssetKey("daily_evaluation")
_OK = dg.AssetPartitionStatus.MATERIALIZED


def sweep_requests(instance: dg.DagsterInstance, today: date) -> list[dg.RunRequest]:
    """Runs for the window's cells never priced (or failed), and for those without results since their day.

    Results count as fetched when `race_results` was last materialized after the cell's day ended
    (midnight local): a cell priced before its races but never fetched after them lacks its results.
    """
    days = partition_days(days_from(today - timedelta(days=SWEEP_DAYS), SWEEP_DAYS))
    cells = sorted(stored_cells(instance, days))
    if not cells:
        return []
    keys = [str(c.key) for c in cells]
    priced = instance.get_status_by_partition(PRICED, keys, meeting_cells) or {}
    requests = []
    for cell, key in zip(cells, keys, strict=True):
        if priced.get(key) != _OK:
            requests.append(_request(cell, today, "price", PRICE_CELL_ASSETS))
        if not _results_after_the_day(instance, cell):
            requests.append(_request(cell, today, "results", RESULTS_ASSETS))
    return requests


def _results_after_the_day(instance: dg.DagsterInstance, cell: Cell) -> bool:
    newest = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=SETTLED, asset_partitions=[str(cell.key)]), limit=1
    ).records
    return bool(newest) and newest[0].timestamp >= day_end(cell.meeting_date).timestamp()


def day_sweep_requests(instance: dg.DagsterInstance, today: date) -> list[dg.RunRequest]:
    """Runs for the window's days never listed, and for those never closed whose cells all have results.

    A day closes once every listed cell's results were fetched after the day ended (as `daily_sweep`
    judges them); a day with no tracked cell has nothing to close.
    """
    days = partition_days(days_from(today - timedelta(days=SWEEP_DAYS), SWEEP_DAYS))
    keys = [d.isoformat() for d in days]
    listed = instance.get_status_by_partition(MEETINGS_ASSET, keys, racing_days) or {}
    closed = instance.get_status_by_partition(CLOSED, keys, racing_days) or {}
    cells = stored_cells(instance, days)
    requests = []
    for day, key in zip(days, keys, strict=True):
        if listed.get(key) != _OK:
            requests.append(_day_request(key, today, "meetings", [MEETINGS_ASSET.to_user_string()]))
            continue
        day_cells = [c for c in cells if c.meeting_date == day]
        if (
            closed.get(key) != _OK
            and day_cells
            and all(_results_after_the_day(instance, c) for c in day_cells)
        ):
            requests.append(_day_request(key, today, "close", CLOSE_DAY_ASSETS))
    return requests


def _day_request(day: str, today: date, stage: str, assets: list[str]) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"sweep:{today.isoformat()}:{stage}:{day}",
        partition_key=day,
        asset_selection=[dg.AssetKey(a) for a in assets],
        tags={"racing/trigger": f"daily sweep: {stage} missing or failed"},
    )


def _request(cell: Cell, today: date, stage: str, assets: list[str]) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"sweep:{today.isoformat()}:{stage}:{cell}",
        partition_key=str(cell.key),
        asset_selection=[dg.AssetKey(a) for a in assets],
        tags={"racing/trigger": f"daily sweep: {stage} missing or failed"},
    )


@dg.schedule(
    name="daily_sweep",
    cron_schedule=DAILY_SWEEP_CRON,
    execution_timezone=load_settings().timezone,
    target=dg.AssetSelection.assets(*sorted(set(PRICE_CELL_ASSETS) | set(RESULTS_ASSETS))),
    default_status=default_schedule_status(),
    description="Requests runs for the last few days' cells whose predictions or results are missing or "
    "failed (racing_platform/cards/sweep.py).",
)
def daily_sweep(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    return sweep_requests(context.instance, racing_day(context.scheduled_execution_time))


@dg.schedule(
    name="daily_day_sweep",
    cron_schedule=DAILY_SWEEP_CRON,
    execution_timezone=load_settings().timezone,
    target=dg.AssetSelection.assets(MEETINGS_ASSET.to_user_string(), *CLOSE_DAY_ASSETS),
    default_status=default_schedule_status(),
    description="Requests runs for the last few days never listed, or never closed once all their cells "
    "have results (racing_platform/cards/sweep.py).",
)
def daily_day_sweep(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    return day_sweep_requests(context.instance, racing_day(context.scheduled_execution_time))
