"""The replay endpoint and a platform pointed at it: a real Dagster instance, DuckDB file and HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from racing_platform.cards.assets import race_cards, race_results, raw_race_cards
from racing_platform.features.assets import form_lines
from racing_platform.source.assets import meetings
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.replay.recordings import RANDWICK_CELL, RESULT_DAY, ROSEHILL_CELL, ROSEHILL_DATE
from racing_platform_tests.replay.server import RunningReplay, running_replay

# A step that asks Dagster for a retry fails at once, as "RetryRequested but retries are disabled", instead
# of sleeping through its RetryPolicy: the suite sees that a retry was asked for without waiting minutes.
NO_STEP_RETRIES = {"execution": {"config": {"retries": {"disabled": {}}}}}


@dataclass
class ReplayPlatform:
    """The platform on its defaults, pointed at the replay endpoint, with its own instance and files."""

    replay: RunningReplay
    instance: dg.DagsterInstance
    warehouse: Warehouse

    @property
    def resources(self) -> dict:
        return {"racing_com": RacingComResource(graphql_url=self.replay.url), "warehouse": self.warehouse}

    def materialize(self, assets, partition: str | None = None) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            assets,
            partition_key=partition,
            instance=self.instance,
            resources=self.resources,
            raise_on_error=False,
            run_config=NO_STEP_RETRIES,
        )

    def rows(self, table: str, where: str = "TRUE", params: list | None = None) -> pd.DataFrame:
        return self.warehouse.query(f"SELECT * FROM {table} WHERE {where} ORDER BY ALL", params)

    def copy_to(self, database: Path) -> ReplayPlatform:
        """The same instance and endpoint over a copy of this platform's DuckDB file."""
        shutil.copyfile(self.warehouse.database, database)
        return ReplayPlatform(self.replay, self.instance, Warehouse(database=str(database)))


@pytest.fixture(scope="package")
def replay_server() -> Iterator[RunningReplay]:
    with running_replay() as server:
        yield server


@pytest.fixture
def replay(replay_server: RunningReplay) -> Iterator[RunningReplay]:
    """The package's endpoint, with no mutations, queued answers or logged requests left by other tests."""
    replay_server.endpoint.reset()
    yield replay_server
    replay_server.endpoint.reset()


@pytest.fixture(scope="package")
def replay_platform(replay_server, tmp_path_factory) -> Iterator[ReplayPlatform]:
    """A platform over the package's endpoint: its own instance, DuckDB file and data directory."""
    root = tmp_path_factory.mktemp("replay_platform")
    with pytest.MonkeyPatch.context() as env, dg.instance_for_test() as instance:
        env.setenv("RACING_DATA_DIR", str(root / "data"))
        yield ReplayPlatform(replay_server, instance, Warehouse(database=str(root / "racing.duckdb")))


@pytest.fixture(scope="package")
def landed(replay_platform) -> tuple[ReplayPlatform, dict[str, dg.ExecuteInProcessResult]]:
    """The recordings' meetings listed and the cells they can fill materialized, once for the package.

    Royal Randwick 2026-03-07 (resulted) and Rosehill Gardens (a final field) are the recorded meetings
    whose whole-meeting call the recordings answer with runners; form_lines rolls up the resulted day.
    Tests only read this platform's warehouse (hostile cases work on copies of it).
    """
    replay_platform.replay.endpoint.reset()
    outcomes = {day: replay_platform.materialize([meetings], day) for day in (RESULT_DAY, ROSEHILL_DATE)}
    for cell in (RANDWICK_CELL, ROSEHILL_CELL):
        outcomes[cell] = replay_platform.materialize([raw_race_cards, race_cards, race_results], cell)
    outcomes["form_lines"] = replay_platform.materialize([form_lines], RESULT_DAY)
    return replay_platform, outcomes
