"""The local Dagster instance: DAGSTER_HOME (default data/dagster_home) with the committed dagster.yaml."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from racing_platform.paths import config_dir, data_dir


def ensure_dagster_home() -> Path:
    """Create DAGSTER_HOME if needed and give it the local profile's dagster.yaml unless it has one."""
    home = Path(os.environ.get("DAGSTER_HOME") or data_dir() / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(config_dir() / "dagster" / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home
