"""`simulator_truth`, `daily_evaluation` and `evaluation_summary`, and the plain functions they call.

`evaluation_rows` builds the runner frame the metrics read (evaluation/metrics.py): for each resulted
race with predictions, its final field with the race's prediction snapshot as of its jump, the result (won,
SP) and the truth where stored, as the sources uniform, stage1, blend, market (at SP, overround
removed) and oracle (truth). It refuses, as a hard failure naming race and version, to evaluate a
race the pricing model was trained on. `evaluate_day` stores a day's metrics per source in table
`evaluation_daily`; `evaluate_range` rolls everything up over a range with the reliability table, the
calibration plot and blend vs market per model version. The `racing-platform evaluate` command calls
the same functions. docs/evaluation.md has the definitions and the choices.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from racing_platform.evaluation.metrics import (
    CALIBRATION_BINS,
    METRICS,
    SOURCES,
    VALUE_MARGIN,
    calibration_table,
    complete_races,
    format_table,
    market_from_sp,
    metrics_by_source,
    normalised,
    probability_sums,
    uniform_probabilities,
)
from racing_platform.evaluation.plots import calibration_png, png_markdown
from racing_platform.evaluation.truth import capture_truth, graphql_url_of
from racing_platform.lib.cell_runs import Outcome, Verdict, cells_of, nothing_there, record_run, where
from racing_platform.lib.failures import failures_by_class, step_location
from racing_platform.lib.metadata import table_schema
from racing_platform.lib.policies import DUCKDB_POOL, OWNERS, SOURCE_RETRY, WAREHOUSE_RETRY
from racing_platform.partitions import cell_to_day, meeting_cells, racing_days
from racing_platform.paths import data_dir
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse

EVALUATION_TABLE = "evaluation_daily"
SUM_TOLERANCE = 1e-6
NO_TRAINING_RACES = "evaluation_no_training_races"
SUMS_TO_ONE = "evaluation_probabilities_sum_to_one"
# Sources drawn on the calibration plot (uniform is one point per field size: nothing to read).
PLOTTED = ("stage1", "blend", "market", "oracle")
FRAME_COLUMNS = [
    "meeting_date",
    "venue_slug",
    "race_code",
    "race_number",
    "horse_code",
    "saddlecloth",
    "finish_position",
    "won",
    "starting_price",
    "model_version",
    "model_cutoff",
    "predicted_at",
    *SOURCES,
]
SKIP_NOT_ONE_WINNER = "not exactly one winner (dead heat or incomplete result)"
SKIP_UNPRICED_RUNNER = "a runner of the final field has no prediction in the snapshot as of the jump"


class TrainingRaceEvaluatedError(ValueError):
    """A race would be evaluated with a model trained on it (race date before the version's cutoff)."""


@cache
def _sql(name: str) -> str:
    return resources.files("racing_platform.evaluation").joinpath(f"sql/{name}.sql").read_text()


# -- the runner frame ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationRows:
    """The runner frame of the evaluated races, and the races left out with why."""

    rows: pd.DataFrame
    skipped: dict[str, list[str]] = field(default_factory=dict)
    renormalised: list[str] = field(default_factory=list)
    """Races whose snapshot as of the jump priced runners that did not run (late scratchings): its
    probabilities were rescaled to the final field."""
    not_resulted: int = 0
    """Races with predictions and result rows but no finishing positions yet (not counted as skipped)."""

    @property
    def races(self) -> int:
        return int(self.rows["race_code"].nunique())

    @property
    def races_skipped(self) -> int:
        return sum(len(codes) for codes in self.skipped.values())


def runner_frame(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> EvaluationRows:
    """The runner frame of the resulted races dated start..end with predictions (see `evaluation_rows`),
    with the races skipped and why. Raises `TrainingRaceEvaluatedError` before anything is scored if a
    race's snapshot as of the jump was priced by a model whose training reached the race."""
    raw = conn.execute(_sql("evaluation_rows"), {"start": start, "end": end}).df()
    guard_no_training_races(raw)
    if raw.empty:
        return EvaluationRows(rows=pd.DataFrame(columns=FRAME_COLUMNS))
    finished = raw.groupby("race_code", sort=False)["finish_position"].transform("count") > 0
    not_resulted = int(raw.loc[~finished, "race_code"].nunique())
    raw = raw[finished]
    by_race = raw.groupby("race_code", sort=False)
    one_winner = by_race["won"].transform("sum") == 1
    all_priced = by_race["predicted"].transform("all")
    skipped = {
        SKIP_NOT_ONE_WINNER: sorted(raw.loc[~one_winner, "race_code"].unique()),
        SKIP_UNPRICED_RUNNER: sorted(raw.loc[one_winner & ~all_priced, "race_code"].unique()),
    }
    rows = raw[one_winner & all_priced].reset_index(drop=True)
    blend_sums = rows.groupby("race_code")["win_probability"].sum()
    renormalised = sorted(blend_sums.index[(blend_sums - 1).abs() > SUM_TOLERANCE])
    rows = rows.assign(
        won=rows["won"].astype(bool),
        uniform=uniform_probabilities(rows),
        stage1=normalised(rows, "stage1_probability"),
        blend=normalised(rows, "win_probability"),
        market=market_from_sp(rows),
        oracle=normalised(rows, "true_win_prob"),
    )
    return EvaluationRows(
        rows=rows[FRAME_COLUMNS],
        skipped={reason: codes for reason, codes in skipped.items() if codes},
        renormalised=renormalised,
        not_resulted=not_resulted,
    )


def evaluation_rows(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> pd.DataFrame:
    """One row per runner of the final field of every evaluated race dated start..end (inclusive):
    FRAME_COLUMNS, ordered by date, venue, race and saddlecloth; the sources `uniform`, `stage1`,
    `blend`, `market`, `oracle` each sum to 1 per race (NaN for a race where the source is missing).

    A race counts when it has exactly one winner and every runner that ran has a prediction in the
    race's snapshot as of its jump (the newest priced before it, else its earliest; then the newest
    model). Never a race the model was trained on: a violation raises `TrainingRaceEvaluatedError`
    naming race and version.
    """
    return runner_frame(conn, start, end).rows


def guard_no_training_races(raw: pd.DataFrame) -> None:
    """Raise naming each race priced by a model trained on it (race date before the version's cutoff;
    training uses races strictly before it) or by a version model_versions does not list."""
    priced = raw[raw["predicted"].astype(bool)].drop_duplicates("race_code")
    unlisted = priced[~priced["model_listed"].astype(bool)]
    days = pd.to_datetime(priced["meeting_date"])
    leaked = priced[priced["model_listed"].astype(bool) & (days < pd.to_datetime(priced["model_cutoff"]))]
    problems = [
        f"race {r.race_code} ({_day(r.meeting_date)}) was priced by model {r.model_version}, trained on "
        f"races before {_day(r.model_cutoff)}: the model has seen this race"
        for r in leaked.itertuples()
    ] + [
        f"race {r.race_code} ({_day(r.meeting_date)}) was priced by model {r.model_version}, which "
        "model_versions does not list: its training cutoff cannot be checked"
        for r in unlisted.itertuples()
    ]
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise TrainingRaceEvaluatedError(
            f"refusing to evaluate {len(problems)} race(s) on training data: "
            + "; ".join(problems[:10])
            + more
        )


def _day(value) -> str:
    return pd.Timestamp(value).date().isoformat()


def sums_verdict(rows: pd.DataFrame) -> Verdict:
    """Every source's probabilities lie in [0, 1] and sum to 1 per race over the final field."""
    sums = probability_sums(rows)
    off = {s: sorted(sums.index[(sums[s] - 1).abs() > SUM_TOLERANCE]) for s in sums.columns}
    off = {s: codes for s, codes in off.items() if codes}
    outside = [s for s in SOURCES if s in rows and not rows[s].dropna().between(0, 1).all()]
    if off or outside:
        problems = [f"{s} does not sum to 1 in races {', '.join(c[:10])}" for s, c in off.items()]
        problems += [f"{s} has probabilities outside [0, 1]" for s in outside]
        return Verdict(False, {"problems": dg.MetadataValue.json(problems)}, problem="; ".join(problems))
    return Verdict(True, {"races": int(rows["race_code"].nunique()), "sources": ", ".join(sums.columns)})


def training_verdict(rows: pd.DataFrame) -> Verdict:
    """The passing verdict of the guard: how many races were checked and the closest one to its cutoff."""
    if rows.empty:
        return Verdict(True, {"races": 0})
    per_race = rows.drop_duplicates("race_code")
    gap = (pd.to_datetime(per_race["meeting_date"]) - pd.to_datetime(per_race["model_cutoff"])).dt.days
    return Verdict(
        True,
        {
            "races": len(per_race),
            "model_versions": ", ".join(sorted(per_race["model_version"].unique())),
            "min_days_after_cutoff": int(gap.min()),
        },
    )


# -- one day -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayEvaluation:
    day: date
    evaluation: EvaluationRows
    metrics: dict[str, dict]
    sums: Verdict
    stored: int
    """Rows written to evaluation_daily (0 when the sums verdict failed: nothing written)."""

    @property
    def rows(self) -> pd.DataFrame:
        return self.evaluation.rows


def evaluate_day(warehouse: Warehouse, day: date, *, margin: float = VALUE_MARGIN) -> DayEvaluation:
    """Score the day's resulted races that have predictions and replace the day's rows of
    evaluation_daily with its metrics per source (nothing written if a source does not sum to 1).
    Raises `TrainingRaceEvaluatedError` on a race the model was trained on (nothing written)."""
    with warehouse.connect() as conn:
        evaluation = runner_frame(conn, day, day)
        metrics = metrics_by_source(evaluation.rows, margin=margin)
        verdict = sums_verdict(evaluation.rows)
        stored = 0
        if verdict.passed:
            table = daily_metrics_frame(day, metrics)
            _require_table(conn, EVALUATION_TABLE)
            warehouse.replace_slices(
                {EVALUATION_TABLE: table},
                pd.DataFrame({"meeting_date": [day]}),
                allow_empty=frozenset({EVALUATION_TABLE}),  # a day with nothing evaluated has no rows
                conn=conn,
            )
            stored = len(table)
    return DayEvaluation(day, evaluation, metrics, verdict, stored)


def daily_metrics_frame(day: date, metrics: dict[str, dict]) -> pd.DataFrame:
    """The rows of evaluation_daily for `day`: one per source (None metrics stored as NULL)."""
    frame = pd.DataFrame(
        [{"meeting_date": day, "source": s, **{k: m[k] for k in METRICS}} for s, m in metrics.items()],
        columns=["meeting_date", "source", *METRICS],
    )
    for column in ("log_loss", "brier", "mcfadden_r2", "top_pick_strike_rate", "roi"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Float64")
    for column in ("bets", "races"):
        frame[column] = frame[column].astype("int64")
    return frame.assign(evaluated_at=pd.Timestamp.now(tz="UTC").floor("us"))


def _require_table(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    found = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table])
    if not found.fetchone()[0]:
        raise RuntimeError(
            f"table {table} is missing: its CREATE TABLE belongs in racing_platform/warehouse/sql/schema.sql "
            "(docs/evaluation.md)"
        )


def evaluate_days(
    warehouse: Warehouse, days: Sequence[date], margin: float = VALUE_MARGIN
) -> dict[str, Outcome]:
    """`evaluate_day` for each day of a run, as each day's outcome by partition key: a day whose race
    breaks the no-training-races rule is a blocking verdict naming race and version (nothing written)."""
    outcomes = {}
    for day in days:
        try:
            result = evaluate_day(warehouse, day, margin=margin)
        except TrainingRaceEvaluatedError as exc:
            outcomes[day.isoformat()] = Outcome(
                metadata={"evaluation": "refused: a race the model was trained on", "dagster/row_count": 0},
                verdicts={NO_TRAINING_RACES: Verdict(False, {"error": str(exc)}, problem=str(exc))},
            )
            continue
        outcomes[day.isoformat()] = day_outcome(result)
    return outcomes


def day_outcome(result: DayEvaluation) -> Outcome:
    evaluation = result.evaluation
    if evaluation.rows.empty and not evaluation.skipped:
        outcome = nothing_there("evaluation", "no resulted race with predictions on this day")
        outcome.metadata["races_not_resulted"] = evaluation.not_resulted
        return outcome
    return Outcome(
        metadata={
            "dagster/row_count": result.stored,
            "metrics": dg.MetadataValue.md(format_table(result.metrics)),
            **numeric_metrics(result.metrics),
            "races_evaluated": evaluation.races,
            "runners": len(evaluation.rows),
            "races_skipped": evaluation.races_skipped,
            "skipped": dg.MetadataValue.json(evaluation.skipped),
            "races_renormalised": len(evaluation.renormalised),
            "races_not_resulted": evaluation.not_resulted,
        },
        verdicts={
            NO_TRAINING_RACES: training_verdict(evaluation.rows),
            SUMS_TO_ONE: result.sums,
        },
    )


def numeric_metrics(metrics: dict[str, dict]) -> dict[str, float | int]:
    """`<source>_<metric>` for every metric with a value (e.g. blend_log_loss, market_roi, oracle_races)."""
    return {
        f"{source}_{name}": (int(value) if name in ("bets", "races") else float(value))
        for source, values in metrics.items()
        for name, value in values.items()
        if value is not None and not (isinstance(value, float) and np.isnan(value))
    }


# -- a range -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RangeEvaluation:
    start: date | None
    end: date | None
    evaluation: EvaluationRows
    metrics: dict[str, dict]
    calibration: dict[str, pd.DataFrame]
    by_version: pd.DataFrame
    sums: Verdict
    png: bytes | None

    @property
    def rows(self) -> pd.DataFrame:
        return self.evaluation.rows


def evaluate_range(
    warehouse: Warehouse,
    start: date | None = None,
    end: date | None = None,
    *,
    margin: float = VALUE_MARGIN,
    bins: int = CALIBRATION_BINS,
) -> RangeEvaluation:
    """Every metric over all the races dated start..end (default: every predicted date), recomputed
    from the runner rows (not averaged over days), with the reliability table per source, the
    calibration plot (PNG) and blend vs market per model version. Raises `TrainingRaceEvaluatedError`."""
    with warehouse.connect() as conn:
        first, last = conn.execute("SELECT min(meeting_date), max(meeting_date) FROM predictions").fetchone()
        start, end = start or first, end or last
        if start is None or end is None:
            evaluation = EvaluationRows(rows=pd.DataFrame(columns=FRAME_COLUMNS))
        else:
            evaluation = runner_frame(conn, _as_date(start), _as_date(end))
    rows = evaluation.rows
    metrics = metrics_by_source(rows, margin=margin)
    calibration = {}
    for source in metrics:
        scored = complete_races(rows, source)
        calibration[source] = calibration_table(scored[source], scored["won"], bins)
    plotted = {s: calibration[s] for s in PLOTTED if s in calibration}
    png = calibration_png(plotted, title=f"Calibration {_span(start, end)}") if plotted else None
    return RangeEvaluation(
        start=_as_date(start) if start else None,
        end=_as_date(end) if end else None,
        evaluation=evaluation,
        metrics=metrics,
        calibration=calibration,
        by_version=blend_vs_market_by_version(rows, margin),
        sums=sums_verdict(rows),
        png=png,
    )


def _as_date(value) -> date:
    return pd.Timestamp(value).date()


def _span(start, end) -> str:
    return f"{_as_date(start)} .. {_as_date(end)}" if start and end else "(nothing evaluated)"


def blend_vs_market_by_version(rows: pd.DataFrame, margin: float = VALUE_MARGIN) -> pd.DataFrame:
    """Per model version (and its cutoff), blend and market on the same races (those with both)."""
    columns = [
        "model_version",
        "cutoff",
        "races",
        "blend_log_loss",
        "market_log_loss",
        "blend_mcfadden_r2",
        "market_mcfadden_r2",
        "blend_top_pick",
        "market_top_pick",
        "blend_roi",
        "blend_bets",
    ]
    out = []
    for (version, cutoff), part in rows.groupby(["model_version", "model_cutoff"], sort=True):
        both = complete_races(complete_races(part.reset_index(drop=True), "blend"), "market")
        scored = metrics_by_source(both, ["blend", "market"], margin)
        if "blend" not in scored or "market" not in scored:
            continue
        blend, market = scored["blend"], scored["market"]
        out.append(
            [
                version,
                _as_date(cutoff),
                blend["races"],
                blend["log_loss"],
                market["log_loss"],
                blend["mcfadden_r2"],
                market["mcfadden_r2"],
                blend["top_pick_strike_rate"],
                market["top_pick_strike_rate"],
                blend["roi"],
                blend["bets"],
            ]
        )
    return pd.DataFrame(out, columns=columns)


def save_plot(png: bytes) -> Path:
    """The latest calibration plot as a file (data_dir()/evaluation/calibration.png)."""
    path = data_dir() / "evaluation" / "calibration.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


def summary_metadata(result: RangeEvaluation) -> dict:
    evaluation, rows = result.evaluation, result.rows
    metadata = {
        "range": _span(result.start, result.end),
        "days": int(rows["meeting_date"].nunique()) if len(rows) else 0,
        "races_evaluated": evaluation.races,
        "runners": len(rows),
        "races_skipped": evaluation.races_skipped,
        "skipped": dg.MetadataValue.json({k: len(v) for k, v in evaluation.skipped.items()}),
        "races_renormalised": len(evaluation.renormalised),
        "metrics": dg.MetadataValue.md(format_table(result.metrics)),
        **numeric_metrics(result.metrics),
    }
    if "blend" in result.calibration:
        metadata["reliability_blend"] = dg.MetadataValue.md(_reliability_md(result.calibration["blend"]))
    if result.png is not None:
        metadata["calibration_plot"] = dg.MetadataValue.md(png_markdown(result.png))
        metadata["calibration_plot_path"] = dg.MetadataValue.path(str(save_plot(result.png)))
    if len(result.by_version):
        shown = result.by_version.round(4).astype(object).where(result.by_version.notna(), "-")
        metadata["blend_vs_market_by_version"] = dg.MetadataValue.md(shown.to_markdown(index=False))
    return metadata


def _reliability_md(table: pd.DataFrame) -> str:
    shown = table[["bin", "mean_predicted", "observed_win_rate", "runners", "winners"]]
    return shown.round(4).to_markdown(index=False)


# -- assets --------------------------------------------------------------------------------------------


@dg.asset(
    partitions_def=meeting_cells,
    group_name="evaluation",
    owners=OWNERS,
    kinds={"http", "duckdb"},
    metadata={"dagster/column_schema": table_schema("simulator_truth")},
    pool=DUCKDB_POOL,
    retry_policy=SOURCE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["race_results"],
    check_specs=[
        dg.AssetCheckSpec(
            "simulator_truth_sums_to_one",
            asset="simulator_truth",
            description="The truth of each race sums to 1 over its final field (WARN).",
        )
    ],
    description="The simulator's true win probabilities of the cell's resulted races (its /_sim/truth "
    "channel), for evaluation only: features and the model never read them. Against racing.com there is "
    "no truth: nothing is stored and the metadata says 'no truth channel'.",
)
def simulator_truth(context: dg.AssetExecutionContext, racing_com: RacingComResource, warehouse: Warehouse):
    with failures_by_class(where("simulator_truth", list(context.partition_keys))):
        outcomes = capture_truth(warehouse, cells_of(context), graphql_url_of(racing_com))
    yield from record_run(context, {"simulator_truth": outcomes})


class DailyEvaluationConfig(dg.Config):
    margin: float = VALUE_MARGIN
    """The value rule backs runners with p x SP > 1 + margin."""


@dg.asset(
    partitions_def=racing_days,
    group_name="evaluation",
    owners=OWNERS,
    kinds={"pandas", "duckdb"},
    metadata={"dagster/column_schema": table_schema("evaluation_daily")},
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        dg.AssetDep("predictions", partition_mapping=cell_to_day),
        dg.AssetDep("race_results", partition_mapping=cell_to_day),
        dg.AssetDep("simulator_truth", partition_mapping=cell_to_day),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            NO_TRAINING_RACES,
            asset="daily_evaluation",
            blocking=True,
            description="No race is evaluated with a model trained on it: every race is dated on or after "
            "its pricing version's cutoff (training uses races strictly before it). A violation fails the "
            "step naming race and version.",
        ),
        dg.AssetCheckSpec(
            SUMS_TO_ONE,
            asset="daily_evaluation",
            blocking=True,
            description="Every source (uniform, stage1, blend, market, oracle) is a distribution over each "
            "race's final field: in [0, 1], summing to 1.",
        ),
    ],
    description="The day's resulted races that have predictions, scored per source (uniform, stage 1, "
    "blend, market at SP, oracle = simulator truth): log loss, Brier, McFadden R², top-pick strike rate "
    "and a value rule's ROI at SP. Stored per source in table evaluation_daily.",
)
def daily_evaluation(context: dg.AssetExecutionContext, config: DailyEvaluationConfig, warehouse: Warehouse):
    days = [date.fromisoformat(key) for key in context.partition_keys]
    with failures_by_class(where("daily_evaluation", list(context.partition_keys))):
        outcomes = evaluate_days(warehouse, days, config.margin)
    yield from record_run(context, {"daily_evaluation": outcomes})


class EvaluationSummaryConfig(dg.Config):
    start: str | None = None
    """First race date (YYYY-MM-DD) to include; default the first predicted date."""
    end: str | None = None
    """Last race date (YYYY-MM-DD) to include; default the last predicted date."""
    margin: float = VALUE_MARGIN
    bins: int = CALIBRATION_BINS


@dg.asset(
    group_name="evaluation",
    owners=OWNERS,
    kinds={"pandas", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=WAREHOUSE_RETRY,
    deps=["daily_evaluation"],
    check_specs=[
        dg.AssetCheckSpec(
            NO_TRAINING_RACES,
            asset="evaluation_summary",
            description="No race of the range is evaluated with a model trained on it.",
        ),
        dg.AssetCheckSpec(
            SUMS_TO_ONE,
            asset="evaluation_summary",
            description="Every source sums to 1 over each race's final field.",
        ),
    ],
    description="Every evaluated race (or a configured date range) scored at once per source, recomputed "
    "from the runner rows: the metrics table, the reliability table, a calibration plot and blend vs "
    "market per model version and cutoff.",
)
def evaluation_summary(
    context: dg.AssetExecutionContext, config: EvaluationSummaryConfig, warehouse: Warehouse
) -> Iterator:
    with failures_by_class(step_location(context)):
        start = date.fromisoformat(config.start) if config.start else None
        end = date.fromisoformat(config.end) if config.end else None
        try:
            result = evaluate_range(warehouse, start, end, margin=config.margin, bins=config.bins)
        except TrainingRaceEvaluatedError as exc:
            yield dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey("evaluation_summary"),
                check_name=NO_TRAINING_RACES,
                passed=False,
                metadata={"error": str(exc)},
            )
            raise dg.Failure(f"evaluation_summary: {exc}", allow_retries=False) from exc
    context.log.info(f"evaluation_summary {_span(result.start, result.end)}\n{format_table(result.metrics)}")
    training = training_verdict(result.rows)
    yield dg.MaterializeResult(
        metadata=summary_metadata(result),
        check_results=[
            dg.AssetCheckResult(check_name=NO_TRAINING_RACES, passed=True, metadata=training.metadata),
            dg.AssetCheckResult(
                check_name=SUMS_TO_ONE, passed=result.sums.passed, metadata=result.sums.metadata
            ),
        ],
    )
