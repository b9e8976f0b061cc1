"""The shared limiter and budgets, on a real SQLite file with an injected clock (no real waiting)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime

import pytest

from racing_platform.source.errors import BudgetExhaustedError
from racing_platform.source.politeness import Politeness
from racing_platform_tests.source.fixtures_client import (  # noqa: F401 - fixtures register by import
    FakeClock,
    fetch_in_another_process,
    make_client_fixture,
    max_requests_in_any_window,
    sim_fixture,
    simulator_module_fixture,
)


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


# ------------------------------------------------------------------ over real HTTP, timed by the server's log

RATE = 20.0
REQUESTS = 40
# Slots are exactly 1/RATE apart: a closed one-second window can hold RATE + 1 of them.
ALLOWED_PER_SECOND = int(RATE) + 1


def _server_times(sim) -> list[float]:
    return [entry["monotonic"] for entry in sim.control.requests_log()]


def test_rate_limit_holds_in_the_servers_request_log(sim, make_client, tmp_path):
    politeness = Politeness(tmp_path / "limiter.sqlite", max_rps=RATE, run_budget=REQUESTS)
    client = make_client(politeness=politeness)

    for _ in range(REQUESTS):
        client.meetings_by_date(sim.meeting.date)

    times = _server_times(sim)
    assert len(times) == REQUESTS
    assert max_requests_in_any_window(times) <= ALLOWED_PER_SECOND
    assert max(times) - min(times) >= (REQUESTS - 1) / RATE * 0.95


def test_two_processes_share_one_limit(sim, tmp_path):
    """Two processes each at the full rate would put ~40 requests in a second; sharing keeps it to 21."""
    fields = {
        "max_rps": RATE,
        "politeness_db": tmp_path / "limiter.sqlite",
        "archive_path": tmp_path / "a.sqlite",
    }
    per_process = REQUESTS  # ~4 s of shared slots: long enough to overlap even on a loaded machine
    plans = [
        [("GetMeetingByDate_CD", {"date": sim.meeting.date})] * per_process,
        [("getRaceNumberList_CD", {"meetCode": sim.meeting.meet_code})] * per_process,
    ]
    context = multiprocessing.get_context("spawn")
    start_together = context.Barrier(len(plans))
    workers = [
        context.Process(target=fetch_in_another_process, args=(sim.url, fields, plan, start_together))
        for plan in plans
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]

    log = sim.control.requests_log()
    by_operation = {
        name: [e["monotonic"] for e in log if e["operationName"] == name]
        for name, _ in (plan[0] for plan in plans)
    }
    first, second = by_operation.values()
    assert len(first) == len(second) == per_process
    assert min(second) < max(first) and min(first) < max(second), "the two processes ran at the same time"
    times = first + second
    assert max_requests_in_any_window(times) <= ALLOWED_PER_SECOND
    assert max(times) - min(times) >= (len(times) - 1) / RATE * 0.95
