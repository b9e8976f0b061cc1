"""`meetings`: what racing.com lists for a day, and the venue partitions it discovers."""

from collections.abc import Sequence
from datetime import date

import dagster as dg
import pandas as pd

from racing_platform import contracts
from racing_platform.lib.cell_runs import Outcome, Verdict, record_run, where
from racing_platform.lib.failures import failures_by_class
from racing_platform.lib.metadata import frame_metadata, table_schema
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, SOURCE_RETRY
from racing_platform.lib.validation import contract_failures
from racing_platform.partitions import VENUE_DIMENSION, racing_days
from racing_platform.settings import load_settings
from racing_platform.source.client import RacingComClient
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


def tracked_meet_codes(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Each tracked venue's meet codes (a venue can race twice in a day)."""
    tracked = frame[frame["tracked"].fillna(False).astype(bool)]
    return {venue: sorted(codes.astype(str)) for venue, codes in tracked.groupby("venue_slug")["meet_code"]}


def _tier(venue) -> str:
    return venue.tier if venue is not None and venue.tier else UNKNOWN_TIER


@dg.asset(
    partitions_def=racing_days,
    group_name="source",
    kinds={"graphql", "duckdb"},
    metadata={"dagster/column_schema": table_schema("meetings")},
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=SOURCE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec(
            "meetings_contract",
            asset="meetings",
            blocking=True,
            description="The day's listing honours MeetingsSchema (docs/data_contracts.md): one row per meet "
            "code, venue slugs well formed, trial and jump-out flags set. A breach stores nothing and names "
            "meeting, field and rule.",
        )
    ],
    description="Meetings racing.com lists for a day (all states). Registers each tracked meeting's venue "
    "as a `venue` partition. A cell of the date x venue grid with no tracked meeting here has no meeting.",
)
def meetings(context: dg.AssetExecutionContext, racing_com: RacingComResource, warehouse: Warehouse):
    step = where("meetings", list(context.partition_keys))
    days = [date.fromisoformat(key) for key in context.partition_keys]
    with racing_com.session(context.run.run_id, where=step) as client, failures_by_class(step):
        outcomes, tracked = store_meetings(client, warehouse, days)
        source = client.metrics.as_metadata()
    known = set(context.instance.get_dynamic_partitions(VENUE_DIMENSION))
    new_venues = sorted(tracked - known)
    if new_venues:
        context.instance.add_dynamic_partitions(VENUE_DIMENSION, new_venues)
        context.log.info(f"registered venue partitions: {', '.join(new_venues)}")
    for outcome in outcomes.values():
        day_venues = outcome.metadata["tracked_venues"].value
        outcome.metadata["new_venues"] = dg.MetadataValue.json([v for v in new_venues if v in day_venues])
    yield from record_run(
        context,
        {"meetings": outcomes},
        run_metadata={"meetings": {"run_source": dg.MetadataValue.json(source)}},
    )


def store_meetings(
    client: RacingComClient, warehouse: Warehouse, days: Sequence[date]
) -> tuple[dict[str, Outcome], set[str]]:
    """List each day's meetings, check the contract, replace the days' rows in one transaction.

    Returns each day's outcome by partition key, and the venue slugs of every tracked meeting listed
    (the asset registers the new ones as `venue` partitions). A listing that comes back empty for a day
    with stored meetings is an outage: nothing is replaced.
    """
    frames = {day: list_meetings(client, day) for day in days}
    listed = pd.concat(frames.values(), ignore_index=True)
    failures = contract_failures(contracts.MeetingsSchema, listed)
    if failures is not None:
        broken = Verdict(False, failures, problem=f"{failures['failures']} contract failure(s)")
        return {day.isoformat(): Outcome({}, {"meetings_contract": broken}) for day in days}, set()
    listings = pd.DataFrame(
        {
            "meeting_date": list(days),
            "listed": [len(f) for f in frames.values()],
            "tracked": [int(f["tracked"].sum()) for f in frames.values()],
            "fetched_at": pd.Timestamp.now(tz="UTC"),
        }
    )
    try:
        warehouse.replace_slices(
            {"meetings": listed, "meeting_listings": listings}, pd.DataFrame({"meeting_date": list(days)})
        )
    except EmptyReplacementError as exc:
        raise dg.Failure(
            f"racing.com listed no meetings for {days[0]}..{days[-1]} but meetings are stored: "
            f"treated as an outage, stored meetings kept ({exc})",
            allow_retries=False,
        ) from exc
    outcomes = {
        day.isoformat(): Outcome(
            metadata={
                **frame_metadata(frame),
                "tracked_meetings": int(frame["tracked"].sum()),
                "tracked_venues": dg.MetadataValue.json(
                    sorted(set(frame.loc[frame["tracked"], "venue_slug"]))
                ),
                # What the sensors poll for the day's cells (source/watch.py), read from this record.
                "tracked_meet_codes": dg.MetadataValue.json(tracked_meet_codes(frame)),
            },
            verdicts={"meetings_contract": Verdict(True)},
        )
        for day, frame in frames.items()
    }
    return outcomes, set(listed.loc[listed["tracked"], "venue_slug"])
