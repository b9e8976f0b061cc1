"""Plan history backfills as few, dense range runs instead of one run per cell of the grid.

A Dagster asset backfill with `BackfillPolicy.single_run()` turns a multi-partition target into runs by
holding one dimension fixed, whichever has fewer distinct keys in the target (the date when the target
spans fewer dates than venues), and splitting the other dimension at every gap
(`DefaultPartitionsSubset.get_partition_key_ranges`): along dates in calendar order, along venues in
the order they were registered. Each run costs a fixed overhead, each cell in it a bookkeeping cost per
asset, meeting or not. Most cells of the grid are empty, so the meeting cells are cut the same way,
and a gap of empty cells is bridged (added to the target) only when that costs less than a new run.
Targeting exactly the planned cells makes Dagster's run planning reproduce this plan run for run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from racing_platform.partitions import Cell

# Measured on the 2-core development machine with the real definitions and the local instance
# (SQLite, lib/event_log.py). A run costs ~0.75 s inside (resources, ~30 run and step events, a new
# event-log file, the stage functions' fixed costs: pandera once per table, one query per range) and
# ~0.3 s to launch (Dagster's backfill iteration, run creation): planned at 1.5 s. An empty cell costs
# its materialization per asset, written in the step's batch, and Dagster's per-partition bookkeeping:
# ~2 ms an asset (fitted on 91 days of the demo's card runs: 5.4 ms a cell for three assets). So a
# venue's gap is bridged up to ~8 months: one run per venue a season.
RUN_OVERHEAD_S = 1.5
CELL_ASSET_OVERHEAD_S = 0.002


@dataclass(frozen=True, order=True)
class RangeRun:
    """Consecutive cells along one dimension with the other held fixed: one single-run range run."""

    cells: tuple[Cell, ...]

    @property
    def first(self) -> Cell:
        return self.cells[0]

    @property
    def last(self) -> Cell:
        return self.cells[-1]

    @property
    def keys(self) -> tuple[str, str]:
        """The run's `dagster/asset_partition_range_start` and `_end` tags."""
        return str(self.first), str(self.last)

    def __str__(self) -> str:
        return f"{self.first}..{self.last}" if len(self.cells) > 1 else str(self.first)


def plan_range_runs(
    meeting_cells: Iterable[tuple[date, str]],
    *,
    assets_per_cell: int,
    venue_order: Sequence[str],
    run_overhead_s: float = RUN_OVERHEAD_S,
    cell_asset_overhead_s: float = CELL_ASSET_OVERHEAD_S,
) -> list[RangeRun]:
    """Cover every meeting cell; bridge a gap only when its empty cells cost less than a new run.

    `venue_order` is the venue partitions in registration order (`instance.get_dynamic_partitions`).
    """
    cells = {Cell(day, venue) for day, venue in meeting_cells}
    if not cells:
        return []
    venue_index = {venue: i for i, venue in enumerate(venue_order)}
    by_date = len({c.meeting_date for c in cells}) <= len({c.venue_slug for c in cells})
    # Along dates, a gap inside the scope is a venue's day without a tracked meeting: empty. Along
    # venues, the venues between two of the target's in registration order may be outside the scope
    # and race that day: bridging them would fetch and price meetings nobody asked for.
    max_bridged_gap = 0 if by_date else int(run_overhead_s // (cell_asset_overhead_s * assets_per_cell))
    # Each cell as (fixed key, position along the other dimension); bridging only adds positions
    # along that dimension, so the dimension Dagster groups by stays the same.
    lines: dict[object, list[int]] = defaultdict(list)
    for c in cells:
        if by_date:
            lines[c.meeting_date].append(venue_index[c.venue_slug])
        else:
            lines[c.venue_slug].append(c.meeting_date.toordinal())

    def cell_at(fixed, position: int) -> Cell:
        if by_date:
            return Cell(fixed, venue_order[position])
        return Cell(date.fromordinal(position), fixed)

    runs = []
    for fixed, positions in lines.items():
        positions.sort()
        start = prev = positions[0]
        for position in [*positions[1:], None]:
            if position is None or position - prev - 1 > max_bridged_gap:
                runs.append(RangeRun(tuple(cell_at(fixed, p) for p in range(start, prev + 1))))
                start = position
            prev = position
    return sorted(runs)
