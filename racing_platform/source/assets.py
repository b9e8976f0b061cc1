"""`meetings`: what racing.com lists for a day, and the venue partitions it discovers."""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import pandas as pd

from racing_platform import contracts
from racing_platform.lib.failures import failures_by_class, step_location
from racing_platform.lib.metadata import frame_metadata
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, SOURCE_RETRY
from racing_platform.lib.validation import contract_failures
from racing_platform.partitions import VENUE_DIMENSION, racing_days
from racing_platform.settings import load_settings
from racing_platform.source.parsers import MEETINGS_BY_DATE, parse_response
from racing_platform.source.resource import RacingComResource
from racing_platform.source.venues import UNKNOWN_TIER, load_venues
from racing_platform.warehouse.resource import EmptyReplacementError, Warehouse


def list_meetings(client, day: date) -> pd.DataFrame:
    """Every meeting racing.com lists for `day`, flagged `tracked` when it is in the platform's scope.

    A venue the registry does not know keeps the state and zone its answer gives, with tier `unknown`.
    """
    fetched = client.meetings_by_date(day.isoformat())
    frame = parse_response(
        fetched.payload,
        operation=MEETINGS_BY_DATE,
        variables=fetched.variables,
        fetched_at=fetched.fetched_at,
    ).meetings
    registry, scope = load_venues(), load_settings().scope
    tiers = [_tier(registry.by_slug(slug)) for slug in frame["venue_slug"]]
    frame["tier"] = pd.array(tiers, dtype="string")
    frame["tracked"] = pd.array(
        [
            scope.covers(state, tier, trial, jumpout)
            for state, tier, trial, jumpout in zip(
                frame["state"], tiers, frame["is_trial"], frame["is_jumpout"], strict=True
            )
        ],
        dtype="boolean",
    )
    return frame


def _tier(venue) -> str:
    return venue.tier if venue is not None and venue.tier else UNKNOWN_TIER


@dg.asset(
    partitions_def=racing_days,
    group_name="source",
    kinds={"graphql", "duckdb"},
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=SOURCE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[dg.AssetCheckSpec("meetings_contract", asset="meetings", blocking=True)],
    description="Meetings racing.com lists for a day (all states). Registers each tracked meeting's venue "
    "as a `venue` partition. A cell of the date x venue grid with no tracked meeting here has no meeting.",
)
def meetings(context: dg.AssetExecutionContext, racing_com: RacingComResource, warehouse: Warehouse):
    with failures_by_class(step_location(context)):
        yield from store_meetings(context, racing_com, warehouse)


def store_meetings(
    context: dg.AssetExecutionContext, racing_com: RacingComResource, warehouse: Warehouse
) -> Iterator[dg.AssetCheckResult | dg.MaterializeResult]:
    """List the partition's days, check the contract, register new venues, replace the days' rows."""
    where = step_location(context)
    days = [date.fromisoformat(key) for key in context.partition_keys]
    frames = []
    with racing_com.session(context.run.run_id, where=where) as client:
        for day in days:
            frame = list_meetings(client, day)
            context.log.info(
                f"meetings {day}: {len(frame)} listed, {int(frame['tracked'].sum())} tracked "
                f"({', '.join(sorted(frame.loc[frame['tracked'], 'venue_slug']))})"
            )
            frames.append(frame)
        source_metrics = client.metrics.as_metadata()
    listed = pd.concat(frames, ignore_index=True)
    failures = contract_failures(contracts.MeetingsSchema, listed)
    if failures is not None:
        yield dg.AssetCheckResult(check_name="meetings_contract", passed=False, metadata=failures)
        raise dg.Failure(
            f"{where}: meetings for {days[0]}..{days[-1]} broke their contract",
            allow_retries=False,
        )

    new_venues = sorted(
        set(listed.loc[listed["tracked"], "venue_slug"])
        - set(context.instance.get_dynamic_partitions(VENUE_DIMENSION))
    )
    if new_venues:
        context.instance.add_dynamic_partitions(VENUE_DIMENSION, new_venues)
        context.log.info(f"registered venue partitions: {', '.join(new_venues)}")
    keys = pd.DataFrame({"meeting_date": days})
    listings = pd.DataFrame(
        {
            "meeting_date": days,
            "listed": [len(f) for f in frames],
            "tracked": [int(f["tracked"].sum()) for f in frames],
            "fetched_at": pd.Timestamp.now(tz="UTC"),
        }
    )
    try:
        warehouse.replace_slices({"meetings": listed, "meeting_listings": listings}, keys)
    except EmptyReplacementError as exc:
        raise dg.Failure(
            f"{where}: racing.com listed no meetings for {days[0]}..{days[-1]} but meetings are stored: "
            f"treated as an outage, stored meetings kept ({exc})",
            allow_retries=False,
        ) from exc
    yield dg.MaterializeResult(
        metadata={
            **frame_metadata(listed),
            "tracked_meetings": int(listed["tracked"].sum()),
            "new_venues": dg.MetadataValue.json(new_venues),
            "source": dg.MetadataValue.json(source_metrics),
        },
        check_results=[dg.AssetCheckResult(check_name="meetings_contract", passed=True)],
    )
