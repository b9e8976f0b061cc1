"""World generation per season, `load_world` cold vs cached, the simulator's first answer, odds per race.

`load_world` and the simulator's start are timed in fresh processes (racing_platform.benchmarks.probe)
on a fresh RACING_DATA_DIR, so "cold" really generates the full calendar and "cached" really reads the
parquet cache; the baseline for both is the cached load. Odds: `World.odds_for_race` per race, and a
race's first results answer over HTTP (its prices computed) against the same answer again (prices cached).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date

import numpy as np
import requests

from racing_platform.benchmarks.timing import ratio, scratch_env, stopwatch, table
from racing_platform.simulator.testing import running_simulator
from racing_platform.simulator.world.generator import generate_world
from racing_platform.source.client import load_operation

SEASON = (date(2024, 8, 1), date(2025, 7, 31))
RACES_SAMPLED = 30


def run(*, full_calendar: bool, seed: int = 0) -> None:
    with stopwatch() as took:
        world = generate_world(seed, start=SEASON[0], end=SEASON[1])
    table(
        f"generate_world for one season ({SEASON[0]}..{SEASON[1]}, all venues, 150-day burn-in included)",
        ["meetings", "races", "entries", "horses", "seconds"],
        [[len(world.meetings), len(world.races), len(world.entries), len(world.horses), took[0]]],
    )
    if full_calendar:
        _load_and_serve(seed)
    _odds(world)


def _load_and_serve(seed: int) -> None:
    with scratch_env("world"):
        cold = _probe("load", seed)
        cached = _probe("load", seed)
        served = _probe("serve", seed)
    base = cached["seconds"]
    table(
        "load_world (full calendar) and the simulator's first answer, each in a fresh process",
        ["what", "seconds", "process wall s", "peak RSS MB", "vs cached load_world"],
        [
            [
                "load_world cold (generate + write parquet cache)",
                cold["seconds"],
                cold["wall"],
                cold["peak_rss_mb"],
                ratio(cold["seconds"], base),
            ],
            ["load_world cached (parquet)", base, cached["wall"], cached["peak_rss_mb"], "1.00x"],
            [
                "simulator bound to its socket",
                served["bound_seconds"],
                "",
                "",
                ratio(served["bound_seconds"], base),
            ],
            [
                "simulator first GraphQL answer (cached world)",
                served["first_answer_seconds"],
                served["wall"],
                served["peak_rss_mb"],
                ratio(served["first_answer_seconds"], base),
            ],
            [
                "same query again",
                served["second_answer_seconds"],
                "",
                "",
                ratio(served["second_answer_seconds"], base),
            ],
        ],
    )
    print(f"full calendar: {cold['meetings']} meetings, {cold['races']} races")


def _probe(what: str, seed: int) -> dict:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "racing_platform.benchmarks.probe", what, str(seed)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall"] = time.perf_counter() - began
    return figures


def _odds(world) -> None:
    """Direct OddsBook time per race, and a cold vs warm results answer over HTTP for the same races."""
    meetings = world.meetings.set_index("meet_code")
    professional = ~(meetings["is_trial"] | meetings["is_jumpout"])
    races = world.races[world.races["meet_code"].map(professional)]
    sample = races.sample(RACES_SAMPLED, random_state=0)
    direct = []
    for code in sample["race_code"]:
        began = time.perf_counter()
        world.odds_for_race(code)
        direct.append(time.perf_counter() - began)
    document = load_operation("getRaceResults_CD").text
    cold, warm = [], []
    with running_simulator(world, now=f"{SEASON[1]}T23:00:00Z") as sim:
        session = requests.Session()
        for race in sample.itertuples(index=False):
            body = {
                "query": document,
                "variables": {"meetCode": str(race.meet_code), "raceNumber": int(race.race_number)},
                "operationName": "getRaceResults_CD",
            }
            for timings in (cold, warm):
                began = time.perf_counter()
                session.post(sim.url, json=body, timeout=120).raise_for_status()
                timings.append(time.perf_counter() - began)
    table(
        f"Odds per race ({RACES_SAMPLED} random professional races of the season; median ms)",
        ["what", "median ms", "p90 ms", "vs warm results answer"],
        [
            ["World.odds_for_race (direct)", *_ms(direct), ratio(np.median(direct), np.median(warm))],
            [
                "getRaceResults_CD, first time (prices computed)",
                *_ms(cold),
                ratio(np.median(cold), np.median(warm)),
            ],
            ["getRaceResults_CD, again (prices cached)", *_ms(warm), "1.00x"],
        ],
    )


def _ms(seconds: list[float]) -> list[str]:
    return [f"{1000 * np.median(seconds):.1f}", f"{1000 * np.percentile(seconds, 90):.1f}"]
