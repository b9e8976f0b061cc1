"""A step waiting for a pool slot sleeps, answers SIGTERM/SIGINT, and frees slots held by dead runs.

In Dagster 1.13.27 the run loop of the in-process executor (also behind `execute_in_process` and
`dagster asset materialize`) asks `InstanceConcurrencyContext.interval_to_next_pending_claim_check`
how long to sleep while a step waits for its pool slot. That method returns `min(0, ...)`, never a
positive number, so the loop never sleeps: a waiting run burns a whole core (measured ~94 %). The same
loop never looks at the SIGTERM/SIGINT that Dagster's `capture_interrupts` turned into a flag, so a
waiting run cannot be stopped, and nothing in it notices that the run holding the slot has died.

Dagster offers no public hook into that loop, so `install()` replaces that one method: the only place
the project relies on Dagster's private API. `racing_platform_tests/lib/test_pool_wait.py` pins the
behaviour it relies on, and fails when Dagster's own method starts returning a positive wait.
"""

from __future__ import annotations

import logging
import time

import dagster as dg
from dagster._core.execution.plan.instance_concurrency_context import (
    MAX_CONCURRENCY_CLAIM_BLOCKED_INTERVAL,
    InstanceConcurrencyContext,
)
from dagster._utils.interrupts import pop_captured_interrupt

from racing_platform.lib.crashed_runs import reap_dead_runs

# The loop wakes this often while a step waits: a claim is attempted when Dagster's own backoff
# (1 s growing to CLAIM_BACKOFF_MAX_S) says so, and a stop request is answered within this time.
WAIT_TICK_S = 0.5
CLAIM_BACKOFF_MAX_S = MAX_CONCURRENCY_CLAIM_BLOCKED_INTERVAL
# How often a waiting run checks whether the run holding the slot is dead (lib/crashed_runs.py).
REAP_EVERY_S = 5.0
# The longest a dead run can hold up a waiting one: a check, then a claim at Dagster's slowest backoff.
DEAD_RUN_BOUND_S = REAP_EVERY_S + CLAIM_BACKOFF_MAX_S + WAIT_TICK_S

# Dagster's own method, kept so a test notices the day it starts returning a positive wait.
DAGSTER_WAIT = InstanceConcurrencyContext.interval_to_next_pending_claim_check
_last_reap = {"at": float("-inf")}
log = logging.getLogger(__name__)


def _wait_for_pool_slot(self: InstanceConcurrencyContext) -> float:
    """Replaces `InstanceConcurrencyContext.interval_to_next_pending_claim_check` (seconds to sleep)."""
    if pop_captured_interrupt():
        raise dg.DagsterExecutionInterruptedError("stopped while waiting for a pool slot")
    if not self.has_pending_claims():
        return 0.0
    if time.monotonic() - _last_reap["at"] >= REAP_EVERY_S:
        _last_reap["at"] = time.monotonic()
        try:
            reap_dead_runs(self._instance)
        except Exception:  # a side check (e.g. the instance's SQLite busy) must not end the waiting run
            log.exception("dead-run check failed; the run keeps waiting and checks again")
    return WAIT_TICK_S


def install() -> None:
    """Make every run of this process wait for pool slots this way (idempotent)."""
    InstanceConcurrencyContext.interval_to_next_pending_claim_check = _wait_for_pool_slot
