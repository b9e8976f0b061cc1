"""Scalar converters for racing.com's string-typed fields ("56.5kg", "$3.10", "2.97L", "1400m", centiseconds).

Every converter takes the raw JSON value (str, number or None), returns None for a missing value and raises
`FormatError` for a value it cannot read, so the parser can name the field and the race. String parsing is
cached because the same few hundred strings ("$3.10", "56.5kg") repeat across every runner of a meeting.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd

_CACHE_SIZE = 8192
_MEET_URL_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_RACE_TIME = re.compile(r"^(?:(\d+):)?(\d+(?:\.\d+)?)$")


class FormatError(ValueError):
    """A racing.com value that does not have the documented format."""

    def __init__(self, value: object, expected: str) -> None:
        super().__init__(f"value {value!r} is not {expected}")
        self.value = value
        self.expected = expected


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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
        return read_text(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormatError(value, expected)
    return float(value)


_WEIGHT, _PRICE, _LENGTHS, _DISTANCE, _MONEY, _CENTISECONDS = (
    "a weight like '56.5kg'",
    "a price like '$3.10'",
    "a margin like '2.97L'",
    "a distance like '1400m'",
    "an amount like '300000.00'",
    "a time in centiseconds like '6945'",
)
_read_weight = _text_reader("kg", _WEIGHT)
_read_price = _text_reader("", _PRICE)
_read_lengths = _text_reader("l", _LENGTHS)
_read_distance = _text_reader("m", _DISTANCE)
_read_money = _text_reader("", _MONEY)
_read_centiseconds = _text_reader("", _CENTISECONDS)
_read_claim = _text_reader("kg", "an apprentice claim like '2' or '1.5'")


def parse_weight_kg(value: object) -> float | None:
    """'56.5kg' -> 56.5 (the allotted weight; see `carried_weight_kg` for the claim)."""
    return _number(value, _read_weight, _WEIGHT)


def parse_price(value: object) -> float | None:
    """'$3.10' or '3.30' -> 3.1; '$0.00' -> None because racing.com shows $0.00 when a market has no price."""
    price = _number(value, _read_price, _PRICE)
    return price if price else None


def parse_lengths(value: object) -> float | None:
    """'2.97L' -> 2.97, '+0.72L' -> 0.72, '-6.84L' -> -6.84 (lengths)."""
    return _number(value, _read_lengths, _LENGTHS)


def parse_distance_m(value: object) -> int | None:
    """'1400m' -> 1400."""
    metres = _number(value, _read_distance, _DISTANCE)
    if metres is None:
        return None
    if metres != int(metres):
        raise FormatError(value, "a whole number of metres like '1400m'")
    return int(metres)


def parse_money(value: object) -> float | None:
    """'300000.00', '$272,475' or 172000 -> float AUD."""
    return _number(value, _read_money, _MONEY)


def centiseconds_to_seconds(value: object) -> float | None:
    """'6945' -> 69.45 (racing.com sends times and sectionals in hundredths of a second)."""
    hundredths = _number(value, _read_centiseconds, _CENTISECONDS)
    return None if hundredths is None else round(hundredths / 100.0, 2)


def parse_race_time_s(value: object) -> float | None:
    """'1:22.77' -> 82.77, '57.80' -> 57.8."""
    if _is_missing(value):
        return None
    return _race_time_text(str(value))


@lru_cache(maxsize=_CACHE_SIZE)
def _race_time_text(text: str) -> float:
    match = _RACE_TIME.match(text.strip())
    if not match:
        raise FormatError(text, "a race time like '1:22.77'")
    minutes = int(match.group(1) or 0)
    return round(minutes * 60 + float(match.group(2)), 2)


def parse_int(value: object) -> int | None:
    """13 or '13' -> 13."""
    if type(value) is int:
        return value
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        raise FormatError(value, "an integer")
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FormatError(value, "an integer") from None
    if number != int(number):
        raise FormatError(value, "an integer")
    return int(number)


def parse_track_rating(value: object) -> int | None:
    """'4' -> 4; '0' (unrated) -> None."""
    rating = parse_int(value)
    return rating if rating else None


def parse_flag(value: object) -> bool | None:
    """isTrial/isJumpOut arrive as 0/1 ints or booleans."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise FormatError(value, "a flag (0/1 or true/false)")


def parse_claim_kg(can_claim: object, allowed_claim: object) -> float:
    """An apprentice's claim counts only when racing.com says it can be claimed; otherwise 0."""
    if not parse_flag(can_claim):
        return 0.0
    return _number(allowed_claim, _read_claim, "an apprentice claim like '2' or '1.5'") or 0.0


def parse_prize_money(items: object) -> tuple[float | None, list[float] | None]:
    """['{"Position":1,"Value":"180000.00"}', ...] -> (total, [1st, 2nd, ...]); absent positions count 0."""
    if items is None:
        return None, None
    if not isinstance(items, list):
        raise FormatError(items, "a list of prize-money JSON strings")
    by_position: dict[int, float] = {}
    for item in items:
        try:
            record = json.loads(item) if isinstance(item, str) else item
            position, amount = int(record["Position"]), float(record["Value"])
        except (TypeError, ValueError, KeyError):
            raise FormatError(item, 'a prize-money entry like {"Position":1,"Value":"180000.00"}') from None
        by_position[position] = by_position.get(position, 0.0) + amount
    if not by_position:
        return None, []
    per_position = [by_position.get(p, 0.0) for p in range(1, max(by_position) + 1)]
    return sum(per_position), per_position


def parse_last_five(value: object) -> list[str] | None:
    """'["2","9","-","0","8"]' -> ['2', '9', '-', '0', '8'] (most recent first; '-' marks a spell)."""
    if _is_missing(value):
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        raise FormatError(value, 'a JSON list like \'["2","9"]\'') from None
    if not isinstance(parsed, list):
        raise FormatError(value, 'a JSON list like \'["2","9"]\'')
    return [str(v) for v in parsed]


def parse_utc_timestamp(value: object) -> pd.Timestamp | None:
    """'2026-03-07T04:05:00.000Z' (also 7-digit fractions) -> tz-aware UTC Timestamp; naive input is UTC."""
    if _is_missing(value):
        return None
    return _utc_text(str(value))


@lru_cache(maxsize=_CACHE_SIZE)
def _utc_text(text: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(text.strip())
    except (ValueError, TypeError):
        raise FormatError(text, "an ISO 8601 UTC time like '2026-03-07T04:05:00.000Z'") from None
    if stamp is pd.NaT:
        raise FormatError(text, "an ISO 8601 UTC time like '2026-03-07T04:05:00.000Z'")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def parse_date(value: object) -> dt.date | None:
    """'2026-03-07' (or a longer ISO string) -> date."""
    if _is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _date_text(str(value))


@lru_cache(maxsize=_CACHE_SIZE)
def _date_text(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise FormatError(text, "a date like '2026-03-07'") from None


def date_from_meet_url(url: object) -> dt.date | None:
    """'https://www.racing.com/form/2026-03-07/flemington' -> 2026-03-07 (None when it carries no date)."""
    if not isinstance(url, str):
        return None
    match = _MEET_URL_DATE.search(url)
    return parse_date(match.group(1)) if match else None


def to_local(start_utc: pd.Timestamp, timezone: str) -> pd.Timestamp:
    """UTC start -> naive wall-clock time at the venue (its date is the local meeting date)."""
    return start_utc.tz_convert(_zone(timezone)).tz_localize(None)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
