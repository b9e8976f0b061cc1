"""Raw responses of a cell -> its races, runners, odds, odds moves and results tables.

Several responses can describe the same race (the race list, the field before the jump, the result
after it, a whole-meeting history call). Each table takes, per race, the rows of the most
informative response, and among equals the content first seen most recently.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from racing_platform.source.parsers import (
    OPERATION_ALIASES,
    RACE_FIELD,
    RACE_RESULTS,
    RACES_FOR_MEET,
    RACES_NO_CACHE,
    ParseError,
    empty_table,
    parse_response,
)

# Higher wins. Race lists carry the most race-level fields; a race's own form carries the fullest field.
PREFERENCE = {
    "races": {RACES_NO_CACHE: 3, RACES_FOR_MEET: 2, RACE_RESULTS: 1, RACE_FIELD: 1},
    "runners": {RACE_RESULTS: 3, RACE_FIELD: 3, RACES_FOR_MEET: 2, RACES_NO_CACHE: 1},
    "results": {RACE_RESULTS: 3, RACES_FOR_MEET: 2, RACES_NO_CACHE: 1},
    "odds": {RACE_RESULTS: 3, RACE_FIELD: 3, RACES_FOR_MEET: 2},
    "odds_flucs": {RACE_RESULTS: 3, RACE_FIELD: 3, RACES_FOR_MEET: 2},
}
CELL_TABLES = tuple(PREFERENCE)


@dataclass
class CellTables:
    races: pd.DataFrame
    runners: pd.DataFrame
    odds: pd.DataFrame
    results: pd.DataFrame
    odds_flucs: pd.DataFrame
    # Which raw response (its index label in the parsed raw frame) gave each table its rows of a race:
    # columns table, race_code, body. Lets a broken rule be traced to the answer that broke it.
    sources: pd.DataFrame
    # Every parsed row per table before the per-race choice, with its response in column `_body`: what
    # each response says on its own, chosen or not.
    answers: dict[str, pd.DataFrame]

    def items(self) -> Iterator[tuple[str, pd.DataFrame]]:
        for table in CELL_TABLES:
            yield table, getattr(self, table)


class UnreadableBody(ParseError):
    """One of the cell's raw bodies the parser refuses; `body` is its index label in the frame parsed."""

    def __init__(self, body, sha256: str, exc: ParseError) -> None:
        super().__init__(f"raw body {sha256}: {exc}", operation=exc.operation, field=exc.field, race=exc.race)
        self.body = body


def parse_cell(raw: pd.DataFrame, meetings: pd.DataFrame) -> CellTables:
    """Parse every raw response of a cell with its meeting as context and pick each race's best rows."""
    context = meetings.set_index("meet_code")
    parsed: dict[str, list[pd.DataFrame]] = {table: [] for table in CELL_TABLES}
    for body, row in zip(raw.index, raw.itertuples(index=False), strict=True):
        meeting = context.loc[row.meet_code]
        try:
            tables = parse_response(
                json.loads(row.body),
                operation=OPERATION_ALIASES.get(row.operation),
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
        except ParseError as exc:
            raise UnreadableBody(body, row.sha256, exc) from exc
        for table in CELL_TABLES:
            frame = getattr(tables, table)
            if len(frame):
                rank = PREFERENCE[table].get(tables.operation, 0)
                parsed[table].append(
                    frame.assign(_rank=rank, _seen=row.first_fetched_at, _body=[body] * len(frame))
                )
    answers = {
        table: pd.concat(frames, ignore_index=True).drop(columns=["_rank", "_seen"]) if frames else None
        for table, frames in parsed.items()
    }
    best = {table: _best_per_race(frames, table) for table, frames in parsed.items()}
    sources = pd.concat(
        [
            frame[["race_code", "_body"]].drop_duplicates().assign(table=table)
            for table, frame in best.items()
        ],
        ignore_index=True,
    ).rename(columns={"_body": "body"})
    return CellTables(
        **{table: frame.drop(columns="_body") for table, frame in best.items()},
        sources=sources,
        answers={table: frame for table, frame in answers.items() if frame is not None},
    )


def _best_per_race(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
    if not frames:
        return empty_table(table).assign(_body=pd.Series(dtype=object))
    rows = pd.concat(frames, ignore_index=True)
    rank = rows.groupby("race_code", dropna=False)["_rank"].transform("max")
    rows = rows[rows["_rank"] == rank]
    latest = rows.groupby("race_code", dropna=False)["_seen"].transform("max")
    rows = rows[(rows["_seen"] == latest) | latest.isna()]
    return rows.drop(columns=["_rank", "_seen"]).reset_index(drop=True)
