"""Resources chosen by profile, in one place, so asset code never branches on environment.

RACING_PROFILE=local (default): the embedded simulator (or RACING_COM_GRAPHQL_URL) and a DuckDB file
at RACING_DUCKDB_PATH (default data/racing.duckdb, resolved absolute).
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from racing_platform.paths import data_dir
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse

PROFILES = ("local",)


def duckdb_path() -> str:
    path = Path(os.environ.get("RACING_DUCKDB_PATH") or data_dir() / "racing.duckdb").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _optional_env(name: str) -> dg.EnvVar | None:
    """EnvVar keeps the value out of the UI and run config; unset means the client's default."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def resources_for(profile: str | None = None) -> dict:
    profile = profile or os.environ.get("RACING_PROFILE", "local")
    if profile == "local":
        return {
            "racing_com": RacingComResource(
                graphql_url=_optional_env("RACING_COM_GRAPHQL_URL"),
                api_key=_optional_env("RACING_COM_API_KEY"),
            ),
            "warehouse": Warehouse(database=duckdb_path()),
        }
    raise ValueError(f"unknown RACING_PROFILE {profile!r}; known profiles: {', '.join(PROFILES)}")
