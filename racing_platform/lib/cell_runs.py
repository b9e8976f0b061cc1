"""Run one asset over one cell or a range of cells, recording each cell as soon as it is written.

Each cell is processed on its own and recorded right after its write: its check verdicts as per-cell
`AssetCheckEvaluation`s and, when it was written, its own `AssetMaterialization`. A run that dies
later (kill -9, OOM) leaves a record of every cell it committed, so the instance and DuckDB agree.
A cell that fails a blocking check is not written; the other cells go on, and the step then fails
with `Failure(allow_retries=False)` naming the blocked cells so they can be re-run by name. Anything
else a cell raises ends the step at once naming the cell (`failures_by_class`), after the cells
before it were recorded; a transient fault goes to the step's RetryPolicy.

The step must still return its output, or Dagster skips the downstream steps of the run. Dagster
1.13 records a range run's output as a materialization of every cell of the range, so in a range
each written cell is recorded twice: its own record as it commits, then the range's (summary
metadata). A one-cell run is recorded once, by its `MaterializeResult` right after the write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import dagster as dg

from racing_platform.lib.failures import failures_by_class
from racing_platform.partitions import Cell


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
class CellOutcome:
    """What processing one cell produced: its materialization metadata and a verdict per check."""

    metadata: dict
    verdicts: dict[str, Verdict]

    @property
    def blocked(self) -> bool:
        return any(v.blocks for v in self.verdicts.values())

    def problems(self) -> str:
        return "; ".join(f"{name}: {v.problem}" for name, v in self.verdicts.items() if v.blocks)


def cells_of(context: dg.AssetExecutionContext) -> list[Cell]:
    return sorted(Cell.from_key(key) for key in context.partition_keys)


def run_cells(
    context: dg.AssetExecutionContext,
    process: Callable[[Cell], CellOutcome],
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation | dg.MaterializeResult]:
    """`process` validates a cell and writes it only if no blocking check failed."""
    asset = context.asset_key.to_user_string()
    cells = cells_of(context)
    outcomes: dict[Cell, CellOutcome] = {}
    for cell in cells:
        context.log.info(f"{asset} {cell}: start")
        with failures_by_class(f"{asset} [{cell}]"):
            outcome = outcomes[cell] = process(cell)
        context.log.info(
            f"{asset} {cell}: " + (f"BLOCKED ({outcome.problems()})" if outcome.blocked else "written")
        )
        if len(cells) > 1 or outcome.blocked:
            yield from _cell_records(context.asset_key, cell, outcome)

    blocked = [cell for cell, outcome in outcomes.items() if outcome.blocked]
    if blocked:
        details = " | ".join(f"{cell}: {outcomes[cell].problems()}" for cell in blocked)
        raise dg.Failure(
            description=f"{asset}: {len(blocked)} of {len(cells)} cell(s) failed a blocking check and were "
            f"not written (stored data kept). Re-run these cells: {details}",
            metadata={"failed_cells": dg.MetadataValue.json([str(c) for c in blocked])},
            allow_retries=False,
        )
    yield _step_result(outcomes)


def _cell_records(
    asset_key: dg.AssetKey, cell: Cell, outcome: CellOutcome
) -> Iterator[dg.AssetCheckEvaluation | dg.AssetMaterialization]:
    for name, verdict in outcome.verdicts.items():
        yield dg.AssetCheckEvaluation(
            asset_key=asset_key,
            check_name=name,
            passed=verdict.passed,
            partition=str(cell.key),
            severity=verdict.severity,
            metadata=verdict.metadata,
        )
    if not outcome.blocked:
        yield dg.AssetMaterialization(asset_key=asset_key, partition=str(cell.key), metadata=outcome.metadata)


def _step_result(outcomes: dict[Cell, CellOutcome]) -> dg.MaterializeResult:
    """The step's output: the one cell's record, or a range's summary with one verdict per check."""
    if len(outcomes) == 1:
        (only,) = outcomes.values()
        return dg.MaterializeResult(
            metadata=only.metadata,
            check_results=[
                dg.AssetCheckResult(check_name=n, passed=v.passed, severity=v.severity, metadata=v.metadata)
                for n, v in only.verdicts.items()
            ],
        )
    names = next(iter(outcomes.values())).verdicts
    return dg.MaterializeResult(
        metadata={"cells": len(outcomes)},
        check_results=[
            dg.AssetCheckResult(
                check_name=name,
                passed=all(o.verdicts[name].passed for o in outcomes.values()),
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "cells": len(outcomes),
                    "cells_failing": sum(not o.verdicts[name].passed for o in outcomes.values()),
                },
            )
            for name in names
        ],
    )
