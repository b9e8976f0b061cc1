"""racing.com GraphQL responses -> typed pandas tables (meetings, races, runners, results, odds, odds_flucs).

Pure functions: no I/O, no clock. A response is read from whatever its query selected: a field the answer
does not carry is null, like a field it carries as null, so an answer recorded with any document parses
(the client checks a fetched answer against the document it sent: `client.missing_selections`). What a
value means (null, 0, "", a wrong type, names with control characters) is decided by
`racing_platform.source.formats`; a value it cannot read raises `ParseError` naming the operation, the
race (meet code and race number), the field path and the rule. Context a lone response lacks (meet code
and date of a getRaceForm, state of an unknown venue) comes from `variables` or `context`, else stays
null for `racing_platform.contracts` to judge. Answers larger than the `formats.MAX_*` sizes are refused
before any per-row work.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from racing_platform.source.formats import (
    MAX_ENTRIES_PER_RACE,
    MAX_FLUCS_PER_PRICE,
    MAX_MEETINGS_PER_DAY,
    MAX_PRICES_PER_ENTRY,
    MAX_RACES_PER_MEETING,
    FormatError,
    centiseconds_to_seconds,
    date_from_meet_url,
    flag_or_false,
    normalise_race_class,
    parse_claim_kg,
    parse_code,
    parse_date,
    parse_distance_m,
    parse_epoch_seconds,
    parse_flag,
    parse_last_five,
    parse_lengths,
    parse_list,
    parse_money,
    parse_nonzero_int,
    parse_object,
    parse_price,
    parse_prize_money,
    parse_race_date,
    parse_race_time_s,
    parse_state,
    parse_text,
    parse_utc_timestamp,
    parse_weight_kg,
    race_prize_total,
    to_local,
)
from racing_platform.source.venues import Venue, VenueRegistry, load_venues

logger = logging.getLogger(__name__)

# Operations, named after the GraphQL field or document that produced the response.
MEETINGS_BY_DATE = "GetMeetingByDate"
RACES_NO_CACHE = "getNoCacheRacesForMeet"
RACES_FOR_MEET = "getRacesForMeet"
RACE_FIELD = "getRaceEntriesForField_CD"
RACE_RESULTS = "getRaceResults_CD"
OPERATIONS = (MEETINGS_BY_DATE, RACES_NO_CACHE, RACES_FOR_MEET, RACE_FIELD, RACE_RESULTS)

ROOT_FIELDS = {
    MEETINGS_BY_DATE: "GetMeetingByDate",
    RACES_NO_CACHE: "getNoCacheRacesForMeet",
    RACES_FOR_MEET: "getRacesForMeet",
    RACE_FIELD: "getRaceForm",
    RACE_RESULTS: "getRaceForm",
}
# Other names a caller may pass as `operation` (the client's document names among them); None means
# "getRaceForm: tell the field from the results by the response's shape".
OPERATION_ALIASES: dict[str, str | None] = {
    **{op: op for op in OPERATIONS},
    "GetMeetingByDate_CD": MEETINGS_BY_DATE,
    "GetMeetingByDateWithRaces_CD": MEETINGS_BY_DATE,
    "RacingEngineMeetingsByDate": MEETINGS_BY_DATE,
    "GetMeetings": MEETINGS_BY_DATE,
    "getRaceNumberList_CD": RACES_NO_CACHE,
    "Races": RACES_FOR_MEET,
    "getRaceForm": None,
}

# Output columns and their kinds, in order. Kinds: string (pandas "string"), int ("Int64"), float (float64),
# bool ("boolean"), date (datetime.date objects), utc (datetime64[ns, UTC]), local (naive datetime64[ns]: the
# venue's wall clock), epoch (unix seconds in, datetime64[ns, UTC] out), list (Python lists, object column).
# fmt: off
_MEETING_CONTEXT = {
    "meet_code": "string", "meeting_date": "date", "venue": "string", "venue_slug": "string",
    "state": "string",
}
_RACE_KEY = {"race_code": "string", "race_number": "int"}
_ENTRY = {
    "entry_id": "string", "horse_code": "string", "horse_name": "string", "saddlecloth": "int",
    "barrier": "int",
    "weight_kg": "float", "claim_kg": "float", "carried_weight_kg": "float",
    "jockey_code": "string", "jockey_name": "string", "trainer_code": "string", "trainer_name": "string",
    "scratched": "bool",
}
_PRICE_KEY = {"meet_code": "string", "meeting_date": "date", "venue_slug": "string", **_RACE_KEY}
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "meetings": {
        **_MEETING_CONTEXT, "venue_code": "string", "timezone": "string", "is_trial": "bool",
        "is_jumpout": "bool", "meet_url": "string", "fetched_at": "utc",
    },
    "races": {
        **_MEETING_CONTEXT, "venue_code": "string", "timezone": "string", **_RACE_KEY,
        "race_name": "string", "name_form": "string", "race_class": "string", "class_name": "string",
        "group": "string", "race_status": "string", "is_trial": "bool", "is_jumpout": "bool",
        "start_time_utc": "utc", "start_time_local": "local", "distance_m": "int",
        "track_condition": "string", "track_rating": "int", "prize_money_total": "float",
        "prize_money": "list",
        "conditions": "string", "winning_time_s": "float", "sectional_800_s": "float",
        "sectional_800_400_s": "float", "sectional_400_finish_s": "float", "fetched_at": "utc",
    },
    "runners": {
        **_MEETING_CONTEXT, **_RACE_KEY, **_ENTRY, "horse_country": "string", "emergency": "bool",
        "emergency_number": "int", "handicap_rating": "int", "last_five": "list", "fetched_at": "utc",
    },
    "results": {
        **_MEETING_CONTEXT, **_RACE_KEY, **_ENTRY, "finish_code": "int", "finish_position": "int",
        "margin_lengths": "float", "starting_price": "float", "winning_time_s": "float",
        "prize_money_won": "float", "position_at_800": "int", "position_at_400": "int", "fetched_at": "utc",
    },
    "odds": {
        **_PRICE_KEY, "entry_id": "string", "horse_code": "string",
        "saddlecloth": "int", "provider_code": "string", "win_price": "float", "place_price": "float",
        "is_favourite": "bool", "is_market_mover": "bool", "fetched_at": "utc",
    },
    "odds_flucs": {
        **_PRICE_KEY, "entry_id": "string", "saddlecloth": "int", "provider_code": "string",
        "update_time_utc": "epoch", "win_price": "float", "fetched_at": "utc",
    },
}
# fmt: on
TABLES = tuple(TABLE_COLUMNS)

_SCRATCHED_CODE = 109
_NON_RUNNER_FROM = 100


class ParseError(ValueError):
    """A response the parser cannot read; the message names the operation, race, field path and rule."""

    def __init__(
        self, message: str, *, operation: str | None = None, field: str | None = None, race: str | None = None
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.field = field
        self.race = race


@dataclass(frozen=True)
class ParsedTables:
    """One response as typed tables; a table without rows is an empty frame with the right columns/dtypes."""

    operation: str
    meetings: pd.DataFrame
    races: pd.DataFrame
    runners: pd.DataFrame
    results: pd.DataFrame
    odds: pd.DataFrame
    odds_flucs: pd.DataFrame

    def items(self) -> Iterator[tuple[str, pd.DataFrame]]:
        for name in TABLES:
            yield name, getattr(self, name)


def empty_table(table: str) -> pd.DataFrame:
    return _frame(table, [])


def parse_response(
    payload: Mapping[str, Any],
    *,
    operation: str | None = None,
    variables: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    fetched_at: dt.datetime | pd.Timestamp | str | None = None,
    venues: VenueRegistry | None = None,
) -> ParsedTables:
    """Parse one GraphQL response (with or without the {"data": ...} envelope) into typed tables.

    `variables` are the request's GraphQL variables (meetCode, raceNumber, date); `context` carries what the
    caller already knows, e.g. the meeting row (meet_code, meeting_date, venue, state). Response values win.
    """
    data = _unwrap(payload)
    op = _resolve_operation(data, operation)
    parser = _Parser(op, _hints(variables, context), _utc_or_none(fetched_at), venues or load_venues())
    parser.response(_root_value(data, op))
    frames = {name: _frame(name, rows) for name, rows in parser.rows.items()}
    return ParsedTables(operation=op, odds_flucs=_frame_from_columns("odds_flucs", parser.flucs), **frames)


def detect_operation(payload: Mapping[str, Any]) -> str:
    """The operation that produced a response, from its shape (root field; getRaceForm field vs results)."""
    return _resolve_operation(_unwrap(payload), None)


def _unwrap(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise ParseError(f"expected a JSON object response, got {type(payload).__name__}")
    if "data" in payload or "errors" in payload:
        errors = payload.get("errors")
        if errors:
            listed = errors if isinstance(errors, list) else [errors]
            messages = "; ".join(
                str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in listed
            )
            raise ParseError(f"GraphQL response carries errors: {messages}")
        data = payload.get("data")
        if not isinstance(data, Mapping):
            raise ParseError("GraphQL response has no data object")
        return data
    roots = sorted(set(ROOT_FIELDS.values()))
    if not set(roots) & payload.keys():
        raise ParseError(
            f"response has no 'data' object and no root field of {', '.join(roots)}"
            f" (keys: {sorted(map(str, payload))[:10]})",
            field="data",
        )
    return payload  # a bare `data` object, as saved by hand


def _resolve_operation(data: Mapping[str, Any], operation: str | None) -> str:
    if operation is not None:
        if operation not in OPERATION_ALIASES:
            raise ParseError(
                f"unknown operation {operation!r}; supported: {', '.join(OPERATION_ALIASES)}",
                operation=operation,
            )
        resolved = OPERATION_ALIASES[operation]
        if resolved is not None:
            return resolved
    for op in (MEETINGS_BY_DATE, RACES_NO_CACHE, RACES_FOR_MEET):
        if ROOT_FIELDS[op] in data:
            return op
    if "getRaceForm" in data or operation == "getRaceForm":
        race = data.get("getRaceForm")
        if "GetBettingData" in data:
            return RACE_RESULTS
        if (
            isinstance(race, Mapping)
            and ("raceStatus" in race or "photoFinish" in race)
            and "status" not in race
        ):
            return RACE_RESULTS
        return RACE_FIELD
    raise ParseError(
        f"cannot tell the operation from root fields {sorted(map(str, data))}; "
        f"supported root fields: {', '.join(sorted(set(ROOT_FIELDS.values())))}"
    )


def _root_value(data: Mapping[str, Any], op: str) -> Any:
    field = ROOT_FIELDS[op]
    if field in data:
        return data[field]
    aliased = [key for key in data if key != "GetBettingData"]
    if len(aliased) == 1:  # an aliased root field (`racesForMeet: getRacesForMeet(...)`)
        return data[aliased[0]]
    raise ParseError(
        f"{op}: the response's 'data' has no {field!r} root field (root fields: {sorted(map(str, data))})",
        operation=op,
        field=field,
    )


# Names under which `variables` (GraphQL style) and `context` (table style) may carry what a response lacks.
_HINT_NAMES = {
    "meetCode": "meet_code", "meet_code": "meet_code",
    "raceNumber": "race_number", "race_number": "race_number",
    "date": "meeting_date", "meeting_date": "meeting_date", "meetingDate": "meeting_date",
    "venue": "venue", "venueName": "venue", "venue_name": "venue",
    "venueCode": "venue_code", "venue_code": "venue_code", "trackCode": "venue_code",
    "state": "state",
}  # fmt: skip
_HINT_PARSERS: dict[str, Callable[[Any], Any]] = {
    "meet_code": parse_code,
    "race_number": parse_nonzero_int,
    "meeting_date": parse_date,
    "venue": parse_text,
    "venue_code": parse_code,
    "state": parse_state,
}


def _hints(variables: Mapping[str, Any] | None, context: Mapping[str, Any] | None) -> dict[str, Any]:
    """Variables and caller context under canonical names; context wins over variables."""
    hints: dict[str, Any] = {}
    for source in (variables or {}, context or {}):
        for key, value in source.items():
            name = _HINT_NAMES.get(key)
            if name is None or value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
                continue  # a meeting row from a frame may hold NA
            try:
                hints[name] = _HINT_PARSERS[name](value)
            except FormatError as err:
                raise ParseError(f"context {key!r}: {err}", field=key) from None
    return hints


def _utc_or_none(value: dt.datetime | pd.Timestamp | str | None) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


@dataclass(frozen=True)
class _Venue:
    venue: str | None
    venue_slug: str | None
    venue_code: str | None
    state: str | None
    timezone: str | None


@dataclass(frozen=True)
class _Meeting:
    """What a race inherits from its meeting (the GetMeetingByDate row, or the request's context)."""

    meet_code: str | None
    meeting_date: dt.date | None
    venue: _Venue | None = None
    is_trial: bool | None = None
    is_jumpout: bool | None = None


@dataclass(frozen=True, eq=False)
class _Entry:
    """One formRaceEntries item with the columns runners and results share, read once."""

    index: int
    raw: Mapping[str, Any]
    row: dict[str, Any]
    finish_code: int | None
    where: str

    @property
    def ran(self) -> bool:
        return not self.row["scratched"] and not (
            self.finish_code is not None and self.finish_code >= _NON_RUNNER_FROM
        )


class _Parser:
    """Accumulates rows (dicts) per table while walking one response; `_frame` turns them into columns."""

    def __init__(
        self, op: str, hints: dict[str, Any], fetched_at: pd.Timestamp | None, venues: VenueRegistry
    ) -> None:
        self.op = op
        self.label = f"getRaceForm ({op})" if ROOT_FIELDS[op] == "getRaceForm" else op
        self.hints = hints
        self.fetched_at = fetched_at
        self.registry = venues
        self.warned_venues: set[tuple[str | None, str | None]] = set()
        self.race_code: str | None = None  # the race being parsed, for error attributes
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES if name != "odds_flucs"}
        self.flucs: dict[str, list[Any]] = {name: [] for name in TABLE_COLUMNS["odds_flucs"]}

    def response(self, root: Any) -> None:
        field = ROOT_FIELDS[self.op]
        if self.op == MEETINGS_BY_DATE:
            self.meetings(self._list({field: root}, field, "response", MAX_MEETINGS_PER_DAY))
        elif self.op in (RACES_NO_CACHE, RACES_FOR_MEET):
            self.race_list(self._list({field: root}, field, "response", MAX_RACES_PER_MEETING))
        else:
            race = self._read(parse_object, {field: root}, field, "response")
            if race is not None:
                self.race_form(race)

    # -- operations -----------------------------------------------------------------------------------

    def meetings(self, meetings: list) -> None:
        seen: set[str] = set()
        root = ROOT_FIELDS[self.op]
        for index, item in enumerate(meetings):
            self.race_code = None
            meeting = self._item(item, f"{root}[{index}]", "response")
            meet_code = self._read(parse_code, meeting, "id", f"{root}[{index}]")
            where = f"meeting {meet_code or '?'}, {root}[{index}]"
            if meet_code is not None and meet_code in seen:  # racing.com folds VIC meetings into every state
                continue
            if meet_code is not None:
                seen.add(meet_code)
            name = self._read(parse_text, meeting, "venue", where) or self._read(
                parse_text, meeting, "venueName", where
            )
            venue = self._venue(
                name,
                self._read(parse_code, meeting, "venueCode", where),
                self._read(parse_state, meeting, "state", where),
                where,
            )
            meeting_date = (
                self._read(parse_date, meeting, "date", where)
                or self._read(date_from_meet_url, meeting, "meetUrl", where)
                or self.hints.get("meeting_date")
            )
            context = _Meeting(
                meet_code,
                meeting_date,
                venue,
                self._read(flag_or_false, meeting, "isTrial", where),
                self._read(flag_or_false, meeting, "isJumpOut", where),
            )
            self.rows["meetings"].append(
                {
                    "meet_code": meet_code,
                    "meeting_date": meeting_date,
                    "venue": venue.venue,
                    "venue_slug": venue.venue_slug,
                    "venue_code": venue.venue_code,
                    "state": venue.state,
                    "timezone": venue.timezone,
                    "is_trial": context.is_trial,
                    "is_jumpout": context.is_jumpout,
                    "meet_url": self._read(parse_text, meeting, "meetUrl", where),
                    "fetched_at": self.fetched_at,
                }
            )
            races = self._list(meeting, "races", where, MAX_RACES_PER_MEETING)
            if races:
                self._races_of_meeting(races, context, f"{root}[{index}].races")

    def race_list(self, races: list) -> None:
        context = _Meeting(self.hints.get("meet_code"), self.hints.get("meeting_date"))
        self._races_of_meeting(races, context, ROOT_FIELDS[self.op])

    def race_form(self, race: Mapping[str, Any]) -> None:
        """getRaceForm names neither date nor (in the field document) meet code at race level. Until its
        race is read, an error names the race by its id, else by the request's meetCode and raceNumber."""
        asked = self.hints.get("meet_code"), self.hints.get("race_number")
        self.race_code = _race_label(None, *asked)
        race_id = self._read(parse_code, race, "id", _race_where(None, *asked))
        self.race_code = _race_label(race_id, *asked)
        where = f"{_race_where(race_id, *asked)}, getRaceForm"
        entries = [
            self._item(entry, f"formRaceEntries[{index}]", where)
            for index, entry in enumerate(self._list(race, "formRaceEntries", where, MAX_ENTRIES_PER_RACE))
        ]
        first_entry = entries[0] if entries else {}
        meet_code = (
            self._read(parse_code, race, "meetCode", where)
            or self._read(parse_code, first_entry, "meetCode", f"{where}, formRaceEntries[0]")
            or self.hints.get("meet_code")
        )
        meeting_date = self._meet_url_date(entries, where) or self.hints.get("meeting_date")
        self._race(race, _Meeting(meet_code, meeting_date), ROOT_FIELDS[self.op])

    # -- races ----------------------------------------------------------------------------------------

    def _races_of_meeting(self, races: list, context: _Meeting, path: str) -> None:
        starts = {name: len(rows) for name, rows in self.rows.items()}
        fluc_start = len(self.flucs["meeting_date"])
        for index, item in enumerate(races):
            race = self._item(item, f"{path}[{index}]", f"meetCode {context.meet_code or '?'}")
            self._race(race, context, f"{path}[{index}]")
        if context.meeting_date is None:
            self._derive_meeting_date(starts, fluc_start)

    def _race(self, race: Mapping[str, Any], context: _Meeting, path: str) -> None:
        asked = context.meet_code, self.hints.get("race_number")
        self.race_code = _race_label(None, *asked)
        where = f"meetCode {context.meet_code or '?'}, {path}"
        race_code = self._read(parse_code, race, "id", where)
        self.race_code = _race_label(race_code, *asked)
        where = f"race {race_code or '?'} (meetCode {context.meet_code or '?'}), {path}"
        entries = self._list(race, "formRaceEntries", where, MAX_ENTRIES_PER_RACE)
        meet = self._read(parse_object, race, "meet", where) or {}
        venue_obj = self._read(parse_object, race, "venue", where) or {}
        meet_code = context.meet_code or self._read(parse_code, meet, "id", f"{where}.meet")
        race_number = self._read(parse_nonzero_int, race, "raceNumber", where)
        if race_number is None and entries:
            first = self._item(entries[0], "formRaceEntries[0]", where)
            race_number = self._read(parse_nonzero_int, first, "raceNumber", f"{where}.formRaceEntries[0]")
        race_number = race_number or self.hints.get("race_number")
        self.race_code = _race_label(race_code, meet_code, race_number)
        where = _race_where(race_code, meet_code, race_number)

        venue = self._race_venue(race, meet, venue_obj, context, where)
        meeting_date = (
            self._read(parse_date, meet, "date", f"{where}, meet")
            or self._read(date_from_meet_url, meet, "meetUrl", f"{where}, meet")
            or context.meeting_date
        )
        start_utc = self._read(parse_utc_timestamp, race, "time", where)
        start_local = (
            to_local(start_utc, venue.timezone) if start_utc is not None and venue.timezone else None
        )
        places_sum, prize_by_position = self._read(parse_prize_money, race, "prizeMoney", where)
        total = self._read(parse_money, race, "totalPrizeMoney", where)
        is_trial = self._read(parse_flag, race, "isTrial", where)
        is_jumpout = self._read(parse_flag, race, "isJumpOut", where)
        base = {
            "meet_code": meet_code,
            "meeting_date": meeting_date,
            "venue": venue.venue,
            "venue_slug": venue.venue_slug,
            "state": venue.state,
            "race_code": race_code,
            "race_number": race_number,
        }
        race_row = {
            **base,
            "venue_code": venue.venue_code,
            "timezone": venue.timezone,
            "race_name": self._read(parse_text, race, "name", where),
            "name_form": self._read(parse_text, race, "nameForm", where),
            "race_class": self._read(parse_text, race, "rdcClass", where),
            "class_name": self._read(parse_text, race, "class", where),
            "group": self._read(parse_text, race, "group", where),
            "race_status": self._read(parse_text, race, "raceStatus", where)
            or self._read(parse_text, race, "status", where),
            "is_trial": _first_flag(is_trial, context.is_trial),
            "is_jumpout": _first_flag(is_jumpout, context.is_jumpout),
            "start_time_utc": start_utc,
            "start_time_local": start_local,
            "distance_m": self._read(parse_distance_m, race, "distance", where),
            "track_condition": self._race_or_meet(parse_text, race, meet, "trackCondition", where),
            "track_rating": self._race_or_meet(parse_nonzero_int, race, meet, "trackRating", where),
            "prize_money_total": race_prize_total(total, places_sum),
            "prize_money": prize_by_position,
            "conditions": self._read(parse_text, race, "condition", where),
            "winning_time_s": self._read(parse_race_time_s, race, "raceTime", where),
            "sectional_800_s": self._read(
                centiseconds_to_seconds, race, "toEightHundredMetresSeconds", where
            ),
            "sectional_800_400_s": self._read(
                centiseconds_to_seconds, race, "eightHundredToFourHundredMetresSeconds", where
            ),
            "sectional_400_finish_s": self._read(
                centiseconds_to_seconds, race, "fourHundredToFinishMetresSeconds", where
            ),
            "fetched_at": self.fetched_at,
        }
        self.rows["races"].append(race_row)
        if entries:
            winning_time = self._entries(entries, base, where)
            if winning_time is not None:  # the winner's time on the entries is the more precise one
                race_row["winning_time_s"] = winning_time

    def _race_or_meet(
        self,
        convert: Callable[[Any], Any],
        race: Mapping[str, Any],
        meet: Mapping[str, Any],
        key: str,
        where: str,
    ) -> Any:
        """A race's value, else its meeting's (`race.meet`): each field on its own, so a race that sends
        no track condition keeps the track rating it does send."""
        value = self._read(convert, race, key, where)
        return value if value is not None else self._read(convert, meet, key, f"{where}, meet")

    def _race_venue(
        self,
        race: Mapping[str, Any],
        meet: Mapping[str, Any],
        venue_obj: Mapping[str, Any],
        context: _Meeting,
        where: str,
    ) -> _Venue:
        name = (
            self._read(parse_text, venue_obj, "venueName", f"{where}, venue")
            or self._read(parse_text, race, "location", where)
            or self._read(parse_text, meet, "venue", f"{where}, meet")
            or self._read(parse_text, meet, "venueName", f"{where}, meet")
        )
        code = (
            self._read(parse_code, race, "venueCode", where)
            or self._read(parse_code, race, "trackCode", where)
            or self._read(parse_code, meet, "venueCode", f"{where}, meet")
        )
        if name is None and code is None and context.venue is not None:
            return context.venue
        state = (
            self._read(parse_state, race, "venueState", where)
            or self._read(parse_state, venue_obj, "state", f"{where}, venue")
            or self._read(parse_state, meet, "state", f"{where}, meet")
        )
        return self._venue(name, code, state, where)

    def _venue(self, name: str | None, venue_code: str | None, state: str | None, where: str) -> _Venue:
        """Registry venue (canonical name, slug, time zone) when known; else the response's name and state."""
        name = name or self.hints.get("venue")
        venue_code = venue_code or self.hints.get("venue_code")
        state = state or self.hints.get("state")
        if name is None and venue_code is None:  # getRacesForMeet names no venue; the caller's context may
            return _Venue(None, None, None, state, self.registry.timezone_for(state))
        try:
            known = self.registry.lookup(name, venue_code)
            slug = known.slug if known is not None else self.registry.slugify(name) if name else None
        except ValueError as err:  # a name without letters, or the name of one venue with another's code
            raise self._error(where, "venue", str(err)) from None
        if known is not None:
            return self._known_venue(known, slug, venue_code, state, where)
        timezone = self.registry.timezone_for(state)
        if (name, venue_code) not in self.warned_venues:
            self.warned_venues.add((name, venue_code))
            logger.warning(
                "%s: venue %r (code %s, state %s) is not in configs/venues.yaml; slug %r, time zone %s",
                self.label, name, venue_code, state, slug, timezone,
            )  # fmt: skip
        return _Venue(name, slug, venue_code, state, timezone)

    def _known_venue(
        self, known: Venue, slug: str, venue_code: str | None, state: str | None, where: str
    ) -> _Venue:
        """The registry (compiled by hand) names the venue, but the answer's state wins, and the time zone
        follows the state stored: the registry's zone only when the states agree."""
        if state is None or state == known.state:
            return _Venue(known.name, slug, known.venue_code or venue_code, known.state, known.timezone)
        timezone = self.registry.timezone_for(state)
        if (known.slug, state) not in self.warned_venues:
            self.warned_venues.add((known.slug, state))
            logger.warning(
                "%s %s: venue %r is in %s in configs/venues.yaml but the answer says %s; stored %s, zone %s",
                self.label, where, known.name, known.state, state, state, timezone,
            )  # fmt: skip
        return _Venue(known.name, slug, known.venue_code or venue_code, state, timezone)

    # -- entries --------------------------------------------------------------------------------------

    def _entries(self, entries: list, base: dict[str, Any], where: str) -> float | None:
        """Rows of a race's entries; returns the winning time they carry (None when they carry none)."""
        read = [self._entry(index, entry, base, where) for index, entry in enumerate(entries)]
        kept = self._without_scratched_twins(read, where)
        has_results = any(entry.finish_code is not None for entry in read)
        winning_time = None
        for entry in kept:
            if "raceEntryNumber" in entry.raw:  # the query selected runner fields, not just a result line
                self.rows["runners"].append(self._runner_row(entry))
            if has_results:
                result = self._result_row(entry)
                winning_time = winning_time or result["winning_time_s"]
                self.rows["results"].append(result)
            odds = self._list(entry.raw, "odds", entry.where, MAX_PRICES_PER_ENTRY)
            if odds:
                self._odds(odds, entry)
        return winning_time

    def _entry(self, index: int, item: Any, base: dict[str, Any], race_where: str) -> _Entry:
        """Columns runners and results share: identity, draw, weights, riders, scratching."""
        entry = self._item(item, f"formRaceEntries[{index}]", race_where)
        where = f"{race_where}, formRaceEntries[{index}]"
        finish_code = self._read(parse_nonzero_int, entry, "finish", where) or self._read(
            parse_nonzero_int, entry, "position", where
        )
        scratched = self._read(parse_flag, entry, "scratched", where)
        if scratched is None:  # not selected (race lists): 109 is racing.com's code for a scratching
            scratched = finish_code == _SCRATCHED_CODE
        weight = self._read(parse_weight_kg, entry, "weight", where)
        claim = None
        if "apprenticeCanClaim" in entry:
            can_claim = self._read(flag_or_false, entry, "apprenticeCanClaim", where)
            claim = self._read(parse_claim_kg, entry, "apprenticeAllowedClaim", where) if can_claim else 0.0
        row = {
            **base,
            "entry_id": self._read(parse_code, entry, "id", where),
            "horse_code": self._read(parse_code, entry, "horseCode", where),
            "horse_name": self._read(parse_text, entry, "horseName", where),
            "saddlecloth": self._read(parse_nonzero_int, entry, "raceEntryNumber", where),
            "barrier": None if scratched else self._read(parse_nonzero_int, entry, "barrierNumber", where),
            "weight_kg": weight,
            "claim_kg": claim,
            "carried_weight_kg": weight - claim if weight is not None and claim is not None else None,
            "jockey_code": self._read(parse_code, entry, "jockeyCode", where),
            "jockey_name": self._read(parse_text, entry, "jockeyName", where),
            "trainer_code": self._read(parse_code, entry, "trainerCode", where),
            "trainer_name": self._read(parse_text, entry, "trainerName", where),
            "scratched": scratched,
            "fetched_at": self.fetched_at,
        }
        return _Entry(index, entry, row, finish_code, where)

    def _runner_row(self, entry: _Entry) -> dict[str, Any]:
        raw, where = entry.raw, entry.where
        horse = self._read(parse_object, raw, "horse", where)
        return {
            **entry.row,
            "horse_country": self._read(parse_text, raw, "horseCountry", where),
            "emergency": self._read(parse_flag, raw, "emergency", where),
            "emergency_number": self._read(parse_nonzero_int, raw, "emergencyNumber", where),
            "handicap_rating": self._read(parse_nonzero_int, raw, "handicapRating", where),
            "last_five": self._read(parse_last_five, horse, "lastFive", f"{where}.horse") if horse else None,
        }

    def _result_row(self, entry: _Entry) -> dict[str, Any]:
        raw, where, finish_code = entry.raw, entry.where, entry.finish_code
        position = finish_code if finish_code is not None and finish_code < _NON_RUNNER_FROM else None
        margin = self._read(parse_lengths, raw, "margin", where) if position is not None else None
        return {
            **entry.row,
            "finish_code": finish_code,
            "finish_position": position,
            "margin_lengths": 0.0
            if position == 1
            else margin,  # racing.com gives the winner its margin to 2nd
            "starting_price": self._read(parse_price, raw, "startingPrice", where),
            "winning_time_s": self._read(centiseconds_to_seconds, raw, "winningTime", where),
            "prize_money_won": self._read(parse_money, raw, "prizeMoney", where),
            "position_at_800": self._read(parse_nonzero_int, raw, "positionAt800", where),
            "position_at_400": self._read(parse_nonzero_int, raw, "positionAt400", where),
        }

    def _without_scratched_twins(self, entries: list[_Entry], where: str) -> list[_Entry]:
        """racing.com lists a scratching and its emergency replacement on one saddlecloth (reference §3,
        "keep the entry that ran"): a non-runner sharing its saddlecloth with another entry is left out
        (the first listed stays when none ran). Entries that ran are always kept: two runners on one
        saddlecloth reach the contract, which refuses them."""
        by_saddlecloth: dict[int, list[_Entry]] = {}
        for entry in entries:
            if entry.row["saddlecloth"] is not None:
                by_saddlecloth.setdefault(entry.row["saddlecloth"], []).append(entry)
        dropped: set[int] = set()
        for saddlecloth, group in by_saddlecloth.items():
            if len(group) < 2:
                continue
            kept = [entry for entry in group if entry.ran] or group[:1]
            kept_indices = {entry.index for entry in kept}
            for entry in group:
                if entry.index not in kept_indices:
                    dropped.add(entry.index)
                    logger.info(
                        "%s %s: saddlecloth %s listed twice; left out non-runner entry %s (kept %s)",
                        self.label, where, saddlecloth, entry.row["entry_id"],
                        ", ".join(str(k.row["entry_id"]) for k in kept),
                    )  # fmt: skip
        return [entry for entry in entries if entry.index not in dropped] if dropped else entries

    def _odds(self, odds: list, entry: _Entry) -> None:
        runner = entry.row
        key = {column: runner[column] for column in _PRICE_KEY}
        for index, item in enumerate(odds):
            path = f"odds[{index}]"
            price = self._item(item, path, entry.where)
            price_where = f"{entry.where}.{path}"
            provider = self._read(parse_text, price, "providerCode", price_where)
            self.rows["odds"].append(
                {
                    **key,
                    "entry_id": runner["entry_id"],
                    "horse_code": runner["horse_code"],
                    "saddlecloth": runner["saddlecloth"],
                    "provider_code": provider,
                    "win_price": self._read(parse_price, price, "oddsWin", price_where),
                    "place_price": self._read(parse_price, price, "oddsPlace", price_where),
                    "is_favourite": self._read(parse_flag, price, "oddsIsFavouriteWin", price_where),
                    "is_market_mover": self._read(parse_flag, price, "oddsIsMarketMover", price_where),
                    "fetched_at": self.fetched_at,
                }
            )
            flucs = self._list(price, "flucsWin", price_where, MAX_FLUCS_PER_PRICE)
            if flucs:
                owner = {"entry_id": runner["entry_id"], "saddlecloth": runner["saddlecloth"]}
                self._flucs(flucs, {**key, **owner, "provider_code": provider}, f"{price_where}.flucsWin")

    def _flucs(self, flucs: list, key: dict[str, Any], where: str) -> None:
        """Price moves, appended column-wise: a results response carries ~10 per runner and provider."""
        if not all(type(fluc) is dict for fluc in flucs):
            for index, fluc in enumerate(flucs):
                self._item(fluc, f"[{index}]", where)
        try:  # all at once; on a failure, one by one to name the move that failed
            update_times = [parse_epoch_seconds(fluc.get("updateTime")) for fluc in flucs]
            prices = [parse_price(fluc.get("amount")) for fluc in flucs]
        except FormatError:
            for index, fluc in enumerate(flucs):
                self._read(parse_epoch_seconds, fluc, "updateTime", f"{where}[{index}]")
                self._read(parse_price, fluc, "amount", f"{where}[{index}]")
            raise
        columns, count = self.flucs, len(flucs)
        for column, value in (*key.items(), ("fetched_at", self.fetched_at)):
            columns[column].extend([value] * count)
        columns["update_time_utc"].extend(update_times)
        columns["win_price"].extend(prices)

    # -- meeting date -------------------------------------------------------------------------------

    def _meet_url_date(self, entries: list[Mapping[str, Any]], race_where: str) -> dt.date | None:
        """getRaceForm carries no date, but its entries' race.meet.meetUrl ends in /form/<date>/<venue>."""
        for index, entry in enumerate(entries):
            where = f"{race_where}, formRaceEntries[{index}]"
            race = self._read(parse_object, entry, "race", where) or {}
            meet = self._read(parse_object, race, "meet", f"{where}.race") or {}
            date = self._read(date_from_meet_url, meet, "meetUrl", f"{where}.race.meet")
            if date is not None:
                return date
        return None

    def _derive_meeting_date(self, starts: dict[str, int], fluc_start: int) -> None:
        """A race list without a date: the meeting's date is the local date of its first race."""
        local_dates = [
            race["start_time_local"].date()
            for race in self.rows["races"][starts["races"] :]
            if race["start_time_local"] is not None
        ]
        if not local_dates:
            return
        meeting_date = min(local_dates)
        for name, start in starts.items():
            for row in self.rows[name][start:]:
                if row.get("meeting_date", meeting_date) is None:
                    row["meeting_date"] = meeting_date
        dates = self.flucs["meeting_date"]
        dates[fluc_start:] = [meeting_date if day is None else day for day in dates[fluc_start:]]

    # -- helpers --------------------------------------------------------------------------------------

    def _error(self, where: str, field: str, rule: str) -> ParseError:
        return ParseError(
            f"{self.label} {where}: field {field!r}: {rule}",
            operation=self.op,
            field=field,
            race=self.race_code,
        )

    def _read(self, convert: Callable[[Any], Any], obj: Mapping[str, Any], key: str, where: str) -> Any:
        try:
            return convert(obj.get(key))
        except FormatError as err:
            raise self._error(where, key, str(err)) from None

    def _item(self, item: Any, path: str, where: str) -> Mapping[str, Any]:
        """A list element that must be an object (a meeting, race, entry, price or price move)."""
        if type(item) is dict or isinstance(item, Mapping):
            return item
        raise ParseError(
            f"{self.label} {where}: {path} is {type(item).__name__}, expected an object",
            operation=self.op,
            field=path,
            race=self.race_code,
        )

    def _list(self, obj: Mapping[str, Any], key: str, where: str, limit: int) -> list:
        """A nested list, refused whole when longer than racing.com's answers can be (`formats.MAX_*`)."""
        items = self._read(parse_list, obj, key, where)
        if len(items) > limit:
            raise self._error(
                where, key, f"{len(items)} items, more than the {limit} a racing.com answer holds; refused"
            )
        return items


def _race_label(race_code: str | None, meet_code: str | None, race_number: int | None) -> str | None:
    """How an error names a race (`ParseError.race`): its code, else its meet code and number."""
    if race_code is not None or (meet_code is None and race_number is None):
        return race_code
    return f"meetCode {meet_code or '?'} R{race_number or '?'}"


def _race_where(race_code: str | None, meet_code: str | None, race_number: int | None) -> str:
    return f"race {race_code or '?'} (meetCode {meet_code or '?'} R{race_number or '?'})"


def _first_flag(*flags: bool | None) -> bool:
    """The race's own flag, else its meeting's; null means not set (see `formats.flag_or_false`)."""
    return next((flag for flag in flags if flag is not None), False)


def _frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return _empty_frame(table).copy()
    return _frame_from_columns(table, {name: [row[name] for row in rows] for name in TABLE_COLUMNS[table]})


@cache
def _empty_frame(table: str) -> pd.DataFrame:
    return _frame_from_columns(table, {name: [] for name in TABLE_COLUMNS[table]})


def _frame_from_columns(table: str, columns: dict[str, list[Any]]) -> pd.DataFrame:
    """Typed frame from column lists. Built with the masked-array constructors: pd.array(dtype=...) costs
    3-5x more per column, and with a race's few rows the per-column cost is what limits runners/s."""
    kinds = TABLE_COLUMNS[table]
    length = len(next(iter(columns.values())))
    return pd.DataFrame(
        {name: _COLUMN_BUILDERS[kind](columns[name]) for name, kind in kinds.items()},
        index=pd.RangeIndex(length),
        copy=False,
    )


_NAT = np.iinfo(np.int64).min


def _strings(values: list[Any]) -> pd.arrays.StringArray:
    return pd.arrays.StringArray(
        np.array([pd.NA if v is None else v if type(v) is str else str(v) for v in values], dtype=object)
    )


def _ints(values: list[Any]) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(
        np.array([0 if v is None else v for v in values], dtype=np.int64),
        np.array([v is None for v in values], dtype=bool),
    )


def _bools(values: list[Any]) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(
        np.array([bool(v) for v in values], dtype=bool), np.array([v is None for v in values], dtype=bool)
    )


def _wall_clock(values: list[Any]) -> Any:
    return pd.array(np.array([_NAT if v is None else v.value for v in values], dtype=np.int64).view("M8[ns]"))


def _utc(values: list[Any]) -> Any:
    return _wall_clock(values).tz_localize("UTC")


def _epoch_seconds(values: list[Any]) -> Any:
    nanos = [_NAT if v is None else v * 1_000_000_000 for v in values]
    return pd.array(np.array(nanos, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")


def _objects(values: list[Any]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):  # element-wise: numpy would turn a list of lists into 2-D
        column[index] = value
    return column


_COLUMN_BUILDERS: dict[str, Callable[[list[Any]], Any]] = {
    "string": _strings,
    "int": _ints,
    "float": lambda values: np.array(values, dtype="float64"),
    "bool": _bools,
    "utc": _utc,
    "epoch": _epoch_seconds,
    "local": _wall_clock,
    "date": _objects,
    "list": _objects,
}


# -- careers ------------------------------------------------------------------------------------------

HORSE_STARTS = "getRaceEntryItemByHorsePaged_CD"
CAREER_ROOT = "GetRaceEntryItemByHorsePaged"
MAX_STARTS_PER_PAGE = 100  # the document asks for 10; far more is not an answer to it
# fmt: off
HORSE_STARTS_COLUMNS = {
    "horse_code": "string", "entry_id": "string", "race_code": "string", "race_date": "date",
    "venue_code": "string", "venue_name": "string", "race_number": "int", "distance_m": "int",
    "race_class": "string", "track_condition": "string", "track_rating": "int", "runners_count": "int",
    "is_trial": "bool", "is_jumpout": "bool", "scratched": "bool", "finish_position": "int",
    "margin_lengths": "float", "starting_price": "float", "weight_kg": "float", "barrier": "int",
    "jockey_name": "string", "trainer_name": "string", "handicap_rating": "int", "fetched_at": "utc",
}
# fmt: on


@dataclass(frozen=True)
class CareerPage:
    """One page of a horse's past starts: the starts it holds as `horse_starts` rows (entries not yet
    run are left out) and how many items it listed. Rows, not a frame: a caller building one frame for
    many pages saves a frame per page (`starts_frame`)."""

    rows: list[dict[str, Any]]
    items: int

    @property
    def starts(self) -> pd.DataFrame:
        return starts_frame(self.rows)


def parse_career_page(
    payload: Mapping[str, Any],
    *,
    horse_code: str,
    page: int,
    fetched_at: dt.datetime | pd.Timestamp | str | None,
) -> CareerPage:
    """A `GetRaceEntryItemByHorsePaged` answer as `horse_starts` rows (without `class_rank`, which the
    SQL macro computes on writing).

    An item is a start once it has a finish code: a placing, or 100 and up for a non-runner (109 is a
    scratching, also told by finishAbv "SCR"); an entry without one has not run yet and is left out.
    The winner's margin is stored as racing.com gives it, its margin to second (reference §3). The items
    carry no horse code: it is the request's. Errors name the horse, the page, the item and the field."""
    data = _unwrap(payload) if "data" in payload or "errors" in payload else payload
    reader = _CareerReader(f"{HORSE_STARTS} horse {horse_code} page {page}", _utc_or_none(fetched_at))
    items = reader.read(parse_list, data, CAREER_ROOT, "response")
    if len(items) > MAX_STARTS_PER_PAGE:
        raise reader.error("response", CAREER_ROOT, f"{len(items)} items, more than {MAX_STARTS_PER_PAGE}")
    rows = []
    for index, item in enumerate(items):
        where = f"{CAREER_ROOT}[{index}]"
        if not isinstance(item, Mapping):
            raise reader.error("response", where, f"{type(item).__name__}, expected an object")
        row = _career_row(reader, item, where, horse_code)
        if row is not None:
            rows.append(row)
    return CareerPage(rows=rows, items=len(items))


def starts_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """`parse_career_page` rows as a typed frame (the contract's dtypes), in `HORSE_STARTS_COLUMNS` order."""
    return pd.DataFrame(
        {
            name: _COLUMN_BUILDERS[kind]([row[name] for row in rows])
            for name, kind in HORSE_STARTS_COLUMNS.items()
        },
        index=pd.RangeIndex(len(rows)),
    )


@dataclass(frozen=True)
class _CareerReader:
    """Reads one field of a career page, naming the horse, page, item and field when it cannot."""

    label: str
    fetched_at: pd.Timestamp | None

    def error(self, where: str, field: str, rule: str) -> ParseError:
        return ParseError(
            f"{self.label} {where}: field {field!r}: {rule}", operation=HORSE_STARTS, field=field
        )

    def read(self, convert: Callable[[Any], Any], obj: Mapping[str, Any], key: str, where: str) -> Any:
        try:
            return convert(obj.get(key))
        except FormatError as err:
            raise self.error(where, key, str(err)) from None


def _career_row(
    reader: _CareerReader, item: Mapping[str, Any], where: str, horse_code: str
) -> dict[str, Any] | None:
    read = reader.read
    finish = read(parse_nonzero_int, item, "finish", where)
    scratched = (
        finish == _SCRATCHED_CODE or (read(parse_text, item, "finishAbv", where) or "").upper() == "SCR"
    )
    if finish is None and not scratched:
        return None
    race_where = f"{where}.race"
    race = read(parse_object, item, "race", where) or {}
    venue = read(parse_object, race, "venue", race_where) or {}
    race_date = read(parse_race_date, race, "date", race_where)
    if race_date is None:
        raise reader.error(race_where, "date", "a start without a race date cannot be placed in a career")
    entry_id = read(parse_code, item, "id", where)
    if entry_id is None:
        raise reader.error(where, "id", "a start without an entry id cannot be stored or matched")
    position = finish if finish is not None and finish < _NON_RUNNER_FROM and not scratched else None
    return {
        "horse_code": horse_code,
        "entry_id": entry_id,
        "race_code": read(parse_code, race, "id", race_where),
        "race_date": race_date,
        "venue_code": read(parse_code, race, "venueCode", race_where),
        "venue_name": read(parse_text, venue, "venueName", f"{race_where}.venue"),
        "race_number": read(parse_nonzero_int, race, "raceNumber", race_where),
        "distance_m": read(parse_distance_m, race, "distance", race_where),
        "race_class": normalise_race_class(
            read(parse_text, race, "class", race_where) or read(parse_text, race, "nameForm", race_where),
            read(parse_text, race, "group", race_where),
        ),
        "track_condition": read(parse_text, race, "trackCondition", race_where),
        "track_rating": read(parse_nonzero_int, race, "trackRating", race_where),
        "runners_count": read(parse_nonzero_int, race, "runnersCount", race_where),
        "is_trial": read(flag_or_false, race, "isTrial", race_where),
        "is_jumpout": read(flag_or_false, race, "isJumpOut", race_where),
        "scratched": scratched,
        "finish_position": position,
        "margin_lengths": read(parse_lengths, item, "margin", where) if position is not None else None,
        "starting_price": read(parse_price, item, "startingPrice", where),
        "weight_kg": read(parse_weight_kg, item, "weightCarried", where),
        "barrier": None if scratched else read(parse_nonzero_int, item, "barrierNumber", where),
        "jockey_name": read(parse_text, item, "jockeyName", where),
        "trainer_name": read(parse_text, item, "trainerName", where),
        "handicap_rating": read(parse_nonzero_int, item, "handicapRating", where),
        "fetched_at": reader.fetched_at,
    }
