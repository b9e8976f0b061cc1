"""`late_changes_sensor` re-prices a cell whose field changed; `results_sensor` fetches results as they land.

Both watch the cells whose `meetings` are materialized (source/watch.py `stored_cells`: one bounded
event-log read per day) and poll each meeting with one whole-meeting call (`watch_meeting`). A source
outage (a transient fault) stops the tick's polling where it happened: the cells not polled keep their
cursor entry, so nothing seen is lost and the next tick catches up; the tick names the fault. Any
other error (a parse error, a rejected key) is an error tick, and Dagster keeps the previous cursor.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta

import dagster as dg

from racing_platform.jobs import close_day_job, price_cell_job, results_job
from racing_platform.lib.failures import TransientFault
from racing_platform.partitions import Cell
from racing_platform.resources import default_sensor_status
from racing_platform.source.clock import RaceClock, racing_day
from racing_platform.source.resource import RacingComResource
from racing_platform.source.watch import (
    MeetingWatch,
    day_end,
    days_from,
    newest_run,
    partition_days,
    short_hash,
    stored_cells,
    tick_id,
    watch_meeting,
)

LATE_CHANGES_INTERVAL_S = 30
LATE_CHANGE_DAYS = 2
"""Today and tomorrow: final fields (jockeys) and most scratchings come the day before or on the day."""
RESULTS_INTERVAL_S = 30
GIVE_UP_AFTER = timedelta(hours=6)
"""A race still without results this long after its jump is given up (logged), not polled forever."""
RESULTS_ASSET = dg.AssetKey("race_results")
JUMPED = "jumped"
"""A meeting whose races have all jumped (or were abandoned): its field no longer matters to a price."""


def _outage_result(sensor: str, outage: TransientFault | None, requests, cursor: str, log) -> dg.SensorResult:
    if outage is not None:
        log.warning(f"{sensor}: racing.com unavailable, unpolled cells kept for the next tick: {outage}")
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=cursor)
    reason = f"racing.com unavailable: {outage}" if outage else "nothing changed"
    return dg.SensorResult(skip_reason=reason, cursor=cursor)


# ------------------------------------------------------------------------------------- late changes


def check_late_changes(
    instance: dg.DagsterInstance,
    racing_com: RacingComResource,
    race_clock: RaceClock,
    cursor: str | None,
    log: logging.Logger,
) -> dg.SensorResult:
    """Cursor: {"fields": {cell: {meet_code: field signature or "jumped"}}, "changes": {cell: n}}, for the
    window's cells only.

    A cell is re-priced (run key `reprice:<cell>:<n>:<signature>`, n counting the cell's re-pricings, so
    a field that returns to an earlier state is still a new run) when a meeting's field differs from the one
    last seen, or when a meeting first seen here already has a runner field and the cell was priced
    before (its pricing may predate the field). A meeting first seen before its cell's first pricing
    started is only recorded: that pricing reads the field later. One first seen while a pricing of its
    cell is reading the source is not recorded (that pricing may have read an older field): the next
    tick sees it again.
    """
    state = json.loads(cursor) if cursor else {}
    seen_fields: dict[str, dict[str, str]] = state.get("fields", {})
    seen_changes: dict[str, int] = state.get("changes", {})
    try:
        now = race_clock.now()
    except TransientFault as exc:
        return dg.SensorResult(skip_reason=f"race clock unavailable, nothing polled: {exc}", cursor=cursor)
    cells = stored_cells(instance, partition_days(days_from(racing_day(now), LATE_CHANGE_DAYS)))
    fields: dict[str, dict[str, str]] = {}
    changes = {str(c): seen_changes[str(c)] for c in cells if str(c) in seen_changes}
    requests: list[dg.RunRequest] = []
    outage: TransientFault | None = None
    with racing_com.session(tick_id("late_changes_sensor"), where="late_changes_sensor") as client:
        for cell, meet_codes in sorted(cells.items()):
            key = str(cell)
            before = seen_fields.get(key, {})
            fields[key] = before
            if outage is not None:
                continue
            try:
                watches = [watch_meeting(client, c) for c in meet_codes if before.get(c) != JUMPED]
            except TransientFault as exc:
                outage = exc
                continue
            after = dict(before)
            changed = False
            pricing = None
            for watch in watches:
                signature = JUMPED if watch.all_jumped(now) else watch.field_signature
                if signature != JUMPED:
                    if watch.meet_code in before:
                        changed |= before[watch.meet_code] != signature
                    else:
                        pricing = pricing or _pricing_state(instance, cell)
                        if pricing == READING:
                            continue
                        changed |= watch.runners > 0 and pricing == PRICED
                after[watch.meet_code] = signature
            fields[key] = after
            if changed:
                changes[key] = changes.get(key, 0) + 1
                requests.append(
                    dg.RunRequest(
                        job_name=price_cell_job.name,
                        partition_key=str(cell.key),
                        run_key=f"reprice:{cell}:{changes[key]}:{short_hash(sorted(after.items()))}",
                        tags={"racing/trigger": "field changed"},
                    )
                )
    return _outage_result(
        "late_changes_sensor",
        outage,
        requests,
        json.dumps({"fields": fields, "changes": changes}, sort_keys=True),
        log,
    )


READING, PRICED, UNPRICED = "reading", "priced", "unpriced"
READING_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _pricing_state(instance: dg.DagsterInstance, cell: Cell) -> str:
    """READING while the cell's newest pricing run is running (it may have read an older field), else
    PRICED once `predictions` holds the cell, else UNPRICED (its first pricing has not started)."""
    run = newest_run(instance, price_cell_job.name, str(cell.key))
    if run is not None and run.status in READING_STATUSES:
        return READING
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("predictions"), asset_partitions=[str(cell.key)]), limit=1
    ).records
    return PRICED if records else UNPRICED


@dg.sensor(
    name="late_changes_sensor",
    job=price_cell_job,
    minimum_interval_seconds=LATE_CHANGES_INTERVAL_S,
    default_status=default_sensor_status(),
    description="Re-prices a listed cell of today or tomorrow when its field changes (scratching, "
    "emergency in, jockey or barrier change); every pricing is kept as a snapshot "
    "(racing_platform/cards/sensors.py).",
)
def late_changes_sensor(
    context: dg.SensorEvaluationContext, racing_com: RacingComResource, race_clock: RaceClock
) -> dg.SensorResult:
    return check_late_changes(context.instance, racing_com, race_clock, context.cursor, context.log)


# ------------------------------------------------------------------------------------------ results


def check_results(
    instance: dg.DagsterInstance,
    racing_com: RacingComResource,
    race_clock: RaceClock,
    cursor: str | None,
    log: logging.Logger,
) -> dg.SensorResult:
    """Cursor: {"cells": {cell: {"resulted", "abandoned", "first_jump", "settled", "fetch_after"}},
    "closed": [days]}, for yesterday's and today's listed cells.

    A cell is not polled before its first jump (known from its first poll). Each time the source reports
    more resulted or abandoned races, one `results_job` run (run key
    `results:<cell>:<resulted>:<abandoned>`), and "fetch_after" holds the storage id of the cell's newest
    `race_results` record then: that run has landed once a newer record exists. A cell is settled, and
    never polled again, when every race is resulted or abandoned, given up GIVE_UP_AFTER its jump, or
    withdrawn (no races listed once its day is over). A day is closed (`close_day_job`, run key
    `close:<day>`) on a later tick than its last results request: once every cell is settled, every
    requested results run has landed and no `results_job` run of the day is queued or in progress, so
    form lines and the evaluation read the day's final results.
    """
    state = json.loads(cursor) if cursor else {"cells": {}, "closed": []}
    try:
        now = race_clock.now()
    except TransientFault as exc:
        return dg.SensorResult(skip_reason=f"race clock unavailable, nothing polled: {exc}", cursor=cursor)
    today = racing_day(now)
    days = partition_days([today - timedelta(days=1), today])
    cells = stored_cells(instance, days)
    entries: dict[str, dict] = {}
    requests: list[dg.RunRequest] = []
    outage: TransientFault | None = None
    with racing_com.session(tick_id("results_sensor"), where="results_sensor") as client:
        for cell, meet_codes in sorted(cells.items()):
            key = str(cell)
            entry = {**NEW_ENTRY, **state["cells"].get(key, {})}
            entries[key] = entry
            waiting = entry["first_jump"] is not None and now < datetime.fromisoformat(entry["first_jump"])
            if outage is not None or entry["settled"] or waiting:
                continue
            try:
                watches = [watch_meeting(client, code) for code in meet_codes]
            except TransientFault as exc:
                outage = exc
                continue
            entries[key], request = _judge_results(cell, entry, watches, now, log)
            if request is not None:
                entries[key]["fetch_after"] = _newest_results_id(instance, cell) or 0
                requests.append(request)
    requested = {r.partition_key for r in requests}
    closed = [d for d in state["closed"] if d >= (today - timedelta(days=1)).isoformat()]
    for day in days:
        day_cells = [c for c in cells if c.meeting_date == day]
        if (
            day.isoformat() in closed
            or not day_cells
            or not all(entries[str(c)]["settled"] for c in day_cells)
            or any(str(c.key) in requested for c in day_cells)
            or not _results_landed(instance, day, day_cells, entries)
        ):
            continue
        requests.append(
            dg.RunRequest(
                job_name=close_day_job.name,
                partition_key=day.isoformat(),
                run_key=f"close:{day.isoformat()}",
                tags={"racing/trigger": "every cell settled and its results stored"},
            )
        )
        closed.append(day.isoformat())
    return _outage_result(
        "results_sensor",
        outage,
        requests,
        json.dumps({"cells": entries, "closed": sorted(closed)}, sort_keys=True),
        log,
    )


NEW_ENTRY = {"resulted": 0, "abandoned": 0, "first_jump": None, "settled": None, "fetch_after": None}
IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _newest_results_id(instance: dg.DagsterInstance, cell: Cell) -> int | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RESULTS_ASSET, asset_partitions=[str(cell.key)]), limit=1
    ).records
    return records[0].storage_id if records else None


def _results_landed(instance: dg.DagsterInstance, day: date, cells: list[Cell], entries: dict) -> bool:
    """No `results_job` run of the day queued or in progress, and each cell's requested results stored.

    One run read for the day (limit 1, by its date tag) and one `race_results` read per cell still
    awaiting its run; a cell whose run landed has its "fetch_after" cleared.
    """
    running = instance.get_runs(
        dg.RunsFilter(
            job_name=results_job.name,
            tags={"dagster/partition/date": day.isoformat()},
            statuses=IN_PROGRESS,
        ),
        limit=1,
    )
    if running:
        return False
    for cell in cells:
        entry = entries[str(cell)]
        if entry["fetch_after"] is None:
            continue
        if (_newest_results_id(instance, cell) or 0) <= entry["fetch_after"]:
            return False
        entry["fetch_after"] = None
    return True


def _judge_results(
    cell: Cell, entry: dict, watches: list[MeetingWatch], now: datetime, log: logging.Logger
) -> tuple[dict, dg.RunRequest | None]:
    """The cell's new cursor entry, and a results run when the source reports more than last time."""
    jumps = [w.first_jump for w in watches if w.first_jump is not None]
    first_jump = min(jumps) if jumps else None
    entry = {**entry, "first_jump": first_jump.isoformat() if first_jump is not None else None}
    if first_jump is None:
        if now >= day_end(cell.meeting_date):
            settled = "withdrawn: no races listed once its day was over"
            log.warning(f"results_sensor: {cell} {settled}: recorded, not polled again")
            return {**entry, "settled": settled}, None
        return entry, None
    if now < first_jump:
        return entry, None
    resulted = sum(w.resulted for w in watches)
    abandoned = sum(w.abandoned for w in watches)
    request = None
    if resulted + abandoned and (resulted, abandoned) != (entry["resulted"], entry["abandoned"]):
        request = dg.RunRequest(
            job_name=results_job.name,
            partition_key=str(cell.key),
            run_key=f"results:{cell}:{resulted}:{abandoned}",
            tags={"racing/trigger": "results reported"},
        )
    unsettled = [(w.meet_code, r) for w in watches for r in w.unsettled()]
    overdue = [f"{code} R{r.race_number}" for code, r in unsettled if now - r.start_time_utc > GIVE_UP_AFTER]
    settled = None
    if not unsettled:
        settled = "abandoned" if not resulted else "resulted"
    elif len(overdue) == len(unsettled):
        settled = f"given up: no results {GIVE_UP_AFTER} after the jump ({', '.join(overdue)})"
        log.warning(f"results_sensor: {cell} {settled}")
    if settled == "abandoned":
        log.info(f"results_sensor: {cell} abandoned: recorded, not polled again")
    return {**entry, "resulted": resulted, "abandoned": abandoned, "settled": settled}, request


@dg.sensor(
    name="results_sensor",
    jobs=[results_job, close_day_job],
    minimum_interval_seconds=RESULTS_INTERVAL_S,
    default_status=default_sensor_status(),
    description="Fetches a listed cell's results once its races have jumped and the source reports them; "
    "records abandoned meetings and races; closes a day whose cells are all settled "
    "(racing_platform/cards/sensors.py).",
)
def results_sensor(
    context: dg.SensorEvaluationContext, racing_com: RacingComResource, race_clock: RaceClock
) -> dg.SensorResult:
    return check_results(context.instance, racing_com, race_clock, context.cursor, context.log)
