"""`race_clock`: the instant the platform's sensors call "now", and the racing day it falls on.

Against the simulator, time is the simulator's own (`/_sim/clock`): advancing it makes fields appear,
change, jump and produce results, and the sensors must see the same day the source serves. Against
racing.com it is the wall clock. The racing day is the local date in the partitions' time zone
(configs/platform.yaml, Australia/Sydney), the calendar of the `date` dimension.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import dagster as dg
import requests

from racing_platform.lib.failures import TransientFault
from racing_platform.settings import load_settings
from racing_platform.source.config import SIMULATOR_URL, is_local

CLOCK_TIMEOUT_S = 5.0


class ClockUnavailable(TransientFault):
    """The simulator's clock did not answer: a tick cannot know what day it is, so it waits for the next."""


class RaceClock(dg.ConfigurableResource):
    """Now: the simulator's clock when the source is a local endpoint, else the wall clock.

    `graphql_url` is the source's endpoint (None: the client's default, the local simulator). A local
    endpoint without `/_sim/clock` (HTTP 404, e.g. a replay server) is not the simulator: wall clock.
    """

    graphql_url: str | None = None

    def now(self) -> datetime:
        url = self.graphql_url or SIMULATOR_URL
        if not is_local(url):
            return datetime.now(UTC)
        parts = urlsplit(url)
        clock_url = urlunsplit((parts.scheme, parts.netloc, "/_sim/clock", "", ""))
        try:
            response = requests.get(clock_url, timeout=CLOCK_TIMEOUT_S)
        except requests.RequestException as exc:
            raise ClockUnavailable(f"simulator clock {clock_url} unreachable: {exc}") from exc
        if response.status_code == 404:
            return datetime.now(UTC)
        if response.status_code >= 500:
            raise ClockUnavailable(f"simulator clock {clock_url} answered HTTP {response.status_code}")
        response.raise_for_status()
        return datetime.fromisoformat(response.json()["now"].replace("Z", "+00:00"))

    def today(self) -> date:
        return racing_day(self.now())


def racing_day(instant: datetime) -> date:
    """The `date` partition an instant falls on: its local date in the partitions' time zone."""
    return instant.astimezone(ZoneInfo(load_settings().timezone)).date()
