"""racing.com GraphQL responses -> typed pandas tables (meetings, races, runners, results, odds, odds_flucs).

Pure functions: no I/O, no clock. A response is read from whatever its query selected; context a lone
response lacks (meet code and date of a getRaceForm, state of an unknown venue) comes from `variables` or
`context`, else stays null. Keys the operation's query selects must be present (schema drift raises
`SchemaDriftError`); a present key holding null is data, left for `racing_platform.contracts` to judge.
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
    FormatError,
    centiseconds_to_seconds,
    date_from_meet_url,
    parse_claim_kg,
    parse_date,
    parse_distance_m,
    parse_flag,
    parse_int,
    parse_last_five,
    parse_lengths,
    parse_money,
    parse_price,
    parse_prize_money,
    parse_race_time_s,
    parse_track_rating,
    parse_utc_timestamp,
    parse_weight_kg,
    to_local,
)
from racing_platform.source.venues import VenueRegistry, load_venues

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


def _keys(selection: str) -> frozenset[str]:
    """'id venue date' -> frozenset: written like the query document's selection set."""
    return frozenset(selection.split())


# Keys each operation's query document selects AND the parser reads, per object kind. The documents are in
# ../shared/reference/racing-com-api.md section 2: GetMeetingByDate 2.1(c), getNoCacheRacesForMeet 2.2
# (first document), getRacesForMeet 2.2(b), getRaceEntriesForField_CD 2.3, getRaceResults_CD 2.4 (expanded).
# GetMeetingByDate's nested races and getRacesForMeet have no single published document, so only the keys
# every published variant selects are required there. A missing key raises SchemaDriftError; a key present
# with null is data. Kinds: meeting, race, meet (race.meet), venue (race.venue), entry (formRaceEntries[i]),
# horse (entry.horse), odds (entry.odds[j]), fluc (odds.flucsWin[k]).
_ODDS_KEYS = _keys("providerCode oddsWin oddsPlace oddsIsFavouriteWin oddsIsMarketMover flucsWin")
_FLUC_KEYS = _keys("updateTime amount")
_RACE_FORM_ENTRY_KEYS = _keys(
    "id meetCode raceNumber position barrierNumber scratched startingPrice odds raceEntryNumber"
    " apprenticeCanClaim apprenticeAllowedClaim weight margin winningTime finish horseName horseCode"
    " horseCountry jockeyName jockeyCode trainerName trainerCode horse"
)
REQUIRED_KEYS: dict[str, dict[str, frozenset[str]]] = {
    MEETINGS_BY_DATE: {
        "meeting": _keys("id venue date state isTrial isJumpOut meetUrl"),
        "race": _keys("id raceNumber"),
        "entry": _keys("horseName"),
        "odds": _keys("providerCode oddsWin"),
        "fluc": _FLUC_KEYS,
    },
    RACES_NO_CACHE: {
        "race": _keys(
            "id meet raceNumber raceStatus distance time name nameForm trackCondition isTrial isJumpOut"
            " trackRating condition prizeMoney totalPrizeMoney trackCode rdcClass formRaceEntries raceTime"
            " toEightHundredMetresSeconds eightHundredToFourHundredMetresSeconds"
            " fourHundredToFinishMetresSeconds"
        ),
        "meet": _keys("venue meetUrl"),
        "entry": _keys("horseName position winningTime"),
    },
    RACES_FOR_MEET: {
        "race": _keys("id raceNumber raceStatus distance time name rdcClass meet"),
        "entry": _keys("id raceEntryNumber horseName horseCode barrierNumber weight scratched position"),
        "odds": _keys("providerCode oddsWin oddsPlace"),
        "fluc": _FLUC_KEYS,
    },
    RACE_FIELD: {
        "race": _keys(
            "id status isTrial isJumpOut location venueCode rdcClass venueState venue distance trackCondition"
            " trackRating class group nameForm formRaceEntries"
        ),
        "venue": _keys("venueName"),
        "entry": _RACE_FORM_ENTRY_KEYS | _keys("raceCode handicapRating emergency emergencyNumber"),
        "horse": _keys("lastFive"),
        "odds": _ODDS_KEYS,
        "fluc": _FLUC_KEYS,
    },
    RACE_RESULTS: {
        "race": _keys("id meetCode venue raceNumber raceStatus rdcClass isTrial isJumpOut formRaceEntries"),
        "venue": _keys("venueName state"),
        "entry": _RACE_FORM_ENTRY_KEYS | _keys("prizeMoney positionAt800 positionAt400"),
        "horse": _keys("lastFive"),
        "odds": _ODDS_KEYS,
        "fluc": _FLUC_KEYS,
    },
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
        "meet_code": "string", "meeting_date": "date", "venue_slug": "string", **_RACE_KEY,
        "entry_id": "string", "horse_code": "string",
        "saddlecloth": "int", "provider_code": "string", "win_price": "float", "place_price": "float",
        "is_favourite": "bool", "is_market_mover": "bool", "fetched_at": "utc",
    },
    "odds_flucs": {
        "race_code": "string", "entry_id": "string", "saddlecloth": "int", "provider_code": "string",
        "update_time_utc": "epoch", "win_price": "float",
    },
}
# fmt: on
TABLES = tuple(TABLE_COLUMNS)

_SCRATCHED_CODE = 109
_NON_RUNNER_FROM = 100


class ParseError(ValueError):
    """A response the parser cannot read; the message names the operation, race and field."""

    def __init__(
        self, message: str, *, operation: str | None = None, field: str | None = None, race: str | None = None
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.field = field
        self.race = race


class SchemaDriftError(ParseError):
    """A key the operation's query selects is absent: racing.com (or the simulator) changed its schema."""


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
    root = _root_value(data, op)
    parser = _Parser(op, _hints(variables, context), _utc_or_none(fetched_at), venues or load_venues())
    if op == MEETINGS_BY_DATE:
        parser.meetings(_as_list(root, op))
    elif op in (RACES_NO_CACHE, RACES_FOR_MEET):
        parser.race_list(_as_list(root, op))
    elif root is not None:
        if not isinstance(root, Mapping):
            raise ParseError(
                f"{op}: expected getRaceForm to be an object, got {type(root).__name__}", operation=op
            )
        parser.race_form(root)
    frames = {name: _frame(name, rows) for name, rows in parser.rows.items()}
    return ParsedTables(operation=op, odds_flucs=_frame_from_columns("odds_flucs", parser.flucs), **frames)


def detect_operation(payload: Mapping[str, Any]) -> str:
    """The operation that produced a response, from its shape (root field; getRaceForm field vs results)."""
    return _resolve_operation(_unwrap(payload), None)


def _unwrap(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise ParseError(f"expected a JSON object response, got {type(payload).__name__}")
    if "data" in payload or "errors" in payload:
        if payload.get("errors"):
            messages = "; ".join(
                str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in payload["errors"]
            )
            raise ParseError(f"GraphQL response carries errors: {messages}")
        data = payload.get("data")
        if not isinstance(data, Mapping):
            raise ParseError("GraphQL response has no data object")
        return data
    return payload


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
        f"cannot tell the operation from root fields {sorted(data)}; "
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
        f"{op}: response has no {field!r} root field (root fields: {sorted(data)})", operation=op
    )


def _as_list(value: Any, op: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{op}: expected a list, got {type(value).__name__}", operation=op)
    return value


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
    "meet_code": str,
    "race_number": parse_int,
    "meeting_date": parse_date,
    "venue": str,
    "venue_code": str,
    "state": lambda state: str(state).upper(),
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


def _code(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


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


class _Parser:
    """Accumulates rows (dicts) per table while walking one response; `_frame` turns them into columns."""

    def __init__(
        self, op: str, hints: dict[str, Any], fetched_at: pd.Timestamp | None, venues: VenueRegistry
    ) -> None:
        self.op = op
        self.label = f"getRaceForm ({op})" if ROOT_FIELDS[op] == "getRaceForm" else op
        self.required = REQUIRED_KEYS[op]
        self.hints = hints
        self.fetched_at = fetched_at
        self.registry = venues
        self.warned_venues: set[tuple[str | None, str | None]] = set()
        self.race_code: str | None = None  # the race being parsed, for error attributes
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES if name != "odds_flucs"}
        self.flucs: dict[str, list[Any]] = {name: [] for name in TABLE_COLUMNS["odds_flucs"]}

    # -- operations -----------------------------------------------------------------------------------

    def meetings(self, meetings: list) -> None:
        seen: set[str | None] = set()
        for index, meeting in enumerate(meetings):
            self.race_code = None
            where = f"meeting {_code(_object(meeting).get('id')) or '?'}"
            self._require(meeting, "meeting", f"{ROOT_FIELDS[self.op]}[{index}]", where)
            meet_code = _code(meeting.get("id"))
            if meet_code in seen:  # racing.com folds VIC meetings into every state's answer
                continue
            seen.add(meet_code)
            venue = self._venue(
                meeting.get("venue") or meeting.get("venueName"),
                meeting.get("venueCode"),
                meeting.get("state"),
            )
            meeting_date = self._read(parse_date, meeting, "date", where) or date_from_meet_url(
                meeting.get("meetUrl")
            )
            context = _Meeting(
                meet_code,
                meeting_date or self.hints.get("meeting_date"),
                venue,
                self._read(parse_flag, meeting, "isTrial", where),
                self._read(parse_flag, meeting, "isJumpOut", where),
            )
            self.rows["meetings"].append(
                {
                    "meet_code": meet_code,
                    "meeting_date": context.meeting_date,
                    "venue": venue.venue,
                    "venue_slug": venue.venue_slug,
                    "venue_code": venue.venue_code,
                    "state": venue.state,
                    "timezone": venue.timezone,
                    "is_trial": context.is_trial,
                    "is_jumpout": context.is_jumpout,
                    "meet_url": meeting.get("meetUrl"),
                    "fetched_at": self.fetched_at,
                }
            )
            races = meeting.get("races")
            if races:
                self._races_of_meeting(
                    _as_list(races, self.op), context, f"{ROOT_FIELDS[self.op]}[{index}].races"
                )

    def race_list(self, races: list) -> None:
        context = _Meeting(self.hints.get("meet_code"), self.hints.get("meeting_date"))
        self._races_of_meeting(races, context, ROOT_FIELDS[self.op])

    def race_form(self, race: Mapping[str, Any]) -> None:
        """getRaceForm names neither date nor (in the field document) meet code at race level."""
        entries = race.get("formRaceEntries") or []
        first_entry = _object(entries[0]) if isinstance(entries, list) and entries else {}
        meet_code = (
            _code(race.get("meetCode")) or _code(first_entry.get("meetCode")) or self.hints.get("meet_code")
        )
        meeting_date = _meet_url_date_of_entries(entries) or self.hints.get("meeting_date")
        self._race(race, _Meeting(meet_code, meeting_date), ROOT_FIELDS[self.op])

    # -- races ----------------------------------------------------------------------------------------

    def _races_of_meeting(self, races: list, context: _Meeting, path: str) -> None:
        starts = {name: len(rows) for name, rows in self.rows.items()}
        for index, race in enumerate(races):
            self._race(race, context, f"{path}[{index}]")
        if context.meeting_date is None:
            self._derive_meeting_date(starts)

    def _race(self, race: Any, context: _Meeting, path: str) -> None:
        self.race_code = race_code = _code(_object(race).get("id"))
        number = _object(race).get("raceNumber")
        self._require(
            race,
            "race",
            path,
            f"race {race_code or '?'} (meetCode {context.meet_code or '?'} R{number or '?'})",
        )
        meet, venue_obj = _object(race.get("meet")), _object(race.get("venue"))
        entries = _as_list(race.get("formRaceEntries"), self.op)
        meet_code = context.meet_code or _code(meet.get("id"))
        where = f"race {race_code or '?'} (meetCode {meet_code or '?'} R{race.get('raceNumber') or '?'})"
        if meet:
            self._require(meet, "meet", f"{path}.meet", where)
        if venue_obj:
            self._require(venue_obj, "venue", f"{path}.venue", where)
        race_number = self._read(parse_int, race, "raceNumber", where)
        if race_number is None and entries:
            race_number = self._read(parse_int, _object(entries[0]), "raceNumber", where)
        race_number = race_number or self.hints.get("race_number")
        where = f"race {race_code or '?'} (meetCode {meet_code or '?'} R{race_number or '?'})"

        venue = self._race_venue(race, meet, venue_obj, context)
        meeting_date = (
            self._read(parse_date, meet, "date", where)
            or date_from_meet_url(meet.get("meetUrl"))
            or context.meeting_date
        )
        start_utc = self._read(parse_utc_timestamp, race, "time", where)
        start_local = (
            to_local(start_utc, venue.timezone) if start_utc is not None and venue.timezone else None
        )
        prize_total, prize_by_position = self._read(parse_prize_money, race, "prizeMoney", where)
        if race.get("totalPrizeMoney") is not None:
            prize_total = self._read(parse_money, race, "totalPrizeMoney", where)
        timed_entry = next((e for e in entries if _object(e).get("winningTime") is not None), None)
        winning_time = (
            self._read(centiseconds_to_seconds, timed_entry, "winningTime", where)
            if timed_entry is not None
            else self._read(parse_race_time_s, race, "raceTime", where)
        )
        is_trial = self._read(parse_flag, race, "isTrial", where)
        is_jumpout = self._read(parse_flag, race, "isJumpOut", where)
        track = race if race.get("trackCondition") is not None else meet  # getRacesForMeet: on the meet
        base = {
            "meet_code": meet_code,
            "meeting_date": meeting_date,
            "venue": venue.venue,
            "venue_slug": venue.venue_slug,
            "state": venue.state,
            "race_code": race_code,
            "race_number": race_number,
        }
        self.rows["races"].append(
            {
                **base,
                "venue_code": venue.venue_code,
                "timezone": venue.timezone,
                "race_name": race.get("name"),
                "name_form": race.get("nameForm"),
                "race_class": race.get("rdcClass"),
                "class_name": race.get("class"),
                "group": race.get("group"),
                "race_status": race.get("raceStatus") or race.get("status"),
                "is_trial": context.is_trial if is_trial is None else is_trial,
                "is_jumpout": context.is_jumpout if is_jumpout is None else is_jumpout,
                "start_time_utc": start_utc,
                "start_time_local": start_local,
                "distance_m": self._read(parse_distance_m, race, "distance", where),
                "track_condition": track.get("trackCondition"),
                "track_rating": self._read(parse_track_rating, track, "trackRating", where),
                "prize_money_total": prize_total,
                "prize_money": prize_by_position,
                "conditions": race.get("condition"),
                "winning_time_s": winning_time,
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
        )
        if entries:
            self._entries(entries, base, where)

    def _race_venue(
        self,
        race: Mapping[str, Any],
        meet: Mapping[str, Any],
        venue_obj: Mapping[str, Any],
        context: _Meeting,
    ) -> _Venue:
        name = (
            venue_obj.get("venueName") or race.get("location") or meet.get("venue") or meet.get("venueName")
        )
        code = race.get("venueCode") or race.get("trackCode") or meet.get("venueCode")
        if name is None and code is None and context.venue is not None:
            return context.venue
        return self._venue(name, code, race.get("venueState") or venue_obj.get("state") or meet.get("state"))

    def _venue(self, name: str | None, venue_code: Any, state: str | None) -> _Venue:
        """Registry venue (canonical name, slug, time zone) when known; else the response's name and state."""
        name = name or self.hints.get("venue")
        venue_code = _code(venue_code) or self.hints.get("venue_code")
        state = (state or self.hints.get("state") or "").upper() or None
        if name is None and venue_code is None:  # getRacesForMeet names no venue; the caller's context may
            return _Venue(None, None, None, state, self.registry.timezone_for(state))
        known = self.registry.lookup(name, venue_code)
        if known is not None:
            return _Venue(
                known.name, known.slug, known.venue_code or venue_code, state or known.state, known.timezone
            )
        slug = self.registry.slugify(name) if name else None
        timezone = self.registry.timezone_for(state)
        if (name, venue_code) not in self.warned_venues:
            self.warned_venues.add((name, venue_code))
            logger.warning(
                "%s: venue %r (code %s, state %s) is not in configs/venues.yaml; slug %r, time zone %s",
                self.label, name, venue_code, state, slug, timezone,
            )  # fmt: skip
        return _Venue(name, slug, venue_code, state, timezone)

    # -- entries --------------------------------------------------------------------------------------

    def _entries(self, entries: list, base: dict[str, Any], where: str) -> None:
        for index, entry in enumerate(entries):
            self._require(entry, "entry", f"formRaceEntries[{index}]", where)
        kept = self._dedupe_saddlecloths(entries, where)
        has_results = any(e.get("finish") is not None or e.get("position") is not None for _, e in kept)
        for index, entry in kept:
            row = self._entry_row(entry, base, f"{where}, formRaceEntries[{index}]")
            if "raceEntryNumber" in entry:  # the query selected runner fields, not just a result line
                horse = entry.get("horse")
                if horse is not None:
                    self._require(horse, "horse", f"formRaceEntries[{index}].horse", where)
                self.rows["runners"].append(
                    self._runner_row(entry, row, f"{where}, formRaceEntries[{index}]")
                )
            if has_results:
                self.rows["results"].append(
                    self._result_row(entry, row, f"{where}, formRaceEntries[{index}]")
                )
            odds = entry.get("odds")
            if odds:
                self._odds(_as_list(odds, self.op), row, f"formRaceEntries[{index}].odds", where)

    def _entry_row(self, entry: Mapping[str, Any], base: dict[str, Any], where: str) -> dict[str, Any]:
        """Columns runners and results share: identity, draw, weights, riders, scratching."""
        get = entry.get
        scratched = get("scratched")
        if scratched is None:  # not selected (race lists): 109 is racing.com's code for a scratching
            scratched = self._finish_code(entry, where) == _SCRATCHED_CODE
        weight = self._read(parse_weight_kg, entry, "weight", where)
        claim = (
            self._read_pair(parse_claim_kg, entry, "apprenticeCanClaim", "apprenticeAllowedClaim", where)
            if "apprenticeCanClaim" in entry
            else None
        )
        return {
            **base,
            "entry_id": _code(get("id")),
            "horse_code": _code(get("horseCode")),
            "horse_name": get("horseName"),
            "saddlecloth": self._read(parse_int, entry, "raceEntryNumber", where),
            "barrier": None if scratched else self._read(parse_int, entry, "barrierNumber", where),
            "weight_kg": weight,
            "claim_kg": claim,
            "carried_weight_kg": weight - claim if weight is not None and claim is not None else None,
            "jockey_code": _code(get("jockeyCode")),
            "jockey_name": get("jockeyName"),
            "trainer_code": _code(get("trainerCode")),
            "trainer_name": get("trainerName"),
            "scratched": bool(scratched),
            "fetched_at": self.fetched_at,
        }

    def _runner_row(self, entry: Mapping[str, Any], row: dict[str, Any], where: str) -> dict[str, Any]:
        horse = entry.get("horse")
        return {
            **row,
            "horse_country": entry.get("horseCountry"),
            "emergency": self._read(parse_flag, entry, "emergency", where),
            "emergency_number": self._read(parse_int, entry, "emergencyNumber", where),
            "handicap_rating": self._read(parse_int, entry, "handicapRating", where),
            "last_five": self._read(parse_last_five, horse, "lastFive", where) if horse else None,
        }

    def _result_row(self, entry: Mapping[str, Any], row: dict[str, Any], where: str) -> dict[str, Any]:
        finish_code = self._finish_code(entry, where)
        position = finish_code if finish_code is not None and finish_code < _NON_RUNNER_FROM else None
        margin = self._read(parse_lengths, entry, "margin", where) if position is not None else None
        return {
            **row,
            "finish_code": finish_code,
            "finish_position": position,
            "margin_lengths": 0.0
            if position == 1
            else margin,  # racing.com gives the winner its margin to 2nd
            "starting_price": self._read(parse_price, entry, "startingPrice", where),
            "winning_time_s": self._read(centiseconds_to_seconds, entry, "winningTime", where),
            "prize_money_won": self._read(parse_money, entry, "prizeMoney", where),
            "position_at_800": self._read(parse_int, entry, "positionAt800", where),
            "position_at_400": self._read(parse_int, entry, "positionAt400", where),
        }

    def _finish_code(self, entry: Mapping[str, Any], where: str) -> int | None:
        """`finish` where selected, else `position` (race lists): 1..n placings, >= 100 non-runners."""
        return self._read(
            parse_int, entry, "finish" if entry.get("finish") is not None else "position", where
        )

    def _dedupe_saddlecloths(self, entries: list, where: str) -> list[tuple[int, Mapping[str, Any]]]:
        """racing.com can list a saddlecloth twice (an emergency and a scratching): keep the one that ran."""
        kept: list[tuple[int, Mapping[str, Any]]] = []
        slot_of: dict[int, int] = {}
        for index, entry in enumerate(entries):
            saddlecloth = self._read(
                parse_int, entry, "raceEntryNumber", f"{where}, formRaceEntries[{index}]"
            )
            slot = slot_of.get(saddlecloth) if saddlecloth is not None else None
            if slot is None:
                if saddlecloth is not None:
                    slot_of[saddlecloth] = len(kept)
                kept.append((index, entry))
                continue
            held = kept[slot][1]
            if _ran(entry) and not _ran(held):
                kept[slot] = (index, entry)
                held, entry = entry, held
            log = logger.info if _ran(held) != _ran(entry) else logger.warning  # the rule could not choose
            log(
                "%s %s: saddlecloth %s listed twice; kept entry %s, dropped entry %s",
                self.label, where, saddlecloth, _code(held.get("id")), _code(entry.get("id")),
            )  # fmt: skip
        return kept

    def _odds(self, odds: list, runner: dict[str, Any], path: str, where: str) -> None:
        odds_rows = self.rows["odds"]
        for index, price in enumerate(odds):
            self._require(price, "odds", f"{path}[{index}]", where)
            provider = price.get("providerCode")
            price_where = f"{where}, {path}[{index}]"
            odds_rows.append(
                {
                    "meet_code": runner["meet_code"],
                    "meeting_date": runner["meeting_date"],
                    "venue_slug": runner["venue_slug"],
                    "race_code": runner["race_code"],
                    "race_number": runner["race_number"],
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
            if price.get("flucsWin"):
                self._flucs(price["flucsWin"], runner, provider, f"{path}[{index}].flucsWin", where)

    def _flucs(self, flucs: Any, runner: dict[str, Any], provider: str | None, path: str, where: str) -> None:
        """Price moves, appended column-wise: a results response carries ~10 per runner and provider."""
        flucs = _as_list(flucs, self.op)
        keys = self.required.get("fluc", frozenset())
        for index, fluc in enumerate(flucs):
            if type(fluc) is not dict or not keys <= fluc.keys():  # check fast, explain slow
                self._require(fluc, "fluc", f"{path}[{index}]", where)
        update_times = [fluc.get("updateTime") for fluc in flucs]
        if not all(type(update_time) is int for update_time in update_times):
            update_times = [
                self._read(parse_int, fluc, "updateTime", f"{where}, {path}[{index}]")
                for index, fluc in enumerate(flucs)
            ]
        try:
            prices = [parse_price(fluc.get("amount")) for fluc in flucs]
        except FormatError:  # parse again, one by one, to name the move that failed
            prices = [
                self._read(parse_price, fluc, "amount", f"{where}, {path}[{index}]")
                for index, fluc in enumerate(flucs)
            ]
        columns, count = self.flucs, len(flucs)
        for column in ("race_code", "entry_id", "saddlecloth"):
            columns[column].extend([runner[column]] * count)
        columns["provider_code"].extend([provider] * count)
        columns["update_time_utc"].extend(update_times)
        columns["win_price"].extend(prices)

    # -- meeting date -------------------------------------------------------------------------------

    def _derive_meeting_date(self, starts: dict[str, int]) -> None:
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

    # -- helpers --------------------------------------------------------------------------------------

    def _require(self, obj: Any, kind: str, path: str, where: str) -> None:
        if type(obj) is not dict and not isinstance(obj, Mapping):
            raise ParseError(
                f"{self.label} {where}: {path} is {type(obj).__name__}, expected an object",
                operation=self.op,
                field=path,
                race=self.race_code,
            )
        missing = self.required.get(kind, frozenset()) - obj.keys()
        if missing:
            field, *others = sorted(missing)
            also = f" (also missing: {', '.join(others)})" if others else ""
            raise SchemaDriftError(
                f"{self.label} {where}: field {field!r} missing from {path}{also}",
                operation=self.op,
                field=field,
                race=self.race_code,
            )

    def _read(self, convert: Callable[[Any], Any], obj: Mapping[str, Any], key: str, where: str) -> Any:
        try:
            return convert(obj.get(key))
        except FormatError as err:
            raise ParseError(
                f"{self.label} {where}: field {key!r}: {err}",
                operation=self.op,
                field=key,
                race=self.race_code,
            ) from None

    def _read_pair(
        self, convert: Callable[[Any, Any], Any], obj: Mapping[str, Any], key: str, other: str, where: str
    ) -> Any:
        try:
            return convert(obj.get(key), obj.get(other))
        except FormatError as err:
            raise ParseError(
                f"{self.label} {where}: field {other!r}: {err}",
                operation=self.op,
                field=other,
                race=self.race_code,
            ) from None


def _ran(entry: Mapping[str, Any]) -> bool:
    finish = entry.get("finish") if entry.get("finish") is not None else entry.get("position")
    return not entry.get("scratched") and not (isinstance(finish, int) and finish >= _NON_RUNNER_FROM)


def _meet_url_date_of_entries(entries: Any) -> dt.date | None:
    """getRaceForm carries no date, but its entries' race.meet.meetUrl ends in /form/<date>/<venue>."""
    for entry in entries if isinstance(entries, list) else ():
        date = date_from_meet_url(_object(_object(_object(entry).get("race")).get("meet")).get("meetUrl"))
        if date is not None:
            return date
    return None


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
