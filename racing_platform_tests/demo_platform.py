"""A short `make demo` built into a directory, for tests that need a platform with history and prices.

The browser test serves its Dagster instance; the end-to-end test copies the directory and runs its own
writable instance from the copy. Building it is the demo itself (run_demo): a real simulator process,
Dagster backfills in a real instance and a DuckDB file, all under `root`. Without a cached world in
`root/data` the simulator generates the seed's world first (about a minute); the world is then cached
there, so a copy of the directory serves it at once.
"""

from __future__ import annotations

import importlib
import os
import random
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from racing_platform.demo import DemoResult, run_demo

TODAY = date(2025, 3, 1)  # a Saturday: VIC and NSW metro meetings
HISTORY_DAYS = 4  # the model's two stages need ~20 races each before today

# What the platform reads from the environment to find its files and its source.
PLATFORM_ENV = ("RACING_DATA_DIR", "DAGSTER_HOME", "RACING_DUCKDB_PATH", "RACING_COM_GRAPHQL_URL")


@dataclass(frozen=True)
class DemoPlatform:
    """A built demo: its directories and files, and what the demo reported."""

    root: Path
    data_dir: Path
    dagster_home: Path
    duckdb_path: Path
    today: date
    seed: int
    result: DemoResult

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for a subprocess (dagster-webserver, dagster-daemon) over this platform's files.

        RACING_COM_GRAPHQL_URL is dropped: the demo's simulator is gone, and the client's default (the
        local simulator endpoint) is what a user's `make dev` would use.
        """
        env = dict(os.environ if base is None else base)
        env.pop("RACING_DUCKDB_PATH", None)
        env.pop("RACING_COM_GRAPHQL_URL", None)
        env["RACING_DATA_DIR"] = str(self.data_dir)
        env["DAGSTER_HOME"] = str(self.dagster_home)
        return env


def build_demo_platform(
    root: Path, *, today: date = TODAY, history_days: int = HISTORY_DAYS, seed: int = 0
) -> DemoPlatform:
    """Run the demo into `root` (data/, data/dagster_home/, data/racing.duckdb) and return its paths.

    The process environment and `racing_platform.definitions` are restored afterwards, so the caller's
    tests see the platform as before.
    """
    root = Path(root).resolve()
    data = root / "data"
    home = data / "dagster_home"
    with platform_env(data, home):
        result = run_demo(seed=seed, history_days=history_days, today=today, say=lambda line: None)
    return DemoPlatform(
        root=root,
        data_dir=data,
        dagster_home=home,
        duckdb_path=data / "racing.duckdb",
        today=today,
        seed=seed,
        result=result,
    )


@contextmanager
def platform_env(data: Path, home: Path) -> Iterator[None]:
    """Point the platform's environment (and its resources, chosen when `racing_platform.definitions` is
    imported) at `data` and `home`; restore both on exit."""
    saved = {name: os.environ.get(name) for name in PLATFORM_ENV}
    os.environ["RACING_DATA_DIR"] = str(data)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.pop("RACING_DUCKDB_PATH", None)
    os.environ.pop("RACING_COM_GRAPHQL_URL", None)
    _reload_definitions()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reload_definitions()


def _reload_definitions() -> None:
    """Resources are resolved when the module is imported: a reload points them at the current env."""
    if "racing_platform.definitions" in sys.modules:
        importlib.reload(sys.modules["racing_platform.definitions"])


def free_loopback_port() -> int:
    """A port free on 127.0.0.1 below the kernel's ephemeral range, for a server a test starts.

    A port the kernel hands out for bind(0) comes from the ephemeral range, and between the test's check
    and the server's bind the kernel may give it to an outgoing connection (the code servers and the
    daemon open many): below the range, only another listener can take it.
    """
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(max(1024, low - 12_000), low), 200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port on 127.0.0.1 below the ephemeral range")
