"""Run one asset over one cell or a range of cells, reporting each cell on its own.

Dagster 1.13 records a range run's `MaterializeResult` for every cell in the range, so a range in
which one cell fails its contract must not return one. Each cell is processed on its own: its check
verdicts are reported as per-cell `AssetCheckEvaluation`s, good cells are written, and if any cell
is blocked the good ones get their own `AssetMaterialization` before the step fails with
`Failure(allow_retries=False)` naming the blocked cells, so they can be re-run by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import dagster as dg

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
    summarize: Callable[[dict[Cell, CellOutcome]], dict] = lambda outcomes: {},
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation | dg.MaterializeResult]:
    """`process` validates a cell and writes it only if no blocking check failed."""
    asset_key = context.asset_key
    cells = cells_of(context)
    outcomes: dict[Cell, CellOutcome] = {}
    for cell in cells:
        context.log.info(f"{asset_key.to_user_string()} {cell}: start")
        outcome = outcomes[cell] = process(cell)
        context.log.info(
            f"{asset_key.to_user_string()} {cell}: "
            + (f"BLOCKED ({outcome.problems()})" if outcome.blocked else "written")
        )

    blocked = [cell for cell, outcome in outcomes.items() if outcome.blocked]
    if len(cells) > 1 or blocked:
        for cell, outcome in outcomes.items():
            for name, verdict in outcome.verdicts.items():
                yield dg.AssetCheckEvaluation(
                    asset_key=asset_key,
                    check_name=name,
                    passed=verdict.passed,
                    partition=str(cell.key),
                    severity=verdict.severity,
                    metadata=verdict.metadata,
                )
    if blocked:
        for cell, outcome in outcomes.items():
            if not outcome.blocked:
                yield dg.AssetMaterialization(
                    asset_key=asset_key, partition=str(cell.key), metadata=outcome.metadata
                )
        details = " | ".join(f"{cell}: {outcomes[cell].problems()}" for cell in blocked)
        raise dg.Failure(
            description=f"{asset_key.to_user_string()}: {len(blocked)} of {len(cells)} cell(s) failed a "
            f"blocking check and were not written (stored data kept). Re-run these cells: {details}",
            metadata={"failed_cells": dg.MetadataValue.json([str(c) for c in blocked])},
            allow_retries=False,
        )

    if len(cells) == 1:
        only = outcomes[cells[0]]
        yield dg.MaterializeResult(
            metadata=only.metadata,
            check_results=[
                dg.AssetCheckResult(check_name=n, passed=v.passed, severity=v.severity, metadata=v.metadata)
                for n, v in only.verdicts.items()
            ],
        )
    else:
        names = next(iter(outcomes.values())).verdicts
        yield dg.MaterializeResult(
            metadata={"cells": len(cells), **summarize(outcomes)},
            check_results=[
                dg.AssetCheckResult(
                    check_name=name,
                    passed=all(o.verdicts[name].passed for o in outcomes.values()),
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "cells": len(cells),
                        "cells_failing": sum(not o.verdicts[name].passed for o in outcomes.values()),
                    },
                )
                for name in names
            ],
        )
