"""results_sensor on the hand-built world's race day: results after the jumps, abandonment recorded."""

from __future__ import annotations

import dataclasses
import json

import dagster as dg
import pandas as pd
from dagster._core.utils import make_new_run_id

from racing_platform.cards.sensors import results_sensor
from racing_platform.source.sensors import new_meetings_sensor
from racing_platform_tests.automation.conftest import run_keys
from racing_platform_tests.worlds import AFTER_MEETING, LATER, RACE_MORNING

DAY = "2026-03-07"
SANDOWN, FLEMINGTON, ROSEHILL = (f"{DAY}|{v}" for v in ("sandown-hillside", "flemington", "rosehill-gardens"))


def meeting_polls(auto) -> int:
    return sum(r.get("operationName") == "Races" for r in auto.control.requests_log())


def test_results_are_requested_after_the_jumps_when_reported_and_an_abandonment_is_settled(
    automation_for, tiny_world
):
    auto = automation_for(tiny_world, RACE_MORNING)
    assert auto.run(auto.tick(new_meetings_sensor).run_requests[0]).success  # the race day is listed

    # Before any jump: nothing requested; each cell polled once to learn its first jump, then not again.
    assert auto.tick(results_sensor).run_requests in (None, [])
    polls = meeting_polls(auto)
    assert polls == 3
    assert auto.tick(results_sensor).run_requests in (None, [])
    assert meeting_polls(auto) == polls

    # Sandown's first race time passes: abandoned overnight, recorded once, never polled again.
    auto.control.set_clock("2026-03-07T01:05:00Z")
    sandown = auto.tick(results_sensor)
    assert run_keys(sandown) == [f"results:{SANDOWN}:0:1"]

    # Flemington R1 has jumped but is not resulted yet ("Closed"): nothing to fetch.
    auto.control.set_clock("2026-03-07T01:17:00Z")
    assert auto.tick(results_sensor).run_requests in (None, [])
    # Its result is declared: one request, and the next tick asks nothing more.
    auto.control.set_clock("2026-03-07T01:21:00Z")
    first_result = auto.tick(results_sensor)
    assert run_keys(first_result) == [f"results:{FLEMINGTON}:1:0"]
    assert auto.tick(results_sensor).run_requests in (None, [])

    # Every race run: the last results of each cell; every cell is settled.
    polls = meeting_polls(auto)
    auto.control.set_clock(AFTER_MEETING)
    final = auto.tick(results_sensor)
    assert run_keys(final) == [f"results:{FLEMINGTON}:3:0", f"results:{ROSEHILL}:1:0"]
    assert meeting_polls(auto) == polls + 2  # the abandoned Sandown is not polled
    assert {r.job_name for r in final.run_requests} == {"results_job"}

    # The day is closed only once its results runs have stored their results, on a later tick.
    assert auto.tick(results_sensor).run_requests in (None, [])
    for request in [*sandown.run_requests, *first_result.run_requests, *final.run_requests]:
        assert auto.run(request).success
    # A results run of the day not started yet (another instigator's) holds the closing back too.
    queued = auto.instance.add_run(
        dg.DagsterRun(
            job_name="results_job",
            run_id=make_new_run_id(),
            status=dg.DagsterRunStatus.NOT_STARTED,
            tags={"dagster/partition": ROSEHILL, "dagster/partition/date": DAY},
        )
    )
    assert auto.tick(results_sensor).run_requests in (None, [])
    auto.instance.delete_run(queued.run_id)
    assert run_keys(auto.tick(results_sensor)) == [f"close:{DAY}"]
    assert auto.tick(results_sensor).run_requests in (None, [])

    # The results runs landed Flemington's results in DuckDB.
    results = auto.platform.rows("results")
    assert set(results[results["venue_slug"] == "flemington"]["race_number"]) == {1, 2, 3}


def test_a_meeting_without_races_is_settled_withdrawn_once_its_day_is_over(automation_for, tiny_world):
    # Rosehill's races are withdrawn from the source: its meeting stays listed, with no race.
    withdrawn = tiny_world.races["meet_code"] == "5100005"
    entries = tiny_world.entries[
        ~tiny_world.entries["race_code"].isin(tiny_world.races[withdrawn]["race_code"])
    ]
    world = dataclasses.replace(tiny_world, races=tiny_world.races[~withdrawn], entries=entries)
    auto = automation_for(world, RACE_MORNING)
    assert auto.run(auto.tick(new_meetings_sensor).run_requests[0]).success

    auto.control.set_clock(AFTER_MEETING)  # the day's other meetings are done, the day is not over
    requests = list(auto.tick(results_sensor).run_requests)
    assert json.loads(auto.cursors["results_sensor"])["cells"][ROSEHILL]["settled"] is None
    for request in requests:
        assert auto.run(request).success
    assert f"close:{DAY}" not in run_keys(auto.tick(results_sensor))

    auto.control.set_clock("2026-03-07T13:30:00Z")  # 00:30 on 8 March in Sydney: the day is over
    assert run_keys(auto.tick(results_sensor)) == [f"close:{DAY}"]
    settled = json.loads(auto.cursors["results_sensor"])["cells"][ROSEHILL]["settled"]
    assert settled.startswith("withdrawn")


def test_an_outage_while_results_land_loses_nothing_and_the_next_tick_catches_up(automation_for, tiny_world):
    auto = automation_for(tiny_world, RACE_MORNING)
    assert auto.run(auto.tick(new_meetings_sensor).run_requests[0]).success
    auto.tick(results_sensor)
    before = auto.cursors["results_sensor"]

    auto.control.set_clock(AFTER_MEETING)
    auto.control.queue_faults(
        [{"kind": "status", "status": 503, "retry_after": 120}],
        match={"operation": "Races", "variables": {"meetCode": "5100002"}},
    )
    outage = auto.tick(results_sensor)
    # Flemington, the first cell, was not seen: polling stopped there and every entry is the one before.
    assert outage.run_requests in (None, [])
    assert "racing.com unavailable" in outage.skip_reason.skip_message
    assert "503" in outage.skip_reason.skip_message
    assert json.loads(auto.cursors["results_sensor"]) == json.loads(before)

    caught_up = auto.tick(results_sensor)
    assert f"results:{FLEMINGTON}:3:0" in run_keys(caught_up)
    assert f"close:{DAY}" not in run_keys(caught_up)  # not before its results runs landed


def test_a_race_never_resulted_is_given_up_with_a_warning_not_polled_forever(
    automation_for, tiny_world, caplog
):
    # Rosehill's result never comes: the meeting is called off long after its race ("Closed" for ever).
    meetings = tiny_world.meetings.copy()
    rosehill = meetings["meet_code"] == "5100005"
    meetings.loc[rosehill, "abandoned"] = True
    meetings.loc[rosehill, "abandoned_at"] = pd.Timestamp(LATER)
    auto = automation_for(dataclasses.replace(tiny_world, meetings=meetings), RACE_MORNING)
    assert auto.run(auto.tick(new_meetings_sensor).run_requests[0]).success
    auto.tick(results_sensor)

    auto.control.set_clock("2026-03-07T09:00:00Z")  # 5 h after Rosehill's jump: still waiting
    waiting = auto.tick(results_sensor)
    assert f"close:{DAY}" not in run_keys(waiting)
    assert json.loads(auto.cursors["results_sensor"])["cells"][ROSEHILL]["settled"] is None
    for request in waiting.run_requests:  # Sandown's and Flemington's results land
        assert auto.run(request).success

    auto.control.set_clock("2026-03-07T10:30:00Z")  # 6.5 h after it
    given_up = auto.tick(results_sensor)
    settled = json.loads(auto.cursors["results_sensor"])["cells"][ROSEHILL]["settled"]
    assert settled.startswith("given up") and "5100005 R1" in settled
    assert run_keys(given_up) == [f"close:{DAY}"]
    polls = meeting_polls(auto)
    assert auto.tick(results_sensor).run_requests in (None, [])
    assert meeting_polls(auto) == polls  # every cell settled: nothing polled any more
