"""Shared Dagster machinery used by every stage (cell runs, metadata)."""
