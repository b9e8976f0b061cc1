"""The cell assets: raw race cards, then parsed race cards and results, each judged before it is written.

One judgement for all three (cards/rules.py `validate_cell_answer`: the pandera contracts and the
cross-response rules): raw_race_cards stores a fetched body only if it passes, race by race, and
race_cards / race_results check again what they parse from the stored bodies before writing.
"""

import dagster as dg
import pandas as pd

from racing_platform.cards.fetch import fetch_cell, refusal_failures
from racing_platform.cards.rules import (
    BREACH_COLUMNS,
    CARD_TABLES,
    RESULT_TABLES,
    RULE_TEXT,
    accept_answers,
    describe,
    stored_cell,
    validate_cell_answer,
)
from racing_platform.cards.tables import CellTables, parse_cell
from racing_platform.lib.cell_runs import CellOutcome, Verdict, run_cells
from racing_platform.lib.failures import step_location
from racing_platform.lib.metadata import frame_metadata
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, SOURCE_RETRY, WAREHOUSE_RETRY
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
        dg.AssetCheckSpec(
            "raw_race_cards_accepted",
            asset="raw_race_cards",
            blocking=False,
            description="Every fetched answer passed its parse, its contracts and the cross-response rules "
            "(cards/rules.py); WARN naming race, field and rule when one was refused (its body stays in the "
            "archive and in fetch_failures, the stored body is kept).",
        ),
    ],
    description="racing.com's raw responses for a cell: the latest archived body per operation and race "
    "(by content hash) that passed the contracts and the cross-response rules. Races whose fetch failed "
    "or whose answer was refused keep their stored body and are listed in fetch_failures.",
)
def raw_race_cards(context: dg.AssetExecutionContext, racing_com: RacingComResource, warehouse: Warehouse):
    with racing_com.session(context.run.run_id, where=step_location(context)) as client:

        def process(cell: Cell) -> CellOutcome:
            meetings = tracked_meetings(warehouse, cell)
            if meetings.empty:
                return _no_meeting(["raw_race_cards_complete", "raw_race_cards_accepted"])
            fetched = fetch_cell(client, cell, meetings)
            accepted = accept_answers(
                cell,
                meetings,
                _stored_raw(warehouse, cell),
                fetched.raw,
                lambda race_codes: stored_cell(warehouse, cell, race_codes),
            )
            refused = refusal_failures(cell, accepted.refused)
            warehouse.replace_slices(
                {
                    "raw_race_cards": accepted.raw,
                    "fetch_failures": pd.concat(
                        [f for f in (fetched.failures, refused) if len(f)] or [refused]
                    ),
                },
                cell.keys_frame(),
                allow_empty=frozenset({"fetch_failures"}),
            )
            failed = fetched.failures[["meet_code", "race_number", "error_type"]]
            if len(failed):
                context.log.warning(f"raw_race_cards {cell}: incomplete, failed races:\n{failed.to_string()}")
            if len(refused):
                context.log.warning(
                    f"raw_race_cards {cell}: refused answers:\n" + "\n".join(refused["message"])
                )
            return CellOutcome(
                metadata={
                    **frame_metadata(
                        accepted.raw, preview_columns=["meet_code", "operation", "race_number", "sha256"]
                    ),
                    "meetings": dg.MetadataValue.json(list(meetings["meet_code"])),
                    "fetched_now": len(fetched.raw),
                    "failed_races": len(failed),
                    "refused_answers": int(accepted.refused["body_sha256"].nunique()),
                },
                verdicts={
                    "raw_race_cards_complete": _warning(failed, f"{len(failed)} race(s) failed to fetch"),
                    "raw_race_cards_accepted": _warning(
                        accepted.refused[["body_operation", *BREACH_COLUMNS]],
                        f"{accepted.refused['body_sha256'].nunique()} answer(s) refused, stored bodies kept: "
                        + describe(accepted.refused),
                    ),
                },
            )

        yield from run_cells(context, process)


def _warning(rows: pd.DataFrame, problem: str) -> Verdict:
    """A WARN verdict listing `rows` (passed when there are none)."""
    if rows.empty:
        return Verdict(passed=True, severity=WARN)
    return Verdict(
        passed=False,
        severity=WARN,
        metadata={"rows": dg.MetadataValue.md(rows.head(50).astype(str).to_markdown(index=False))},
        problem=problem,
    )


def _stored_raw(warehouse: Warehouse, cell: Cell) -> pd.DataFrame:
    return warehouse.query(
        "SELECT * FROM raw_race_cards WHERE meeting_date = ? AND venue_slug = ? ORDER BY last_fetched_at",
        [cell.meeting_date, cell.venue_slug],
    )


def _judged_cell(
    warehouse: Warehouse, cell: Cell, guarding: frozenset[str], check: str
) -> tuple[CellTables | None, CellOutcome | None]:
    """The cell's tables parsed from its stored bodies and judged by the contracts and rules of `guarding`.

    Returns (tables, None) when they may be written, else (None, the outcome to report).
    """
    meetings = tracked_meetings(warehouse, cell)
    if meetings.empty:
        return None, _no_meeting([check])
    raw = _stored_raw(warehouse, cell)
    if raw.empty:
        return None, CellOutcome(metadata={}, verdicts={check: _nothing_stored(warehouse, cell)})
    tables = parse_cell(raw, meetings)
    breaches = validate_cell_answer(
        cell, tables, stored_cell(warehouse, cell, tables.races["race_code"]), guarding
    )
    if breaches.empty:
        return tables, None
    return None, CellOutcome(metadata={}, verdicts={check: _breach_verdict(breaches)})


def _nothing_stored(warehouse: Warehouse, cell: Cell) -> Verdict:
    """A cell with meetings but no stored body: blocked by the answers raw_race_cards refused or failed."""
    failures = warehouse.query(
        "SELECT meet_code, race_number, operation, error_type, message FROM fetch_failures "
        "WHERE meeting_date = ? AND venue_slug = ? ORDER BY ALL",
        [cell.meeting_date, cell.venue_slug],
    )
    if failures.empty:
        raise dg.Failure(
            f"{cell}: has meetings but no raw race cards; materialize raw_race_cards first",
            allow_retries=False,
        )
    return Verdict(
        False,
        {"fetch_failures": dg.MetadataValue.md(failures.head(50).to_markdown(index=False))},
        problem=f"no answer stored for the cell; {len(failures)} failed or refused (fetch_failures): "
        + " | ".join(failures["message"].head(2)),
    )


def _breach_verdict(breaches: pd.DataFrame) -> Verdict:
    rules = breaches.groupby(["table", "field", "rule"], dropna=False).size().reset_index(name="breaches")
    return Verdict(
        False,
        {
            "breaches": len(breaches),
            "rules_broken": dg.MetadataValue.md(rules.to_markdown(index=False)),
            "breach_sample": dg.MetadataValue.md(breaches.head(20).astype(str).to_markdown(index=False)),
            "rule_texts": dg.MetadataValue.json(
                {name: RULE_TEXT[name] for name in breaches["rule"].unique() if name in RULE_TEXT}
            ),
        },
        problem=describe(breaches),
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
            description="races, runners, odds and odds moves honour their pandera contracts and the "
            "cross-response rules (cards/rules.py): a stored race never shrinks to zero runners, a race "
            "code belongs to one cell, every row belongs to the cell, every runner's race exists.",
        )
    ],
    description="Parsed races and pre-race fields of a cell (runners, barriers, weights, claims, jockeys, "
    "trainers, scratchings), odds at fetch time and their moves. Tables races, runners, odds, odds_flucs.",
)
def race_cards(context: dg.AssetExecutionContext, warehouse: Warehouse):
    def process(cell: Cell) -> CellOutcome:
        tables, refused = _judged_cell(warehouse, cell, CARD_TABLES, "race_cards_contract")
        if tables is None:
            return refused
        frames = {table: frame for table, frame in tables.items() if table in CARD_TABLES}
        written = warehouse.replace_slices(frames, cell.keys_frame())
        return CellOutcome(
            metadata={
                **frame_metadata(
                    tables.runners,
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
                "odds_moves": written["odds_flucs"],
                "meetings": dg.MetadataValue.json(sorted(tables.races["meet_code"].unique())),
            },
            verdicts={"race_cards_contract": Verdict(True, {f"{t}_rows": n for t, n in written.items()})},
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
            description="results honour their pandera contract (positions, margins and prices in range) and "
            "the cross-response rules (cards/rules.py): one winner per resulted race (dead heats excepted), "
            "a stored race never loses its placings, every row belongs to the cell.",
        )
    ],
    description="Finishing positions, margins, starting prices and winning times of a cell's run races.",
)
def race_results(context: dg.AssetExecutionContext, warehouse: Warehouse):
    def process(cell: Cell) -> CellOutcome:
        tables, refused = _judged_cell(warehouse, cell, RESULT_TABLES, "race_results_contract")
        if tables is None:
            return refused
        results = tables.results
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
            verdicts={"race_results_contract": Verdict(True, {"results_rows": len(results)})},
        )

    yield from run_cells(context, process)
