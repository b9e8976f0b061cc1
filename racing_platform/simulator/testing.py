"""Run the simulator in-process on a real socket (tests, the demo): `with running_simulator(...) as sim`."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import requests
import uvicorn

from racing_platform.simulator.server import create_app
from racing_platform.simulator.world.model import World

STARTUP_TIMEOUT_SECONDS = 15.0


class SimulatorControl:
    """Thin client for the `/_sim/*` control endpoints."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, **kwargs):
        response = self.session.request(method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def health(self) -> dict:
        return self._call("GET", "/_sim/health")

    def clock(self) -> dict:
        return self._call("GET", "/_sim/clock")

    def now(self) -> datetime:
        return datetime.fromisoformat(self.clock()["now"].replace("Z", "+00:00"))

    def wait_until_ready(self, timeout: float = 600.0) -> None:
        """Block until the world is loaded (generating an uncached world takes tens of seconds)."""
        deadline = time.monotonic() + timeout
        while (status := self.session.get(f"{self.base_url}/_sim/health", timeout=self.timeout).json())[
            "status"
        ] == "loading":
            if time.monotonic() > deadline:
                raise TimeoutError(f"simulator world still loading after {timeout:.0f} s")
            time.sleep(0.5)
        if status["status"] != "ok":
            raise RuntimeError(f"simulator world failed to load: {status.get('error')}")

    def set_clock(self, now: datetime | str, *, frozen: bool = True) -> dict:
        value = now.isoformat() if isinstance(now, datetime) else str(now)
        return self._call("POST", "/_sim/clock", json={"now": value, "frozen": frozen})

    def advance(self, seconds: float) -> dict:
        return self._call("POST", "/_sim/clock", json={"advance_seconds": seconds})

    def queue_faults(self, faults: list[dict], match: dict | None = None) -> dict:
        body: dict = {"faults": faults}
        if match is not None:
            body["match"] = match
        return self._call("POST", "/_sim/faults", json=body)

    def clear_faults(self) -> dict:
        return self._call("DELETE", "/_sim/faults")

    def requests_log(self) -> list[dict]:
        return self._call("GET", "/_sim/requests")["requests"]

    def clear_requests(self) -> None:
        self._call("DELETE", "/_sim/requests")

    def truth(self, *, meet_code: str | None = None, race_code: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("meetCode", meet_code), ("raceCode", race_code)) if v}
        return self._call("GET", "/_sim/truth", params=params)["rows"]


@dataclass
class RunningSimulator:
    url: str  # the GraphQL endpoint, ending with "/"
    control: SimulatorControl
    app: object


@contextlib.contextmanager
def running_simulator(
    world: World | None = None, *, seed: int = 0, now: datetime | str | None = None, **opts
) -> Iterator[RunningSimulator]:
    """Serve the simulator with uvicorn on 127.0.0.1 (a free port) in a background thread.

    `opts` go to `create_app` (frozen, fault_rate, fault_seed, clock, api_key, market_noise, flb_beta).
    With `now` the clock is frozen there.
    """
    app = create_app(world, seed=seed, now=now, **opts)
    with serve_in_thread(app, "simulator") as base:
        yield RunningSimulator(url=f"{base}/", control=SimulatorControl(base), app=app)


@contextlib.contextmanager
def serve_in_thread(app, name: str) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (a free port) in a daemon thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"{name}-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"{name} did not start on 127.0.0.1:{port}")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def simulator_process(
    seed: int = 0,
    *,
    now: datetime | str | None = None,
    market_noise: float | None = None,
    flb_beta: float | None = None,
) -> Iterator[RunningSimulator]:
    """Serve the seeded world from a separate process (`racing-platform simulator serve`).

    For long jobs such as the demo: the server then has its own interpreter and core instead of
    competing with the Dagster runs for one GIL. market_noise / flb_beta (None = defaults) choose the
    world's market (`load_world(seed, market_noise, flb_beta)`; a new combination is generated and
    cached by the server on first use, about half a minute: `wait_until_ready` before querying).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "racing_platform.cli", "simulator", "serve", "--port", str(port)]
    command += ["--seed", str(seed)]
    if market_noise is not None:
        command += ["--market-noise", repr(float(market_noise))]
    if flb_beta is not None:
        command += ["--flb-beta", repr(float(flb_beta))]
    if now is not None:
        command += ["--now", now.isoformat() if isinstance(now, datetime) else str(now), "--frozen"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    control = SimulatorControl(base)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"simulator process exited: {process.stderr.read()[-2000:]}")
            try:
                control.health()
                break
            except requests.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"simulator did not start on 127.0.0.1:{port}") from None
                time.sleep(0.1)
        yield RunningSimulator(url=f"{base}/", control=control, app=None)
    finally:
        process.terminate()
        process.wait(timeout=10)
