"""The shared limiter and budgets, on a real SQLite file with an injected clock (no real waiting)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from racing_platform.source.errors import BudgetExhaustedError
from racing_platform.source.politeness import Politeness
from racing_platform_tests.source.fixtures_client import FakeClock


def test_slots_are_spaced_by_the_rate_and_waits_happen_outside_the_lock(tmp_path):
    clock = FakeClock(start=1_000.0)
    limiter = Politeness(tmp_path / "p.sqlite", max_rps=4.0, clock=clock.time, sleep=clock.sleep)

    waits = [limiter.acquire("graphql.example", "run-1") for _ in range(5)]

    assert waits == pytest.approx([0.0, 0.25, 0.25, 0.25, 0.25])
    assert clock.now == pytest.approx(1_001.0)


def test_two_limiters_on_one_file_share_the_host_schedule(tmp_path):
    clock = FakeClock(start=50.0)
    first = Politeness(tmp_path / "p.sqlite", max_rps=1.0, clock=clock.time, sleep=lambda s: None)
    second = Politeness(tmp_path / "p.sqlite", max_rps=1.0, clock=clock.time, sleep=lambda s: None)

    waits = [first.acquire("h", "run-a"), second.acquire("h", "run-b"), first.acquire("h", "run-a")]

    assert waits == pytest.approx([0.0, 1.0, 2.0])
    assert second.acquire("other-host", "run-b") == 0.0


def test_unlimited_host_never_waits_but_still_counts(tmp_path):
    clock = FakeClock()
    limiter = Politeness(
        tmp_path / "p.sqlite", max_rps=None, run_budget=100, clock=clock.time, sleep=clock.sleep
    )

    assert sum(limiter.acquire("127.0.0.1", "run-1") for _ in range(10)) == 0.0
    assert limiter.attempts_used("run-1") == 10


def test_run_budget_refuses_the_attempt_after_the_budget_and_names_the_run(tmp_path):
    limiter = Politeness(tmp_path / "p.sqlite", run_budget=3)
    for _ in range(3):
        limiter.acquire("h", "run-7", operation="getRaceForm", variables={"meetCode": "1"})

    with pytest.raises(BudgetExhaustedError, match=r"getRaceForm\(\{\"meetCode\": \"1\"\}\).*'run-7'.*3"):
        limiter.acquire("h", "run-7", operation="getRaceForm", variables={"meetCode": "1"})
    assert limiter.attempts_used("run-7") == 3
    assert limiter.acquire("h", "run-8") == 0.0


def test_daily_budget_caps_all_runs_together_and_resets_at_utc_midnight(tmp_path):
    clock = FakeClock(start=datetime(2026, 3, 7, 23, 59, 58, tzinfo=UTC).timestamp())
    limiter = Politeness(tmp_path / "p.sqlite", run_budget=None, daily_budget=2, clock=clock.time)
    limiter.acquire("h", "run-a")
    limiter.acquire("h", "run-b")

    with pytest.raises(BudgetExhaustedError, match="daily budget of 2 attempts for 2026-03-07"):
        limiter.acquire("h", "run-c")

    clock.now += 5
    limiter.acquire("h", "run-c")
    assert limiter.attempts_on("2026-03-07") == 2
    assert limiter.attempts_on("2026-03-08") == 1


def test_state_file_uses_wal_and_survives_a_new_instance(tmp_path):
    path = tmp_path / "nested" / "politeness.sqlite"
    Politeness(path, run_budget=5).acquire("h", "run-1")

    assert Politeness(path, run_budget=5).attempts_used("run-1") == 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rate_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="max_rps must be positive"):
        Politeness(tmp_path / "p.sqlite", max_rps=0)
