"""Pins the one private Dagster API the project relies on (lib/pool_wait.py) and what replacing it does."""

from __future__ import annotations

import os
import signal
import time

import dagster as dg
import pytest
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._utils.interrupts import capture_interrupts

from racing_platform.lib import pool_wait
from racing_platform.lib.policies import DUCKDB_POOL
from racing_platform_tests.lib.dead_runs import start_a_run_and_die


def _hold_the_slot(instance: dg.DagsterInstance) -> None:
    instance.event_log_storage.initialize_concurrency_limit_to_default(DUCKDB_POOL)  # 1, from dagster.yaml
    assert instance.event_log_storage.claim_concurrency_slot(DUCKDB_POOL, "holder", "step").is_claimed


def _waiting(instance: dg.DagsterInstance) -> InstanceConcurrencyContext:
    """The concurrency context of a run whose step is queued behind the pool's only slot."""
    run = instance.create_run_for_job(dg.GraphDefinition(name="waiter").to_job())
    context = InstanceConcurrencyContext(instance, run)
    assert context.claim(DUCKDB_POOL, "waiting_step") is False
    return context


def test_dagsters_own_wait_still_never_sleeps(project_instance):
    """When this fails, Dagster sleeps between claims by itself: check whether lib/pool_wait.py can go."""
    _hold_the_slot(project_instance)
    with _waiting(project_instance) as context:
        assert context.has_pending_claims()
        assert pool_wait.DAGSTER_WAIT(context) <= 0


def test_a_waiting_step_sleeps_a_tick_and_stops_on_sigterm(project_instance):
    _hold_the_slot(project_instance)
    with _waiting(project_instance) as context:
        assert pool_wait._wait_for_pool_slot(context) == pool_wait.WAIT_TICK_S
        with capture_interrupts():  # as around every Dagster run: the signal only sets a flag
            os.kill(os.getpid(), signal.SIGTERM)
            with pytest.raises(dg.DagsterExecutionInterruptedError):
                pool_wait._wait_for_pool_slot(context)


def test_a_step_waiting_behind_a_dead_run_frees_its_slot_and_gets_it(project_instance, monkeypatch):
    dead_run, _ = start_a_run_and_die()
    monkeypatch.setitem(pool_wait._last_reap, "at", float("-inf"))
    with _waiting(project_instance) as context:
        pool_wait._wait_for_pool_slot(context)  # checks the holder through the context's instance
        assert project_instance.get_run_by_id(dead_run).status == dg.DagsterRunStatus.FAILURE
        time.sleep(1.1)  # Dagster's first claim backoff
        assert context.claim(DUCKDB_POOL, "waiting_step") is True


def test_install_replaces_dagsters_method():
    pool_wait.install()
    assert InstanceConcurrencyContext.interval_to_next_pending_claim_check is pool_wait._wait_for_pool_slot
