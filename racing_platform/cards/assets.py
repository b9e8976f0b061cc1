"""The cell assets: raw race cards, then parsed race cards and results, each contract-checked."""

import dagster as dg
import pandas as pd

from racing_platform import contracts
from racing_platform.cards.fetch import fetch_cell
from racing_platform.cards.tables import CellTables, parse_cell
from racing_platform.lib.cell_runs import CellOutcome, Verdict, run_cells
from racing_platform.lib.metadata import frame_metadata
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, SOURCE_RETRY, WAREHOUSE_RETRY
from racing_platform.lib.validation import contract_failures
from racing_platform.partitions import Cell, cell_to_day, meeting_cells
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse

NO_MEETING = {"meeting": "none: no tracked meeting at this venue on this date"}
WARN = dg.AssetCheckSeverity.WARN

_cell_asset = dict(
    partitions_def=meeting_cells,
    group_name="cards",
    owners=OWNERS,
    pool=DUCKDB_POOL,
    backfill_policy=dg.BackfillPolicy.single_run(),
)


def tracked_meetings(warehouse: Warehouse, cell: Cell) -> pd.DataFrame:
    """The cell's meetings; raises if the meetings of its date were never listed (unknown != none)."""
    listed = warehouse.query("SELECT 1 FROM meeting_listings WHERE meeting_date = ?", [cell.meeting_date])
    if listed.empty:
        raise dg.Failure(
            f"{cell}: meetings for {cell.meeting_date} have not been materialized, so whether this cell has "
            "a meeting is unknown. Materialize `meetings` for that date first.",
            allow_retries=False,
        )
    return warehouse.query(
        "SELECT * FROM meetings WHERE meeting_date = ? AND venue_slug = ? AND tracked ORDER BY meet_code",
        [cell.meeting_date, cell.venue_slug],
    )


def _no_meeting(check_names: list[str]) -> CellOutcome:
    return CellOutcome(
        metadata=dict(NO_MEETING), verdicts={n: Verdict(True, dict(NO_MEETING)) for n in check_names}
    )


@dg.asset(
    **_cell_asset,
    kinds={"graphql", "duckdb"},
    retry_policy=SOURCE_RETRY,
    deps=[dg.AssetDep("meetings", partition_mapping=cell_to_day)],
    check_specs=[
        dg.AssetCheckSpec(
            "raw_race_cards_complete",
            asset="raw_race_cards",
            blocking=False,
            description="Every race of the cell's meetings was fetched (WARN when some failed).",
        ),
    ],
    description="racing.com's raw responses for a cell: the latest archived body per operation and race "
    "(by content hash). Races whose fetch failed are kept from earlier runs and listed in fetch_failures.",
)
def raw_race_cards(context: dg.AssetExecutionContext, racing_com: RacingComResource, warehouse: Warehouse):
    with racing_com.session(context.run.run_id) as client:

        def process(cell: Cell) -> CellOutcome:
            meetings = tracked_meetings(warehouse, cell)
            if meetings.empty:
                return _no_meeting(["raw_race_cards_complete"])
            fetched = fetch_cell(client, cell, meetings)
            stored = warehouse.query(
                "SELECT * FROM raw_race_cards WHERE meeting_date = ? AND venue_slug = ?",
                [cell.meeting_date, cell.venue_slug],
            )
            raw = _latest_per_request(stored, fetched.raw)
            warehouse.replace_slices(
                {"raw_race_cards": raw, "fetch_failures": fetched.failures},
                cell.keys_frame(),
                allow_empty=frozenset({"fetch_failures"}),
            )
            failed = fetched.failures[["meet_code", "race_number", "error_type"]]
            complete = Verdict(
                passed=failed.empty,
                severity=WARN,
                metadata={"failed_races": dg.MetadataValue.md(failed.to_markdown(index=False))}
                if len(failed)
                else {},
                problem=f"{len(failed)} race(s) failed to fetch" if len(failed) else None,
            )
            if len(failed):
                context.log.warning(f"raw_race_cards {cell}: incomplete, failed races:\n{failed.to_string()}")
            return CellOutcome(
                metadata={
                    **frame_metadata(
                        raw, preview_columns=["meet_code", "operation", "race_number", "sha256"]
                    ),
                    "meetings": dg.MetadataValue.json(list(meetings["meet_code"])),
                    "fetched_now": len(fetched.raw),
                    "failed_races": len(failed),
                },
                verdicts={"raw_race_cards_complete": complete},
            )

        yield from run_cells(context, process)


def _latest_per_request(stored: pd.DataFrame, fetched: pd.DataFrame) -> pd.DataFrame:
    """New responses replace stored ones for the same request; requests not re-fetched (failed) are kept."""
    request = ["meet_code", "operation", "race_number"]
    if stored.empty:
        return fetched
    merged = pd.concat([stored.astype({"race_number": "Int64"}), fetched], ignore_index=True)
    return merged.drop_duplicates(subset=request, keep="last").reset_index(drop=True)


def _cell_tables(warehouse: Warehouse, cell: Cell) -> tuple[pd.DataFrame, CellTables | None]:
    meetings = tracked_meetings(warehouse, cell)
    if meetings.empty:
        return meetings, None
    raw = warehouse.query(
        "SELECT * FROM raw_race_cards WHERE meeting_date = ? AND venue_slug = ? ORDER BY last_fetched_at",
        [cell.meeting_date, cell.venue_slug],
    )
    if raw.empty:
        raise dg.Failure(
            f"{cell}: has meetings but no raw race cards; materialize raw_race_cards first",
            allow_retries=False,
        )
    return meetings, parse_cell(raw, meetings)


def _contract_verdict(
    frames: dict[str, tuple[type, pd.DataFrame]], extra: dict[str, pd.DataFrame]
) -> Verdict:
    """One blocking verdict over several tables: pandera contracts plus cross-table rules."""
    broken = {}
    for table, (schema, frame) in frames.items():
        failures = contract_failures(schema, frame)
        if failures is not None:
            broken[table] = failures
    for rule, offending in extra.items():
        if len(offending):
            broken[rule] = {
                "failures": len(offending),
                "failure_sample": dg.MetadataValue.md(offending.head(20).to_markdown(index=False)),
            }
    if not broken:
        return Verdict(True, {f"{t}_rows": len(f) for t, (_, f) in frames.items()})
    metadata = {f"{t}: {k}": v for t, m in broken.items() for k, v in m.items()}
    return Verdict(
        False,
        metadata,
        problem="broke " + ", ".join(f"{t} ({m['failures']} failure(s))" for t, m in broken.items()),
    )


@dg.asset(
    **_cell_asset,
    kinds={"pandas", "duckdb"},
    retry_policy=WAREHOUSE_RETRY,
    deps=["raw_race_cards", dg.AssetDep("meetings", partition_mapping=cell_to_day)],
    check_specs=[
        dg.AssetCheckSpec(
            "race_cards_contract",
            asset="race_cards",
            blocking=True,
            description="races, runners and odds honour their pandera contracts, and "
            "every runner's race exists.",
        )
    ],
    description="Parsed races and pre-race fields of a cell (runners, barriers, weights, claims, jockeys, "
    "trainers, scratchings) and odds at fetch time. Tables races, runners, odds.",
)
def race_cards(context: dg.AssetExecutionContext, warehouse: Warehouse):
    def process(cell: Cell) -> CellOutcome:
        meetings, tables = _cell_tables(warehouse, cell)
        if tables is None:
            return _no_meeting(["race_cards_contract"])
        runners, races = tables.runners, tables.races
        verdict = _contract_verdict(
            {
                "races": (contracts.RacesSchema, races),
                "runners": (contracts.RunnersSchema, runners),
                "odds": (contracts.OddsSchema, tables.odds),
            },
            {
                "runner without a race": runners.loc[
                    ~runners["race_code"].isin(races["race_code"]), ["race_code", "saddlecloth", "horse_name"]
                ]
            },
        )
        if verdict.blocks:
            return CellOutcome(metadata={}, verdicts={"race_cards_contract": verdict})
        written = warehouse.replace_slices(
            {"races": races, "runners": runners, "odds": tables.odds}, cell.keys_frame()
        )
        return CellOutcome(
            metadata={
                **frame_metadata(
                    runners,
                    preview_columns=[
                        "race_number",
                        "saddlecloth",
                        "horse_name",
                        "barrier",
                        "weight_kg",
                        "jockey_name",
                        "scratched",
                    ],
                ),
                "races": written["races"],
                "odds_rows": written["odds"],
                "meetings": dg.MetadataValue.json(list(meetings["meet_code"])),
            },
            verdicts={"race_cards_contract": verdict},
        )

    yield from run_cells(context, process)


@dg.asset(
    **_cell_asset,
    kinds={"pandas", "duckdb"},
    retry_policy=WAREHOUSE_RETRY,
    deps=["raw_race_cards", dg.AssetDep("meetings", partition_mapping=cell_to_day)],
    check_specs=[
        dg.AssetCheckSpec(
            "race_results_contract",
            asset="race_results",
            blocking=True,
            description="results honour their pandera contract: one winner per run race, "
            "positions, margins and prices in range.",
        )
    ],
    description="Finishing positions, margins, starting prices and winning times of a cell's run races.",
)
def race_results(context: dg.AssetExecutionContext, warehouse: Warehouse):
    def process(cell: Cell) -> CellOutcome:
        _, tables = _cell_tables(warehouse, cell)
        if tables is None:
            return _no_meeting(["race_results_contract"])
        results = tables.results
        verdict = _contract_verdict({"results": (contracts.ResultsSchema, results)}, {})
        if verdict.blocks:
            return CellOutcome(metadata={}, verdicts={"race_results_contract": verdict})
        warehouse.replace_slices({"results": results}, cell.keys_frame())
        run = results.dropna(subset=["finish_position"])
        return CellOutcome(
            metadata={
                **frame_metadata(
                    run,
                    preview_columns=[
                        "race_number",
                        "finish_position",
                        "horse_name",
                        "margin_lengths",
                        "starting_price",
                    ],
                ),
                "resulted_races": int(run["race_code"].nunique()),
            },
            verdicts={"race_results_contract": verdict},
        )

    yield from run_cells(context, process)
