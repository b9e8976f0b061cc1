"""Retry policies and pools, defined once for every asset and check."""

from __future__ import annotations

import dagster as dg

from racing_platform.source.client import DAGSTER_RETRY_DELAY_S

# Every step that opens the DuckDB file: DuckDB allows one writing process (limit 1 in dagster.yaml).
DUCKDB_POOL = "duckdb"

# Network steps: the client retries transient faults itself for under DAGSTER_RETRY_DELAY_S, so a
# step retry only happens after the client gave up, and never stacks on top of a client retry.
SOURCE_RETRY = dg.RetryPolicy(
    max_retries=3, delay=DAGSTER_RETRY_DELAY_S, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

# Database-only steps: the DuckDB file locked by another writer for longer than the warehouse's own
# wait (`WarehouseBusyError`, a TransientFault). A reader's lock fails at once and is not retried.
WAREHOUSE_RETRY = dg.RetryPolicy(
    max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.FULL
)

OWNERS = ["team:racing-data"]
