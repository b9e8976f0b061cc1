"""`make dev`: the simulator (clock running), dagster-webserver and dagster-daemon together on 127.0.0.1.

One supervisor owns the three processes. Each child runs in its own process group (session), so a
Ctrl-C in the terminal reaches only the supervisor, which then stops the children in order: SIGTERM to
each child (the Dagster processes shut their code servers down themselves), then SIGTERM and finally
SIGKILL to whatever is left in their groups (code servers, run workers) after a grace period. If any
child dies, the others are stopped the same way and the supervisor exits non-zero, so a half-running
platform never stays up unnoticed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import requests

from racing_platform.lib.dagster_home import ensure_dagster_home
from racing_platform.paths import REPO_ROOT
from racing_platform.source.config import SIMULATOR_URL

HOST = "127.0.0.1"
WEBSERVER_PORT = 3000
SIMULATOR_PORT = urlsplit(SIMULATOR_URL).port  # the source client's default endpoint
GRACE_SECONDS = 15.0
POLL_SECONDS = 0.5


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


class PortInUse(RuntimeError):
    """A port the platform would bind is taken (another `make dev`, or an old webserver)."""


def children(
    *, webserver_port: int, simulator_port: int, seed: int, now: str | None, workspace: Path
) -> list[Child]:
    """The three processes; the Dagster ones load the code location from `workspace`."""
    bin_dir = Path(sys.executable).parent
    simulator = [sys.executable, "-m", "racing_platform.cli", "simulator", "serve"]
    simulator += ["--host", HOST, "--port", str(simulator_port), "--seed", str(seed)]
    if now:
        simulator += ["--now", now, "--running"]
    return [
        Child("simulator", simulator),
        Child(
            "dagster-webserver",
            [str(bin_dir / "dagster-webserver"), "-h", HOST, "-p", str(webserver_port), "-w", str(workspace)],
        ),
        Child("dagster-daemon", [str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)]),
    ]


def run_dev(
    *,
    webserver_port: int = WEBSERVER_PORT,
    simulator_port: int = SIMULATOR_PORT,
    seed: int = 0,
    now: str | None = None,
    grace_seconds: float = GRACE_SECONDS,
    say: Callable[[str], None] = print,
) -> int:
    """Start the platform and supervise it until SIGINT/SIGTERM (exit code 0) or a child's death (1)."""
    for port in (webserver_port, simulator_port):
        _check_free(port)
    home = ensure_dagster_home()
    _create_storage()
    simulator_url = f"http://{HOST}:{simulator_port}/"
    env = dict(os.environ, DAGSTER_HOME=str(home), RACING_COM_GRAPHQL_URL=simulator_url)
    procs = children(
        webserver_port=webserver_port,
        simulator_port=simulator_port,
        seed=seed,
        now=now,
        workspace=REPO_ROOT / "workspace.yaml",
    )
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum, frame) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    failed: str | None = None
    try:
        for child in procs:
            child.process = subprocess.Popen(child.command, env=env, cwd=REPO_ROOT, start_new_session=True)
            say(f"started {child.name} (pid {child.pid})")
        say(f"DAGSTER_HOME={home}; simulator {simulator_url} (seed {seed}); waiting for the webserver ...")
        ready = _Readiness(webserver_port, simulator_port)
        while not stop.wait(POLL_SECONDS):
            dead = [c for c in procs if c.process.poll() is not None]
            if dead:
                failed = ", ".join(f"{c.name} exited with code {c.process.returncode}" for c in dead)
                break
            if ready.check():
                say(
                    f"Dagster UI http://{HOST}:{webserver_port}  (simulator {simulator_url}, clock: "
                    f"{simulator_url}_sim/clock). Ctrl-C stops everything."
                )
    finally:
        say(f"stopping ({failed or ', '.join(received) or 'exiting'}) ...")
        _stop_all(procs, grace_seconds, say)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        say(f"dev platform stopped: {failed}")
        return 1
    say("dev platform stopped")
    return 0


class _Readiness:
    """Reports once that the webserver and the simulator answer (the daemon has no port to ask)."""

    def __init__(self, webserver_port: int, simulator_port: int) -> None:
        self.urls = (
            f"http://{HOST}:{webserver_port}/server_info",
            f"http://{HOST}:{simulator_port}/_sim/health",
        )
        self.done = False

    def check(self) -> bool:
        """True exactly once: on the first poll where both answer."""
        if self.done:
            return False
        try:
            self.done = all(requests.get(url, timeout=2).ok for url in self.urls)
        except requests.RequestException:
            return False
        return self.done


def _create_storage() -> None:
    """Create the instance's SQLite storage here, once: the webserver and the daemon would otherwise both
    create a fresh home's tables at the same moment, and one of them dies on "table alembic_version
    already exists" (`dagster dev` also opens the instance before it starts them)."""
    with dg.DagsterInstance.get() as instance:
        instance.get_runs(limit=1)
        instance.all_instigator_state()
        instance.fetch_materializations(dg.AssetKey("racing_platform_dev"), limit=1)


def _check_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers bind: a port whose last connections are in TIME_WAIT is free, a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            raise PortInUse(f"{HOST}:{port} is in use ({error.strerror}); choose another port") from None


def _stop_all(procs: list[Child], grace_seconds: float, say: Callable[[str], None]) -> None:
    """SIGTERM each child, wait for them, then clear their process groups (SIGTERM, SIGKILL)."""
    started = [c for c in procs if c.process is not None]
    for child in started:
        if child.process.poll() is None:
            _signal(child.pid, signal.SIGTERM, group=False)
    deadline = time.monotonic() + grace_seconds
    for child in started:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {grace_seconds:.0f} s: killing it")
    # Each child led its own session: its pid is the group id of everything it started.
    for child in started:
        _signal(child.pid, signal.SIGTERM, group=True)
    deadline = time.monotonic() + min(5.0, grace_seconds)
    while any(_group_alive(c.pid) for c in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    for child in started:
        if _group_alive(child.pid):
            _signal(child.pid, signal.SIGKILL, group=True)
        child.process.wait()


def _signal(pid: int, sig: signal.Signals, *, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        (os.killpg if group else os.kill)(pid, sig)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies waiting for their parent's wait do not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
