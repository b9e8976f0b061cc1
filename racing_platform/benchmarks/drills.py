"""Fault drills: the stored cards after transient faults, an outage and concurrent writers, as figures.

Every drill goes through the assets as Dagster runs on a fresh instance and DuckDB file, against the
simulator serving one seeded world, and compares what was stored with a fault-free pass over the same
world. Rows are compared on their content, without the columns that record when they were fetched.

* faults: a week of the demo's scope with a share of requests answered by a transient fault (5xx, 429,
  a body cut short): rows lost, duplicated or changed against the clean pass, failed runs, requests.
* outage: a stored cell re-fetched while every request fails: time until the step gives up its
  first attempt, stored rows changed meanwhile, time to land once the source is back.
* writers: several processes materializing different cells at once on one instance and DuckDB file:
  failed runs and lock errors.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
import pandas as pd

from racing_platform.benchmarks.timing import reload_code_location, scratch_env, stopwatch, table
from racing_platform.demo import CARD_ASSETS
from racing_platform.lib.backfill import backfill, run_assets, scoped_cells
from racing_platform.lib.dagster_home import ensure_dagster_home
from racing_platform.resources import resources_for
from racing_platform.settings import Scope, load_settings
from racing_platform.simulator.testing import running_simulator
from racing_platform.simulator.world.generator import generate_world

DEFAULT_LAST_DAY = date(2026, 3, 7)
# Content keys of each stored card table; columns stamped at fetch time are not content.
TABLE_KEYS = {
    "races": ["race_code"],
    "runners": ["race_code", "saddlecloth"],
    "results": ["race_code", "horse_name"],
    "odds": ["entry_id", "provider_code"],
}
FETCH_STAMPS = {"fetched_at", "first_fetched_at", "last_fetched_at"}
OUTAGE_FAULTS = 400  # more 503s than the client's retries and one Dagster retry can use
WRITERS = 4


@dataclass
class CardsPass:
    tables: dict[str, pd.DataFrame]
    cells: list[tuple[date, str]]
    runs: int
    failed_runs: int
    requests: int
    faults: int
    seconds: float


def run(
    *,
    days: int = 7,
    last: date = DEFAULT_LAST_DAY,
    scope: Scope | None = None,
    seed: int = 0,
    fault_rate: float = 0.2,
) -> None:
    first = last - timedelta(days=days - 1)
    scope = scope or load_settings().demo_scope
    world = generate_world(seed, start=first, end=last)
    # Mid-afternoon of the last day (Sydney): its meetings are live, so their races are fetched one by
    # one (fields before the jump, results after), as on a racing day; the days before are history.
    now = f"{last}T05:00:00Z"
    clean = cards_pass(world, now, first, last, scope, fault_rate=0.0, seed=seed)
    faulty = cards_pass(world, now, first, last, scope, fault_rate=fault_rate, seed=seed)
    rows = [
        (name, len(clean.tables[name]), *compare(clean.tables[name], faulty.tables[name], keys))
        for name, keys in TABLE_KEYS.items()
    ]
    table(
        f"Transient faults: {days} days, {len(clean.cells)} cells, {fault_rate:.0%} of requests faulted",
        ["table", "clean rows", "lost", "duplicated", "changed"],
        rows,
    )
    table(
        "The two passes",
        ["pass", "runs", "failed runs", "requests", "faults served", "seconds"],
        [
            (label, p.runs, p.failed_runs, p.requests, p.faults, f"{p.seconds:.0f}")
            for label, p in (("clean", clean), ("faulty", faulty))
        ],
    )
    outage = outage_drill(world, now, clean.cells[0])
    table("Outage of the source while re-fetching a stored cell", ["figure", "value"], outage)
    writers = writers_drill(world, now, clean.cells[:WRITERS])
    table(f"{WRITERS} processes writing different cells at once", ["figure", "value"], writers)


def cards_pass(world, now: str, first: date, last: date, scope: Scope, *, fault_rate: float, seed: int):
    """meetings for the window, then every scoped cell's cards and results, on a fresh instance."""
    with (
        scratch_env("drill-cards"),
        # The faults' own random sequence, apart from the world's seed.
        running_simulator(world, now=now, fault_rate=fault_rate, fault_seed=seed + 1) as sim,
        _platform(sim.url) as (defs, instance, warehouse),
        stopwatch() as took,
    ):
        listed = backfill(instance, ["meetings"], days=(first, last))
        cells = scoped_cells(warehouse, scope, first, last)
        cards = backfill(instance, CARD_ASSETS, cells=cells)
        log = sim.control.requests_log()
        tables = {name: stored_content(warehouse, name) for name in TABLE_KEYS}
    return CardsPass(
        tables=tables,
        cells=cells,
        runs=listed.runs + cards.runs,
        failed_runs=len(listed.failed) + len(cards.failed),
        requests=len(log),
        faults=sum(1 for entry in log if entry.get("fault")),
        seconds=took[0],
    )


def stored_content(warehouse, name: str) -> pd.DataFrame:
    frame = warehouse.query(f"SELECT * FROM {name}")
    return frame.drop(columns=[c for c in frame.columns if c in FETCH_STAMPS])


def compare(clean: pd.DataFrame, faulty: pd.DataFrame, keys: list[str]) -> tuple[int, int, int]:
    """(lost, duplicated, changed) rows of `faulty` against `clean`, matched on `keys`."""
    as_text = lambda frame: frame.astype(str).set_index(keys).sort_index()  # noqa: E731
    clean_rows, faulty_rows = as_text(clean), as_text(faulty)
    lost = int((~clean_rows.index.isin(faulty_rows.index)).sum())
    duplicated = int(faulty_rows.index.duplicated().sum())
    common = clean_rows.index.intersection(faulty_rows.index[~faulty_rows.index.duplicated()])
    left = clean_rows.loc[common]
    right = faulty_rows[~faulty_rows.index.duplicated()].loc[common, left.columns]
    changed = int((left != right).any(axis=1).sum())
    return lost, duplicated, changed


def outage_drill(world, now: str, cell: tuple[date, str]) -> list[tuple[str, str]]:
    key = f"{cell[0].isoformat()}|{cell[1]}"
    with (
        scratch_env("drill-outage"),
        running_simulator(world, now=now) as sim,
        _platform(sim.url) as (defs, instance, warehouse),
    ):
        backfill(instance, ["meetings"], days=(cell[0], cell[0]))
        run_assets(defs, instance, CARD_ASSETS, partition_key=key)
        before = {name: stored_content(warehouse, name) for name in TABLE_KEYS}
        sim.control.queue_faults([{"kind": "status", "status": 503}] * OUTAGE_FAULTS)
        outcome: dict = {}
        began = time.perf_counter()
        worker = threading.Thread(
            target=lambda: outcome.update(
                result=run_assets(defs, instance, ["raw_race_cards"], partition_key=key)
            )
        )
        worker.start()
        first_failure = _wait_for_event(instance, dg.DagsterEventType.STEP_UP_FOR_RETRY, began, worker)
        during = {name: stored_content(warehouse, name) for name in TABLE_KEYS}
        sim.control.clear_faults()
        worker.join()
        landed = time.perf_counter() - began
    changed = sum(sum(compare(before[n], during[n], k)) for n, k in TABLE_KEYS.items())
    return [
        ("first attempt gave up after (s)", f"{first_failure:.0f}" if first_failure else "never"),
        ("stored rows lost, duplicated or changed during the outage", str(changed)),
        ("run succeeded once the source was back", str(outcome["result"].success)),
        ("outage start to landed (s, includes the RetryPolicy delay)", f"{landed:.0f}"),
    ]


def _wait_for_event(instance, kind, began: float, worker: threading.Thread) -> float | None:
    while worker.is_alive():
        if instance.get_event_records(dg.EventRecordsFilter(event_type=kind), limit=1):
            return time.perf_counter() - began
        time.sleep(0.5)
    return None


WRITER_SCRIPT = """
import sys
import dagster as dg
from racing_platform.definitions import defs
from racing_platform.lib.backfill import run_assets
with dg.DagsterInstance.get() as instance:
    result = run_assets(defs, instance, {assets!r}, partition_key=sys.argv[1])
sys.exit(0 if result.success else 1)
"""


def writers_drill(world, now: str, cells: list[tuple[date, str]]) -> list[tuple[str, str]]:
    with (
        scratch_env("drill-writers"),
        running_simulator(world, now=now) as sim,
        _platform(sim.url) as (defs, instance, warehouse),
    ):
        for day in sorted({d for d, _ in cells}):
            backfill(instance, ["meetings"], days=(day, day))
        script = WRITER_SCRIPT.format(assets=CARD_ASSETS)
        with stopwatch() as took:
            workers = [
                subprocess.Popen(
                    [sys.executable, "-c", script, f"{d.isoformat()}|{v}"],
                    env=dict(os.environ),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for d, v in cells
            ]
            outputs = [(w.wait(), w.stderr.read()) for w in workers]
        lock_errors = sum("Could not set lock" in err for _, err in outputs)
        stored = warehouse.query("SELECT count(DISTINCT (meeting_date, venue_slug)) AS n FROM races")["n"][0]
    return [
        ("writers", str(len(cells))),
        ("failed runs", str(sum(code != 0 for code, _ in outputs))),
        ("runs that hit a DuckDB lock error", str(lock_errors)),
        ("cells stored", f"{stored} of {len(cells)}"),
        ("wall time (s)", f"{took[0]:.0f}"),
    ]


@contextlib.contextmanager
def _platform(url: str):
    """The code location's assets on this scratch environment's instance, pointed at the simulator."""
    os.environ["RACING_COM_GRAPHQL_URL"] = url
    try:
        ensure_dagster_home()
        reload_code_location()
        from racing_platform.definitions import ASSETS

        defs = dg.Definitions(assets=ASSETS, resources=resources_for(), executor=dg.in_process_executor)
        with dg.DagsterInstance.get() as instance:
            yield defs, instance, defs.resources["warehouse"]
    finally:
        del os.environ["RACING_COM_GRAPHQL_URL"]
