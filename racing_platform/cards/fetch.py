"""Fetch the raw racing.com responses of one cell, race by race, keeping what succeeded.

Every meeting starts with one `getRacesForMeet` call with every runner nested: for a meeting whose
races have all finished (history) that is all it takes. Otherwise each race not yet finished is also
fetched on its own (its field before the jump, its result after), so one failing race is recorded
and the meeting's other races land. A whole-meeting answer the parser refuses is recorded the same way
(race number null) and the meeting keeps its stored bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from racing_platform.cards.rules import RULE_TEXT
from racing_platform.partitions import Cell
from racing_platform.source.archive import canonical_json
from racing_platform.source.client import FetchedResponse, RacingComClient
from racing_platform.source.errors import GraphQLResponseError, ResponseShapeError, TransientError
from racing_platform.source.parsers import RACES_FOR_MEET, ParseError, parse_response

# racing.com race statuses after which a race's result is published.
RESULTED_STATUSES = frozenset({"Interim", "Paying", "Closed", "Results", "Resulted"})
FINISHED_STATUSES = RESULTED_STATUSES | {"Abandoned"}

# Failures confined to one race: recorded, and the rest of the meeting is kept. Anything else (auth,
# budget, the race list itself) fails the cell.
RACE_LEVEL_ERRORS = (TransientError, GraphQLResponseError, ResponseShapeError, ParseError)

RAW_COLUMNS = [
    "meeting_date",
    "venue_slug",
    "meet_code",
    "operation",
    "race_number",
    "variables",
    "sha256",
    "first_fetched_at",
    "last_fetched_at",
    "body",
]
FAILURE_COLUMNS = [
    "meeting_date",
    "venue_slug",
    "meet_code",
    "race_number",
    "operation",
    "error_type",
    "message",
    "failed_at",
]


@dataclass
class CellFetch:
    raw: pd.DataFrame
    failures: pd.DataFrame


def fetch_cell(client: RacingComClient, cell: Cell, meetings: pd.DataFrame) -> CellFetch:
    """Raw responses for every meeting of the cell (`meetings`: its rows of the meetings table)."""
    raw, failures = [], []
    for meeting in meetings.itertuples(index=False):
        # The whole meeting with every runner nested: a settled meeting needs nothing more. Its race
        # statuses may lag (racing.com caches this operation) but only ever towards "not finished",
        # which sends the race to its own, uncached request below.
        meeting_call = client.races_for_meet(meeting.meet_code, full_field=True)
        try:
            races = parse_response(
                meeting_call.payload,
                operation=RACES_FOR_MEET,
                variables=meeting_call.variables,
                context=_context(meeting),
            ).races
        except ParseError as exc:  # the meeting's stored bodies stay; this one goes to fetch_failures
            failures.append(_failure_row(cell, meeting.meet_code, None, meeting_call.operation, exc))
            continue
        raw.append(_raw_row(cell, meeting.meet_code, meeting_call, None))
        if len(races) and races["race_status"].isin(FINISHED_STATUSES).all():
            continue
        for race in races.sort_values("race_number").itertuples(index=False):
            resulted = race.race_status in RESULTED_STATUSES
            fetch = client.race_results if resulted else client.race_field
            operation = "getRaceResults_CD" if resulted else "getRaceEntriesForField_CD"
            try:
                fetched = fetch(meeting.meet_code, int(race.race_number))
                parse_response(fetched.payload, operation=operation, variables=fetched.variables)
            except RACE_LEVEL_ERRORS as exc:
                failures.append(_failure_row(cell, meeting.meet_code, int(race.race_number), operation, exc))
                continue
            raw.append(_raw_row(cell, meeting.meet_code, fetched, int(race.race_number)))
    return CellFetch(
        raw=pd.DataFrame(raw, columns=RAW_COLUMNS).astype({"race_number": "Int64"}),
        failures=pd.DataFrame(failures, columns=FAILURE_COLUMNS).astype({"race_number": "Int64"}),
    )


def _context(meeting) -> dict:
    return {
        "meet_code": meeting.meet_code,
        "meeting_date": meeting.meeting_date,
        "venue": meeting.venue,
        "venue_slug": meeting.venue_slug,
        "state": meeting.state,
    }


def _raw_row(cell: Cell, meet_code: str, fetched: FetchedResponse, race_number):
    """The body text and fetch times are the archive's own, as `record_answer` returned them."""
    return {
        "meeting_date": cell.meeting_date,
        "venue_slug": cell.venue_slug,
        "meet_code": meet_code,
        "operation": fetched.operation,
        "race_number": race_number,
        "variables": canonical_json(fetched.variables),
        "sha256": fetched.sha256,
        "first_fetched_at": fetched.first_fetched_at,
        "last_fetched_at": fetched.last_fetched_at,
        "body": fetched.body_text,
    }


def _failure_row(cell: Cell, meet_code: str, race_number: int | None, operation: str, exc: Exception) -> dict:
    return {
        "meeting_date": cell.meeting_date,
        "venue_slug": cell.venue_slug,
        "meet_code": meet_code,
        "race_number": race_number,
        "operation": operation,
        "error_type": type(exc).__name__,
        "message": str(exc)[:2000],
        "failed_at": pd.Timestamp.now(tz="UTC"),
    }


def _fate(refused: pd.DataFrame) -> pd.Series:
    stored = refused.get("body_source", pd.Series("fetched", index=refused.index)).eq("stored")
    return stored.map(
        {
            False: " stays in the archive; the stored body is kept.",
            True: " was stored earlier: dropped from raw_race_cards, kept in the archive.",
        }
    )


def refusal_failures(cell: Cell, refused: pd.DataFrame) -> pd.DataFrame:
    """fetch_failures rows for the answers `accept_answers` refused: one per body, race and broken rule."""
    if refused.empty:
        return pd.DataFrame(columns=FAILURE_COLUMNS).astype({"race_number": "Int64"})
    race_number = refused["race_number"].astype("Int64").fillna(refused["body_race_number"].astype("Int64"))
    rule_text = (
        refused["rule"].map(RULE_TEXT).fillna("The table's pandera contract (racing_platform/contracts.py).")
    )
    message = (
        f"{cell} race "
        + refused["meet_code"].fillna(refused["body_meet_code"]).astype(str)
        + " R"
        + race_number.astype(str)
        + " ("
        + refused["race_code"].astype(str)
        + ") "
        + refused["table"]
        + "."
        + refused["field"]
        + ": broke "
        + refused["rule"]
        + " ("
        + refused["detail"].astype(str)
        + "). "
        + rule_text
        + " Refused body "
        + refused["body_sha256"]
        + _fate(refused)
    )
    return pd.DataFrame(
        {
            "meeting_date": cell.meeting_date,
            "venue_slug": cell.venue_slug,
            "meet_code": refused["meet_code"].fillna(refused["body_meet_code"]),
            "race_number": race_number,
            "operation": refused["body_operation"],
            "error_type": "AnswerRefused",
            "message": message.str.slice(0, 2000),
            "failed_at": pd.Timestamp.now(tz="UTC"),
        }
    )[FAILURE_COLUMNS]
