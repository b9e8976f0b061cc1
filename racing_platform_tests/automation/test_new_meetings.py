"""new_meetings_sensor on the hand-built world: listing, then pricing, each requested once."""

from __future__ import annotations

import dagster as dg
import pytest

from racing_platform.partitions import VENUE_DIMENSION, Cell
from racing_platform.source.sensors import new_meetings_sensor
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
    restarted = new_meetings_sensor(
        dg.build_sensor_context(
            instance=auto.instance, cursor=auto.cursors["new_meetings_sensor"], resources=auto.resources
        )
    )
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
