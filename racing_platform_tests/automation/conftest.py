"""The sensors on a real instance, against the real simulator over HTTP and a real DuckDB file.

A tick is a sensor evaluated with `dg.build_sensor_context` on the test's instance, given the cursor
the previous tick stored (as the daemon does). A sensor called directly does not apply its dynamic
partition requests, so `apply` does what the daemon would; `run` executes a requested run in process
with the code location's own job definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
import pytest

from racing_platform.definitions import ASSETS
from racing_platform.jobs import JOBS
from racing_platform.simulator.world.model import World
from racing_platform.source.clock import RaceClock
from racing_platform_tests.conftest import Platform


@dataclass
class Automation:
    """A platform plus its sensors' cursors, ticking as the daemon would."""

    platform: Platform
    cursors: dict[str, str | None] = field(default_factory=dict)

    @property
    def instance(self) -> dg.DagsterInstance:
        return self.platform.instance

    @property
    def control(self):
        return self.platform.sim.control

    @property
    def resources(self) -> dict:
        return {**self.platform.resources, "race_clock": RaceClock(graphql_url=self.platform.sim.url)}

    def tick(self, sensor: dg.SensorDefinition) -> dg.SensorResult:
        """One tick from the stored cursor, on a fresh context (a restart loses nothing but the process)."""
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.cursors.get(sensor.name), resources=self.resources
        ) as context:
            result = sensor(context)
        self.cursors[sensor.name] = result.cursor
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        return result

    def run(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        defs = dg.Definitions(
            assets=ASSETS, jobs=JOBS, resources=self.resources, executor=dg.in_process_executor
        )
        job = defs.resolve_job_def(request.job_name)
        return job.execute_in_process(
            instance=self.instance,
            partition_key=request.partition_key,
            run_config=request.run_config,
            tags=request.tags,
            raise_on_error=False,
        )


def run_keys(result: dg.SensorResult) -> list[str]:
    return [r.run_key for r in result.run_requests or []]


@pytest.fixture
def automation_for(platform_for):
    """`automation_for(world, now)`: a simulator over `world` frozen at `now`, an instance, a DuckDB file."""

    def start(world: World, now: str, **opts) -> Automation:
        return Automation(platform_for(world, now, **opts))

    return start
