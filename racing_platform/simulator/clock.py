"""The simulator's clock and the visibility rules that turn a static World into "what racing.com shows now".

The World never changes; only the clock decides what a response may reveal. The clock has two modes:

* running: now = wall clock + offset (offset 0 by default, so a fresh server shows "today");
* frozen: now stays at a set instant until it is set or advanced again (what tests want: deterministic).

`set(now)` freezes by default; `set(now, frozen=False)` keeps time flowing from that instant;
`advance(seconds)` moves either mode forward; `reset_to_wall()` returns to the plain wall clock.

Visibility rules (all comparisons are `timestamp <= now`, UTC):

* a meeting is listed (GetMeetingByDate, race lists, getRaceForm) from `listed_at`;
* runners, barriers and weights appear from `fields_at` (status Acceptances), jockeys from
  `final_fields_at` (status FinalFields); before `fields_at` races show status Nominations and no runners;
* a scratching appears from `scratched_at` (scratched: true, barrierNumber 0);
* a bookmaker price appears from its `update_time_utc`;
* results (finish, position, margin, startingPrice, winningTime, sectionals, exotics) are declared
  RESULT_DECLARED_AFTER after the jump; between the jump and the declaration the race is "Closed";
  then "Paying" for PAYING_FOR, then "Results";
* an abandonment shows from `abandoned_at`: every race "Abandoned", and no results ever.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pandas as pd

RESULT_DECLARED_AFTER = pd.Timedelta(minutes=5)
PAYING_FOR = pd.Timedelta(hours=2)


def to_utc(value: datetime | pd.Timestamp | str) -> pd.Timestamp:
    """Parse an instant; naive values are taken as UTC (never as machine-local time)."""
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise ValueError(f"not a valid instant: {value!r}")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


class SimClock:
    """A thread-safe clock: wall time plus an offset, or frozen at an instant."""

    def __init__(self, now: datetime | pd.Timestamp | str | None = None, *, frozen: bool = True) -> None:
        self._lock = threading.Lock()
        self._frozen_at: pd.Timestamp | None = None
        self._offset = pd.Timedelta(0)
        if now is not None:
            self.set(now, frozen=frozen)

    @staticmethod
    def _wall() -> pd.Timestamp:
        return pd.Timestamp(time.time(), unit="s", tz="UTC")

    def now(self) -> pd.Timestamp:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return self._wall() + self._offset

    def set(self, now: datetime | pd.Timestamp | str, *, frozen: bool = True) -> pd.Timestamp:
        target = to_utc(now)
        with self._lock:
            if frozen:
                self._frozen_at = target
            else:
                self._frozen_at = None
                self._offset = target - self._wall()
        return target

    def advance(self, seconds: float) -> pd.Timestamp:
        delta = pd.Timedelta(seconds=float(seconds))
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = self._frozen_at + delta
            else:
                self._offset = self._offset + delta
        return self.now()

    def reset_to_wall(self) -> pd.Timestamp:
        with self._lock:
            self._frozen_at = None
            self._offset = pd.Timedelta(0)
        return self.now()

    def state(self) -> dict:
        now = self.now()
        with self._lock:
            frozen = self._frozen_at is not None
            offset = 0.0 if frozen else self._offset.total_seconds()
        return {"now": iso_utc(now), "mode": "frozen" if frozen else "running", "offset_seconds": offset}


def iso_utc(stamp: pd.Timestamp) -> str:
    """racing.com's `time` format: UTC with milliseconds and a Z ("2026-03-07T04:05:00.000Z")."""
    stamp = to_utc(stamp)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def happened(stamp, now: pd.Timestamp) -> bool:
    """True when a (possibly missing) timestamp is at or before now; NaT/None never happened."""
    return stamp is not None and not pd.isna(stamp) and stamp <= now


def abandonment_visible(meeting: dict, now: pd.Timestamp) -> bool:
    return bool(meeting["abandoned"]) and happened(meeting["abandoned_at"], now)


def meeting_listed(meeting: dict, now: pd.Timestamp) -> bool:
    return happened(meeting["listed_at"], now)


def fields_visible(meeting: dict, now: pd.Timestamp) -> bool:
    return happened(meeting["fields_at"], now)


def jockeys_visible(meeting: dict, now: pd.Timestamp) -> bool:
    return happened(meeting["final_fields_at"], now)


def race_has_jumped(race: dict, now: pd.Timestamp) -> bool:
    return happened(race["start_time_utc"], now)


def results_visible(meeting: dict, race: dict, now: pd.Timestamp) -> bool:
    if abandonment_visible(meeting, now) or bool(meeting["abandoned"]):
        return False
    return happened(race["start_time_utc"] + RESULT_DECLARED_AFTER, now)


def race_status(meeting: dict, race: dict, now: pd.Timestamp) -> str:
    if abandonment_visible(meeting, now):
        return "Abandoned"
    if not fields_visible(meeting, now):
        return "Nominations"
    if not jockeys_visible(meeting, now):
        return "Acceptances"
    if not race_has_jumped(race, now):
        return "FinalFields"
    if not results_visible(meeting, race, now):
        return "Closed"
    if not happened(race["start_time_utc"] + RESULT_DECLARED_AFTER + PAYING_FOR, now):
        return "Paying"
    return "Results"
