"""new_meetings_sensor on the hand-built world: listing, then pricing, each requested once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pandas as pd
import pytest

from racing_platform.partitions import VENUE_DIMENSION, Cell, racing_days
from racing_platform.simulator.world.model import World
from racing_platform.source.clock import racing_day
from racing_platform.source.sensors import new_meetings_sensor
from racing_platform.source.watch import LOOKAHEAD_DAYS, MAX_ATTEMPTS
from racing_platform_tests.automation.conftest import run_keys

# 2026-03-05 23:00 in Sydney: Flemington and Sandown (later abandoned) are listed for 2026-03-07,
# Rosehill not yet (listed 2026-03-06T00:00Z); the Flemington trial is outside the scope.
TWO_LISTED = "2026-03-05T12:00:00Z"
ROSEHILL_LISTED = "2026-03-06T00:30:00Z"
RACE_DAY = "2026-03-07"


def test_a_new_meeting_gives_one_run_and_one_partition_add_and_a_second_tick_nothing(
    automation_for, tiny_world
):
    auto = automation_for(tiny_world, TWO_LISTED)

    first = auto.tick(new_meetings_sensor)
    assert [(r.job_name, r.partition_key) for r in first.run_requests] == [("meetings_job", RACE_DAY)]
    assert [list(r.partition_keys) for r in first.dynamic_partitions_requests] == [
        ["flemington", "sandown-hillside"]
    ]
    assert auto.tick(new_meetings_sensor).run_requests in (None, [])

    auto.control.set_clock(ROSEHILL_LISTED)
    later = auto.tick(new_meetings_sensor)
    assert [r.partition_key for r in later.run_requests] == [RACE_DAY]
    assert run_keys(later) != run_keys(first)  # the day's listing changed: a new run key
    assert [list(r.partition_keys) for r in later.dynamic_partitions_requests] == [["rosehill-gardens"]]


def test_a_listed_day_prices_each_tracked_cell_once_and_a_restart_requests_nothing(
    automation_for, tiny_world
):
    auto = automation_for(tiny_world, TWO_LISTED)
    listing = auto.tick(new_meetings_sensor).run_requests[0]
    assert auto.run(listing).success

    priced = auto.tick(new_meetings_sensor)
    assert run_keys(priced) == [f"price:{RACE_DAY}|flemington", f"price:{RACE_DAY}|sandown-hillside"]
    assert {r.job_name for r in priced.run_requests} == {"price_cell_job"}
    registered = auto.instance.get_dynamic_partitions(VENUE_DIMENSION)
    for request in priced.run_requests:  # the cells' venues exist, as the daemon checks
        assert Cell.from_key(request.partition_key).venue_slug in registered

    # A restart: a fresh context given the stored cursor re-requests nothing.
    with dg.build_sensor_context(
        instance=auto.instance, cursor=auto.cursors["new_meetings_sensor"], resources=auto.resources
    ) as context:
        restarted = new_meetings_sensor(context)
    assert restarted.run_requests in (None, [])
    assert restarted.dynamic_partitions_requests in (None, [])


def test_an_outage_tick_loses_nothing_and_the_next_tick_catches_up(automation_for, tiny_world):
    auto = automation_for(tiny_world, TWO_LISTED)
    # The source refuses the race day's listing with a 503 asking to come back in two minutes: the
    # client gives up at once (the wait would pass its retry deadline), a transient fault.
    auto.control.queue_faults(
        [{"kind": "status", "status": 503, "retry_after": 120}],
        match={"operation": "GetMeetingByDate_CD", "variables": {"date": RACE_DAY}},
    )
    outage = auto.tick(new_meetings_sensor)
    assert outage.run_requests in (None, [])
    assert "racing.com unavailable" in outage.skip_reason.skip_message
    assert "503" in outage.skip_reason.skip_message
    assert RACE_DAY not in auto.cursors["new_meetings_sensor"]  # not seen, so not marked seen

    caught_up = auto.tick(new_meetings_sensor)
    assert [r.partition_key for r in caught_up.run_requests] == [RACE_DAY]


def test_a_wrong_answer_is_an_error_tick_not_a_skip(automation_for, tiny_world):
    auto = automation_for(tiny_world, TWO_LISTED)
    auto.control.queue_faults(
        [{"kind": "graphql_error", "message": "Cannot query field"}],
        match={"operation": "GetMeetingByDate_CD"},
    )
    with pytest.raises(dg.Failure, match="new_meetings_sensor: GraphQLResponseError: GetMeetingByDate_CD"):
        auto.tick(new_meetings_sensor)
    assert "new_meetings_sensor" not in auto.cursors  # the failed tick stored no cursor
    assert auto.instance.get_dynamic_partitions(VENUE_DIMENSION) == []


def shifted(world: World, days: int) -> World:
    """`world` moved `days` days in time: every timestamp and local date."""

    def move(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                frame[column] = frame[column] + pd.Timedelta(days=days)
            elif len(frame) and all(isinstance(v, date) for v in frame[column]):
                frame[column] = [v + timedelta(days=days) for v in frame[column]]
        return frame

    return dataclasses.replace(
        world, meetings=move(world.meetings), races=move(world.races), entries=move(world.entries)
    )


def test_on_the_wall_clock_only_days_that_are_partitions_are_requested(automation_for, tiny_world):
    # The race clock is the wall clock: Dagster's `date` partitions end at today + end_offset - 1, so a
    # listing of today + end_offset (racing.com publishes that far ahead) must not be requested.
    now = datetime.now(UTC)
    today = racing_day(now)
    last = today + timedelta(days=LOOKAHEAD_DAYS)
    world = shifted(tiny_world, (last - date.fromisoformat(RACE_DAY)).days)
    meetings = world.meetings.copy()
    meetings["listed_at"] = pd.Timestamp(now) - pd.Timedelta(hours=1)  # every meeting listed by now
    day_before = meetings[meetings["meeting_date"] == last].assign(
        meet_code=lambda m: "6" + m["meet_code"].str[1:], meeting_date=last - timedelta(days=1)
    )
    world = dataclasses.replace(world, meetings=pd.concat([meetings, day_before], ignore_index=True))
    auto = automation_for(world, now.isoformat())

    tick = auto.tick(new_meetings_sensor)
    assert [r.partition_key for r in tick.run_requests] == [(last - timedelta(days=1)).isoformat()]
    assert all(racing_days.has_partition_key(r.partition_key) for r in tick.run_requests)
    polled = {r["variables"].get("date") for r in auto.control.requests_log()}
    assert last.isoformat() not in polled  # not even polled: nothing could be requested for it
    assert auto.run(tick.run_requests[0]).success


def test_a_listing_whose_run_failed_is_requested_again_up_to_the_cap(automation_for, tiny_world, capfd):
    auto = automation_for(tiny_world, TWO_LISTED)
    fail_listing = {"operation": "GetMeetingByDate_CD", "variables": {"date": RACE_DAY}}
    keys = []
    for _attempt in range(MAX_ATTEMPTS):
        tick = auto.tick(new_meetings_sensor)
        assert [r.partition_key for r in tick.run_requests] == [RACE_DAY]
        keys += run_keys(tick)
        # The run's own listing call is refused: the run fails, nothing is stored.
        auto.control.queue_faults([{"kind": "graphql_error", "message": "Cannot query field"}], fail_listing)
        assert not auto.run(tick.run_requests[0]).success
    assert len(set(keys)) == MAX_ATTEMPTS  # each attempt a new run key, or Dagster would drop it
    capfd.readouterr()
    assert auto.tick(new_meetings_sensor).run_requests in (None, [])  # left to a person, with a warning
    assert (
        f"meetings_job for {RACE_DAY} ended FAILURE after {MAX_ATTEMPTS} attempts" in capfd.readouterr().err
    )
    assert auto.tick(new_meetings_sensor).run_requests in (None, [])


def test_a_day_whose_stored_meetings_left_the_listing_is_listed_again(automation_for, tiny_world):
    auto = automation_for(tiny_world, TWO_LISTED)
    gone = "2026-03-08"  # nothing listed for it now, but a tracked meeting is stored
    auto.instance.report_runless_asset_event(
        dg.AssetMaterialization(
            "meetings",
            partition=gone,
            metadata={
                "tracked_venues": dg.MetadataValue.json(["flemington"]),
                "tracked_meet_codes": dg.MetadataValue.json({"flemington": ["5199999"]}),
            },
        )
    )
    requested = {r.partition_key: r for r in auto.tick(new_meetings_sensor).run_requests}
    assert gone in requested and requested[gone].job_name == "meetings_job"


def test_a_failed_first_pricing_is_requested_again_up_to_the_cap(automation_for, tiny_world, capfd):
    auto = automation_for(tiny_world, TWO_LISTED)
    assert auto.run(auto.tick(new_meetings_sensor).run_requests[0]).success
    cell = f"{RACE_DAY}|flemington"
    keys = []
    tick = auto.tick(new_meetings_sensor)
    for _attempt in range(MAX_ATTEMPTS):
        (pricing,) = [r for r in tick.run_requests if r.partition_key == cell]
        keys.append(pricing.run_key)
        assert not auto.run(pricing).success  # the hand-built world has no model to price with
        capfd.readouterr()
        tick = auto.tick(new_meetings_sensor)
    assert keys == [f"price:{cell}", f"price:{cell}:2", f"price:{cell}:3"]
    assert cell not in {r.partition_key for r in tick.run_requests or []}
    assert f"price_cell_job for {cell} ended FAILURE after {MAX_ATTEMPTS} attempts" in capfd.readouterr().err
