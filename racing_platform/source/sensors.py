"""`new_meetings_sensor`: a tracked meeting racing.com lists is listed, then its cell priced, unasked.

Two stages, one cursor (docs/automation.md):

A. racing.com's listing of the window's days (today .. today + LOOKAHEAD_DAYS that are `date` partitions
   now; one `GetMeetingByDate` a day) against the day's stored `meetings` record: a day whose tracked
   meet codes differ from the stored ones gets a `meetings_job` run (run key
   `meetings:<day>:<signature>:<n>`, n counting the day's requests so a listing that comes back is
   requested again), and the venues not yet partitions are added in the same tick. A listing already
   requested is requested again only once its run finished without storing it (failed, cancelled),
   at most MAX_ATTEMPTS times. A day whose tracked meetings all went while some are stored is listed
   again too, so its stale cells stop being watched.
B. the instance's `meetings` materializations of those days after the stored storage id: each tracked
   venue of the day not yet requested gets a `price_cell_job` run for its cell (run key
   `price:<cell>`). A cell is priced only once `meetings` holds its day (raw_race_cards reads it). A
   first pricing whose run failed is requested again (`price:<cell>:<attempt>`), at most MAX_ATTEMPTS
   runs in all.

After MAX_ATTEMPTS failed runs the sensor logs a warning and leaves the day or cell to a person
(docs/runbooks/sensor-stuck-or-skipping.md): retrying a bug forever would only hide it.

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
from racing_platform.source.watch import (
    LOOKAHEAD_DAYS,
    MAX_ATTEMPTS,
    MEETINGS_ASSET,
    days_from,
    newest_run,
    partition_days,
    stored_cells,
    tick_id,
    tracked_listing,
)

NEW_MEETINGS_INTERVAL_S = 10
"""Listing seen -> meetings run -> next tick prices: two ticks and two runs inside the 60 s target."""
MATERIALIZATIONS_PER_TICK = 200
"""At most this many `meetings` records read a tick; the rest wait for the next (the cursor says where)."""


@dataclass
class NewMeetingsCursor:
    """What was requested, for the days in the window only, and where the event log was read up to."""

    listings: dict[str, str] = field(default_factory=dict)
    """day -> signature of the tracked meet codes a `meetings_job` run was last requested for."""
    listing_runs: dict[str, int] = field(default_factory=dict)
    """day -> `meetings_job` runs requested for it (the run key's counter)."""
    listing_attempts: dict[str, int] = field(default_factory=dict)
    """day -> runs requested for its current signature, while that listing is not stored."""
    priced: dict[str, list[str]] = field(default_factory=dict)
    """day -> venues whose cell got a `price_cell_job` run."""
    pricing: dict[str, int] = field(default_factory=dict)
    """cell -> first-pricing runs requested, while none is known to have succeeded."""
    meetings_after: int | None = None
    """Storage id of the last `meetings` materialization read."""

    @classmethod
    def parse(cls, raw: str | None) -> NewMeetingsCursor:
        return cls(**json.loads(raw)) if raw else cls()

    def dump(self, first_day: date) -> str:
        """The cursor without days before the window: its size does not grow with the season."""
        keep = first_day.isoformat()

        def recent(entries: dict) -> dict:
            return {k: v for k, v in sorted(entries.items()) if k >= keep}

        return json.dumps(
            {
                "listings": recent(self.listings),
                "listing_runs": recent(self.listing_runs),
                "listing_attempts": recent(self.listing_attempts),
                "priced": recent(self.priced),
                "pricing": recent(self.pricing),
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
    days = partition_days(days_from(today, LOOKAHEAD_DAYS + 1))
    stored: dict[str, list[str]] = {}
    for cell, codes in stored_cells(instance, days).items():
        stored.setdefault(cell.meeting_date.isoformat(), []).extend(codes)
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
            if tuple(sorted(stored.get(key, []))) == listing.meet_codes:
                state.listings[key] = listing.signature
                state.listing_attempts.pop(key, None)
                continue
            if state.listings.get(key) == listing.signature:
                run = newest_run(instance, meetings_job.name, key)
                attempt = next_attempt(run, meetings_job.name, key, state.listing_attempts, log)
                if attempt is None:
                    continue
            else:
                attempt = 1
            new_venues += [v for v in listing.venues if v not in known]
            known.update(listing.venues)
            runs = state.listing_runs[key] = state.listing_runs.get(key, 0) + 1
            trigger = "new tracked meeting" if attempt == 1 else f"listing not stored, attempt {attempt}"
            requests.append(
                dg.RunRequest(
                    job_name=meetings_job.name,
                    partition_key=key,
                    run_key=f"meetings:{key}:{listing.signature}:{runs}",
                    tags={"racing/trigger": trigger},
                )
            )
            state.listings[key] = listing.signature
            state.listing_attempts[key] = attempt
    requests += cells_to_price(instance, days, state)
    requests += failed_pricings(instance, days, state, log)
    partition_adds = [venues.build_add_request(new_venues)] if new_venues else []
    if outage is not None:
        log.warning(
            f"new_meetings_sensor: racing.com unavailable, unpolled days kept for the next tick: {outage}"
        )
    first_day = days[0] if days else today
    if not requests:
        reason = f"racing.com unavailable: {outage}" if outage else "no new tracked meeting or stored listing"
        return dg.SensorResult(skip_reason=reason, cursor=state.dump(first_day))
    return dg.SensorResult(
        run_requests=requests, dynamic_partitions_requests=partition_adds, cursor=state.dump(first_day)
    )


def next_attempt(
    run: dg.DagsterRun | None, job_name: str, partition: str, attempts: dict[str, int], log: logging.Logger
) -> int | None:
    """The next attempt for a partition whose requested run (`run`, its newest) finished without doing
    its work, or None.

    None while that run is queued or in progress (or not launched yet), and once MAX_ATTEMPTS runs
    failed: the partition is then marked given up (MAX_ATTEMPTS + 1) with one warning, left to a person.
    """
    if run is None or not run.is_finished:
        return None
    done = attempts.get(partition, 1)
    if done >= MAX_ATTEMPTS:
        if done == MAX_ATTEMPTS:
            log.warning(
                f"new_meetings_sensor: {job_name} for {partition} ended {run.status.value} after {done} "
                f"attempts (last run {run.run_id}); not retried: docs/runbooks/sensor-stuck-or-skipping.md"
            )
            attempts[partition] = MAX_ATTEMPTS + 1
        return None
    return done + 1


def cells_to_price(
    instance: dg.DagsterInstance, days: list[date], state: NewMeetingsCursor
) -> list[dg.RunRequest]:
    """Stage B: the window's `meetings` records after the cursor -> their tracked cells not yet requested."""
    if not days:
        return []
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
            requests.append(_price_request(cell, 1))
            priced.append(venue)
            state.pricing[str(cell)] = 1
        state.meetings_after = record.storage_id
    return requests


def failed_pricings(
    instance: dg.DagsterInstance, days: list[date], state: NewMeetingsCursor, log: logging.Logger
) -> list[dg.RunRequest]:
    """The cells whose first pricing is pending: dropped once a run succeeded, requested again if it failed.

    One newest-run read per pending cell (limit 1): only cells requested and not yet priced are read.
    """
    window = {d.isoformat() for d in days}
    requests = []
    for key in sorted(state.pricing):
        cell = Cell.from_key(key)
        run = newest_run(instance, price_cell_job.name, key)
        if cell.meeting_date.isoformat() not in window or (
            run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        ):
            del state.pricing[key]
            continue
        attempt = next_attempt(run, price_cell_job.name, key, state.pricing, log)
        if attempt is not None:
            requests.append(_price_request(cell, attempt))
            state.pricing[key] = attempt
    return requests


def _price_request(cell: Cell, attempt: int) -> dg.RunRequest:
    return dg.RunRequest(
        job_name=price_cell_job.name,
        partition_key=str(cell.key),
        run_key=f"price:{cell}" if attempt == 1 else f"price:{cell}:{attempt}",
        tags={"racing/trigger": "meeting listed" if attempt == 1 else f"pricing failed, attempt {attempt}"},
    )


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
