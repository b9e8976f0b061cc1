"""Shared helpers and fixtures for the client, politeness, archive and discovery tests.

Test modules import the fixtures they use by name (the source test folder's conftest belongs to the parser
tests). Nothing here fakes the server: simulator-backed fixtures start the real simulator over HTTP.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "racing_com"
DATA_DIR = Path(__file__).resolve().parent / "data"
TEST_API_KEY = "da2-testkeythatmustneverleak0123456789"


class FakeClock:
    """Wall clock that only moves when slept on, so rate-limit arithmetic is exact."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingSleep:
    """Injected retry sleep: records the requested waits and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
