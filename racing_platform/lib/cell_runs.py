"""Record what a step made of each partition of its run: that partition's own metadata and verdicts.

The stage functions (`fetch_raw_cards`, `build_cards_and_results`, `build_form_lines`, ...) take every
partition of a run at once, write those that passed their blocking checks in one transaction and return
an `Outcome` per partition (per asset for a multi-asset). `record_run` turns them into Dagster records:

- one `MaterializeResult` per asset. Dagster records it as a materialization of every partition of the
  run, each carrying that partition's own metadata: its row count and preview, or for a cell without a
  meeting `{"meeting": "none: ...", "dagster/row_count": 0}`. Metadata most partitions share (the
  empty cells') rides on the output; every other partition gets its own with
  `context.add_asset_metadata(..., partition_key=...)`. Range-wide facts use `run_`-prefixed keys.
- per partition with something to judge, an `AssetCheckEvaluation` naming the partition, in every run
  (the check specs are unpartitioned, so an `AssetCheckResult` would carry no partition even in a
  one-partition run), plus one summary `AssetCheckResult` per check of the asset (partition-less, WARN)
  so that Dagster sees every check spec answered. The partition's evaluation is stored after the
  summary's planned record, so it is the check's latest execution in the UI.
- when a partition failed a blocking check: the written partitions are recorded one by one
  (`AssetMaterialization`), then `Failure(allow_retries=False)` names the blocked ones; their stored
  rows are kept and downstream steps of the run do not start.

Crash window: the writes commit before the records are stored (Dagster stores a step's
materializations as the step ends). A run killed (kill -9, OOM) between the commit and the end of
its step leaves DuckDB ahead of the instance: the partitions are written but not recorded as
materialized, and the dead run is failed by lib/crashed_runs.py. Re-running them rewrites the same
rows (slice replacement is idempotent) and records them. The reverse, a record without its rows,
cannot happen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from racing_platform.partitions import Cell

WARN = dg.AssetCheckSeverity.WARN


@dataclass(frozen=True)
class Verdict:
    passed: bool
    metadata: dict = field(default_factory=dict)
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
    problem: str | None = None

    @property
    def blocks(self) -> bool:
        return not self.passed and self.severity == dg.AssetCheckSeverity.ERROR


@dataclass
class Outcome:
    """One partition of one asset: its materialization metadata and a verdict per check it was judged by.

    No verdicts: there was nothing to judge (a cell without a meeting); its metadata says so.
    """

    metadata: dict
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return any(v.blocks for v in self.verdicts.values())

    def problems(self) -> str:
        return "; ".join(f"{name}: {v.problem}" for name, v in self.verdicts.items() if v.blocks)


def nothing_there(what: str, reason: str) -> Outcome:
    """A partition with nothing to write: says why, and holds no rows."""
    return Outcome(metadata={what: f"none: {reason}", "dagster/row_count": 0})


def cells_of(context: dg.AssetExecutionContext) -> list[Cell]:
    return sorted(Cell.from_key(key) for key in context.partition_keys)


def cells_params(cells: Sequence[Cell]) -> dict[str, list]:
    """The query parameters `$days` and `$venues` of the sql/cells_*.sql queries: one pair per cell."""
    return {"days": [c.meeting_date for c in cells], "venues": [c.venue_slug for c in cells]}


def rows_by_cell(frame: pd.DataFrame) -> dict[Cell, pd.DataFrame]:
    """A run's rows (columns meeting_date, venue_slug) per cell, in their order, each indexed from 0."""
    days = pd.to_datetime(frame["meeting_date"]).dt.date
    return {
        Cell(day, venue): rows.reset_index(drop=True)
        for (day, venue), rows in frame.groupby([days, frame["venue_slug"]], sort=False)
    }


def where(asset: str, partition_keys: list[str]) -> str:
    """`asset [partition]` or `asset [first .. last, n partitions]`: the prefix of a step's failures."""
    if not partition_keys:
        return asset
    if len(partition_keys) == 1:
        return f"{asset} [{partition_keys[0]}]"
    return f"{asset} [{partition_keys[0]} .. {partition_keys[-1]}, {len(partition_keys)} partitions]"


def record_run(
    context: dg.AssetExecutionContext,
    outcomes: Mapping[str, Mapping[str, Outcome]],
    run_metadata: Mapping[str, dict] | None = None,
) -> Iterator[dg.AssetCheckEvaluation | dg.AssetMaterialization | dg.MaterializeResult]:
    """Record `outcomes` (asset -> partition key -> outcome, every partition of the run) as above.

    `run_metadata` (by asset) is about the whole run, e.g. the source client's request counts: it goes
    on every partition's record, so its keys start with `run_`.
    """
    run_metadata = run_metadata or {}
    run_keys = _only_the_runs_partitions(context, outcomes)
    blocked = {
        asset: [key for key, outcome in by_key.items() if outcome.blocked]
        for asset, by_key in outcomes.items()
    }
    one_partition = len(run_keys) == 1
    for asset, by_key in outcomes.items():
        yield from _partition_verdicts(dg.AssetKey.from_user_string(asset), by_key)
    if any(blocked.values()):
        for asset, by_key in outcomes.items():
            for key, outcome in by_key.items():
                if not outcome.blocked:
                    yield dg.AssetMaterialization(asset_key=asset, partition=key, metadata=outcome.metadata)
        raise _blocked_failure(outcomes, blocked)
    for asset, by_key in outcomes.items():
        context.log.info(_summary_line(asset, by_key))
        if one_partition:
            (only,) = by_key.values()
            yield dg.MaterializeResult(
                asset_key=asset,
                metadata={**only.metadata, **run_metadata.get(asset, {})},
                check_results=_check_results(context, asset, by_key),
            )
            continue
        shared = _shared_metadata(by_key)
        _add_partition_metadata(
            context,
            dg.AssetKey.from_user_string(asset),
            {
                key: {**dict.fromkeys(shared, dg.MetadataValue.null()), **outcome.metadata}
                for key, outcome in by_key.items()
                if outcome.metadata != shared
            },
        )
        keys = list(by_key)
        yield dg.MaterializeResult(
            asset_key=asset,
            metadata={
                **shared,
                "run_partitions": f"{keys[0]} .. {keys[-1]} ({len(keys)})",
                "run_partitions_judged": sum(bool(o.verdicts) for o in by_key.values()),
                **run_metadata.get(asset, {}),
            },
            check_results=_check_results(context, asset, by_key),
        )


def _only_the_runs_partitions(
    context: dg.AssetExecutionContext, outcomes: Mapping[str, Mapping[str, Outcome]]
) -> set[str]:
    """The run's partition keys, once every outcome is for one of them and for an asset of the step."""
    run_keys = set(context.partition_keys)
    for asset, by_key in outcomes.items():
        if dg.AssetKey.from_user_string(asset) not in context.assets_def.keys:
            raise dg.DagsterInvariantViolationError(f"{asset}: outcomes for an asset this step does not make")
        stray = sorted(set(by_key) - run_keys)
        if stray:
            raise dg.DagsterInvariantViolationError(
                f"{asset}: outcomes for partitions outside the run: {', '.join(stray[:5])}"
            )
    return run_keys


def _shared_metadata(by_key: Mapping[str, Outcome]) -> dict:
    """The metadata most partitions of the run have alike (those without a meeting), if any two do.

    It goes on the step's output, which Dagster gives every partition; only the others are given
    their own, with null for the shared keys they lack.
    """
    alike = Counter(repr(sorted(o.metadata.items())) for o in by_key.values())
    most, times = alike.most_common(1)[0] if alike else ("", 0)
    if times < 2:
        return {}
    return next(o.metadata for o in by_key.values() if repr(sorted(o.metadata.items())) == most)


def _add_partition_metadata(
    context: dg.AssetExecutionContext, asset_key: dg.AssetKey, own: Mapping[str, dict]
) -> None:
    """`context.add_asset_metadata(metadata, asset_key=..., partition_key=key)` for each partition.

    The public call checks the key against the run's partitions by listing them afresh every time
    (the venue partitions from the instance, the dates of the range): 5-20 ms a call, for every
    meeting cell of a range run. `record_run` checks all its keys against the run's once
    (`_only_the_runs_partitions`); each partition's metadata then goes to the step's metadata
    accumulator, as the public call does after its check. `test_partition_records.py` pins the result.
    """
    step = context.op_execution_context._step_execution_context
    for key, metadata in own.items():
        step._metadata_accumulator = step._metadata_accumulator.with_additional_asset_metadata(
            asset_key=asset_key, partition_key=key, metadata=metadata
        )


def _partition_verdicts(
    asset_key: dg.AssetKey, by_key: Mapping[str, Outcome]
) -> Iterator[dg.AssetCheckEvaluation]:
    for key, outcome in by_key.items():
        for name, verdict in outcome.verdicts.items():
            yield dg.AssetCheckEvaluation(
                asset_key=asset_key,
                check_name=name,
                passed=verdict.passed,
                partition=key,
                severity=verdict.severity,
                metadata=verdict.metadata,
            )


def _check_results(
    context: dg.AssetExecutionContext, asset: str, by_key: Mapping[str, Outcome]
) -> list[dg.AssetCheckResult]:
    """Every check of `asset` answered for the run: a WARN summary of its partitions' verdicts."""
    asset_key = dg.AssetKey.from_user_string(asset)
    names = [spec.name for spec in context.assets_def.check_specs if spec.asset_key == asset_key]
    results = []
    for name in names:
        judged = [o.verdicts[name] for o in by_key.values() if name in o.verdicts]
        results.append(
            dg.AssetCheckResult(
                asset_key=asset_key,
                check_name=name,
                passed=all(v.passed for v in judged),
                severity=WARN,
                metadata={
                    "partitions_judged": len(judged),
                    "partitions_failing": sum(not v.passed for v in judged),
                    **({} if judged else {"nothing_to_judge": "no partition of this run has rows to check"}),
                },
            )
        )
    return results


def _summary_line(asset: str, by_key: Mapping[str, Outcome]) -> str:
    rows = sum(int(o.metadata.get("dagster/row_count", 0)) for o in by_key.values())
    judged = sum(bool(o.verdicts) for o in by_key.values())
    warned = [k for k, o in by_key.items() if any(not v.passed for v in o.verdicts.values())]
    line = f"{where(asset, list(by_key))}: {judged} judged ({rows} rows), {len(by_key) - judged} with nothing"
    return line + (f"; warnings for {', '.join(warned)}" if warned else "")


def _blocked_failure(
    outcomes: Mapping[str, Mapping[str, Outcome]], blocked: Mapping[str, list[str]]
) -> dg.Failure:
    lines, failed = [], []
    for asset, keys in blocked.items():
        if not keys:
            continue
        by_key = outcomes[asset]
        checks = sorted({n for k in keys for n, v in by_key[k].verdicts.items() if v.blocks})
        lines.append(
            f"{where(asset, list(by_key))}: {', '.join(checks)} failed, nothing written for {len(keys)} of "
            f"{len(by_key)} partition(s) (stored data kept"
            + (f"; the other {len(by_key) - len(keys)} were written" if len(keys) < len(by_key) else "")
            + "). Re-run these partitions: "
            + _grouped_problems({k: by_key[k].problems() for k in keys})
        )
        failed += keys
    return dg.Failure(
        description="\n".join(lines),
        metadata={"failed_partitions": dg.MetadataValue.json(sorted(set(failed)))},
        allow_retries=False,
    )


def _grouped_problems(problems: Mapping[str, str]) -> str:
    """`key, key: problem | key: problem`: partitions blocked by one problem (a range-wide contract) once."""
    keys_by_problem: dict[str, list[str]] = {}
    for key, problem in problems.items():
        keys_by_problem.setdefault(problem, []).append(key)
    return " | ".join(f"{', '.join(keys)}: {problem}" for problem, keys in keys_by_problem.items())
