"""`new_meetings_sensor`: a tracked meeting racing.com lists is listed, then its cell priced, unasked.

Two stages, one cursor (docs/automation.md):

A. racing.com's listing of today .. today + LOOKAHEAD_DAYS (one `GetMeetingByDate` a day): a day whose
   tracked meet codes differ from the last ones requested gets a `meetings_job` run (run key
   `meetings:<day>:<signature>`), and the venues not yet partitions are added in the same tick.
B. the instance's `meetings` materializations of those days after the stored storage id: each tracked
   venue of the day not yet requested gets a `price_cell_job` run for its cell (run key
   `price:<cell>`). A cell is priced only once `meetings` holds its day (raw_race_cards reads it).

A source outage (a transient fault) ends stage A where it happened: the days not polled keep their
old signature, so the next tick requests them; the tick says which fault. Anything else (a parse
error, a rejected key) is an error tick: Dagster keeps the previous cursor.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from racing_platform.jobs import meetings_job, price_cell_job
from racing_platform.lib.failures import TransientFault
from racing_platform.partitions import VENUE_DIMENSION, Cell, venues
from racing_platform.resources import default_sensor_status
from racing_platform.source.clock import RaceClock
from racing_platform.source.resource import RacingComResource
from racing_platform.source.watch import LOOKAHEAD_DAYS, MEETINGS_ASSET, days_from, tick_id, tracked_listing

NEW_MEETINGS_INTERVAL_S = 10
"""Listing seen -> meetings run -> next tick prices: two ticks and two runs inside the 60 s target."""
MATERIALIZATIONS_PER_TICK = 200
"""At most this many `meetings` records read a tick; the rest wait for the next (the cursor says where)."""


@dataclass
class NewMeetingsCursor:
    """What was requested, for the days in the window only, and where the event log was read up to."""

    listings: dict[str, str] = field(default_factory=dict)
    """day -> signature of the tracked meet codes a `meetings_job` run was requested for."""
    priced: dict[str, list[str]] = field(default_factory=dict)
    """day -> venues whose cell got a `price_cell_job` run."""
    meetings_after: int | None = None
    """Storage id of the last `meetings` materialization read."""

    @classmethod
    def parse(cls, raw: str | None) -> NewMeetingsCursor:
        return cls(**json.loads(raw)) if raw else cls()

    def dump(self, first_day: date) -> str:
        """The cursor without days before the window: its size does not grow with the season."""
        keep = first_day.isoformat()
        return json.dumps(
            {
                "listings": {d: s for d, s in sorted(self.listings.items()) if d >= keep},
                "priced": {d: v for d, v in sorted(self.priced.items()) if d >= keep},
                "meetings_after": self.meetings_after,
            },
            sort_keys=True,
        )


def check_new_meetings(
    instance: dg.DagsterInstance,
    racing_com: RacingComResource,
    race_clock: RaceClock,
    cursor: str | None,
    log: logging.Logger,
) -> dg.SensorResult:
    state = NewMeetingsCursor.parse(cursor)
    try:
        today = race_clock.today()
    except TransientFault as exc:
        return dg.SensorResult(skip_reason=f"race clock unavailable, nothing polled: {exc}", cursor=cursor)
    days = days_from(today, LOOKAHEAD_DAYS + 1)
    requests: list[dg.RunRequest] = []
    known = set(instance.get_dynamic_partitions(VENUE_DIMENSION))
    new_venues: list[str] = []
    outage: TransientFault | None = None
    with racing_com.session(tick_id("new_meetings_sensor"), where="new_meetings_sensor") as client:
        for day in days:
            try:
                listing = tracked_listing(client, day)
            except TransientFault as exc:  # the days from here on keep their old signature
                outage = exc
                break
            key = day.isoformat()
            if not listing.meet_codes or state.listings.get(key) == listing.signature:
                continue
            new_venues += [v for v in listing.venues if v not in known]
            known.update(listing.venues)
            requests.append(
                dg.RunRequest(
                    job_name=meetings_job.name,
                    partition_key=key,
                    run_key=f"meetings:{key}:{listing.signature}",
                    tags={"racing/trigger": "new tracked meeting"},
                )
            )
            state.listings[key] = listing.signature
    requests += cells_to_price(instance, days, state)
    partition_adds = [venues.build_add_request(new_venues)] if new_venues else []
    if outage is not None:
        log.warning(
            f"new_meetings_sensor: racing.com unavailable, unpolled days kept for the next tick: {outage}"
        )
    if not requests:
        reason = f"racing.com unavailable: {outage}" if outage else "no new tracked meeting or stored listing"
        return dg.SensorResult(skip_reason=reason, cursor=state.dump(days[0]))
    return dg.SensorResult(
        run_requests=requests, dynamic_partitions_requests=partition_adds, cursor=state.dump(days[0])
    )


def cells_to_price(
    instance: dg.DagsterInstance, days: list[date], state: NewMeetingsCursor
) -> list[dg.RunRequest]:
    """Stage B: the window's `meetings` records after the cursor -> their tracked cells not yet requested."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=MEETINGS_ASSET,
            asset_partitions=[d.isoformat() for d in days],
            after_storage_id=state.meetings_after,
        ),
        limit=MATERIALIZATIONS_PER_TICK,
        ascending=True,
    ).records
    requests = []
    for record in records:
        key = record.partition_key
        listed = record.asset_materialization.metadata.get("tracked_venues")
        priced = state.priced.setdefault(key, [])
        for venue in listed.value if listed is not None else []:
            if venue in priced:
                continue
            cell = Cell(date.fromisoformat(key), venue)
            requests.append(
                dg.RunRequest(
                    job_name=price_cell_job.name,
                    partition_key=str(cell.key),
                    run_key=f"price:{cell}",
                    tags={"racing/trigger": "meeting listed"},
                )
            )
            priced.append(venue)
        state.meetings_after = record.storage_id
    return requests


@dg.sensor(
    name="new_meetings_sensor",
    jobs=[meetings_job, price_cell_job],
    minimum_interval_seconds=NEW_MEETINGS_INTERVAL_S,
    default_status=default_sensor_status(),
    description="Lists each day (today and the next days) whose tracked meetings changed, then prices each "
    "new tracked cell once its day is listed (racing_platform/source/sensors.py).",
)
def new_meetings_sensor(
    context: dg.SensorEvaluationContext, racing_com: RacingComResource, race_clock: RaceClock
) -> dg.SensorResult:
    return check_new_meetings(context.instance, racing_com, race_clock, context.cursor, context.log)
