"""Fixtures shared by every stage's tests: a real DuckDB file, a real Dagster instance, a real simulator."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

import dagster as dg
import pandas as pd
import pytest

from racing_platform.simulator.testing import RunningSimulator, running_simulator
from racing_platform.simulator.world.model import World
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.worlds import build_world


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    """A real DuckDB file in the test's temporary directory."""
    return Warehouse(database=str(tmp_path / "racing.duckdb"))


@dataclass
class Platform:
    """The platform on its embedded defaults, pointed at a simulator, with its own instance and files."""

    sim: RunningSimulator
    instance: dg.DagsterInstance
    warehouse: Warehouse

    @property
    def resources(self) -> dict:
        return {"racing_com": RacingComResource(graphql_url=self.sim.url), "warehouse": self.warehouse}

    def materialize(
        self,
        assets,
        partition: str | None = None,
        *,
        range_: tuple[str, str] | None = None,
        run_config=None,
        selection=None,
    ) -> dg.ExecuteInProcessResult:
        tags = {}
        if range_:
            tags = {
                "dagster/asset_partition_range_start": range_[0],
                "dagster/asset_partition_range_end": range_[1],
            }
        return dg.materialize(
            assets,
            partition_key=partition,
            instance=self.instance,
            resources=self.resources,
            tags=tags,
            run_config=run_config,
            selection=selection,
            raise_on_error=False,
        )

    def rows(self, table: str, order_by: str = "ALL") -> pd.DataFrame:
        return self.warehouse.query(f"SELECT * FROM {table} ORDER BY {order_by}")


@pytest.fixture
def platform_for(tmp_path, monkeypatch):
    """`platform_for(world, now, **opts)` starts a simulator over `world` with its clock frozen at `now`
    (`opts` go to the simulator's `create_app`, e.g. `api_key`)."""
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path / "data"))
    warehouse = Warehouse(database=str(tmp_path / "racing.duckdb"))
    with dg.instance_for_test() as instance, ExitStack() as servers:

        def start(world: World, now: str, **opts) -> Platform:
            sim = servers.enter_context(running_simulator(world, now=now, **opts))
            return Platform(sim=sim, instance=instance, warehouse=warehouse)

        yield start


@pytest.fixture
def tiny_world() -> World:
    return build_world()
