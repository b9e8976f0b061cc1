"""race_clock: the simulator's time against a local source, the wall clock against racing.com."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from racing_platform.simulator.testing import running_simulator
from racing_platform.source.clock import ClockUnavailable, RaceClock
from racing_platform.source.resource import RacingComResource
from racing_platform.source.sensors import new_meetings_sensor


def test_the_simulator_s_clock_is_now_and_its_sydney_date_is_today(tiny_world):
    # 13:30 UTC on 6 March is already 7 March in Sydney (UTC+11).
    with running_simulator(tiny_world, now="2026-03-06T13:30:00Z") as sim:
        clock = RaceClock(graphql_url=sim.url)
        assert clock.now() == datetime(2026, 3, 6, 13, 30, tzinfo=UTC)
        assert clock.today() == date(2026, 3, 7)
        sim.control.advance(3600)
        assert clock.now() == datetime(2026, 3, 6, 14, 30, tzinfo=UTC)


def test_racing_com_is_on_the_wall_clock():
    now = RaceClock(graphql_url="https://graphql.rmdprod.racing.com/").now()
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_simulator_that_does_not_answer_skips_the_tick_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path))
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    with pytest.raises(ClockUnavailable):
        RaceClock(graphql_url=url).now()
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(
            instance=instance,
            cursor='{"listings": {}, "meetings_after": 7, "priced": {}}',
            resources={
                "racing_com": RacingComResource(graphql_url=url),
                "race_clock": RaceClock(graphql_url=url),
            },
        ) as context,
    ):
        result = new_meetings_sensor(context)
    assert "race clock unavailable" in result.skip_reason.skip_message
    assert result.cursor == '{"listings": {}, "meetings_after": 7, "priced": {}}'
