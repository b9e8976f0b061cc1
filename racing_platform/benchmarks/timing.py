"""Shared by every benchmark: best-of timing, scratch directories, and printing figures as markdown."""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path

from racing_platform.paths import REPO_ROOT


def best_of(work: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` timings: the least disturbed by other work on a shared machine."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as took: ...` then `took[0]` is the block's wall time in seconds."""
    took: list[float] = []
    began = time.perf_counter()
    try:
        yield took
    finally:
        took.append(time.perf_counter() - began)


@contextlib.contextmanager
def scratch_env(prefix: str, **extra: str) -> Iterator[Path]:
    """A fresh temporary RACING_DATA_DIR and DAGSTER_HOME (plus `extra` variables), restored afterwards."""
    names = ["RACING_DATA_DIR", "DAGSTER_HOME", *extra]
    saved = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory(prefix=f"racing-bench-{prefix}-") as scratch:
        root = Path(scratch)
        os.environ["RACING_DATA_DIR"] = str(root / "data")
        os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
        os.environ.update(extra)
        try:
            yield root
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def reload_code_location() -> None:
    """The code location resolves its resources (the DuckDB path) at import, and backfill runs execute
    the imported module: re-import it so this scratch environment's files are the ones written."""
    module = sys.modules.get("racing_platform.definitions")
    if module is not None:
        importlib.reload(module)


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline > 0 else "n/a"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a markdown table (ready to paste into docs/benchmarks.md)."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(_cell(value) for value in row) + " |")
    print(flush=True)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def machine_summary() -> list[tuple[str, str]]:
    """What a figure was measured on: date, commit, CPU, cores, memory, load and library versions."""
    return [
        ("date", datetime.now().astimezone().isoformat(timespec="seconds")),
        (
            "commit",
            _git("rev-parse", "--short", "HEAD") + (" (dirty tree)" if _git("status", "--porcelain") else ""),
        ),
        ("cpu", _cpu_model()),
        ("cores", str(os.cpu_count())),
        ("memory", _memory()),
        ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("python", platform.python_version()),
        *[(package, _version(package)) for package in ("dagster", "duckdb", "pandas", "catboost", "uvicorn")],
    ]


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
