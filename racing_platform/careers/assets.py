"""The careers stage: each horse on a tracked card, its whole career as racing.com serves it.

Runner features need every past start of a runner, not only the races the platform has backfilled, so
this cell asset follows `race_cards` (same cell) and fetches, through the one polite client, the
careers its card's horses lack (careers/fetch.py). The body is one call to `fetch_careers`, which the
benchmark's direct path calls too; then `record_run` records each cell's own outcome.
"""

import dagster as dg

from racing_platform.careers.fetch import CONTRACT_CHECK, fetch_careers
from racing_platform.lib.cell_runs import cells_of, record_run, where
from racing_platform.lib.failures import failures_by_class
from racing_platform.lib.metadata import table_schema
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, SOURCE_RETRY
from racing_platform.partitions import cell_to_day, meeting_cells
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse


@dg.asset(
    partitions_def=meeting_cells,
    pool=DUCKDB_POOL,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="careers",
    owners=OWNERS,
    kinds={"graphql", "duckdb"},
    metadata={"dagster/column_schema": table_schema("horse_starts")},
    retry_policy=SOURCE_RETRY,
    deps=["race_cards", dg.AssetDep("meetings", partition_mapping=cell_to_day)],
    check_specs=[
        dg.AssetCheckSpec(
            CONTRACT_CHECK,
            asset="horse_careers",
            blocking=True,
            description="The starts fetched for the cell's horses honour HorseStartsSchema (one row per "
            "horse and entry, placings below 100, scratchings without placing or barrier, values in "
            "range); a cell that fails writes nothing and stored starts stay.",
        )
    ],
    description="The careers of the horses running on a cell's card (GetRaceEntryItemByHorsePaged): "
    "tables horse_starts (one row per horse and start, any venue or state) and horse_career_fetches. "
    "Only horses whose career is not known up to the cell's date are fetched, each paged only back to "
    "its newest stored start.",
)
def horse_careers(context: dg.AssetExecutionContext, racing_com: RacingComResource, warehouse: Warehouse):
    step = where("horse_careers", list(context.partition_keys))
    with racing_com.session(context.run.run_id, where=step) as client, failures_by_class(step):
        outcomes = fetch_careers(warehouse, client, cells_of(context))
    yield from record_run(context, {"horse_careers": outcomes})
