"""late_changes_sensor on a generated race day: a late scratching re-prices the cell, the old prices stay."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from racing_platform.cards.sensors import late_changes_sensor
from racing_platform.partitions import VENUE_DIMENSION
from racing_platform.source.sensors import new_meetings_sensor
from racing_platform_tests.automation.conftest import run_keys
from racing_platform_tests.features.generated_history import RACE_DAY, session_history


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
