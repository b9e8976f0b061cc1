"""A tick reads only its window: a season of materialized history neither slows it nor reaches it."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import dagster as dg

from racing_platform.cards.sensors import late_changes_sensor, results_sensor
from racing_platform.source.sensors import MATERIALIZATIONS_PER_TICK, new_meetings_sensor
from racing_platform_tests.worlds import RACE_MORNING

SENSORS = [new_meetings_sensor, late_changes_sensor, results_sensor]


def a_season_of_meetings(instance: dg.DagsterInstance, days: int = 365) -> None:
    """`meetings` records for a season before the race day, each listing a tracked cell."""
    for n in range(days):
        day = (date(2025, 3, 1) + timedelta(days=n)).isoformat()
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                "meetings",
                partition=day,
                metadata={
                    "tracked_venues": dg.MetadataValue.json(["flemington"]),
                    "tracked_meet_codes": dg.MetadataValue.json({"flemington": ["5100002"]}),
                },
            )
        )


def listed(instance: dg.DagsterInstance, day: date, venue: str) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            "meetings",
            partition=day.isoformat(),
            metadata={
                "tracked_venues": dg.MetadataValue.json([venue]),
                "tracked_meet_codes": dg.MetadataValue.json({venue: ["5100002"]}),
            },
        )
    )


def tick_seconds(auto) -> float:
    started = time.perf_counter()
    for sensor in SENSORS:
        auto.tick(sensor)
    return time.perf_counter() - started


def test_ticks_do_not_read_or_slow_down_with_a_season_of_history(automation_for, tiny_world):
    auto = automation_for(tiny_world, RACE_MORNING)
    assert auto.run(auto.tick(new_meetings_sensor).run_requests[0]).success
    auto.cursors.clear()
    tick_seconds(auto)  # warm: imports, connections
    auto.cursors.clear()
    bare = tick_seconds(auto)

    started = time.perf_counter()
    a_season_of_meetings(auto.instance)
    print(f"a season of meetings records: {time.perf_counter() - started:.1f} s")
    auto.cursors.clear()  # first ticks ever: no storage-id cursor to skip the history with
    listed = auto.tick(new_meetings_sensor)
    # Only the window's day is listed and priced, none of the season's 365 days.
    assert {r.partition_key.split("|")[0] for r in listed.run_requests} == {"2026-03-07"}
    assert "price_cell_job" in {r.job_name for r in listed.run_requests}
    auto.cursors.clear()
    with_history = tick_seconds(auto)
    print(f"three ticks: {bare:.2f} s bare, {with_history:.2f} s with a season of history")
    assert with_history < 2 * bare + 1.0
    assert with_history < 10.0  # far inside Dagster's 60 s sensor limit


def test_the_stored_storage_id_cursor_skips_the_window_s_records_already_read(automation_for, tiny_world):
    auto = automation_for(tiny_world, RACE_MORNING)
    window = [date(2026, 3, 7) + timedelta(days=n) for n in range(3)]
    # More records of the window's days than one tick reads: re-listings, each naming one tracked cell.
    for n in range(MATERIALIZATIONS_PER_TICK + 100):
        listed(auto.instance, window[n % 3], "flemington")
    ids = [
        r.storage_id
        for r in auto.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("meetings")), limit=1000, ascending=True
        ).records
    ]

    def priced(result) -> list[str]:
        return [r.partition_key for r in result.run_requests or [] if r.job_name == "price_cell_job"]

    first = auto.tick(new_meetings_sensor)
    assert sorted(priced(first)) == [f"{d}|flemington" for d in window]
    assert (
        json.loads(auto.cursors["new_meetings_sensor"])["meetings_after"]
        == ids[MATERIALIZATIONS_PER_TICK - 1]
    )
    assert priced(auto.tick(new_meetings_sensor)) == []  # the rest read, nothing new to price
    assert json.loads(auto.cursors["new_meetings_sensor"])["meetings_after"] == ids[-1]

    # A new listing after the cursor is read; none of the records before it is read again.
    listed(auto.instance, window[0], "sandown-hillside")
    assert priced(auto.tick(new_meetings_sensor)) == [f"{window[0]}|sandown-hillside"]
