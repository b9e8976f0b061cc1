"""late_changes_sensor on a generated race day: a late scratching re-prices the cell, the old prices stay."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import pandas as pd
import pytest
from dagster._core.utils import make_new_run_id

from racing_platform.cards.sensors import late_changes_sensor
from racing_platform.partitions import VENUE_DIMENSION
from racing_platform.predictions.pricing import CARD_COLUMNS
from racing_platform.source.parsers import RACES_FOR_MEET, parse_response
from racing_platform.source.sensors import new_meetings_sensor
from racing_platform.source.watch import FIELD_COLUMNS, field_signature
from racing_platform_tests.automation.conftest import run_keys
from racing_platform_tests.features.generated_history import RACE_DAY, session_history
from racing_platform_tests.worlds import RACE_MORNING

FLEMINGTON = "2026-03-07|flemington"


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return session_history(tmp_path_factory)


def first_late_scratching(world) -> tuple[str, pd.Timestamp]:
    """The race day's earliest scratching made after final fields and before its meeting's first race."""
    meetings = world.meetings[world.meetings["meeting_date"] == RACE_DAY]
    races = world.races.merge(meetings[["meet_code", "venue_code", "final_fields_at"]], on="meet_code")
    first_jump = races.groupby("meet_code")["start_time_utc"].transform("min")
    entries = world.entries.merge(races.assign(first_jump=first_jump), on="race_code")
    late = entries[
        (entries["scratched_at"] > entries["final_fields_at"])
        & (entries["scratched_at"] < entries["first_jump"])
    ]
    scratching = late.sort_values("scratched_at").iloc[0]
    venue = world.venues.set_index("venue_code").loc[scratching["venue_code"], "slug"]
    return f"{RACE_DAY}|{venue}", scratching["scratched_at"]


def test_a_scratching_reprices_the_cell_and_keeps_the_old_snapshot(automation_for, history):
    cell, scratched_at = first_late_scratching(history.world)
    auto = automation_for(history.world, (scratched_at - pd.Timedelta(minutes=1)).isoformat())
    shutil.copyfile(history.database, auto.platform.warehouse.database)

    listing = [r for r in auto.tick(new_meetings_sensor).run_requests if r.partition_key == str(RACE_DAY)]
    assert auto.run(listing[0]).success
    assert auto.instance.get_dynamic_partitions(VENUE_DIMENSION)

    # Seen before its first pricing: recorded, nothing requested (that pricing reads the same field).
    assert auto.tick(late_changes_sensor).run_requests in (None, [])
    pricing = [r for r in auto.tick(new_meetings_sensor).run_requests if r.run_key == f"price:{cell}"]
    assert auto.run(pricing[0]).success
    first = auto.platform.rows("predictions")
    assert first["predicted_at"].nunique() == 1
    assert auto.tick(late_changes_sensor).run_requests in (None, [])

    auto.control.advance(120)  # the scratching is published
    changed = auto.tick(late_changes_sensor)
    assert [r.job_name for r in changed.run_requests] == ["price_cell_job"]
    assert run_keys(changed)[0].startswith(f"reprice:{cell}:")
    assert auto.tick(late_changes_sensor).run_requests in (None, [])

    assert auto.run(changed.run_requests[0]).success
    snapshots = auto.platform.rows("predictions")
    assert snapshots["predicted_at"].nunique() == 2
    old = snapshots[snapshots["predicted_at"] == first["predicted_at"].iloc[0]]
    pd.testing.assert_frame_equal(old.reset_index(drop=True), first.reset_index(drop=True))


def test_a_field_that_returns_to_an_earlier_state_is_still_a_new_run(automation_for, tiny_world):
    auto = automation_for(tiny_world, RACE_MORNING)
    assert auto.run(auto.tick(new_meetings_sensor).run_requests[0]).success
    assert auto.tick(late_changes_sensor).run_requests in (None, [])  # first seen before any pricing

    keys = []
    for _change in range(2):  # the field seen last tick differs from the source's, twice in the same way
        cursor = json.loads(auto.cursors["late_changes_sensor"])
        cursor["fields"][FLEMINGTON]["5100002"] = "an earlier field"
        auto.cursors["late_changes_sensor"] = json.dumps(cursor)
        keys += run_keys(auto.tick(late_changes_sensor))
    assert len(keys) == 2 and len(set(keys)) == 2  # the same run key twice would be dropped by Dagster
    assert all(k.startswith(f"reprice:{FLEMINGTON}:") for k in keys)


def test_a_meeting_first_seen_while_its_pricing_reads_the_source_is_seen_again(automation_for, tiny_world):
    auto = automation_for(tiny_world, RACE_MORNING)
    assert auto.run(auto.tick(new_meetings_sensor).run_requests[0]).success
    reading = auto.instance.add_run(
        dg.DagsterRun(
            job_name="price_cell_job",
            run_id=make_new_run_id(),
            status=dg.DagsterRunStatus.STARTED,
            tags={"dagster/partition": FLEMINGTON},
        )
    )
    assert auto.tick(late_changes_sensor).run_requests in (None, [])
    # Not recorded: that pricing may have read the field before this tick saw it.
    assert "5100002" not in json.loads(auto.cursors["late_changes_sensor"])["fields"][FLEMINGTON]

    # The pricing ends (its prices stored); the meeting, first seen now, is re-priced over this field.
    auto.instance.delete_run(reading.run_id)
    auto.instance.report_runless_asset_event(dg.AssetMaterialization("predictions", partition=FLEMINGTON))
    assert [r.partition_key for r in auto.tick(late_changes_sensor).run_requests] == [FLEMINGTON]


def test_the_field_is_the_card_pricing_reads_plus_emergencies(automation_for, tiny_world):
    auto = automation_for(tiny_world, RACE_MORNING)
    assert set(CARD_COLUMNS) <= set(FIELD_COLUMNS) and "emergency" in FIELD_COLUMNS
    with auto.resources["racing_com"].session("test-field", where="test") as client:
        fetched = client.races_for_meet("5100002", full_field=True)
    runners = parse_response(
        fetched.payload,
        operation=RACES_FOR_MEET,
        variables=fetched.variables,
        context={"meet_code": "5100002"},
    ).runners
    # A weight or claim change (a rider's claim, a re-handicap) moves the prices: it is a field change.
    first = runners.index[0]
    for column, value in {
        "weight_kg": 70.5,
        "claim_kg": 3.0,
        "emergency": runners.loc[first, "emergency"] is not True,
        "jockey_code": "999999",
    }.items():
        changed = runners.copy()
        changed.loc[first, column] = value
        assert field_signature(changed) != field_signature(runners), column
