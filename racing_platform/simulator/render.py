"""World rows -> racing.com-shaped dicts, as of a clock instant.

`WorldIndex` builds lookups once per world (the truth columns are dropped here, so no response can
carry them). `Renderer` turns index rows into dicts whose keys are the schema's field names and whose
values use racing.com's formats ("56.5kg", "$3.10", "2.97L", "1400m", centisecond strings, JSON-string
prize money and lastFive, 0/1 ints for isTrial). Expensive sub-objects (horse, odds, flucsWin, races of a
meeting) are callables: the executor (`execute.py`, or graphql-core's default resolver) calls them only
when a document selects the field.

The visibility rules live in `clock.py`; every method here takes `now` and applies them.
"""

from __future__ import annotations

import bisect
import json
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import permutations

import numpy as np
import pandas as pd
from pandas.core.dtypes.cast import maybe_box_native

from racing_platform.simulator import clock
from racing_platform.simulator.world.model import TRUTH_COLUMNS, World

# An odds dict's price series, for the renderer only: no schema field has this name, no answer shows it.
PRICES = "_prices"
SPELL = pd.Timedelta(days=84)  # a gap of 12 weeks starts a new preparation (first-up)
CLOCKWISE_STATES = {"NSW", "QLD"}
SEASON_TIMEZONE = "Australia/Melbourne"
TOTE_TAKE = 0.85
STAT_KEYS = [
    "Career",
    "Season",
    "Good",
    "GroupAndListed",
    "Firm",
    "Heavy",
    "Soft",
    "Synth",
    "FirstUp",
    "SecondUp",
    "Jumps",
    "Fast",
    "Wet Fast",
    "Wet",
    "NonWet",
    "Night",
    "ThirdUp",
    "Clockwise",
    "Anti-Clockwise",
    "Turf Tracks Only",
    "All Weather Only",
    "Weight For Age",
    "Straight Tracks Only",
    "Set Weights",
]
_SLUG_FORBIDDEN = re.compile(r"[^a-z0-9]+")


class NotVisible(LookupError):
    """The requested meeting or race does not exist yet at the clock's instant (or at all)."""

    error_type = "NotFound"


class BadPageRequest(ValueError):
    """A paged query's `limit` or `lastEvaluatedKey` that no page of this query could have produced."""

    error_type = "BadRequestException"


HISTORY_PAGE = 10  # GetRaceEntryItemByHorsePaged's default `limit`
FLUCTUATION_FIELDS = (
    "bettingFluctuationsPriceOpen",
    "bettingFluctuationsPriceMoveOne",
    "bettingFluctuationsPriceMoveTwo",
)


def _slices(sorted_keys: np.ndarray) -> dict[str, tuple[int, int]]:
    """key -> (start, stop) positions in an array sorted by key."""
    if len(sorted_keys) == 0:
        return {}
    keys, starts = np.unique(sorted_keys, return_index=True)
    stops = np.append(starts[1:], len(sorted_keys))
    return {str(k): (int(a), int(b)) for k, a, b in zip(keys, starts, stops, strict=True)}


def _nanoseconds(stamps: pd.Series) -> np.ndarray:
    """UTC nanoseconds since the epoch; missing instants become +inf-like (never happened)."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):  # already instants: to_datetime would scan them
        values = stamps.array.as_unit("ns")
    else:
        values = pd.to_datetime(stamps, utc=True).array.as_unit("ns")
    out = values.asi8.copy()
    out[values.isna()] = np.iinfo(np.int64).max
    return out


def _utc_stamp(nanoseconds: int) -> pd.Timestamp:
    return pd.Timestamp(nanoseconds, tz="UTC")


def _prize_list(value) -> list:
    return list(value) if isinstance(value, list | tuple | np.ndarray) else []


def missing(value) -> bool:
    if value is None:
        return True
    kind = type(value)
    if kind is float:
        return value != value
    if kind is str or kind is int or kind is bool:
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _or_none(value):
    return None if missing(value) else value


def _records(frame: pd.DataFrame, table: str) -> list[dict]:
    """Rows as dicts without truth columns; NaN / NaT / pd.NA become None, so `x or default` works and
    nothing non-JSON reaches a response."""
    frame = frame.drop(columns=TRUTH_COLUMNS.get(table, []), errors="ignore")
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


class _RowSlices:
    """`_records` of row ranges of one frame, without pandas per call (a race's entries, a meeting's races).

    The frame's columns are taken apart once; a slice becomes dicts from plain lists, with the values
    `_records` gives: Python scalars, Timestamps for datetimes, None for every kind of missing value.
    """

    def __init__(self, frame: pd.DataFrame, table: str) -> None:
        frame = frame.drop(columns=TRUTH_COLUMNS.get(table, []), errors="ignore")
        self.columns = list(frame.columns)
        self._values = [_column_values(frame[c]) for c in self.columns]
        self._single = [_column_value(frame[c]) for c in self.columns]

    def records(self, start: int, stop: int) -> list[dict]:
        columns = [values(start, stop) for values in self._values]
        return [dict(zip(self.columns, row, strict=True)) for row in zip(*columns, strict=True)]

    def record(self, position: int) -> dict:
        """records(position, position + 1)[0], at a fraction of its cost (one form line's race/entry)."""
        return dict(zip(self.columns, [value(position) for value in self._single], strict=True))


def _column_value(column: pd.Series):
    """position -> the column's value there, as `_column_values` shows it."""
    array = column.array
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        nanoseconds, isna, tz = array.as_unit("ns").asi8.tolist(), array.isna().tolist(), column.dtype.tz
        return lambda i: None if isna[i] else pd.Timestamp(nanoseconds[i], tz=tz)
    if column.dtype == object:
        values, isna = column.to_numpy(), pd.isna(column.to_numpy())
        return lambda i: None if isna[i] else maybe_box_native(values[i])
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biu":
        values = column.to_numpy()
        return lambda i: values[i].item()
    if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
        values = column.to_numpy()

        def value(i):
            v = values[i].item()
            return None if v != v else v

        return value
    if pd.api.types.is_integer_dtype(column.dtype):
        values, isna = column.to_numpy(dtype="int64", na_value=0), column.isna().to_numpy()
        return lambda i: None if isna[i] else values[i].item()
    values, isna = column.to_numpy(dtype=object), column.isna().to_numpy()
    return lambda i: None if isna[i] else maybe_box_native(values[i])


def _column_values(column: pd.Series):
    """start, stop -> that range of the column as `_records` shows it."""
    array = column.array
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        # Timestamps from int nanoseconds: array[a:b].astype(object) costs ~50 us of pandas per call
        nanoseconds, isna, tz = array.as_unit("ns").asi8, array.isna(), column.dtype.tz
        return lambda a, b: [
            None if na else pd.Timestamp(v, tz=tz)
            for v, na in zip(nanoseconds[a:b].tolist(), isna[a:b].tolist(), strict=True)
        ]
    if column.dtype == object:
        values, isna = column.to_numpy(), pd.isna(column.to_numpy())
        return lambda a, b: [
            None if na else maybe_box_native(v) for v, na in zip(values[a:b], isna[a:b], strict=True)
        ]
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biu":
        values = column.to_numpy()
        return lambda a, b: values[a:b].tolist()
    if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
        values = column.to_numpy()
        return lambda a, b: [None if v != v else v for v in values[a:b].tolist()]
    if pd.api.types.is_integer_dtype(column.dtype):  # nullable Int64: ints and a mask, not 900k objects
        values, isna = column.to_numpy(dtype="int64", na_value=0), column.isna().to_numpy()
        return lambda a, b: [
            None if na else v for v, na in zip(values[a:b].tolist(), isna[a:b].tolist(), strict=True)
        ]
    values, isna = column.to_numpy(dtype=object), column.isna().to_numpy()
    return lambda a, b: [
        None if na else maybe_box_native(v) for v, na in zip(values[a:b], isna[a:b], strict=True)
    ]


def _with_str(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].astype(str)
    return frame


def _as_date(value) -> date:
    return (
        value
        if isinstance(value, date) and not isinstance(value, pd.Timestamp)
        else pd.Timestamp(value).date()
    )


def url_slug(name: str) -> str:
    """racing.com URL slug of the name as shown, sponsor included (real meetUrls carry sponsors)."""
    return _SLUG_FORBIDDEN.sub("-", name.lower()).strip("-")


def fmt_kg(kg: float) -> str:
    return f"{float(kg):g}kg"


def fmt_price(price) -> str | None:
    return None if missing(price) else f"${float(price):.2f}"


def _money(price: float) -> str | None:
    """fmt_price of a Python float (a price series holds nothing else), without its checks."""
    return f"${price:.2f}" if price == price else None


def _flucs(times: list[int], prices: list[float]):
    """flucsWin, rendered only when a document selects it (a race's moves run to thousands)."""
    return lambda _info, **_: [
        {"updateTime": t, "amount": _money(p)} for t, p in zip(times, prices, strict=True)
    ]


def fmt_plain_price(price) -> str | None:
    """bettingFluctuationsPrice* are unprefixed and drop decimals from 10 up ("3.30", "21")."""
    if missing(price):
        return None
    return f"{price:.2f}" if price < 10 else f"{price:g}"


def fmt_lengths(lengths) -> str | None:
    return None if missing(lengths) else f"{round(float(lengths), 2):g}L"


def fmt_race_time(centiseconds) -> str | None:
    if missing(centiseconds):
        return None
    minutes, rest = divmod(int(centiseconds), 6000)
    seconds = f"{rest / 100:05.2f}"
    return f"{minutes}:{seconds}" if minutes else seconds


def ordinal(n: int) -> str:
    if n >= 100:
        return "SCR"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def form_figure(finish: int) -> str:
    return str(finish) if finish < 10 else "0"


def season_start(now: pd.Timestamp) -> date:
    local = now.tz_convert(SEASON_TIMEZONE).date()
    return date(local.year if local.month >= 8 else local.year - 1, 8, 1)


def horse_age(foal_date, now: pd.Timestamp) -> str | None:
    """Australian horses age on 1 August."""
    if missing(foal_date):
        return None
    foaled = _as_date(foal_date)
    foal_season = foaled.year if foaled.month >= 8 else foaled.year - 1
    return f"{season_start(now).year - foal_season}YO"


@dataclass(frozen=True)
class Run:
    """One entry of a horse, denormalised with its race and meeting, for as-of statistics."""

    entry_id: str
    race_code: str
    meet_code: str
    start: pd.Timestamp
    fields_at: pd.Timestamp
    declared_at: pd.Timestamp
    meeting_date: date
    finish: int | None
    margin: float | None
    venue_code: str
    venue_abbr: str
    state: str
    distance_m: int
    track_condition: str
    group: str
    rdc_class: str
    condition: str
    jockey_code: str | None
    trainer_code: str
    handicap_rating: int | None
    weight_kg: float
    prize_won: float
    professional: bool
    counts: bool  # a real start: not abandoned, not a non-runner

    def result_known(self, now: pd.Timestamp) -> bool:
        return self.counts and self.declared_at <= now


def record(runs: list[Run]) -> tuple[int, int, int, int]:
    finishes = [r.finish for r in runs]
    return len(finishes), finishes.count(1), finishes.count(2), finishes.count(3)


def colon_stats(runs: list[Run]) -> str:
    starts, w, s, t = record(runs)
    return f"{starts}:{w}-{s}-{t}"


def dash_stats(runs: list[Run]) -> str:
    starts, w, s, t = record(runs)
    return f"{starts}-{w}-{s}-{t}"


def preparation_index(runs: list[Run]) -> list[int]:
    """1 for first-up (debut or after a SPELL), 2 for second-up, ... in chronological order."""
    out, previous = [], None
    for run in runs:
        out.append(1 if previous is None or run.start - previous.start >= SPELL else out[-1] + 1)
        previous = run
    return out


class WorldIndex:
    """Lookups over one World, without its truth columns.

    Venues, meetings, jockeys and trainers become dicts up front; races, entries, horses and horse
    histories (the big tables) stay columnar and become dicts per meeting / race / horse on first use, so a
    full-calendar world (~900k entries) indexes in a few seconds.
    """

    def __init__(self, world: World) -> None:
        world.check_columns()
        self.world = world
        self.venues = {str(v["venue_code"]): v for v in _records(world.venues, "venues")}
        self.meetings: dict[str, dict] = {}
        self.meetings_by_date: dict[date, list[dict]] = defaultdict(list)
        for meeting in _records(world.meetings, "meetings"):
            meeting["meet_code"] = str(meeting["meet_code"])
            meeting["meeting_date"] = _as_date(meeting["meeting_date"])
            if str(meeting["venue_code"]) not in self.venues:
                raise ValueError(
                    f"meeting {meeting['meet_code']} has venue_code {meeting['venue_code']!r}, "
                    "which is not in the world's venues table"
                )
            meeting["venue"] = self.venues[str(meeting["venue_code"])]
            self.meetings[meeting["meet_code"]] = meeting
            self.meetings_by_date[meeting["meeting_date"]].append(meeting)
        self.jockeys = {str(j["jockey_code"]): j for j in _records(world.jockeys, "jockeys")}
        self.trainers = {str(t["trainer_code"]): t for t in _records(world.trainers, "trainers")}

        races = _with_str(world.races, "race_code", "meet_code")
        self._races = races.sort_values(["meet_code", "race_number"], kind="stable").reset_index(drop=True)
        self._prize_lists = self._races["prize_money"].to_numpy()
        self._race_slices = _slices(self._races["meet_code"].to_numpy())
        self._race_codes = pd.Index(self._races["race_code"])
        self._race_rows = _RowSlices(self._races, "races")
        horses = _with_str(world.horses.drop(columns=TRUTH_COLUMNS["horses"], errors="ignore"), "horse_code")
        self._horse_columns = {c: horses[c].to_numpy() for c in horses.columns}
        self._horse_position = {code: i for i, code in enumerate(horses["horse_code"])}

        entries = _with_str(
            world.entries.drop(columns=TRUTH_COLUMNS["entries"], errors="ignore"),
            "entry_id",
            "race_code",
            "horse_code",
            "trainer_code",
        )
        entries["emergency"] = entries["emergency"].astype(bool)
        self._entries = entries.sort_values(["race_code", "saddlecloth", "emergency"], kind="stable")
        self._entry_slices = _slices(self._entries["race_code"].to_numpy())
        self._entry_rows = _RowSlices(self._entries, "entries")
        finished = self._entries["finish"].to_numpy(dtype=float, na_value=np.nan) < 100
        self.runners_count = self._entries[finished].groupby("race_code").size().to_dict()
        self._runs, self._run_slices = self._runs_columns(self._entries)

        self.races_of = lru_cache(maxsize=8192)(self._meeting_races)
        self.race_by_code = lru_cache(maxsize=16384)(self._race_record)
        self.horse = lru_cache(maxsize=65536)(self._horse_record)
        self._entries_for = lru_cache(maxsize=4096)(self._entry_records)
        self._runs_for = lru_cache(maxsize=65536)(self._horse_runs)
        self._odds = lru_cache(maxsize=512)(self._load_odds)
        # A race's start and a meeting's fields time are shared by every entry: one Timestamp each.
        self._utc_stamp = lru_cache(maxsize=1 << 17)(_utc_stamp)

    def _runs_columns(
        self, entries: pd.DataFrame
    ) -> tuple[dict[str, np.ndarray], dict[str, tuple[int, int]]]:
        """Every entry with its race, meeting and venue attached, sorted by horse then start, as arrays."""
        race_pos = self._race_codes.get_indexer(entries["race_code"])
        if (race_pos < 0).any():
            unknown = entries["race_code"].to_numpy()[race_pos < 0][:5].tolist()
            raise ValueError(f"world entries refer to race codes missing from the races table: {unknown}")
        meetings = list(self.meetings.values())
        meeting_pos = pd.Index([m["meet_code"] for m in meetings]).get_indexer(
            self._races["meet_code"].to_numpy()[race_pos]
        )
        if (meeting_pos < 0).any():
            raise ValueError("world races refer to meet codes missing from the meetings table")

        def meeting_column(pick) -> np.ndarray:
            return np.array([pick(m) for m in meetings], dtype=object)[meeting_pos]

        columns = {
            c: entries[c].to_numpy()
            for c in (
                "entry_id",
                "race_code",
                "horse_code",
                "trainer_code",
                "jockey_code",
                "handicap_rating",
                "weight_kg",
            )
        }
        columns["finish"] = entries["finish"].to_numpy(dtype=float, na_value=np.nan)
        columns["margin_lengths"] = entries["margin_lengths"].to_numpy(dtype=float, na_value=np.nan)
        columns["race_pos"] = race_pos
        columns["entry_pos"] = np.arange(len(entries))  # row of self._entries, for `entry_record`
        columns["results_barrier"] = self._results_barriers(entries, race_pos)
        for c in ("meet_code", "distance_m", "track_condition", "group", "rdc_class", "condition"):
            columns[c] = self._races[c].to_numpy()[race_pos]
        columns["start_ns"] = _nanoseconds(self._races["start_time_utc"])[race_pos]
        columns["fields_ns"] = _nanoseconds(pd.Series([m["fields_at"] for m in meetings]))[meeting_pos]
        columns["meeting_date"] = meeting_column(lambda m: m["meeting_date"])
        columns["professional"] = meeting_column(lambda m: not (m["is_trial"] or m["is_jumpout"])).astype(
            bool
        )
        abandoned = meeting_column(lambda m: bool(m["abandoned"])).astype(bool)
        columns["counts"] = (columns["finish"] < 100) & ~abandoned
        columns["abandoned"] = abandoned
        columns["entry_key"] = columns["entry_id"].astype(np.int64)
        columns["venue_code"] = meeting_column(lambda m: str(m["venue"]["venue_code"]))
        columns["venue_abbr"] = meeting_column(lambda m: m["venue"]["abbr"])
        columns["state"] = meeting_column(lambda m: m["venue"]["state"])
        horse_order, _ = pd.factorize(columns["horse_code"], sort=True)
        order = np.lexsort((columns["start_ns"], horse_order))
        columns = {name: values[order] for name, values in columns.items()}
        return columns, _slices(columns["horse_code"])

    def _results_barriers(self, entries: pd.DataFrame, race_pos: np.ndarray) -> np.ndarray:
        """barrierNumber once the race is resulted (as Renderer._field computes it then): 0 for a
        scratching or non-runner, else the drawn gate less the scratched gates inside it."""
        declared = _nanoseconds(self._races["start_time_utc"])[race_pos] + clock.RESULT_DECLARED_AFTER.value
        finish = entries["finish"].to_numpy(dtype=float, na_value=np.nan)
        out = (finish >= 100) | (_nanoseconds(entries["scratched_at"]) <= declared)
        drawn = entries["barrier"].to_numpy(dtype=np.int64)
        key = race_pos.astype(np.int64) * 100_000 + drawn
        out_keys = np.sort(key[out])
        inside = np.searchsorted(out_keys, key, "left") - np.searchsorted(out_keys, key - drawn, "left")
        return np.where(out, 0, drawn - inside)

    def entry_record(self, position: int) -> dict:
        """One entry as `entries(race_code)` shows it, by its `run_columns["entry_pos"]`."""
        return self._entry_rows.record(position)

    def _meeting_races(self, meet_code: str) -> tuple[dict, ...]:
        bounds = self._race_slices.get(str(meet_code))
        if bounds is None:
            return ()
        return tuple(self._race_rows.records(*bounds))

    def has_race(self, race_code: str) -> bool:
        return str(race_code) in self._race_codes

    def _race_record(self, race_code: str) -> dict:
        return self._race_rows.record(self._race_codes.get_loc(str(race_code)))

    def resulted_history(self, horse_code: str, now: pd.Timestamp) -> np.ndarray:
        """Positions in `run_columns` of a horse's entries whose results are declared at `now`, newest
        first. Declared = the meeting is not abandoned and the jump was RESULT_DECLARED_AFTER ago (as
        clock.results_visible); scratchings (finish 109) are included, as in a race's results.

        The runs arrays are sorted by horse then start once per world, so this costs a few numpy
        operations on the horse's own entries, whatever the size of the world.
        """
        bounds = self._run_slices.get(str(horse_code))
        if bounds is None:
            return np.empty(0, np.int64)
        a, b = bounds
        runs = self._runs
        visible = (runs["start_ns"][a:b] <= now.value - clock.RESULT_DECLARED_AFTER.value) & ~runs[
            "abandoned"
        ][a:b]
        return np.flatnonzero(visible)[::-1] + a  # the slice is in start order: newest first

    @property
    def run_columns(self) -> dict[str, np.ndarray]:
        """Every entry with its race's start and meeting, sorted by horse then start (see _runs_columns)."""
        return self._runs

    def _horse_record(self, horse_code: str) -> dict | None:
        position = self._horse_position.get(str(horse_code))
        if position is None:
            return None
        return {c: _or_none(values[position]) for c, values in self._horse_columns.items()}

    def _horse_runs(self, horse_code: str) -> tuple[Run, ...]:
        bounds = self._run_slices.get(horse_code)
        if bounds is None:
            return ()
        a, b = bounds
        c = {name: values[a:b].tolist() for name, values in self._runs.items()}
        stamp, declared_after = self._utc_stamp, clock.RESULT_DECLARED_AFTER.value
        prize_lists = self._prize_lists
        runs = []
        for i in range(b - a):
            finish = None if missing(c["finish"][i]) else int(c["finish"][i])
            prizes = _prize_list(prize_lists[c["race_pos"][i]])
            runs.append(
                Run(
                    entry_id=c["entry_id"][i],
                    race_code=c["race_code"][i],
                    meet_code=c["meet_code"][i],
                    start=stamp(c["start_ns"][i]),
                    fields_at=stamp(c["fields_ns"][i]),
                    declared_at=stamp(c["start_ns"][i] + declared_after),
                    meeting_date=c["meeting_date"][i],
                    finish=finish,
                    margin=_or_none(c["margin_lengths"][i]),
                    venue_code=c["venue_code"][i],
                    venue_abbr=c["venue_abbr"][i],
                    state=c["state"][i],
                    distance_m=int(c["distance_m"][i]),
                    track_condition=c["track_condition"][i],
                    group=c["group"][i],
                    rdc_class=c["rdc_class"][i],
                    condition=_or_none(c["condition"][i]) or "",
                    jockey_code=_or_none(c["jockey_code"][i]),
                    trainer_code=c["trainer_code"][i],
                    handicap_rating=None
                    if missing(c["handicap_rating"][i])
                    else int(c["handicap_rating"][i]),
                    weight_kg=float(c["weight_kg"][i]),
                    prize_won=float(prizes[finish - 1])
                    if finish is not None and 0 < finish <= len(prizes)
                    else 0.0,
                    professional=bool(c["professional"][i]),
                    counts=bool(c["counts"][i]),
                )
            )
        return tuple(runs)

    def runs(self, horse_code: str) -> tuple[Run, ...]:
        """A horse's entries (all of them, unfiltered by the clock) in start order."""
        return self._runs_for(str(horse_code))

    def _entry_records(self, race_code: str) -> tuple[dict, ...]:
        bounds = self._entry_slices.get(race_code)
        if bounds is None:
            return ()
        return tuple(self._entry_rows.records(*bounds))

    def entries(self, race_code: str) -> tuple[dict, ...]:
        """A race's entries in saddlecloth order (emergencies after a main-field twin)."""
        return self._entries_for(str(race_code))

    def _load_odds(self, race_code: str) -> dict[str, dict[str, tuple[list[int], list[float]]]]:
        """entry_id -> provider -> (unix seconds ascending, prices)."""
        frame = self.world.odds_for_race(race_code)
        out: dict[str, dict[str, tuple[list[int], list[float]]]] = defaultdict(dict)
        if frame is None or frame.empty:
            return out
        seconds = _nanoseconds(frame["update_time_utc"]) // 1_000_000_000
        order = np.lexsort(
            (seconds, frame["provider_code"].astype(str).to_numpy(), frame["entry_id"].astype(str).to_numpy())
        )
        entry_ids = frame["entry_id"].astype(str).to_numpy()[order]
        providers = frame["provider_code"].astype(str).to_numpy()[order]
        times, prices = seconds[order].tolist(), frame["price"].to_numpy(dtype=float)[order].tolist()
        for i, (entry_id, provider) in enumerate(zip(entry_ids, providers, strict=True)):
            series = out[entry_id].setdefault(provider, ([], []))
            series[0].append(times[i])
            series[1].append(prices[i])
        return out

    def odds(self, race_code: str) -> dict[str, dict[str, tuple[list[int], list[float]]]]:
        return self._odds(race_code)

    def meeting(self, meet_code: str, now: pd.Timestamp) -> dict:
        meeting = self.meetings.get(str(meet_code))
        if meeting is None or not clock.meeting_listed(meeting, now):
            raise NotVisible(f"meeting {meet_code!r} is not listed (unknown meetCode or not yet listed)")
        return meeting

    def race(self, meet_code: str, race_number: int, now: pd.Timestamp) -> dict:
        meeting = self.meeting(meet_code, now)
        for race in self.races_of(meeting["meet_code"]):
            if race["race_number"] == race_number:
                return race
        raise NotVisible(f"meeting {meet_code!r} has no race number {race_number}")


class Renderer:
    """Renders one request's objects at one instant (`now` is fixed for the whole response)."""

    def __init__(self, index: WorldIndex, now: pd.Timestamp) -> None:
        self.index = index
        self.now = now
        self._horse_cache: dict[str, dict] = {}
        self._cache: dict[tuple[str, str], object] = {}  # per request: rendered races, a race's odds

    # ----- meetings ---------------------------------------------------------------------------
    def meetings_on(self, day: date) -> list[dict]:
        listed = [m for m in self.index.meetings_by_date.get(day, []) if clock.meeting_listed(m, self.now)]
        listed.sort(key=lambda m: (self._first_start(m), m["meet_code"]))
        return [self.meet(m) for m in listed]

    def _first_start(self, meeting: dict) -> pd.Timestamp:
        races = self.index.races_of(meeting["meet_code"])
        return min((r["start_time_utc"] for r in races), default=pd.Timestamp.max.tz_localize("UTC"))

    def meet(self, meeting: dict) -> dict:
        venue = meeting["venue"]
        races = self.index.races_of(meeting["meet_code"])
        display = venue["display_name"] or venue["venue_name"]
        day = meeting["meeting_date"].isoformat()
        suffix = "-trials" if meeting["is_trial"] else "-jump-outs" if meeting["is_jumpout"] else ""
        segment = f"{day}/{url_slug(display)}{suffix}"
        professional = not (meeting["is_trial"] or meeting["is_jumpout"])
        first = self._first_start(meeting)
        return {
            "id": meeting["meet_code"],
            "meetCode": meeting["meet_code"],
            "venue": display,
            "venueName": display,
            "venueCode": str(venue["venue_code"]),
            "venueAbbr": venue["abbr"],
            "trackCode": str(venue["venue_code"]),
            "track": venue["venue_name"],
            "trackName": display,
            "date": day,
            "state": venue["state"],
            "country": "AUS",
            "status": self.meeting_status(meeting),
            "isTrial": int(bool(meeting["is_trial"])),
            "isJumpOut": int(bool(meeting["is_jumpout"])),
            "isTab": int(professional),
            "isPicnic": 0,
            "category": str(venue["tier"]).capitalize(),
            "meetUrl": f"https://www.racing.com/form/{segment}",
            "meetUrlSegment": segment,
            "trackMap": f"https://s3-ap-southeast-2.amazonaws.com/racevic.static/trackmaps/{venue['abbr']}.svg",
            "racesCount": len(races),
            "firstRaceTime": clock.iso_utc(first) if races else None,
            "trackCondition": meeting["track_condition"],
            "trackRating": str(int(meeting["track_rating"] or 0)),
            "railPosition": meeting["rail_position"],
            "weather": meeting["weather"],
            "weatherText": meeting["weather"],
            "hasRunners": clock.fields_visible(meeting, self.now),
            "hasRaceList": True,
            "hasStewards": False,
            "meetTips": [],
            "races": lambda _info, **_: [self.race(meeting, r) for r in races],
        }

    def meeting_status(self, meeting: dict) -> str:
        statuses = [
            clock.race_status(meeting, r, self.now) for r in self.index.races_of(meeting["meet_code"])
        ]
        if not statuses:
            return "Abandoned" if clock.abandonment_visible(meeting, self.now) else "Nominations"
        pending = [s for s in statuses if s not in ("Paying", "Results")]
        return pending[0] if pending else statuses[-1]

    # ----- races ------------------------------------------------------------------------------
    def races_for_meet(self, meet_code: str, *, unsorted: bool) -> list[dict]:
        try:
            meeting = self.index.meeting(meet_code, self.now)
        except NotVisible:
            return []
        races = list(self.index.races_of(meeting["meet_code"]))
        if unsorted:
            # getNoCacheRacesForMeet is not sorted by race number on racing.com; keep it stable per race.
            races.sort(key=lambda r: zlib.crc32(r["race_code"].encode()))
        return [self.race(meeting, r) for r in races]

    def race_form(self, meet_code: str, race_number: int) -> dict:
        race = self.index.race(meet_code, race_number, self.now)
        return self.race(self.index.meetings[race["meet_code"]], race)

    def race(self, meeting: dict, race: dict) -> dict:
        now = self.now
        venue = meeting["venue"]
        display = venue["display_name"] or venue["venue_name"]
        status = clock.race_status(meeting, race, now)
        resulted = clock.results_visible(meeting, race, now)
        jumped = clock.race_has_jumped(race, now)
        has_field = clock.fields_visible(meeting, now)
        condition = race["track_condition"] if jumped else meeting["track_condition"]
        rating = race["track_rating"] if jumped else meeting["track_rating"]
        prizes = _prize_list(race["prize_money"])
        day = meeting["meeting_date"].isoformat()
        local_start = race["start_time_utc"].tz_convert(venue["timezone"])
        sectionals = resulted and not missing(race["sectional_800_cs"])
        entries = (lambda _info, **_: self.entries(meeting, race)) if has_field else []
        rendered = {
            "id": race["race_code"],
            "meetCode": meeting["meet_code"],
            "raceNumber": int(race["race_number"]),
            "raceStatus": status,
            "status": status,
            "name": race["name"],
            "nameForm": race["name_form"],
            "class": race["class_name"],
            "rdcClass": race["rdc_class"],
            "group": race["group"],
            "condition": race["condition"],
            "distance": f"{int(race['distance_m'])}m",
            "time": clock.iso_utc(race["start_time_utc"]),
            "timeAtVenue": local_start.strftime("%H:%M"),
            "date": day,
            "location": display,
            "venueCode": str(venue["venue_code"]),
            "venueAbbr": venue["abbr"],
            "venueState": venue["state"],
            "trackCode": str(venue["venue_code"]),
            "venue": {
                "venueName": display,
                "venueCode": str(venue["venue_code"]),
                "venueAbbr": venue["abbr"],
                "state": venue["state"],
            },
            "meet": lambda _info, **_: self.meet(meeting),
            "isTrial": int(bool(meeting["is_trial"])),
            "isJumpOut": int(bool(meeting["is_jumpout"])),
            "trackCondition": condition,
            "trackRating": str(int(rating or 0)),
            "prizeMoney": lambda _info, **_: [
                json.dumps({"Position": i, "Value": f"{float(v):.2f}"}, separators=(",", ":"))
                for i, v in enumerate(prizes, start=1)
            ],
            "totalPrizeMoney": f"{float(race['prize_money_total']):.2f}",
            "runnersCount": self.index.runners_count.get(race["race_code"]) if resulted else None,
            "fieldCount": (lambda _info, **_: self._field_count(race)) if has_field else None,
            "photoFinish": None,
            "hasSectionals": bool(sectionals),
            "hasTips": False,
            "hasSpeedMap": False,
            "hasResults": resulted,
            "hasStewards": False,
            "hasHistory": False,
            "hasField": has_field,
            "hasFullForm": has_field,
            "raceTime": fmt_race_time(race["winning_time_cs"]) if resulted else None,
            "toEightHundredMetresSeconds": int(race["sectional_800_cs"]) if sectionals else None,
            "eightHundredToFourHundredMetresSeconds": int(race["sectional_800_400_cs"])
            if sectionals
            else None,
            "fourHundredToFinishMetresSeconds": int(race["sectional_400_finish_cs"]) if sectionals else None,
            "standardTimeId": "_".join(
                (str(venue["venue_code"]), str(condition), str(int(race["distance_m"])), race["rdc_class"])
            ),
            "timingSource": "Simulator" if sectionals else None,
            "stewardsReportUrl": (
                f"https://cdn.rmdprod.racing.com/RV/stewards/{day}/{url_slug(display)}/stewardsreports/"
                f"race-{int(race['race_number'])}.htm"
                if resulted
                else None
            ),
            "videoItems": [],
            "bestBets": None,
            "raceTips": [],
            "raceEntryTimes": [],
            "formRaceEntries": entries,
            "raceEntries": entries,
        }
        return rendered

    def _field_count(self, race: dict) -> int:
        return sum(1 for e in self.index.entries(race["race_code"]) if not self._scratched(e, race))

    # ----- entries ----------------------------------------------------------------------------
    def _scratched(self, entry: dict, race: dict) -> bool:
        meeting = self.index.meetings[race["meet_code"]]
        if clock.happened(entry["scratched_at"], self.now):
            return True
        return (
            clock.results_visible(meeting, race, self.now)
            and not missing(entry["finish"])
            and entry["finish"] >= 100
        )

    def _field(self, race: dict) -> tuple[tuple[dict, ...], dict[str, bool], dict[str, int]]:
        """A race's entries, which of them are scratched now, and each one's barrierNumber now (0 when
        scratched; runners drawn outside a scratched horse move in one gate)."""
        entries = self.index.entries(race["race_code"])
        scratched = {e["entry_id"]: self._scratched(e, race) for e in entries}
        out_barriers = sorted(int(e["barrier"]) for e in entries if scratched[e["entry_id"]])
        barriers = {
            e["entry_id"]: 0
            if scratched[e["entry_id"]]
            else int(e["barrier"]) - bisect.bisect_left(out_barriers, int(e["barrier"]))
            for e in entries
        }
        return entries, scratched, barriers

    def _race_callable(self, meeting: dict, race: dict):
        """`race` of an entry: rendered once per request and race, only when a document selects it."""

        def race_dict(_info, **_):
            key = ("race", race["race_code"])
            if key not in self._cache:
                self._cache[key] = self.race(meeting, race)
            return self._cache[key]

        return race_dict

    def entries(self, meeting: dict, race: dict) -> list[dict]:
        entries, scratched, barriers = self._field(race)
        odds = self.odds_for_race(race, entries, scratched)
        race_dict = self._race_callable(meeting, race)
        return [
            self.entry(
                meeting,
                race,
                entry,
                scratched[entry["entry_id"]],
                barriers[entry["entry_id"]],
                odds.get(entry["entry_id"], []),
                race_dict,
            )
            for entry in entries
        ]

    # ----- a horse's form lines (GetRaceEntryItemByHorsePaged) ---------------------------------------
    def horse_history(
        self, horse_code: str, limit: int | None = None, last_evaluated_key: str | None = None
    ) -> list[dict]:
        """One page of a horse's resulted starts, newest first (see docs/simulator_server.md).

        Each item is the entry exactly as getRaceForm renders it once the race is resulted (finish 109 /
        "SCR" for a scratching), plus `LastEvaluatedKey`: the page's cursor, the same on every item, null
        when no older start is visible. An unknown horse, or one without a resulted start, is [].
        """
        limit = HISTORY_PAGE if limit is None else limit
        if limit < 1:
            raise BadPageRequest(f"GetRaceEntryItemByHorsePaged: limit must be at least 1, got {limit}")
        horse_code = str(horse_code)
        positions = self.index.resulted_history(horse_code, self.now)
        runs = self.index.run_columns
        if last_evaluated_key:
            after_ns, after_key = self._parse_history_key(horse_code, last_evaluated_key)
            start, key = runs["start_ns"][positions], runs["entry_key"][positions]
            positions = positions[(start < after_ns) | ((start == after_ns) & (key < after_key))]
        page = positions[:limit]
        cursor = None
        if len(positions) > limit:
            last = page[-1]
            cursor = json.dumps(
                {
                    "horseCode": horse_code,
                    "raceTime": clock.iso_utc(_utc_stamp(int(runs["start_ns"][last]))),
                    "id": str(runs["entry_id"][last]),
                },
                separators=(",", ":"),
            )
        return [self._history_item(int(p), cursor) for p in page]

    @staticmethod
    def _parse_history_key(horse_code: str, key: str) -> tuple[int, int]:
        try:
            parsed = json.loads(key)
            if not isinstance(parsed, dict) or str(parsed.get("horseCode")) != horse_code:
                raise ValueError("not a key of this horse's pages")
            return clock.to_utc(parsed["raceTime"]).value, int(parsed["id"])
        except (ValueError, TypeError, KeyError) as err:
            raise BadPageRequest(
                f"GetRaceEntryItemByHorsePaged: lastEvaluatedKey {key!r} is not a LastEvaluatedKey of "
                f"horse {horse_code}'s pages ({err})"
            ) from err

    def _history_item(self, position: int, cursor: str | None) -> dict:
        runs = self.index.run_columns
        race = self.index.race_by_code(str(runs["race_code"][position]))
        meeting = self.index.meetings[race["meet_code"]]
        entry = self.index.entry_record(int(runs["entry_pos"][position]))
        entry_id = entry["entry_id"]
        is_scratched = self._scratched(entry, race)
        barrier = 0 if is_scratched else int(runs["results_barrier"][position])

        def odds(_info=None, **_):
            key = ("odds", race["race_code"])
            if key not in self._cache:  # a race's prices cost 10-20 ms: only when a document asks
                entries, scratched, _ = self._field(race)
                self._cache[key] = self.odds_for_race(race, entries, scratched)
            return self._cache[key].get(entry_id, [])

        item = self.entry(meeting, race, entry, is_scratched, barrier, [], self._race_callable(meeting, race))
        item["odds"] = odds
        for n, name in enumerate(FLUCTUATION_FIELDS):
            item[name] = None if is_scratched else (lambda _info=None, n=n, **_: self._fluctuation(odds(), n))
        item["LastEvaluatedKey"] = cursor
        return item

    def entry(
        self,
        meeting: dict,
        race: dict,
        entry: dict,
        is_scratched: bool,
        barrier: int,
        odds: list[dict],
        race_dict,
    ) -> dict:
        now = self.now
        resulted = clock.results_visible(meeting, race, now)
        horse = self.index.horse(str(entry["horse_code"])) or {}
        horse_name = horse.get("horse_name")
        jockey_code = _or_none(entry["jockey_code"]) if clock.jockeys_visible(meeting, now) else None
        jockey = self.index.jockeys.get(str(jockey_code), {}) if jockey_code else {}
        trainer = self.index.trainers.get(str(entry["trainer_code"]), {})
        claim = float(_or_none(entry["claim_kg"]) or 0.0)
        finish = int(entry["finish"]) if resulted and not missing(entry["finish"]) else None
        if resulted and is_scratched:
            finish = 109
        ran = finish is not None and finish < 100
        history = self.index.runs(entry["horse_code"])
        before = [
            r for r in history if r.start < race["start_time_utc"] and r.result_known(now) and r.professional
        ]
        previous = before[-1] if before else None
        emergency_number = _or_none(entry["emergency_number"])
        silk = f"https://cdn.silks.racing.com/bb/{entry['trainer_code']}.png"
        fluc_prices = self._fluctuation_prices(odds)
        prizes = _prize_list(race["prize_money"])
        trainer_slug = url_slug(trainer.get("trainer_name") or "")
        venue = meeting["venue"]
        jumped = clock.race_has_jumped(race, now)
        return {
            "id": entry["entry_id"],
            "meetCode": meeting["meet_code"],
            "raceCode": race["race_code"],
            "raceNumber": int(race["race_number"]),
            "raceEntryNumber": int(entry["saddlecloth"]),
            "barrierNumber": barrier,
            "liveBarrierNumber": int(entry["barrier"]) if is_scratched else barrier,
            "weight": fmt_kg(entry["weight_kg"]),
            "weightPrevious": fmt_kg(previous.weight_kg) if previous else None,
            "weightCarried": fmt_kg(float(entry["weight_kg"]) - claim),
            "apprenticeCanClaim": claim > 0,
            "apprenticeAllowedClaim": f"{claim:g}",
            "scratched": is_scratched,
            "isLateScratching": is_scratched
            and clock.happened(entry["scratched_at"], now)
            and clock.happened(meeting["final_fields_at"], entry["scratched_at"]),
            "emergency": bool(entry["emergency"]),
            "emergencyNumber": int(emergency_number) if emergency_number is not None else None,
            "horseName": horse_name,
            "horseCode": str(entry["horse_code"]),
            "horseCountry": horse.get("country") if horse.get("country") not in (None, "AUS") else None,
            "horseUrl": f"/horses/{url_slug(horse_name or '')}-{entry['horse_code']}",
            "silkUrl": silk,
            "jockeyName": jockey.get("jockey_name"),
            "jockeyCode": str(jockey_code) if jockey_code else None,
            "jockeyUrl": f"/jockeys/{jockey.get('url_slug')}-{jockey_code}" if jockey_code else None,
            "jockeyChanged": False,
            "trainerName": trainer.get("trainer_name"),
            "trainerCode": str(entry["trainer_code"]),
            "trainerUrl": f"/trainers/{trainer_slug}-{entry['trainer_code']}",
            "handicapRating": _or_none(entry["handicap_rating"]),
            "handicapRatingProgression": (
                int(entry["handicap_rating"]) - int(previous.handicap_rating)
                if previous and previous.handicap_rating is not None and not missing(entry["handicap_rating"])
                else None
            ),
            "rdcClass": race["rdc_class"],
            "gearHasChanges": False,
            "gearChanges": None,
            "gearList": None,
            "lastGear": None,
            "lastGearDate": None,
            "comment": self._comment(entry, race, finish, previous),
            "commentShort": self._short_comment(finish) if resulted else None,
            "commentStewards": None,
            "speedValue": None,
            "isBlackbookSelected": None,
            "isGetOnSelected": None,
            "trackDistanceStats": colon_stats(
                [
                    r
                    for r in before
                    if r.venue_code == str(meeting["venue_code"]) and r.distance_m == int(race["distance_m"])
                ]
            ),
            "trackStats": colon_stats([r for r in before if r.venue_code == str(meeting["venue_code"])]),
            "distanceStats": colon_stats([r for r in before if r.distance_m == int(race["distance_m"])]),
            "jockeyStats": colon_stats([r for r in before if jockey_code and r.jockey_code == jockey_code]),
            "atThisClassStats": colon_stats([r for r in before if r.rdc_class == race["rdc_class"]]),
            "lastRaceDate": previous.meeting_date.isoformat() if previous else None,
            "position": finish,
            "positionAbbreviation": ordinal(finish) if finish is not None else None,
            "finish": finish,
            "finishAbv": ordinal(finish) if finish is not None else None,
            "margin": fmt_lengths(entry["margin_lengths"]) if ran else None,
            "beatenMargin": fmt_lengths(entry["margin_lengths"]) if ran else None,
            "winningTime": str(int(race["winning_time_cs"]))
            if ran and not missing(race["winning_time_cs"])
            else None,
            "startingPrice": fmt_price(entry["starting_price"]) if ran else None,
            "prizeMoney": (f"{float(prizes[finish - 1]):.0f}" if finish <= len(prizes) else "0")
            if ran
            else None,
            "bonusMoney": "0" if ran else None,
            "standardTimeDifference": None,
            "timeSectional": None,
            "positionAtSettled": None,
            "positionAtSettledAbv": None,
            "positionAt800": None,
            "positionAt800Abv": None,
            "positionAt400": None,
            "positionAt400Abv": None,
            "bettingFluctuationsPriceOpen": fmt_plain_price(fluc_prices[0])
            if fluc_prices and not is_scratched
            else None,
            "bettingFluctuationsPriceMoveOne": fmt_plain_price(fluc_prices[1])
            if len(fluc_prices) > 1 and not is_scratched
            else None,
            "bettingFluctuationsPriceMoveTwo": fmt_plain_price(fluc_prices[2])
            if len(fluc_prices) > 2 and not is_scratched
            else None,
            "odds": odds,
            "bestBets": None,
            "faisHighlight": [],
            "timing": None,
            "horse": lambda _info, **_: self.horse(str(entry["horse_code"])),
            "jockey": {
                "id": str(jockey_code),
                "name": jockey.get("jockey_name"),
                "urlSegment": jockey.get("url_slug"),
                "urlSegmentWithId": f"{jockey.get('url_slug')}-{jockey_code}",
                "apprentice": bool(jockey.get("is_apprentice")),
                "weightClaim": f"{claim:g}",
            }
            if jockey_code
            else None,
            "trainer": {
                "id": str(entry["trainer_code"]),
                "name": trainer.get("trainer_name"),
                "urlSegment": trainer_slug,
                "urlSegmentWithId": f"{trainer_slug}-{entry['trainer_code']}",
            },
            "race": race_dict,
            # the race's own facts, as the race renders them (form lines select them on the entry)
            "raceStatus": clock.race_status(meeting, race, now),
            "isTrial": int(bool(meeting["is_trial"])),
            "isJumpOut": int(bool(meeting["is_jumpout"])),
            "group": race["group"],
            "trackCondition": race["track_condition"] if jumped else meeting["track_condition"],
            "venueName": venue["display_name"] or venue["venue_name"],
            "venueAbbr": venue["abbr"],
            "raceDate": meeting["meeting_date"].isoformat(),
            "raceDistance": f"{int(race['distance_m'])}m",
            "totalPrizeMoney": f"{float(race['prize_money_total']):.2f}",
            "time": clock.iso_utc(race["start_time_utc"]),
            "LastEvaluatedKey": None,
        }

    def _fluctuation(self, odds: list[dict], n: int) -> str | None:
        prices = self._fluctuation_prices(odds)
        return fmt_plain_price(prices[n]) if len(prices) > n else None

    def _fluctuation_prices(self, odds: list[dict]) -> list[float]:
        """The reference provider's first three moves as flucsWin shows them (to the cent)."""
        win_prices = [o for o in odds if o["providerCode"] == self._reference_provider(odds)]
        return [float(_money(p)[1:]) for p in (win_prices[0][PRICES][:3] if win_prices else [])]

    @staticmethod
    def _reference_provider(odds: list[dict]) -> str | None:
        providers = sorted(o["providerCode"] for o in odds)
        return "SB2" if "SB2" in providers else (providers[0] if providers else None)

    def _comment(self, entry: dict, race: dict, finish: int | None, previous: Run | None) -> str:
        if finish is not None and finish < 100:
            margin = fmt_lengths(entry["margin_lengths"])
            return (
                f"Won by {margin}."
                if finish == 1
                else f"Finished {ordinal(finish)}, {margin} from the winner."
            )
        if finish is not None:
            return "Scratched."
        if previous is None:
            return "First start."
        placing = ordinal(previous.finish) if previous.finish is not None else "unplaced"
        return f"Last start {placing} at {previous.venue_abbr} over {previous.distance_m}m."

    @staticmethod
    def _short_comment(finish: int | None) -> str | None:
        if finish is None or finish >= 100:
            return None
        return "impressive" if finish == 1 else "kept on" if finish <= 3 else "no threat"

    # ----- odds -------------------------------------------------------------------------------
    def odds_for_race(
        self, race: dict, entries: list[dict], scratched: dict[str, bool]
    ) -> dict[str, list[dict]]:
        book = self.index.odds(race["race_code"])
        cutoff = int(self.now.timestamp())
        latest: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        for entry in entries:
            for provider, (times, prices) in book.get(entry["entry_id"], {}).items():
                visible = bisect.bisect_right(times, cutoff)
                if visible:
                    latest[(entry["entry_id"], provider)] = (times[:visible], prices[:visible])
        favourite: dict[str, float] = {}
        for (entry_id, provider), (_, prices) in latest.items():
            if not scratched.get(entry_id):
                favourite[provider] = min(favourite.get(provider, float("inf")), prices[-1])
        field = sum(1 for e in entries if not scratched[e["entry_id"]])
        out: dict[str, list[dict]] = defaultdict(list)
        for (entry_id, provider), (times, prices) in sorted(latest.items()):
            win = prices[-1]
            out[entry_id].append(
                {
                    "id": f"{entry_id}-{provider}",
                    "providerCode": provider,
                    "oddsWin": fmt_price(win),
                    "oddsPlace": fmt_price(place_price(win, field)),
                    "oddsIsFavouriteWin": not scratched.get(entry_id) and win == favourite.get(provider),
                    "oddsIsMarketMover": win < prices[0] * 0.8,
                    "deepLinkWin": None,
                    "deepLinkPlace": None,
                    "deepLinkRace": None,
                    "flucsWin": _flucs(times, prices),
                    PRICES: prices,
                }
            )
        return out

    # ----- horses -----------------------------------------------------------------------------
    def horse(self, horse_code: str) -> dict | None:
        if horse_code not in self._horse_cache:
            self._horse_cache[horse_code] = self._render_horse(horse_code)
        return self._horse_cache[horse_code]

    def _render_horse(self, horse_code: str) -> dict | None:
        """A horse as of the clock: includes runs after the race being viewed (racing.com's leakage trap)."""
        horse = self.index.horse(horse_code)
        if horse is None:
            return None
        now = self.now
        all_entries = self.index.runs(horse_code)
        runs = [r for r in all_entries if r.result_known(now) and r.professional]
        prep = dict(zip((r.entry_id for r in runs), preparation_index(runs), strict=True))
        wins = [r for r in runs if r.finish == 1]
        starts, w, s, t = record(runs)
        rated = [
            r
            for r in all_entries
            if r.professional and clock.happened(r.fields_at, now) and r.handicap_rating is not None
        ]
        figures: list[str] = []
        for i, run in enumerate(runs):
            if i and run.start - runs[i - 1].start >= SPELL:
                figures.append("-")
            figures.append(form_figure(run.finish))
        last = runs[-1] if runs else None
        season = season_start(now)
        year_ago = now - pd.Timedelta(days=365)
        by_condition = {
            c: [r for r in runs if r.track_condition == c]
            for c in ("Firm", "Good", "Soft", "Heavy", "Synthetic")
        }
        distances_won = sorted({r.distance_m for r in wins})
        silk = f"https://cdn.silks.racing.com/bb/{all_entries[-1].trainer_code}.png" if all_entries else None
        stat_runs = {
            "Career": runs,
            "Season": [r for r in runs if r.meeting_date >= season],
            "Good": by_condition["Good"],
            "GroupAndListed": [r for r in runs if r.group != "ungrouped"],
            "Firm": by_condition["Firm"],
            "Heavy": by_condition["Heavy"],
            "Soft": by_condition["Soft"],
            "Synth": by_condition["Synthetic"],
            "FirstUp": [r for r in runs if prep[r.entry_id] == 1],
            "SecondUp": [r for r in runs if prep[r.entry_id] == 2],
            "Jumps": [],
            "Fast": by_condition["Firm"],
            "Wet Fast": [],
            "Wet": by_condition["Soft"] + by_condition["Heavy"],
            "NonWet": by_condition["Firm"] + by_condition["Good"] + by_condition["Synthetic"],
            "Night": [],
            "ThirdUp": [r for r in runs if prep[r.entry_id] == 3],
            "Clockwise": [r for r in runs if r.state in CLOCKWISE_STATES],
            "Anti-Clockwise": [r for r in runs if r.state not in CLOCKWISE_STATES],
            "Turf Tracks Only": [r for r in runs if r.track_condition != "Synthetic"],
            "All Weather Only": by_condition["Synthetic"],
            "Weight For Age": [r for r in runs if "weight for age" in r.condition.lower()],
            "Straight Tracks Only": [],
            "Set Weights": [r for r in runs if "set weights" in r.condition.lower()],
        }
        return {
            "id": horse_code,
            "name": horse["horse_name"],
            "urlSegment": url_slug(horse["horse_name"] or ""),
            "urlSegmentWithId": f"{url_slug(horse['horse_name'] or '')}-{horse_code}",
            "age": horse_age(horse["foal_date"], now),
            "sex": horse["sex"],
            "colour": horse["colour"],
            "foalDate": _as_date(horse["foal_date"]).isoformat() if not missing(horse["foal_date"]) else None,
            "owners": None,
            "sireHorseName": horse["sire"],
            "damHorseName": horse["dam"],
            "country": horse["country"] if horse["country"] not in (None, "AUS") else None,
            "rating": str(int(rated[-1].handicap_rating)) if rated else None,
            "ratingProgression": (
                int(rated[-1].handicap_rating) - int(rated[-2].handicap_rating) if len(rated) > 1 else None
            ),
            "lastFive": json.dumps(figures[-5:], separators=(",", ":")),
            "careerWinPercent": f"{round(100 * w / starts) if starts else 0}%",
            "careerPlacePercent": f"{round(100 * (w + s + t) / starts) if starts else 0}%",
            "careerPrizeMoney": f"${round(sum(r.prize_won for r in runs)):,}",
            "lastTenStats": colon_stats(runs[-10:]),
            "lastTwelveMonthsStats": colon_stats([r for r in runs if r.start >= year_ago]),
            "firstUpStats": colon_stats(stat_runs["FirstUp"]),
            "secondUpStats": colon_stats(stat_runs["SecondUp"]),
            "thirdUpStats": colon_stats(stat_runs["ThirdUp"]),
            "winningRange": f"{distances_won[0]} - {distances_won[-1]}" if distances_won else None,
            "maxDistanceWon": str(distances_won[-1]) if distances_won else None,
            "minDistanceWon": str(distances_won[0]) if distances_won else None,
            "firmStats": dash_stats(by_condition["Firm"]),
            "goodStats": dash_stats(by_condition["Good"]),
            "softStats": dash_stats(by_condition["Soft"]),
            "heavyStats": dash_stats(by_condition["Heavy"]),
            "syntheticStats": dash_stats(by_condition["Synthetic"]),
            "jumpsRecordStats": "0-0-0-0",
            "groupListedStats": dash_stats(stat_runs["GroupAndListed"]),
            "lastRaceDate": last.meeting_date.isoformat() if last else None,
            "lastWinDate": wins[-1].meeting_date.isoformat() if wins else None,
            "silkUrl": silk,
            "stats": [
                {"key": key, "starts": str(n), "firsts": str(a), "seconds": str(b), "thirds": str(c)}
                for key in STAT_KEYS
                for n, a, b, c in [record(stat_runs[key])]
            ],
            "lastProfessionalRaceEntryItem": self._last_run(last) if last else None,
            "blackBook": None,
        }

    def _last_run(self, run: Run) -> dict:
        return {
            "id": run.entry_id,
            "raceCode": run.race_code,
            "meetCode": run.meet_code,
            "position": run.finish,
            "finish": run.finish,
            "positionAbbreviation": ordinal(run.finish),
            "finishAbv": ordinal(run.finish),
            "race": {
                "id": run.race_code,
                "runnersCount": self.index.runners_count.get(run.race_code),
                "distance": f"{run.distance_m}m",
                "date": run.meeting_date.isoformat(),
                "venueAbbr": run.venue_abbr,
                "videoItems": [],
            },
        }

    # ----- betting ----------------------------------------------------------------------------
    def betting_data(self, meet_code: str, race_number: int) -> dict:
        race = self.index.race(meet_code, race_number, self.now)
        meeting = self.index.meetings[race["meet_code"]]
        entries = self.index.entries(race["race_code"])
        scratched = {e["entry_id"]: self._scratched(e, race) for e in entries}
        odds = self.odds_for_race(race, entries, scratched) if clock.fields_visible(meeting, self.now) else {}
        exotics: list[dict] = []
        professional = not (meeting["is_trial"] or meeting["is_jumpout"])
        if professional and clock.results_visible(meeting, race, self.now):
            exotics = exotic_dividends(entries)
        return {
            "exotics": exotics,
            "formRaceEntries": [
                {
                    "id": e["entry_id"],
                    "raceEntryNumber": int(e["saddlecloth"]),
                    "horseName": (self.index.horse(str(e["horse_code"])) or {}).get("horse_name"),
                    "oddsByProvider": odds.get(e["entry_id"], []),
                }
                for e in entries
                if clock.fields_visible(meeting, self.now)
            ],
        }


def place_price(win: float, field: int) -> float | None:
    """Fixed place price as bookmakers derive it: a quarter (8+ runners) or a third of the win odds."""
    if field < 5:
        return None
    return round(1 + (win - 1) / (4 if field >= 8 else 3), 2)


def exotic_dividends(entries: list[dict]) -> list[dict]:
    """Tote dividends consistent with the starting prices (Harville order probabilities, 15% take)."""
    runners = [
        e
        for e in entries
        if not missing(e["finish"])
        and e["finish"] < 100
        and not missing(e["starting_price"])
        and e["starting_price"] > 1
    ]
    if len(runners) < 3:
        return []
    implied = {e["entry_id"]: 1 / float(e["starting_price"]) for e in runners}
    total = sum(implied.values())
    p = {k: v / total for k, v in implied.items()}
    by_finish = sorted(runners, key=lambda e: e["finish"])
    first, second, third = (e["entry_id"] for e in by_finish[:3])
    number = {e["entry_id"]: int(e["saddlecloth"]) for e in runners}

    def ordered(*ids: str) -> float:
        prob, left = 1.0, 1.0
        for i in ids:
            prob *= p[i] / left
            left -= p[i]
        return prob

    def in_top3(a: str, b: str) -> float:
        others = [k for k in p if k not in (a, b)]
        return sum(ordered(*order) for c in others for order in permutations((a, b, c)))

    def dividend(prob: float) -> str:
        return fmt_price(max(1.0, round(TOTE_TAKE / prob, 1)))

    def sel(*ids: str) -> str:
        return "/".join(str(number[i]) for i in ids)

    return [
        {
            "poolStatusCode": "Quinella",
            "wageringProduct": "Vic",
            "selections": sel(first, second),
            "amount": dividend(ordered(first, second) + ordered(second, first)),
        },
        {
            "poolStatusCode": "Exacta",
            "wageringProduct": "Vic",
            "selections": sel(first, second),
            "amount": dividend(ordered(first, second)),
        },
        {
            "poolStatusCode": "Trifecta",
            "wageringProduct": "Vic",
            "selections": sel(first, second, third),
            "amount": dividend(ordered(first, second, third)),
        },
        {
            "poolStatusCode": "Quinella Place 1",
            "wageringProduct": "Vic",
            "selections": sel(first, second),
            "amount": dividend(in_top3(first, second)),
        },
        {
            "poolStatusCode": "Quinella Place 2",
            "wageringProduct": "Vic",
            "selections": sel(first, third),
            "amount": dividend(in_top3(first, third)),
        },
        {
            "poolStatusCode": "Quinella Place 3",
            "wageringProduct": "Vic",
            "selections": sel(second, third),
            "amount": dividend(in_top3(second, third)),
        },
    ]
