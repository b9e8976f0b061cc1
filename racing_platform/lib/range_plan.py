"""Plan history backfills as few, dense range runs instead of one run per cell of the grid.

Dagster splits a multi-partition range by holding one dimension fixed, so a run covers one venue over
consecutive dates. Each run costs a fixed overhead, each cell in it a bookkeeping cost per asset,
meeting or not. Most cells of the grid are empty, so a venue's meeting dates are cut into ranges
wherever bridging a gap of empty days would cost more than starting a new run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# Fitted on empty-cell range runs on the 2-core development machine (docs/benchmarks.md, "Backfill").
RUN_OVERHEAD_S = 0.28
CELL_ASSET_OVERHEAD_S = 0.078


@dataclass(frozen=True, order=True)
class RangeRun:
    venue_slug: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def plan_range_runs(
    meeting_cells: Iterable[tuple[date, str]],
    *,
    assets_per_cell: int,
    run_overhead_s: float = RUN_OVERHEAD_S,
    cell_asset_overhead_s: float = CELL_ASSET_OVERHEAD_S,
) -> list[RangeRun]:
    """Cover every meeting cell; bridge a gap only when its empty cells cost less than a new run."""
    max_bridged_gap = int(run_overhead_s // (cell_asset_overhead_s * assets_per_cell))
    by_venue: dict[str, list[date]] = defaultdict(list)
    for day, venue in set(meeting_cells):
        by_venue[venue].append(day)
    runs: list[RangeRun] = []
    for venue, days in by_venue.items():
        days.sort()
        start = prev = days[0]
        for day in days[1:]:
            if (day - prev).days - 1 > max_bridged_gap:
                runs.append(RangeRun(venue, start, prev))
                start = day
            prev = day
        runs.append(RangeRun(venue, start, prev))
    return sorted(runs)


def estimated_cost_s(runs: list[RangeRun], *, assets_per_cell: int) -> float:
    return sum(RUN_OVERHEAD_S + r.days * assets_per_cell * CELL_ASSET_OVERHEAD_S for r in runs)
