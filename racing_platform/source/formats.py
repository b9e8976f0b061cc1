"""Every rule for a racing.com value, in one place: what null, 0 and "" mean, and what a wrong type is.

racing.com types most fields as strings ("56.5kg", "$3.10", "2.97L", "1400m", centiseconds "6945"). Each
converter takes the raw JSON value, returns None for "absent" and raises `FormatError` for a value of the
wrong type or format, so the parser can name the operation, race and field. The rules:

* null, "" and blank text are absent -> null, in every field.
* 0 is racing.com's "not measured / none" wherever a real value starts above zero: weights, distances,
  times and sectionals, prices, barriers, saddlecloths, race numbers, finish codes, positions, ratings,
  emergency numbers, codes and fluctuation times -> null. 0 stays 0 where it is a real amount: prize
  money, margins (a dead heat), apprentice claims. But a race's totalPrizeMoney 0 beside prizeMoney
  places summing above 0 is "not measured": the sum is the total (`race_prize_total`).
* Flags (isTrial, isJumpOut, scratched, emergency, ...) arrive as 0/1 ints, booleans or their strings.
  isTrial/isJumpOut/apprenticeCanClaim null means "not set" -> False (`flag_or_false`; a scraper of
  racing.com's own meeting filter keeps `!isTrial && !isJumpOut`, i.e. null is an ordinary meeting).
* Text (names of horses, jockeys, trainers, venues, races, and codes) loses control characters, format
  characters and line/paragraph separators (tab, newline, U+2028, U+2029, zero-width marks); whitespace
  runs collapse to one space (`clean_text`). The raw body in the archive keeps the original.
* A value of the wrong JSON type (an object or list for a scalar, text where a number is due, a boolean
  for a number, a number for a name) raises `FormatError`; so does a number that is not finite, an
  integer beyond `MAX_INTEGER`, and a date outside `EARLIEST_DATE`..`LATEST_DATE`.

Sizes: an answer with more items than `MAX_MEETINGS_PER_DAY`, `MAX_RACES_PER_MEETING`,
`MAX_ENTRIES_PER_RACE`, `MAX_PRICES_PER_ENTRY` or `MAX_FLUCS_PER_PRICE` is refused before per-row work.
String parsing is cached: the same few hundred strings ("$3.10", "56.5kg") repeat across a meeting.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

_CACHE_SIZE = 8192
_MEET_URL_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_RACE_TIME = re.compile(r"^(?:(\d+):)?(\d+(?:\.\d+)?)$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")

# Sizes above which an answer is refused before any per-row work (racing.com's real answers are far
# below: ~360 venues in all, <= 12 races a meeting, fields capped at 24 starters plus emergencies and
# scratchings, 13 price providers and at most 66 moves of one price in the recorded result).
MAX_MEETINGS_PER_DAY = 400
MAX_RACES_PER_MEETING = 50  # also the contract's race_number bound
MAX_ENTRIES_PER_RACE = 100
MAX_PRICES_PER_ENTRY = 100
MAX_FLUCS_PER_PRICE = 1_000
MAX_INTEGER = 2**53  # integers beyond this lose precision as JSON numbers
EARLIEST_DATE = dt.date(1980, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
_EPOCH_RANGE = (
    int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp()),
    int(dt.datetime.combine(LATEST_DATE, dt.time(), tzinfo=dt.UTC).timestamp()),
)


class FormatError(ValueError):
    """A racing.com value that does not have the documented type or format."""

    def __init__(self, value: object, expected: str) -> None:
        super().__init__(f"value {_shown(value)} is not {expected}")
        self.value = value
        self.expected = expected


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# -- text ---------------------------------------------------------------------------------------------

_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


@lru_cache(maxsize=_CACHE_SIZE)
def clean_text(text: str) -> str:
    """Names as stored: control/format characters removed, tabs, newlines, U+2028/U+2029 and other
    whitespace collapsed to single spaces, ends stripped."""
    if text.isprintable() and "  " not in text and text == text.strip():
        return text
    kept = [
        " " if ch.isspace() else "" if unicodedata.category(ch) in _REMOVED_CATEGORIES else ch for ch in text
    ]
    return " ".join("".join(kept).split())


def parse_text(value: object) -> str | None:
    """A name or label: text only (a number, object or list is a wrong type); blank -> None."""
    if value is None:
        return None
    if type(value) is not str:
        raise FormatError(value, "text")
    return clean_text(value) or None


def parse_state(value: object) -> str | None:
    """'nsw' -> 'NSW'."""
    text = parse_text(value)
    return text.upper() if text else None


def parse_code(value: object) -> str | None:
    """racing.com ids and codes ('5193242', or a number): text; '' and 0 mean none."""
    if value is None:
        return None
    if type(value) is int:
        return str(value) if value else None
    if type(value) is not str:
        raise FormatError(value, "a code like '5193242'")
    code = clean_text(value)
    return code if code and code != "0" else None


# -- numbers ------------------------------------------------------------------------------------------


def _text_reader(suffix: str, expected: str) -> Callable[[str], float | None]:
    """A cached str -> float reader that strips `suffix`, '$' and thousands separators."""

    @lru_cache(maxsize=_CACHE_SIZE)
    def read(text: str) -> float | None:
        body = text.strip()
        if not body:
            return None
        if suffix and body.lower().endswith(suffix):
            body = body[: -len(suffix)]
        try:
            return float(body.strip().lstrip("$").replace(",", ""))
        except ValueError:
            raise FormatError(text, expected) from None

    return read


def _number(value: object, read_text: Callable[[str], float | None], expected: str) -> float | None:
    if type(value) is str:
        number = read_text(value)
    elif value is None:
        return None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise FormatError(value, expected)
    else:
        try:
            number = float(value)
        except OverflowError:
            raise FormatError(value, f"{expected} (a finite number)") from None
    if number is not None and not math.isfinite(number):
        raise FormatError(value, f"{expected} (a finite number)")
    return number


def _nonzero(number: float | None) -> float | None:
    return number if number else None


_WEIGHT, _PRICE, _LENGTHS, _DISTANCE, _MONEY, _CENTISECONDS, _CLAIM = (
    "a weight like '56.5kg'",
    "a price like '$3.10'",
    "a margin like '2.97L'",
    "a distance like '1400m'",
    "an amount like '300000.00'",
    "a time in centiseconds like '6945'",
    "an apprentice claim like '2' or '1.5'",
)
_read_weight = _text_reader("kg", _WEIGHT)
_read_price = _text_reader("", _PRICE)
_read_lengths = _text_reader("l", _LENGTHS)
_read_distance = _text_reader("m", _DISTANCE)
_read_money = _text_reader("", _MONEY)
_read_centiseconds = _text_reader("", _CENTISECONDS)
_read_claim = _text_reader("kg", _CLAIM)


def parse_weight_kg(value: object) -> float | None:
    """'56.5kg' -> 56.5 (the allotted weight; see `parse_claim_kg` for the claim); 0 -> None."""
    return _nonzero(_number(value, _read_weight, _WEIGHT))


def parse_price(value: object) -> float | None:
    """'$3.10' or '3.30' -> 3.1; '$0.00' -> None because racing.com shows $0.00 when a market has no price."""
    return _nonzero(_number(value, _read_price, _PRICE))


def parse_lengths(value: object) -> float | None:
    """'2.97L' -> 2.97, '+0.72L' -> 0.72, '-6.84L' -> -6.84 (lengths); 0 stays 0 (a dead heat)."""
    return _number(value, _read_lengths, _LENGTHS)


def parse_distance_m(value: object) -> int | None:
    """'1400m' -> 1400; '0m' -> None."""
    metres = _nonzero(_number(value, _read_distance, _DISTANCE))
    if metres is None:
        return None
    if metres != int(metres) or abs(metres) > MAX_INTEGER:
        raise FormatError(value, "a whole number of metres like '1400m'")
    return int(metres)


def parse_money(value: object) -> float | None:
    """'300000.00', '$272,475' or 172000 -> float AUD; 0 stays 0 (a trial races for nothing)."""
    return _number(value, _read_money, _MONEY)


def centiseconds_to_seconds(value: object) -> float | None:
    """'6945' -> 69.45 (racing.com sends times and sectionals in hundredths of a second); 0 -> None,
    racing.com's "not timed" (a country race list carries 0 for sectionals it does not have)."""
    hundredths = _nonzero(_number(value, _read_centiseconds, _CENTISECONDS))
    return None if hundredths is None else round(hundredths / 100.0, 2)


def parse_race_time_s(value: object) -> float | None:
    """'1:22.77' -> 82.77, '57.80' -> 57.8; '0:00.00' -> None."""
    if _is_missing(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FormatError(value, "a race time like '1:22.77'")
    return _nonzero(_race_time_text(str(value)))


@lru_cache(maxsize=_CACHE_SIZE)
def _race_time_text(text: str) -> float:
    match = _RACE_TIME.match(text.strip())
    if not match or len(text) > 20:
        raise FormatError(text, "a race time like '1:22.77'")
    minutes = int(match.group(1) or 0)
    return round(minutes * 60 + float(match.group(2)), 2)


def parse_int(value: object) -> int | None:
    """13 or '13' -> 13; 0 stays 0; a boolean, a fraction or more than `MAX_INTEGER` is an error."""
    if type(value) is int:
        if -MAX_INTEGER <= value <= MAX_INTEGER:
            return value
        raise FormatError(value, f"an integer within +-{MAX_INTEGER}")
    if _is_missing(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FormatError(value, "an integer")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise FormatError(value, "an integer") from None
    if not math.isfinite(number) or number != int(number) or abs(number) > MAX_INTEGER:
        raise FormatError(value, "an integer")
    return int(number)


def parse_nonzero_int(value: object) -> int | None:
    """An integer that starts at 1 (saddlecloth, barrier, race number, placing, rating): 0 -> None."""
    number = parse_int(value)
    return number if number else None


def parse_flag(value: object) -> bool | None:
    """0/1 ints, booleans or their strings -> bool; null and "" stay null."""
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise FormatError(value, "a flag (0/1 or true/false)")


def flag_or_false(value: object) -> bool:
    """A flag racing.com leaves null when it is not set (isTrial, isJumpOut, apprenticeCanClaim)."""
    return parse_flag(value) or False


def parse_claim_kg(allowed_claim: object) -> float:
    """apprenticeAllowedClaim '2' -> 2.0, null -> 0 (it counts only when apprenticeCanClaim is set)."""
    return _number(allowed_claim, _read_claim, _CLAIM) or 0.0


def parse_prize_money(items: object) -> tuple[float | None, list[float] | None]:
    """['{"Position":1,"Value":"180000.00"}', ...] -> (total, [1st, 2nd, ...]); absent positions count 0."""
    if _is_missing(items):
        return None, None
    if not isinstance(items, list) or len(items) > MAX_ENTRIES_PER_RACE:
        raise FormatError(items, f"a list of at most {MAX_ENTRIES_PER_RACE} prize-money JSON strings")
    by_position: dict[int, float] = {}
    for item in items:
        try:
            record = json.loads(item) if isinstance(item, str) else item
            position, amount = int(record["Position"]), float(record["Value"])
        except (TypeError, ValueError, KeyError, IndexError, OverflowError):
            raise FormatError(item, 'a prize-money entry like {"Position":1,"Value":"180000.00"}') from None
        if not 1 <= position <= MAX_ENTRIES_PER_RACE or not math.isfinite(amount):
            raise FormatError(item, f"a prize-money entry for a position 1..{MAX_ENTRIES_PER_RACE}")
        by_position[position] = by_position.get(position, 0.0) + amount
    if not by_position:
        return None, []
    per_position = [by_position.get(p, 0.0) for p in range(1, max(by_position) + 1)]
    return sum(per_position), per_position


def race_prize_total(total_prize_money: float | None, places_sum: float | None) -> float | None:
    """A race's prize money: `totalPrizeMoney` when racing.com gives it, else the sum of the `prizeMoney`
    places. A total of 0 beside places summing above 0 is racing.com's "not measured": the sum wins."""
    if total_prize_money is None or (total_prize_money == 0 and places_sum):
        return places_sum
    return total_prize_money


def parse_last_five(value: object) -> list[str] | None:
    """'["2","9","-","0","8"]' -> ['2', '9', '-', '0', '8'] (most recent first; '-' marks a spell)."""
    if _is_missing(value):
        return None
    expected = 'a JSON list like \'["2","9"]\''
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise FormatError(value, expected) from None
    if not isinstance(parsed, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in parsed
    ):
        raise FormatError(value, expected)
    return [str(v) for v in parsed]


# -- dates and times ----------------------------------------------------------------------------------


def _in_range(day: dt.date, value: object, expected: str) -> None:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise FormatError(value, f"{expected} between {EARLIEST_DATE} and {LATEST_DATE}")


def parse_utc_timestamp(value: object) -> pd.Timestamp | None:
    """'2026-03-07T04:05:00.000Z' (also 7-digit fractions) -> tz-aware UTC Timestamp; naive input is UTC."""
    if _is_missing(value):
        return None
    if type(value) is not str:
        raise FormatError(value, "an ISO 8601 UTC time like '2026-03-07T04:05:00.000Z'")
    return _utc_text(value)


@lru_cache(maxsize=_CACHE_SIZE)
def _utc_text(text: str) -> pd.Timestamp:
    expected = "an ISO 8601 UTC time like '2026-03-07T04:05:00.000Z'"
    if not _ISO_TIME.match(text.strip()):
        raise FormatError(text, expected)
    try:
        stamp = pd.Timestamp(text.strip())
    except (ValueError, TypeError, OverflowError):
        raise FormatError(text, expected) from None
    _in_range(stamp.date(), text, expected)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def parse_epoch_seconds(value: object) -> int | None:
    """Unix seconds (flucsWin.updateTime) -> int; 0 -> None; outside 2000..`LATEST_DATE` an error."""
    seconds = parse_nonzero_int(value)
    if seconds is not None and not _EPOCH_RANGE[0] <= seconds <= _EPOCH_RANGE[1]:
        raise FormatError(value, f"unix seconds between 2000-01-01 and {LATEST_DATE}")
    return seconds


def parse_date(value: object) -> dt.date | None:
    """'2026-03-07' (or a longer ISO string) -> date."""
    if _is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if type(value) is not str:
        raise FormatError(value, "a date like '2026-03-07'")
    return _date_text(value)


@lru_cache(maxsize=_CACHE_SIZE)
def _date_text(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise FormatError(text, "a date like '2026-03-07'") from None
    _in_range(day, text, "a date")
    return day


def date_from_meet_url(url: object) -> dt.date | None:
    """'https://www.racing.com/form/2026-03-07/flemington' -> 2026-03-07 (None when it carries no date)."""
    if url is None:
        return None
    if type(url) is not str:
        raise FormatError(url, "a URL like 'https://www.racing.com/form/2026-03-07/flemington'")
    match = _MEET_URL_DATE.search(url)
    return parse_date(match.group(1)) if match else None


def to_local(start_utc: pd.Timestamp, timezone: str) -> pd.Timestamp:
    """UTC start -> naive wall-clock time at the venue (its date is the local meeting date)."""
    return start_utc.tz_convert(_zone(timezone)).tz_localize(None)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# -- structure ----------------------------------------------------------------------------------------


def parse_object(value: object) -> Mapping[str, Any] | None:
    """A nested object (race.meet, race.venue, entry.horse): null and "" -> None; anything else is a
    wrong type."""
    if _is_missing(value):
        return None
    if isinstance(value, Mapping):
        return value
    raise FormatError(value, "an object")


def parse_list(value: object) -> list:
    """A nested list (formRaceEntries, odds, flucsWin): null and "" -> []; anything else is a wrong type."""
    if _is_missing(value):
        return []
    if type(value) is list:
        return value
    raise FormatError(value, "a list")


# -- careers (GetRaceEntryItemByHorsePaged) --------------------------------------------------------------

_BLACK_TYPE = ("Group 1", "Group 2", "Group 3", "Listed")
_CLASS_PATTERNS = (
    (re.compile(r"\b(?:MDN|MAIDEN)\b", re.IGNORECASE), lambda m: "Maiden"),
    (re.compile(r"\b(?:CL|CLASS)\s*(\d)\b", re.IGNORECASE), lambda m: f"Class {m.group(1)}"),
    (re.compile(r"\b(?:BM|BENCHMARK)\s*(\d{2,3})\b", re.IGNORECASE), lambda m: f"BM {m.group(1)}"),
    (re.compile(r"\b(?:G|GR|GROUP)\s*([123])\b", re.IGNORECASE), lambda m: f"Group {m.group(1)}"),
    (re.compile(r"\b(?:LR|LISTED)\b", re.IGNORECASE), lambda m: "Listed"),
)


@lru_cache(maxsize=_CACHE_SIZE)
def normalise_race_class(class_text: str | None, group: str | None) -> str | None:
    """racing.com's `class` ('MIDWAY BM72', 'MDN-SW', 'CL1') in the `rdcClass` words the races table holds
    ('BM 72', 'Maiden', 'Class 1', 'Group 1', 'Listed'), so the SQL macro `class_rank` reads both alike.

    A career page selects `class` and `group` but not `rdcClass`. `group` names black type; otherwise the
    first class word found wins; a class none of these names is kept as given (its rank is then null)."""
    if group:
        for black in _BLACK_TYPE:
            if group.lower() == black.lower():
                return black
    if not class_text:
        return None
    for pattern, name in _CLASS_PATTERNS:
        match = pattern.search(class_text)
        if match:
            return name(match)
    return class_text


CALENDAR_TIMEZONE = "Australia/Sydney"  # the platform's calendar (configs/platform.yaml partitions.timezone)


def parse_race_date(value: object) -> dt.date | None:
    """A career start's `race.date`: '2026-03-07' -> that date; an ISO time with a zone
    ('2026-03-06T13:00:00.000Z') is read on the platform's calendar, where it is already the 7th."""
    if _is_missing(value):
        return None
    if type(value) is not str:
        raise FormatError(value, "a date like '2026-03-07'")
    text = value.strip()
    if len(text) <= 10 or text[-1] not in "Zz" and "+" not in text[10:] and "-" not in text[10:]:
        return _date_text(text)
    day = parse_utc_timestamp(text).tz_convert(_zone(CALENDAR_TIMEZONE)).date()
    _in_range(day, value, "a date")
    return day
