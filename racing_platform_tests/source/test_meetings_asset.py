"""The `meetings` asset over real HTTP: null flags, renamed, recoded, conflicting and unknown venues.

The listing is the replay endpoint's (built from the recorded racing.com answers: Flemington and Royal
Randwick on 2026-03-07, Rosehill Gardens on 2026-03-21), mutated per test as racing.com might send it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import dagster as dg
import pandas as pd
import pytest

from racing_platform.partitions import VENUE_DIMENSION
from racing_platform.source.assets import meetings
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.replay.server import RunningReplay, running_replay

DAY = "2026-03-07"
ROSEHILL_DAY = "2026-03-21"


@dataclass
class Listing:
    replay: RunningReplay
    instance: dg.DagsterInstance
    warehouse: Warehouse

    def edit(self, edit_meetings: Callable[[list[dict]], None]) -> None:
        """Serve the listing with `edit_meetings` applied to its GetMeetingByDate rows."""

        def mutation(payload: dict) -> dict:
            edit_meetings(payload["data"]["GetMeetingByDate"])
            return payload

        self.replay.endpoint.recordings.mutate("meetings", mutation)

    def materialize(self, day: str = DAY) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [meetings],
            partition_key=day,
            instance=self.instance,
            resources={
                "racing_com": RacingComResource(graphql_url=self.replay.url),
                "warehouse": self.warehouse,
            },
            raise_on_error=False,
        )

    def stored(self) -> pd.DataFrame:
        return self.warehouse.query("SELECT * FROM meetings ORDER BY meet_code").set_index("meet_code")

    def venue_partitions(self) -> list[str]:
        return sorted(self.instance.get_dynamic_partitions(VENUE_DIMENSION))


@pytest.fixture
def listing(tmp_path, monkeypatch) -> Iterator[Listing]:
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path / "data"))
    with running_replay() as replay, dg.instance_for_test() as instance:
        yield Listing(replay, instance, Warehouse(database=str(tmp_path / "racing.duckdb")))


def _meeting(rows: list[dict], venue: str) -> dict:
    return next(row for row in rows if row["venue"] == venue)


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    events = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in events and events.count("STEP_FAILURE") == 1
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return failure.event_specific_data.error.message


def test_a_listing_with_null_trial_and_jumpout_flags_materializes(listing):
    def null_flags(rows):
        for row in rows:
            row["isTrial"] = row["isJumpOut"] = None

    listing.edit(null_flags)
    assert listing.materialize().success
    stored = listing.stored()
    assert len(stored) == 2 and stored["tracked"].all(), "a null flag does not make a meeting a trial"
    assert not stored["is_trial"].fillna(False).any() and not stored["is_jumpout"].fillna(False).any()
    assert listing.venue_partitions() == ["flemington", "royal-randwick"]


def test_a_renamed_and_recoded_venue_keeps_its_partition(listing):
    assert listing.materialize().success
    assert listing.venue_partitions() == ["flemington", "royal-randwick"]

    def renamed(rows):
        _meeting(rows, "Flemington").update(venue="VRC Flemington Racecourse", venueName="VRC Flemington")
        _meeting(rows, "Royal Randwick").update(venue="Randwick", venueName="Randwick", venueCode="9348")

    listing.edit(renamed)
    result = listing.materialize()
    assert result.success
    assert listing.venue_partitions() == ["flemington", "royal-randwick"], "no second partition"
    stored = listing.stored()
    assert sorted(stored["venue_slug"]) == ["flemington", "royal-randwick"]
    assert sorted(stored["venue"]) == ["Flemington", "Royal Randwick"]  # the registry's names
    assert result.asset_materializations_for_node("meetings")[0].metadata["new_venues"].value == []


def test_a_name_of_one_venue_with_the_code_of_another_fails_at_once_naming_both(listing):
    assert listing.materialize().success
    before = listing.stored()
    listing.edit(lambda rows: _meeting(rows, "Flemington").update(venueCode="348"))  # Royal Randwick's
    started = time.monotonic()
    result = listing.materialize()
    assert not result.success and time.monotonic() - started < 10
    message = _failure_message(result)
    assert f"meetings [{DAY}]" in message and "meeting 5193238" in message and "field 'venue'" in message
    assert "the name is Flemington" in message and "the code is Royal Randwick" in message
    pd.testing.assert_frame_equal(listing.stored(), before)
    assert listing.venue_partitions() == ["flemington", "royal-randwick"]


@pytest.mark.parametrize(
    ("state", "zone", "partitions"),
    [
        ("NSW", "Australia/Sydney", ["hypothetical-downs"]),
        ("WA", "Australia/Perth", []),  # the answer's state, outside the platform's scope (VIC, NSW)
        (None, None, []),
    ],
)
def test_an_unknown_venue_takes_state_and_zone_from_the_answer(listing, state, zone, partitions):
    def unknown(rows):
        rows[:] = [_meeting(rows, "Rosehill Gardens")]
        rows[0].update(
            venue="Picklebet Park Hypothetical Downs", venueName=None, venueCode="990001", state=state
        )

    listing.edit(unknown)
    assert listing.materialize(ROSEHILL_DAY).success
    row = listing.stored().iloc[0]
    assert row["venue_slug"] == "hypothetical-downs" and row["tier"] == "unknown"
    assert [None if pd.isna(row[c]) else row[c] for c in ("state", "timezone")] == [state, zone]
    assert bool(row["tracked"]) is bool(partitions), "tracked only when the answer gives a state in scope"
    assert listing.venue_partitions() == partitions
