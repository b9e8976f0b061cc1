"""The feature SQL, read from sql/*.sql next to this module."""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources

import duckdb
import pandas as pd


@cache
def sql(name: str) -> str:
    return resources.files("racing_platform.features").joinpath(f"sql/{name}.sql").read_text()


def form_lines_of(conn: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    return conn.execute(sql("form_lines"), {"day": day}).df()


def runner_features_of(conn: duckdb.DuckDBPyConnection, day: date, venue_slug: str) -> pd.DataFrame:
    return conn.execute(sql("runner_features"), {"day": day, "venue": venue_slug}).df()
