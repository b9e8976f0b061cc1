"""Failures by class: only a transient fault is retried; anything else ends the step at once.

A transient fault (connection error, timeout, 5xx, 429, the DuckDB file locked by another writer) may
pass if the same step runs again a little later, so it propagates unchanged and the step's
RetryPolicy handles it. Anything else (a bug, a wrong answer, a broken rule, a file held open by a
reader) would fail the same way again: it becomes `Failure(allow_retries=False)` naming where it
happened, so it surfaces in seconds instead of after minutes of retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg


class TransientFault(Exception):
    """Marker base of every error that retrying the same work later may cure."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TransientFault)


def step_location(context: dg.AssetExecutionContext) -> str:
    """`asset [partition or range]`, the prefix of every failure a step raises."""
    name = context.asset_key.to_user_string() if context.has_assets_def else context.op.name
    if not context.has_partition_key and not context.has_partition_key_range:
        return name
    keys = context.partition_keys
    if len(keys) == 1:
        return f"{name} [{keys[0]}]"
    return f"{name} [{keys[0]} .. {keys[-1]}, {len(keys)} partitions]"


@contextmanager
def failures_by_class(where: str) -> Iterator[None]:
    """Let transient faults and Dagster's own failures through; end the step on anything else."""
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        raise dg.Failure(
            description=f"{where}: {type(exc).__name__}: {exc}",
            metadata={"where": where, "error": type(exc).__name__},
            allow_retries=False,
        ) from exc
