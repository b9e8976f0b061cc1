"""What the sensors poll, as plain functions the sensors and their tests both call.

Three facts, each computed here once: the tracked meetings racing.com lists for a day (and a signature
of them), a meeting's field (a signature of who runs, from which barrier, under which jockey) and its
race states (jumped, resulted, abandoned). One whole-meeting call (`getRacesForMeet` with every runner)
gives both of the latter. The cells a sensor watches come from the instance, not the warehouse: the
latest `meetings` materialization of each day names its tracked venues and meet codes, one bounded
event-log read per day (a sensor never opens the DuckDB file a run may be writing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd

from racing_platform.partitions import Cell, racing_days
from racing_platform.predictions.pricing import CARD_COLUMNS
from racing_platform.settings import load_settings
from racing_platform.source.assets import list_meetings, tracked_meet_codes
from racing_platform.source.client import RacingComClient
from racing_platform.source.parsers import RACES_FOR_MEET, TABLE_COLUMNS, parse_response

MEETINGS_ASSET = dg.AssetKey("meetings")
LOOKAHEAD_DAYS = load_settings().end_offset_days
"""Days after today new_meetings_sensor considers (fields are published days ahead). Only those that are
`date` partitions now are polled (`partition_days`): Dagster's window runs on the wall clock and with
`end_offset=N` ends at the wall clock's today + N - 1, so on the wall clock the last day is dropped."""
MAX_ATTEMPTS = 3
"""Runs a sensor requests for one piece of work whose runs fail; then it logs and leaves it to a person."""
ABANDONED = "Abandoned"
FIELD_COLUMNS = [c for c in CARD_COLUMNS if c in TABLE_COLUMNS["runners"]] + ["emergency"]
"""What makes a field, the card pricing reads (predictions/pricing.py CARD_COLUMNS: runner, draw,
weights, jockey, scratching) plus who is an emergency: a change to any of these re-prices the meeting
(odds are not the field). Only the card columns a whole-meeting parse has (today: all of them)."""


def days_from(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def day_end(day: date) -> datetime:
    """Midnight after `day` in the partitions' time zone: every meeting of the day is over."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(load_settings().timezone))


def partition_days(days: Iterable[date]) -> list[date]:
    """The `days` that are `date` partition keys now, the only days a run may be requested for.

    Dagster decides which partitions exist by the wall clock, whatever the race clock says: a request
    for a day past the window's end fails the whole tick (DagsterUnknownPartitionError).
    """
    return [day for day in days if racing_days.has_partition_key(day.isoformat())]


def newest_run(instance: dg.DagsterInstance, job_name: str, partition: str) -> dg.DagsterRun | None:
    """The newest run of `job_name` for one partition (one bounded read: limit 1, by partition tag)."""
    runs = instance.get_runs(dg.RunsFilter(job_name=job_name, tags={"dagster/partition": partition}), limit=1)
    return runs[0] if runs else None


def tick_id(sensor_name: str) -> str:
    """The source client's run id for one tick: its request budget and its archive entries' owner."""
    return f"sensor-{sensor_name}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"


def short_hash(values: Iterable[object]) -> str:
    return hashlib.sha256(json.dumps(list(values), default=str).encode()).hexdigest()[:12]


# ----------------------------------------------------------------------------------------- listings


@dataclass(frozen=True)
class TrackedListing:
    """The tracked meetings racing.com lists for a day, by meet code and venue."""

    day: date
    meet_codes: tuple[str, ...]
    venues: tuple[str, ...]

    @property
    def signature(self) -> str:
        """Changes when a tracked meeting is added to or removed from the day."""
        return short_hash(self.meet_codes)


def tracked_listing(client: RacingComClient, day: date) -> TrackedListing:
    """One `GetMeetingByDate` call: the day's tracked meetings (the platform's scope, list_meetings)."""
    by_venue = tracked_meet_codes(list_meetings(client, day))
    return TrackedListing(
        day=day,
        meet_codes=tuple(sorted(code for codes in by_venue.values() for code in codes)),
        venues=tuple(sorted(by_venue)),
    )


def stored_cells(instance: dg.DagsterInstance, days: Sequence[date]) -> dict[Cell, tuple[str, ...]]:
    """The tracked cells of `days` whose `meetings` are materialized, with their meet codes.

    One newest-first read of one partition per day (limit 1): the cost does not grow with history.
    """
    cells: dict[Cell, tuple[str, ...]] = {}
    for day in days:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=MEETINGS_ASSET, asset_partitions=[day.isoformat()]), limit=1
        ).records
        if not records:
            continue
        metadata = records[0].asset_materialization.metadata
        by_venue = metadata.get("tracked_meet_codes")
        for venue, codes in (by_venue.value if by_venue is not None else {}).items():
            cells[Cell(day, venue)] = tuple(codes)
    return cells


# ----------------------------------------------------------------------------------------- meetings


@dataclass(frozen=True)
class RaceState:
    race_number: int
    status: str
    start_time_utc: pd.Timestamp
    resulted: bool
    """The source reports the race's placings (its results rows), not merely a status after the jump."""

    @property
    def abandoned(self) -> bool:
        return self.status == ABANDONED


@dataclass(frozen=True)
class MeetingWatch:
    """One poll of a meeting: the signature of its field and the state of each race."""

    meet_code: str
    field_signature: str
    runners: int
    races: tuple[RaceState, ...]

    @property
    def resulted(self) -> int:
        return sum(r.resulted for r in self.races)

    @property
    def abandoned(self) -> int:
        return sum(r.abandoned and not r.resulted for r in self.races)

    @property
    def first_jump(self) -> pd.Timestamp | None:
        starts = [r.start_time_utc for r in self.races if not pd.isna(r.start_time_utc)]
        return min(starts) if starts else None

    def all_jumped(self, now: datetime) -> bool:
        """Every race jumped or abandoned: the field can no longer change anything priced."""
        return bool(self.races) and all(
            r.abandoned or (not pd.isna(r.start_time_utc) and r.start_time_utc <= now) for r in self.races
        )

    def unsettled(self) -> list[RaceState]:
        return [r for r in self.races if not (r.resulted or r.abandoned)]


def watch_meeting(client: RacingComClient, meet_code: str) -> MeetingWatch:
    """One whole-meeting call (`getRacesForMeet`, every runner nested), parsed by the platform's parser."""
    fetched = client.races_for_meet(meet_code, full_field=True)
    parsed = parse_response(
        fetched.payload,
        operation=RACES_FOR_MEET,
        variables=fetched.variables,
        context={"meet_code": str(meet_code)},
    )
    resulted = set(parsed.results["race_number"].astype(int)) if len(parsed.results) else set()
    races = tuple(
        RaceState(
            race_number=int(race.race_number),
            status=str(race.race_status),
            start_time_utc=pd.Timestamp(race.start_time_utc),
            resulted=int(race.race_number) in resulted,
        )
        for race in parsed.races.sort_values("race_number").itertuples(index=False)
    )
    return MeetingWatch(
        meet_code=str(meet_code),
        field_signature=field_signature(parsed.runners),
        runners=len(parsed.runners),
        races=races,
    )


def field_signature(runners: pd.DataFrame) -> str:
    """A hash of the field (FIELD_COLUMNS), in race and saddlecloth order."""
    if runners.empty:
        return short_hash([])
    rows = runners[FIELD_COLUMNS].sort_values(["race_code", "saddlecloth"])
    return short_hash(rows.astype(str).itertuples(index=False, name=None))
