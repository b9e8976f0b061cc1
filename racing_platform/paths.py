"""Where the project's configuration and local data live (one place, overridable by env)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def config_dir() -> Path:
    return Path(os.environ.get("RACING_CONFIG_DIR", REPO_ROOT / "configs")).resolve()


def data_dir() -> Path:
    return Path(os.environ.get("RACING_DATA_DIR", REPO_ROOT / "data")).resolve()
