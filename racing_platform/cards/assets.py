"""The cell assets: raw race cards, then parsed race cards and results, each judged before it is written.

One judgement for all (cards/rules.py `validate_cell_answer`: the pandera contracts and the
cross-response rules): raw_race_cards stores a fetched body only if it passes, race by race, and
race_cards / race_results check again what they parse from the stored bodies before writing. Cards and
results are one multi-asset so each cell's bodies are parsed once for both.

Each asset body is one call to a plain function over the run's cells (`fetch_raw_cards`,
`build_cards_and_results`) that the benchmark's direct path calls too: one DuckDB connection, the
run's meetings and raw bodies read with one query each, every cell that passed its blocking checks
written in one transaction; then `record_run` records each cell's own outcome.
"""

from collections.abc import Sequence

import dagster as dg
import duckdb
import pandas as pd

from racing_platform.cards.fetch import CellFetch, fetch_cell, refusal_failures
from racing_platform.cards.rules import (
    BREACH_COLUMNS,
    CARD_TABLES,
    RESULT_TABLES,
    RULE_TEXT,
    Acceptance,
    accept_answers,
    contract_breaches_by_cell,
    describe,
    first_candidates_judged,
    sql,
    stored_cell,
    validate_cell_answer,
)
from racing_platform.cards.tables import CellTables, parse_cell
from racing_platform.lib.cell_runs import (
    Outcome,
    Verdict,
    cells_of,
    cells_params,
    nothing_there,
    record_run,
    rows_by_cell,
    where,
)
from racing_platform.lib.failures import failures_by_class
from racing_platform.lib.metadata import frame_metadata, table_schema
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, SOURCE_RETRY, WAREHOUSE_RETRY
from racing_platform.partitions import Cell, cell_to_day, meeting_cells
from racing_platform.source.client import RacingComClient
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse

WARN = dg.AssetCheckSeverity.WARN
NO_MEETING = "no tracked meeting at this venue on this date"
RAW_CHECKS = ("raw_race_cards_complete", "raw_race_cards_accepted")
CARDS_CHECK, RESULTS_CHECK = "race_cards_contract", "race_results_contract"
CARDS_PREVIEW = [
    "race_number",
    "saddlecloth",
    "horse_name",
    "barrier",
    "weight_kg",
    "jockey_name",
    "scratched",
]
RESULTS_PREVIEW = ["race_number", "finish_position", "horse_name", "margin_lengths", "starting_price"]

_cell_asset = dict(
    partitions_def=meeting_cells,
    pool=DUCKDB_POOL,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
_from_raw = ["raw_race_cards", dg.AssetDep("meetings", partition_mapping=cell_to_day)]


# ------------------------------------------------------------------------------- the run's cells


def tracked_meetings(conn: duckdb.DuckDBPyConnection, cells: Sequence[Cell]) -> dict[Cell, pd.DataFrame]:
    """Each cell's tracked meetings (absent: none); raises if a date was never listed (unknown != none)."""
    days = sorted({c.meeting_date for c in cells})
    listed = conn.execute(
        "SELECT DISTINCT meeting_date FROM meeting_listings WHERE list_contains(?::DATE[], meeting_date)",
        [days],
    ).fetchall()
    unlisted = sorted(set(days) - {row[0] for row in listed})
    if unlisted:
        raise dg.Failure(
            f"meetings for {', '.join(map(str, unlisted))} have not been materialized, so whether the cells "
            f"of {'these dates' if len(unlisted) > 1 else 'that date'} have a meeting is unknown. "
            "Materialize `meetings` for those dates first.",
            allow_retries=False,
        )
    return rows_by_cell(conn.execute(sql("cells_meetings"), cells_params(cells)).df())


def _keys(cells: Sequence[Cell]) -> pd.DataFrame:
    return pd.DataFrame(
        {"meeting_date": [c.meeting_date for c in cells], "venue_slug": [c.venue_slug for c in cells]}
    )


def _concat(frames: list[pd.DataFrame], empty: pd.DataFrame) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty


# ---------------------------------------------------------------------------------- raw race cards


def fetch_raw_cards(
    client: RacingComClient, warehouse: Warehouse, cells: Sequence[Cell]
) -> dict[str, Outcome]:
    """Fetch every cell with a tracked meeting, keep the answers that pass the rules, store them all.

    The fetching happens with no DuckDB connection open; then one connection judges every cell against
    what is stored and writes them in one transaction. Returns each cell's outcome by partition key.
    """
    with warehouse.connect() as conn:
        meetings = tracked_meetings(conn, cells)
    fetched: dict[Cell, CellFetch] = {}
    for cell in cells:
        if cell in meetings:
            with failures_by_class(f"raw_race_cards [{cell}]"):
                fetched[cell] = fetch_cell(client, cell, meetings[cell])
    outcomes = {str(cell): nothing_there("meeting", NO_MEETING) for cell in cells if cell not in meetings}
    raw, failures = [], []
    with warehouse.connect() as conn:
        stored = rows_by_cell(conn.execute(sql("cells_raw"), cells_params(list(fetched))).df())
        answers = {
            cell: (meetings[cell], stored.get(cell, answer.raw.head(0)), answer.raw)
            for cell, answer in fetched.items()
        }
        with failures_by_class(f"raw_race_cards [{cells[0]}..{cells[-1]}]"):
            judged = first_candidates_judged(answers)
        for cell, (cell_meetings, stored_raw, fetched_raw) in answers.items():
            with failures_by_class(f"raw_race_cards [{cell}]"):
                accepted = accept_answers(
                    cell,
                    cell_meetings,
                    stored_raw,
                    fetched_raw,
                    lambda race_codes, cell=cell: stored_cell(conn, cell, race_codes),
                    first_judged=judged.get(cell),
                )
            answer = fetched[cell]
            refused = refusal_failures(cell, accepted.refused)
            raw.append(accepted.raw)
            failures += [answer.failures, refused]
            outcomes[str(cell)] = _raw_outcome(meetings[cell], answer, accepted, refused)
        if fetched:
            warehouse.replace_slices(
                {
                    "raw_race_cards": _concat(raw, next(iter(fetched.values())).raw.head(0)),
                    "fetch_failures": _concat(failures, refusal_failures(cells[0], pd.DataFrame())),
                },
                _keys(list(fetched)),
                allow_empty=frozenset({"fetch_failures"}),
                conn=conn,
            )
    return {str(cell): outcomes[str(cell)] for cell in cells}


def _raw_outcome(
    meetings: pd.DataFrame, fetched: CellFetch, accepted: Acceptance, refused: pd.DataFrame
) -> Outcome:
    failed = fetched.failures[["meet_code", "race_number", "error_type"]]
    return Outcome(
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
                + describe(accepted.refused)
                + (" | " + " | ".join(refused["message"].head(3)) if len(refused) else ""),
            ),
        },
    )


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


@dg.asset(
    **_cell_asset,
    group_name="cards",
    owners=OWNERS,
    kinds={"graphql", "duckdb"},
    metadata={"dagster/column_schema": table_schema("raw_race_cards")},
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
    step = where("raw_race_cards", list(context.partition_keys))
    with racing_com.session(context.run.run_id, where=step) as client, failures_by_class(step):
        outcomes = fetch_raw_cards(client, warehouse, cells_of(context))
    yield from record_run(context, {"raw_race_cards": outcomes})


# ----------------------------------------------------------------------------- cards and results


def build_cards_and_results(warehouse: Warehouse, cells: Sequence[Cell]) -> dict[str, dict[str, Outcome]]:
    """Parse each cell's stored bodies once, judge cards and results apart, write what passed at once.

    A cell's cards are written if they pass the card contracts and rules, its results if they pass
    theirs; a blocked table keeps its stored rows. Returns outcomes by asset, then partition key.
    """
    outcomes: dict[str, dict[str, Outcome]] = {"race_cards": {}, "race_results": {}}
    parsed: dict[Cell, CellTables] = {}
    with warehouse.connect() as conn:
        meetings = tracked_meetings(conn, cells)
        stored_raw = rows_by_cell(conn.execute(sql("cells_raw"), cells_params(list(meetings))).df())
        for cell in cells:
            if cell not in meetings:
                for asset in outcomes:
                    outcomes[asset][str(cell)] = nothing_there("meeting", NO_MEETING)
            elif cell not in stored_raw:
                blocked = _nothing_stored(conn, cell)
                outcomes["race_cards"][str(cell)] = Outcome({}, {CARDS_CHECK: blocked})
                outcomes["race_results"][str(cell)] = Outcome({}, {RESULTS_CHECK: blocked})
            else:
                with failures_by_class(f"race_cards, race_results [{cell}]"):
                    parsed[cell] = parse_cell(stored_raw[cell], meetings[cell])
        contract_found = contract_breaches_by_cell(parsed, CARD_TABLES | RESULT_TABLES)
        for cell, tables in parsed.items():
            with failures_by_class(f"race_cards, race_results [{cell}]"):
                stored = stored_cell(conn, cell, tables.races["race_code"])
                breaches = validate_cell_answer(
                    cell, tables, stored, CARD_TABLES | RESULT_TABLES, contract_found[cell]
                )
            cards, results = (
                breaches[breaches["table"].isin(CARD_TABLES)],
                breaches[breaches["table"] == "results"],
            )
            outcomes["race_cards"][str(cell)] = (
                _cards_outcome(tables) if cards.empty else Outcome({}, {CARDS_CHECK: _breach_verdict(cards)})
            )
            outcomes["race_results"][str(cell)] = (
                _results_outcome(tables.results)
                if results.empty
                else Outcome({}, {RESULTS_CHECK: _breach_verdict(results)})
            )
        _write_passed(warehouse, conn, parsed, outcomes)
    return {asset: {str(cell): by_key[str(cell)] for cell in cells} for asset, by_key in outcomes.items()}


def _write_passed(
    warehouse: Warehouse,
    conn: duckdb.DuckDBPyConnection,
    parsed: dict[Cell, CellTables],
    outcomes: dict[str, dict[str, Outcome]],
) -> None:
    """Write the cards and the results of every cell whose own check passed, in one transaction."""
    passed = {
        asset: [cell for cell in parsed if not outcomes[asset][str(cell)].blocked] for asset in outcomes
    }
    tables = {**dict.fromkeys(sorted(CARD_TABLES), "race_cards"), "results": "race_results"}
    writing = {
        table: pd.concat([getattr(parsed[cell], table) for cell in passed[asset]], ignore_index=True)
        for table, asset in tables.items()
        if passed[asset]
    }
    if writing:
        keys = {table: _keys(passed[tables[table]]) for table in writing}
        warehouse.replace_slices(writing, keys, conn=conn)


def _cards_outcome(tables: CellTables) -> Outcome:
    return Outcome(
        metadata={
            **frame_metadata(tables.runners, preview_columns=CARDS_PREVIEW),
            "races": len(tables.races),
            "odds_rows": len(tables.odds),
            "odds_moves": len(tables.odds_flucs),
            "meetings": dg.MetadataValue.json(sorted(tables.races["meet_code"].unique())),
        },
        verdicts={
            CARDS_CHECK: Verdict(True, {f"{t}_rows": len(getattr(tables, t)) for t in sorted(CARD_TABLES)})
        },
    )


def _results_outcome(results: pd.DataFrame) -> Outcome:
    run = results.dropna(subset=["finish_position"])
    return Outcome(
        metadata={
            **frame_metadata(results, preview=run, preview_columns=RESULTS_PREVIEW),
            "placings": len(run),
            "resulted_races": int(run["race_code"].nunique()),
        },
        verdicts={RESULTS_CHECK: Verdict(True, {"results_rows": len(results)})},
    )


def _nothing_stored(conn: duckdb.DuckDBPyConnection, cell: Cell) -> Verdict:
    """A cell with meetings but no stored body: blocked by the answers raw_race_cards refused or failed."""
    failures = conn.execute(sql("cell_failures"), {"day": cell.meeting_date, "venue": cell.venue_slug}).df()
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


@dg.multi_asset(
    **_cell_asset,
    name="race_cards_and_results",
    group_name="cards",
    retry_policy=WAREHOUSE_RETRY,
    can_subset=False,
    specs=[
        dg.AssetSpec(
            "race_cards",
            deps=_from_raw,
            owners=OWNERS,
            kinds={"pandas", "duckdb"},
            metadata={"dagster/column_schema": table_schema("runners")},
            description="Parsed races and pre-race fields of a cell (runners, barriers, weights, claims, "
            "jockeys, trainers, scratchings), odds at fetch time and their moves. Tables races, runners, "
            "odds, odds_flucs.",
        ),
        dg.AssetSpec(
            "race_results",
            deps=_from_raw,
            owners=OWNERS,
            kinds={"pandas", "duckdb"},
            metadata={"dagster/column_schema": table_schema("results")},
            description="Finishing positions, margins, starting prices and winning times of a cell's run "
            "races.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            CARDS_CHECK,
            asset="race_cards",
            blocking=True,
            description="races, runners, odds and odds moves honour their pandera contracts and the "
            "cross-response rules (cards/rules.py): a stored race never shrinks to zero runners, a race "
            "code belongs to one cell, every row belongs to the cell, every runner's race exists.",
        ),
        dg.AssetCheckSpec(
            RESULTS_CHECK,
            asset="race_results",
            blocking=True,
            description="results honour their pandera contract (positions, margins and prices in range) and "
            "the cross-response rules (cards/rules.py): one winner per resulted race (dead heats excepted), "
            "a stored race never loses its placings, every row belongs to the cell.",
        ),
    ],
)
def race_cards_and_results(context: dg.AssetExecutionContext, warehouse: Warehouse):
    with failures_by_class(where("race_cards, race_results", list(context.partition_keys))):
        outcomes = build_cards_and_results(warehouse, cells_of(context))
    yield from record_run(context, outcomes)


# One step materializes both keys; either name selects it.
race_cards = race_results = race_cards_and_results
