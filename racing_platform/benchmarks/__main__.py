"""`python -m racing_platform.benchmarks [--size small|month|season] [--only NAME,...] [--json]`.

See docs/benchmarks.md for what each benchmark measures and the recorded figures.

Figures go to stdout as markdown tables; everything on stderr (Dagster's event log, warnings, the
simulator) goes to a log file so the tables stay readable. With `--json` the last line of stdout is one
JSON object keyed by figure (`B1`, `B2`, `B5`, ...), each `{"value": ..., "unit": ..., "target": ...}`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date

from racing_platform.benchmarks.timing import machine_summary, table
from racing_platform.settings import Scope, load_settings


@dataclass(frozen=True)
class Size:
    client_days: int
    client_rounds: int
    backfill_days: int
    backfill_last_day: date
    form_lines: int
    full_calendar: bool  # time load_world cold/cached and the simulator's start (~1 min, ~2 GB)


SIZES = {
    "small": Size(3, 2, 7, date(2026, 3, 7), 200_000, False),
    "month": Size(7, 3, 30, date(2026, 3, 7), 1_000_000, True),
    "season": Size(7, 3, 365, date(2026, 7, 31), 1_000_000, True),
}
BENCHMARKS = ("source", "features", "world", "backfill", "drills", "model", "racing_day")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m racing_platform.benchmarks", description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="month", help="default: month")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--states", help="backfill scope (default: the demo's, configs/platform.yaml)")
    parser.add_argument("--tiers", help="backfill scope tiers, e.g. metro,provincial")
    parser.add_argument("--days", type=int, help="backfill days (default: by size)")
    parser.add_argument("--last-day", type=date.fromisoformat, help="backfill's last day (default: by size)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1, help="racing_day: rounds of the scenario")
    parser.add_argument("--log", help="where stderr goes (default: a new file in the temp folder)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object, last")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    log_path = args.log or tempfile.mkstemp(prefix="racing-bench-", suffix=".log")[1]
    print(f"# Benchmarks, size {args.size}: {', '.join(chosen)}\n\nstderr (Dagster, simulator) -> {log_path}")
    table("Machine", ["what", "value"], machine_summary())
    sys.stderr.flush()
    with open(log_path, "a") as log:
        os.dup2(log.fileno(), 2)
    began = time.perf_counter()
    figures: dict[str, dict] = {}
    for name in chosen:
        started = time.perf_counter()
        print(f"\n## {name}", flush=True)
        if name == "source":
            from racing_platform.benchmarks import source

            source.run(days=size.client_days, rounds=size.client_rounds, seed=args.seed)
        elif name == "features":
            from racing_platform.benchmarks import features

            figures.update(features.run(rows=size.form_lines, seed=args.seed) or {})
        elif name == "world":
            from racing_platform.benchmarks import world

            world.run(full_calendar=size.full_calendar, seed=args.seed)
        elif name == "model":
            from racing_platform.benchmarks import model

            figures.update(
                model.run(seed=args.seed, scope=_scope(args.states, args.tiers), today=date.today())
            )
        elif name == "racing_day":
            from racing_platform.benchmarks import racing_day

            figures.update(racing_day.run(seed=args.seed, rounds=args.rounds))
        elif name == "drills":
            from racing_platform.benchmarks import drills

            drills.run(
                days=args.days or 7,
                last=args.last_day or drills.DEFAULT_LAST_DAY,
                scope=_scope(args.states, args.tiers),
                seed=args.seed,
            )
        else:
            from racing_platform.benchmarks import backfill

            figures.update(
                backfill.run(
                    days=args.days or size.backfill_days,
                    last=args.last_day or size.backfill_last_day,
                    scope=_scope(args.states, args.tiers),
                    seed=args.seed,
                )
            )
        print(f"\n({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    print(f"\nAll done in {time.perf_counter() - began:.0f} s.")
    if args.json:
        print(json.dumps(figures, sort_keys=True))


def _scope(states: str | None, tiers: str | None) -> Scope:
    demo = load_settings().demo_scope
    return Scope(
        frozenset(s.strip().upper() for s in states.split(",")) if states else demo.states,
        frozenset(t.strip() for t in tiers.split(",")) if tiers else demo.tiers,
        demo.include_trials,
    )


if __name__ == "__main__":
    main()
