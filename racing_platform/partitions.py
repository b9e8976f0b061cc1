"""The partition grid, defined once: Australian racing days x venues.

A cell (date, venue) holds every meeting at that venue on that local date (a venue can race twice in
one day). Venue keys are the parser's sponsor-stripped slugs, registered by the `meetings` asset when
it first sees a tracked meeting there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import dagster as dg
import pandas as pd

from racing_platform.settings import load_settings

_settings = load_settings()

VENUE_DIMENSION = "venue"
DATE_DIMENSION = "date"

racing_days = dg.DailyPartitionsDefinition(
    start_date=_settings.start_date.isoformat(),
    timezone=_settings.timezone,
    end_offset=_settings.end_offset_days,
)
venues = dg.DynamicPartitionsDefinition(name=VENUE_DIMENSION)
meeting_cells = dg.MultiPartitionsDefinition({DATE_DIMENSION: racing_days, VENUE_DIMENSION: venues})

# A cell's assets read the meetings listed for its date.
cell_to_day = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=DATE_DIMENSION)


@dataclass(frozen=True, order=True)
class Cell:
    meeting_date: date
    venue_slug: str

    @classmethod
    def from_key(cls, key: str | dg.MultiPartitionKey) -> Cell:
        by_dim = meeting_cells.get_partition_key_from_str(str(key)).keys_by_dimension
        return cls(date.fromisoformat(by_dim[DATE_DIMENSION]), by_dim[VENUE_DIMENSION])

    @property
    def key(self) -> dg.MultiPartitionKey:
        return dg.MultiPartitionKey(
            {DATE_DIMENSION: self.meeting_date.isoformat(), VENUE_DIMENSION: self.venue_slug}
        )

    def keys_frame(self) -> pd.DataFrame:
        """The cell as the one-row key frame `Warehouse.replace_slices` takes."""
        return pd.DataFrame({"meeting_date": [self.meeting_date], "venue_slug": [self.venue_slug]})

    def __str__(self) -> str:
        return f"{self.meeting_date.isoformat()}|{self.venue_slug}"
