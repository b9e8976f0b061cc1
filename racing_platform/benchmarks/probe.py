"""One measurement in a fresh process (no world in memory, nothing imported yet), printed as JSON.

`python -m racing_platform.benchmarks.probe load SEED`: `load_world(SEED)` from RACING_DATA_DIR (generated
and cached there when that folder has no cache yet). `... serve SEED`: start the simulator without a
world and time its first GraphQL answer. Used by racing_platform.benchmarks.world.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

FIRST_QUERY_DATE = "2026-03-07"


def load(seed: int) -> dict:
    from racing_platform.simulator.world.generator import load_world

    began = time.perf_counter()
    world = load_world(seed)
    return {
        "seconds": time.perf_counter() - began,
        "meetings": len(world.meetings),
        "races": len(world.races),
    }


def serve(seed: int) -> dict:
    import requests

    from racing_platform.simulator.testing import running_simulator
    from racing_platform.source.client import load_operation

    operation = load_operation("GetMeetingByDate_CD")
    document = {
        "query": operation.text,
        "variables": {"date": FIRST_QUERY_DATE},
        "operationName": "GetMeetingByDate_CD",
    }
    began = time.perf_counter()
    with running_simulator(seed=seed, now=f"{FIRST_QUERY_DATE}T00:00:00Z") as sim:
        bound = time.perf_counter() - began
        first = requests.post(sim.url, json=document, timeout=600)
        first_answer = time.perf_counter() - began
        again = time.perf_counter()
        second = requests.post(sim.url, json=document, timeout=60)
        second_answer = time.perf_counter() - again
    first.raise_for_status()
    second.raise_for_status()
    return {
        "bound_seconds": bound,
        "first_answer_seconds": first_answer,
        "second_answer_seconds": second_answer,
        "meetings_listed": len(first.json()["data"]["GetMeetingByDate"]),
    }


def peak_rss_mb() -> float:
    """This process's own peak (VmHWM); getrusage's ru_maxrss also counts the parent's before exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    what, seed = sys.argv[1], int(sys.argv[2])
    began = time.perf_counter()
    figures = {"load": load, "serve": serve}[what](seed)
    figures["process_seconds"] = time.perf_counter() - began
    figures["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
