"""Resources chosen by profile, in one place, so asset code never branches on environment.

RACING_PROFILE=local (default): the embedded simulator (or RACING_COM_GRAPHQL_URL) and a DuckDB file
at RACING_DUCKDB_PATH (default data/racing.duckdb, resolved absolute); the race clock is the
simulator's; sensors and schedules start RUNNING, so the racing day runs by itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from racing_platform.paths import data_dir
from racing_platform.source.clock import RaceClock
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse

PROFILES = ("local",)


def _profile(profile: str | None) -> str:
    profile = profile or os.environ.get("RACING_PROFILE", "local")
    if profile not in PROFILES:
        raise ValueError(f"unknown RACING_PROFILE {profile!r}; known profiles: {', '.join(PROFILES)}")
    return profile


# Whether a profile's sensors and schedules run as soon as the code location loads.
AUTOMATION_RUNNING = {"local": True}


def default_sensor_status(profile: str | None = None) -> dg.DefaultSensorStatus:
    running = AUTOMATION_RUNNING[_profile(profile)]
    return dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED


def default_schedule_status(profile: str | None = None) -> dg.DefaultScheduleStatus:
    running = AUTOMATION_RUNNING[_profile(profile)]
    return dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED


def duckdb_path() -> str:
    path = Path(os.environ.get("RACING_DUCKDB_PATH") or data_dir() / "racing.duckdb").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _optional_env(name: str) -> dg.EnvVar | None:
    """EnvVar keeps the value out of the UI and run config; unset means the client's default."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def resources_for(profile: str | None = None) -> dict:
    return _RESOURCES[_profile(profile)]()


def _local() -> dict:
    return {
        "racing_com": RacingComResource(
            graphql_url=_optional_env("RACING_COM_GRAPHQL_URL"),
            api_key=_optional_env("RACING_COM_API_KEY"),
        ),
        "race_clock": RaceClock(graphql_url=_optional_env("RACING_COM_GRAPHQL_URL")),
        "warehouse": Warehouse(database=duckdb_path()),
    }


_RESOURCES = {"local": _local}
