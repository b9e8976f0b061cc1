"""Form lines, the form book as of a day, and each cell's runner features.

Wiring (docs/ARCHITECTURE.md, "Why features wait on form_book"): features of (D, venue) need the
cell's card and every result dated before D at any venue. Depending on race_results over all venues x
past dates would make them wait on every empty cell of the grid, so history goes through two daily
assets: `form_lines` (D) rolls up day D's results, `form_book` (D) stands for "everything before D"
and depends on form_lines (D-1). Features then depend on their own card and on form_book (D) only:
never on same-day results, never on cells without a meeting.
"""

from collections.abc import Sequence
from datetime import date, timedelta

import dagster as dg
import pandas as pd

from racing_platform.cards.rules import contract_breaches, describe
from racing_platform.contracts import FormBookSchema, FormLinesSchema
from racing_platform.features.queries import form_lines_of, runner_features_of_cells, sql
from racing_platform.lib.cell_runs import (
    Outcome,
    Verdict,
    cells_of,
    cells_params,
    nothing_there,
    record_run,
    where,
)
from racing_platform.lib.failures import failures_by_class
from racing_platform.lib.metadata import frame_metadata, table_schema
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, WAREHOUSE_RETRY
from racing_platform.partitions import Cell, cell_to_day, meeting_cells, racing_days
from racing_platform.warehouse.resource import Warehouse

COMPLETE_WINDOW = timedelta(days=30)
"""form_book_complete looks for tracked meetings without form lines this far before D."""

_daily = dict(
    partitions_def=racing_days,
    group_name="features",
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"sql", "duckdb"},
)


@dg.asset(
    **_daily,
    metadata={"dagster/column_schema": table_schema("form_lines")},
    deps=[
        dg.AssetDep("race_results", partition_mapping=cell_to_day),
        dg.AssetDep("race_cards", partition_mapping=cell_to_day),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "form_lines_contract",
            asset="form_lines",
            blocking=True,
            description="The day's form lines honour contracts.FormLinesSchema (one line per runner and "
            "race, a race code in one cell, field sizes and flags that follow the lines) before any is "
            "written.",
        )
    ],
    description="One form line per runner that ran in a tracked race that day (any venue): finish, "
    "margin, price, class, distance, going, barrier, weight, jockey, trainer.",
)
def form_lines(context: dg.AssetExecutionContext, warehouse: Warehouse):
    with failures_by_class(where("form_lines", list(context.partition_keys))):
        outcomes = build_form_lines(warehouse, _days_of(context))
    yield from record_run(context, {"form_lines": outcomes})


def _days_of(context: dg.AssetExecutionContext) -> list[date]:
    return [date.fromisoformat(key) for key in context.partition_keys]


def build_form_lines(warehouse: Warehouse, days: Sequence[date]) -> dict[str, Outcome]:
    """Roll up each day's results into form lines; all days are written in one transaction, or none
    when the lines break their contract (stored rows kept). Returns each day's outcome by partition key.
    """
    with warehouse.connect() as conn:
        per_day = {day: form_lines_of(conn, day) for day in days}
        lines = pd.concat(per_day.values(), ignore_index=True)
        refused = _breach_verdict(contract_breaches("form_lines", FormLinesSchema, lines))
        if refused is None:
            warehouse.replace_slices({"form_lines": lines}, pd.DataFrame({"meeting_date": days}), conn=conn)
    return {
        day.isoformat(): Outcome(
            metadata={**frame_metadata(day_lines), "races": int(day_lines["race_code"].nunique())},
            verdicts={"form_lines_contract": refused or Verdict(True, {"lines": len(day_lines)})},
        )
        for day, day_lines in per_day.items()
    }


def _breach_verdict(breaches: pd.DataFrame) -> Verdict | None:
    """The failed contract verdict naming races, fields and rules; None when there is no breach."""
    if breaches.empty:
        return None
    return Verdict(
        False,
        {
            "breaches": len(breaches),
            "breach_sample": dg.MetadataValue.md(breaches.head(20).astype(str).to_markdown(index=False)),
        },
        problem=describe(breaches),
    )


@dg.asset(
    **_daily,
    metadata={"dagster/column_schema": table_schema("form_lines")},  # the book is form_lines' rows before D
    deps=[
        dg.AssetDep(
            "form_lines", partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        )
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "form_book_contract",
            asset="form_book",
            blocking=True,
            description="Every form line before D honours contracts.FormBookSchema: one line per runner "
            "and race across the whole book, each race code in one cell (so no history counts twice).",
        ),
        dg.AssetCheckSpec(
            "form_book_complete",
            asset="form_book",
            description="Every tracked meeting of the last 30 days before D has form lines (WARN otherwise).",
        ),
    ],
    description="The form book as of the start of day D: every form line dated before D. A logical "
    "asset over table form_lines; its lineage is what lets features wait for history without waiting "
    "on the grid's empty cells.",
)
def form_book(context: dg.AssetExecutionContext, warehouse: Warehouse):
    with failures_by_class(where("form_book", list(context.partition_keys))):
        outcomes = judge_form_book(warehouse, _days_of(context))
    yield from record_run(context, {"form_book": outcomes})


def judge_form_book(warehouse: Warehouse, days: Sequence[date]) -> dict[str, Outcome]:
    """Judge the book as of each day (every form line before it) by its contract and completeness.

    The last day's book holds every earlier day's, so it is read and judged once; each day reports its
    own counts. Nothing is written. Returns each day's outcome by partition key.
    """
    last = max(days)
    with warehouse.connect() as conn:
        book = conn.execute(sql("form_book"), {"day": last}).df()
        missing = conn.execute(
            sql("meetings_without_form"), {"since": min(days) - COMPLETE_WINDOW, "day": last}
        ).df()
    refused = _breach_verdict(contract_breaches("form_book", FormBookSchema, book))
    # Lines and races dated up to each day with form, cumulated (a race code belongs to one day).
    upto = (
        book.groupby(book["meeting_date"].dt.date)
        .agg(lines=("race_code", "size"), races=("race_code", "nunique"))
        .cumsum()
    )
    missing_days = missing["meeting_date"].dt.date
    outcomes = {}
    for day in days:
        before = upto[upto.index < day].tail(1)
        lines = int(before["lines"].sum())
        unformed = missing[(missing_days >= day - COMPLETE_WINDOW) & (missing_days < day)]
        outcomes[day.isoformat()] = Outcome(
            metadata={
                "dagster/row_count": lines,
                "races_before": int(before["races"].sum()),
                "last_day_with_form": str(before.index[0]) if len(before) else "None",
            },
            verdicts={
                "form_book_contract": refused or Verdict(True, {"lines": lines}),
                "form_book_complete": _completeness(unformed),
            },
        )
    return outcomes


def _completeness(unformed: pd.DataFrame) -> Verdict:
    """WARN when tracked meetings of the window before D have no form lines."""
    if unformed.empty:
        return Verdict(True, severity=dg.AssetCheckSeverity.WARN)
    return Verdict(
        False,
        {"meetings_without_form": dg.MetadataValue.md(unformed.head(30).to_markdown(index=False))},
        severity=dg.AssetCheckSeverity.WARN,
        problem=f"{len(unformed)} tracked meeting(s) of the {COMPLETE_WINDOW.days} days before without form",
    )


@dg.asset(
    partitions_def=meeting_cells,
    group_name="features",
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"sql", "duckdb"},
    metadata={"dagster/column_schema": table_schema("runner_features")},
    deps=["race_cards", "horse_careers", dg.AssetDep("form_book", partition_mapping=cell_to_day)],
    check_specs=[
        dg.AssetCheckSpec(
            "runner_features_contract",
            asset="runner_features",
            blocking=True,
            description="One feature row per runner on the card; rates in [0, 1]; no form for a first start.",
        )
    ],
    description="Point-in-time features of every runner on a cell's card: its card (barrier, weights, "
    "handicap rating, race context), its whole career from racing.com (horse_careers) read strictly "
    "before the race day — form, performance ratings from lengths beaten adjusted for class and "
    "trip, past starting prices, and where each stands in today's field — and its jockey's and "
    "trainer's strike rates from form lines before the day. See docs/features.md.",
)
def runner_features(context: dg.AssetExecutionContext, warehouse: Warehouse):
    with failures_by_class(where("runner_features", list(context.partition_keys))):
        outcomes = build_runner_features(warehouse, cells_of(context))
    yield from record_run(context, {"runner_features": outcomes})


def build_runner_features(warehouse: Warehouse, cells: Sequence[Cell]) -> dict[str, Outcome]:
    """Point-in-time features of every cell with a card; all that pass are written in one transaction.

    A cell without runners stored is reported as such and touched nowhere. Returns each cell's outcome
    by partition key.
    """
    outcomes, passed = {}, []
    with warehouse.connect() as conn:
        cards = conn.execute(
            sql("cells_runners"),
            cells_params(cells),
        ).df()
        runners = {
            Cell(day.date(), venue): n
            for day, venue, n in cards[["meeting_date", "venue_slug", "runners"]].itertuples(index=False)
        }
        features_of = runner_features_of_cells(conn, [cell for cell in cells if cell in runners])
        for cell in cells:
            if cell not in runners:
                outcomes[str(cell)] = nothing_there(
                    "card", "no runners stored for this cell (no meeting, or cards not materialized)"
                )
                continue
            features = features_of[cell]
            verdict = features_verdict(features, runners[cell])
            if not verdict.blocks:
                passed.append((cell, features))
            outcomes[str(cell)] = Outcome(
                metadata={
                    **frame_metadata(features, preview_columns=PREVIEW),
                    "runners_with_history": int((features["career_starts"] > 0).sum()),
                },
                verdicts={"runner_features_contract": verdict},
            )
        if passed:
            warehouse.replace_slices(
                {"runner_features": pd.concat([features for _, features in passed], ignore_index=True)},
                pd.concat([cell.keys_frame() for cell, _ in passed], ignore_index=True),
                conn=conn,
            )
    return outcomes


PREVIEW = ["race_number", "saddlecloth", "horse_name", "career_starts", "days_since_last_run", "barrier_rel"]
RATE_COLUMNS = [
    "career_win_rate",
    "career_place_rate",
    "recent_win_rate",
    "recent_place_rate",
    "distance_place_rate",
    "track_place_rate",
    "going_place_rate",
    "jockey_win_rate_365d",
    "trainer_win_rate_365d",
]
# Performance figures of the career (docs/features.md, "Ratings") and where the runner stands in the field.
RATING_COLUMNS = [
    "rating_last1",
    "rating_avg3",
    "rating_best5",
    "rating_career",
    "rating_at_distance",
    "rating_wet_minus_dry",
    "rating_rank",
    "rating_gap_to_top",
    "rating_vs_field",
    "octaves_from_best_run",
    "octaves_from_recent_runs",
    "market_rating_last1",
    "market_rating_avg3",
    "market_rating_career",
    "market_rating_gap_to_top",
    "market_rating_vs_field",
]
# A horse's own history: null for a first start ...
FORM_COLUMNS = [
    "career_win_rate",
    "career_place_rate",
    "recent_win_rate",
    "recent_place_rate",
    "avg_norm_finish_last5",
    "norm_finish_last1",
    "norm_finish_last2",
    "norm_finish_last3",
    "margin_last1",
    "margin_last2",
    "margin_last3",
    "days_since_last_run",
    "class_change",
    "weight_change_kg",
    "distance_place_rate",
    "track_place_rate",
    "going_place_rate",
    *RATING_COLUMNS,
]
# ... and its counts and flags, 0 or False.
FORM_COUNTS_AND_FLAGS = ["distance_starts", "track_starts", "going_starts", "first_up", "second_up"]


def features_verdict(features: pd.DataFrame, card_rows: int) -> Verdict:
    problems = []
    if len(features) != card_rows:
        problems.append(f"{len(features)} feature rows for {card_rows} runners on the card")
    out_of_range = [c for c in RATE_COLUMNS if ((features[c] < 0) | (features[c] > 1)).any()]
    if out_of_range:
        problems.append(f"rates outside [0, 1]: {', '.join(out_of_range)}")
    debut = features["career_starts"] == 0
    leaked = [c for c in FORM_COLUMNS if features.loc[debut, c].notna().any()]
    leaked += [c for c in FORM_COUNTS_AND_FLAGS if features.loc[debut, c].fillna(0).astype(bool).any()]
    if leaked:
        problems.append(f"first starters with form in {', '.join(leaked)}")
    if features.duplicated(["race_code", "saddlecloth"]).any():
        problems.append("duplicate (race_code, saddlecloth)")
    if problems:
        return Verdict(False, {"problems": dg.MetadataValue.json(problems)}, problem="; ".join(problems))
    return Verdict(True, {"rows": len(features)})
