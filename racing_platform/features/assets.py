"""Form lines, the form book as of a day, and each cell's runner features.

Wiring (docs/ARCHITECTURE.md, "Why features wait on form_book"): features of (D, venue) need the
cell's card and every result dated before D at any venue. Depending on race_results over all venues x
past dates would make them wait on every empty cell of the grid, so history goes through two daily
assets: `form_lines` (D) rolls up day D's results, `form_book` (D) stands for "everything before D"
and depends on form_lines (D-1). Features then depend on their own card and on form_book (D) only:
never on same-day results, never on cells without a meeting.
"""

from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import pandas as pd

from racing_platform.cards.rules import contract_breaches, describe
from racing_platform.contracts import FormBookSchema, FormLinesSchema
from racing_platform.features.queries import form_lines_of, runner_features_of, sql
from racing_platform.lib.cell_runs import CellOutcome, Verdict, run_cells
from racing_platform.lib.failures import failures_by_class, step_location
from racing_platform.lib.metadata import frame_metadata
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, WAREHOUSE_RETRY
from racing_platform.partitions import Cell, cell_to_day, meeting_cells, racing_days
from racing_platform.warehouse.resource import Warehouse

_daily = dict(
    partitions_def=racing_days,
    group_name="features",
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"sql", "duckdb"},
)
# Fan-in from every venue's cell of a day: fire on any update without waiting for cells that will
# never be materialized because they hold no meeting.
_ROLL_UP = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


@dg.asset(
    **_daily,
    deps=[
        dg.AssetDep("race_results", partition_mapping=cell_to_day),
        dg.AssetDep("race_cards", partition_mapping=cell_to_day),
    ],
    automation_condition=_ROLL_UP,
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
    with failures_by_class(step_location(context)):
        yield from _write_form_lines(context, warehouse)


def _write_form_lines(context: dg.AssetExecutionContext, warehouse: Warehouse) -> Iterator:
    days = [date.fromisoformat(k) for k in context.partition_keys]
    with warehouse.connect() as conn:
        lines = pd.concat([form_lines_of(conn, day) for day in days], ignore_index=True)
        yield from _refuse_on_breach(context, "form_lines_contract", FormLinesSchema, lines)
        warehouse.replace_slices({"form_lines": lines}, pd.DataFrame({"meeting_date": days}), conn=conn)
    context.log.info(f"form_lines {days[0]}..{days[-1]}: {len(lines)} lines")
    yield dg.MaterializeResult(
        metadata={**frame_metadata(lines), "races": int(lines["race_code"].nunique()) if len(lines) else 0},
        check_results=[
            dg.AssetCheckResult(check_name="form_lines_contract", passed=True, metadata={"lines": len(lines)})
        ],
    )


def _refuse_on_breach(
    context: dg.AssetExecutionContext, check: str, schema: type, frame: pd.DataFrame
) -> Iterator[dg.AssetCheckEvaluation]:
    """If `frame` breaks `schema`: the failed check for each partition of the run, then a Failure naming
    the races, fields and rules (nothing is written; the stored rows stay)."""
    breaches = contract_breaches(context.asset_key.to_user_string(), schema, frame)
    if breaches.empty:
        return
    metadata = {
        "breaches": len(breaches),
        "breach_sample": dg.MetadataValue.md(breaches.head(20).astype(str).to_markdown(index=False)),
    }
    for key in context.partition_keys:
        yield dg.AssetCheckEvaluation(
            asset_key=context.asset_key, check_name=check, passed=False, partition=key, metadata=metadata
        )
    raise dg.Failure(
        description=f"{step_location(context)}: {check} failed, nothing written (stored rows kept): "
        + describe(breaches),
        metadata=metadata,
        allow_retries=False,
    )


@dg.asset(
    **_daily,
    deps=[
        dg.AssetDep(
            "form_lines", partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        )
    ],
    automation_condition=dg.AutomationCondition.eager(),
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
    with failures_by_class(step_location(context)):
        yield from _judge_form_book(context, warehouse)


def _judge_form_book(context: dg.AssetExecutionContext, warehouse: Warehouse) -> Iterator:
    day = date.fromisoformat(context.partition_keys[-1])
    with warehouse.connect() as conn:
        book = conn.execute(sql("form_book"), {"day": day}).df()
        missing = conn.execute(
            sql("meetings_without_form"), {"since": day - timedelta(days=30), "day": day}
        ).df()
    yield from _refuse_on_breach(context, "form_book_contract", FormBookSchema, book)
    context.log.info(f"form_book as of {day}: {len(book)} lines, {len(missing)} meetings missing")
    yield dg.MaterializeResult(
        metadata={
            "form_lines_before": len(book),
            "races_before": int(book["race_code"].nunique()),
            "last_day_with_form": str(book["meeting_date"].max().date()) if len(book) else "None",
        },
        check_results=[
            dg.AssetCheckResult(check_name="form_book_contract", passed=True, metadata={"lines": len(book)}),
            dg.AssetCheckResult(
                check_name="form_book_complete",
                passed=missing.empty,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "meetings_without_form": dg.MetadataValue.md(missing.head(30).to_markdown(index=False))
                }
                if len(missing)
                else {},
            ),
        ],
    )


@dg.asset(
    partitions_def=meeting_cells,
    group_name="features",
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"sql", "duckdb"},
    deps=["race_cards", dg.AssetDep("form_book", partition_mapping=cell_to_day)],
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec(
            "runner_features_contract",
            asset="runner_features",
            blocking=True,
            description="One feature row per runner on the card; rates in [0, 1]; no form for a first start.",
        )
    ],
    description="Point-in-time features of every runner on a cell's card: its card (barrier, weight, claim, "
    "jockey, trainer, race context) joined to form lines dated strictly before the race day. "
    "See docs/features.md.",
)
def runner_features(context: dg.AssetExecutionContext, warehouse: Warehouse):
    def process(cell: Cell) -> CellOutcome:
        with warehouse.connect() as conn:
            card_rows = conn.execute(
                "SELECT count(*) FROM runners WHERE meeting_date = ? AND venue_slug = ?",
                [cell.meeting_date, cell.venue_slug],
            ).fetchone()[0]
            if card_rows == 0:
                none = {
                    "card": "none: no runners stored for this cell (no meeting, or cards not materialized)"
                }
                return CellOutcome(metadata=none, verdicts={"runner_features_contract": Verdict(True, none)})
            features = runner_features_of(conn, cell.meeting_date, cell.venue_slug)
            verdict = features_verdict(features, card_rows)
            if not verdict.blocks:
                warehouse.replace_slices({"runner_features": features}, cell.keys_frame(), conn=conn)
        return CellOutcome(
            metadata={
                **frame_metadata(features, preview_columns=PREVIEW),
                "runners_with_history": int((features["career_starts"] > 0).sum()),
            },
            verdicts={"runner_features_contract": verdict},
        )

    yield from run_cells(context, process)


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
