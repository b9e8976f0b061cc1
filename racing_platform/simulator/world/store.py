"""On-disk cache of generated worlds: one parquet file per table plus meta.json, written atomically.

meta.json is written last, so a directory without it is an interrupted write and is regenerated.
The hidden market scores (what odds_for_race needs) live in market.parquet beside the tables.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

TABLES = ("venues", "meetings", "races", "entries", "horses", "jockeys", "trainers", "market")


def is_complete(directory: Path) -> bool:
    return (directory / "meta.json").is_file() and all((directory / f"{t}.parquet").is_file() for t in TABLES)


def write_tables(directory: Path, tables: dict[str, pd.DataFrame], meta: dict) -> None:
    """Write to a sibling temp directory, then rename into place (readers never see half a world).

    When another process finished the same cache first, its copy is kept (both are the same world).
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        for name in TABLES:
            tables[name].to_parquet(staging / f"{name}.parquet", index=False)
        (staging / "meta.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
        staging.chmod(0o755)
        if is_complete(directory):
            return
        if directory.exists():
            shutil.rmtree(directory)
        try:
            os.replace(staging, directory)
        except OSError:
            if not is_complete(directory):
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def read_tables(directory: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    if not is_complete(directory):
        raise FileNotFoundError(f"world cache {directory} is incomplete (no meta.json or a missing table)")
    tables = {name: pd.read_parquet(directory / f"{name}.parquet") for name in TABLES}
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    return tables, meta
