"""Fixtures shared by every stage's tests."""

from __future__ import annotations

import pytest

from racing_platform.warehouse.resource import Warehouse


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    """A real DuckDB file in the test's temporary directory."""
    return Warehouse(database=str(tmp_path / "racing.duckdb"))
