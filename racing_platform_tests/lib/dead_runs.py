"""A real dead run: a process that starts a run in the instance and is SIGKILLed inside its step."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg

from racing_platform.lib.policies import DUCKDB_POOL

# The step holds its `duckdb` pool slot when the process dies, as a run killed mid-write does.
_DIES_MID_STEP = f"""
import os, signal
import dagster as dg

@dg.asset(pool={DUCKDB_POOL!r})
def killed_mid_write():
    os.kill(os.getpid(), signal.SIGKILL)

dg.materialize([killed_mid_write], instance=dg.DagsterInstance.get())
"""


def start_a_run_and_die() -> tuple[str, int]:
    """Run id and pid of a run left STARTED by its killed worker, in the instance at $DAGSTER_HOME."""
    with dg.DagsterInstance.get() as instance:
        before = {r.run_id for r in instance.get_runs()}
        worker = subprocess.Popen(
            [sys.executable, "-c", _DIES_MID_STEP], env=os.environ, stderr=subprocess.PIPE, text=True
        )
        _, stderr = worker.communicate(timeout=60)
        assert worker.returncode == -9, stderr[-2000:]
        (run,) = [r for r in instance.get_runs() if r.run_id not in before]
        assert run.status == dg.DagsterRunStatus.STARTED
        return run.run_id, worker.pid
