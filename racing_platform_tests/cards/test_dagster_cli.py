"""The documented command works on a real instance: `dagster asset materialize … --partition 'D|venue'`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from racing_platform.simulator.testing import running_simulator
from racing_platform_tests.worlds import AFTER_MEETING, RACE_DAY, build_world

DAGSTER = Path(sys.executable).with_name("dagster")


def _materialize(select: str, partition: str, env: dict) -> subprocess.CompletedProcess:
    command = [
        str(DAGSTER),
        "asset",
        "materialize",
        "-m",
        "racing_platform.definitions",
        "--select",
        select,
        "--partition",
        partition,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_dagster_cli_materializes_meetings_then_a_date_venue_cell(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    database = tmp_path / "racing.duckdb"
    with running_simulator(build_world(), now=AFTER_MEETING) as sim:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "RACING_DATA_DIR": str(tmp_path / "data"),
            "RACING_DUCKDB_PATH": str(database),
            "RACING_COM_GRAPHQL_URL": sim.url,
        }
        listed = _materialize("meetings", RACE_DAY.isoformat(), env)
        assert listed.returncode == 0, listed.stderr[-3000:]
        cell = _materialize("raw_race_cards,race_cards,race_results", f"{RACE_DAY}|flemington", env)
        assert cell.returncode == 0, cell.stderr[-3000:]
    with duckdb.connect(str(database), read_only=True) as conn:
        races = conn.execute("SELECT meet_code, count(*) FROM races GROUP BY ALL").fetchall()
        winners = conn.execute("SELECT count(*) FROM results WHERE finish_position = 1").fetchone()[0]
    assert races == [("5100002", 3)]
    assert winners == 3
