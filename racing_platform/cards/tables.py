"""Raw responses of a cell -> its races, runners, odds and results tables.

Several responses can describe the same race (the race list, the field before the jump, the result
after it, a whole-meeting history call). Each table takes, per race, the rows of the most
informative response, and among equals the content first seen most recently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from racing_platform.source.parsers import (
    OPERATION_ALIASES,
    RACE_FIELD,
    RACE_RESULTS,
    RACES_FOR_MEET,
    RACES_NO_CACHE,
    empty_table,
    parse_response,
)

# Higher wins. Race lists carry the most race-level fields; a race's own form carries the fullest field.
PREFERENCE = {
    "races": {RACES_NO_CACHE: 3, RACES_FOR_MEET: 2, RACE_RESULTS: 1, RACE_FIELD: 1},
    "runners": {RACE_RESULTS: 3, RACE_FIELD: 3, RACES_FOR_MEET: 2, RACES_NO_CACHE: 1},
    "results": {RACE_RESULTS: 3, RACES_FOR_MEET: 2, RACES_NO_CACHE: 1},
    "odds": {RACE_RESULTS: 3, RACE_FIELD: 3, RACES_FOR_MEET: 2},
}
DOCUMENT_OPERATIONS = {"Races": RACES_FOR_MEET}


@dataclass
class CellTables:
    races: pd.DataFrame
    runners: pd.DataFrame
    odds: pd.DataFrame
    results: pd.DataFrame


def parse_cell(raw: pd.DataFrame, meetings: pd.DataFrame) -> CellTables:
    """Parse every raw response of a cell with its meeting as context and pick each race's best rows."""
    context = meetings.set_index("meet_code")
    parsed: dict[str, list[pd.DataFrame]] = {table: [] for table in PREFERENCE}
    for row in raw.itertuples(index=False):
        meeting = context.loc[row.meet_code]
        tables = parse_response(
            json.loads(row.body),
            operation=DOCUMENT_OPERATIONS.get(row.operation, OPERATION_ALIASES.get(row.operation)),
            variables=json.loads(row.variables),
            context={
                "meet_code": row.meet_code,
                "meeting_date": meeting["meeting_date"],
                "venue": meeting["venue"],
                "venue_slug": meeting["venue_slug"],
                "state": meeting["state"],
            },
            fetched_at=row.first_fetched_at,
        )
        for table in PREFERENCE:
            frame = getattr(tables, table)
            if len(frame):
                parsed[table].append(frame.assign(_rank=PREFERENCE[table].get(tables.operation, 0)))
    return CellTables(**{table: _best_per_race(frames, table) for table, frames in parsed.items()})


def _best_per_race(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
    if not frames:
        return empty_table(table)
    rows = pd.concat(frames, ignore_index=True)
    rank = rows.groupby("race_code", dropna=False)["_rank"].transform("max")
    rows = rows[rows["_rank"] == rank]
    latest = rows.groupby("race_code", dropna=False)["fetched_at"].transform("max")
    rows = rows[(rows["fetched_at"] == latest) | latest.isna()]
    return rows.drop(columns="_rank").reset_index(drop=True)
