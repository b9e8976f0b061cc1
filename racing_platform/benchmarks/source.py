"""Client requests/s over real HTTP against the simulator, and parser runners/s, each against a bare baseline.

Client: `RacingComClient.execute` (politeness ledger, archive, shape check, retries armed, politeness
unlimited) vs bare `requests.post` of the same JSON documents, and vs a keep-alive `requests.Session`
(the client's transport keeps its connection too). The simulator is warmed first so both sides are
served from the same caches; passes alternate and each side keeps its fastest.

Parsers: `parse_response` on the simulator's answers and on the three recorded racing.com answers in
shared/fixtures/racing_com vs `json.loads` of the same bodies.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import requests

from racing_platform.benchmarks.timing import best_of, ratio, scratch_env, table
from racing_platform.paths import REPO_ROOT
from racing_platform.simulator.testing import running_simulator
from racing_platform.simulator.world.generator import generate_world
from racing_platform.source.client import RacingComClient, load_operation
from racing_platform.source.config import ClientConfig
from racing_platform.source.parsers import parse_response

VENUES = ["flemington", "caulfield", "moonee-valley", "rosehill-gardens", "royal-randwick", "eagle-farm"]
FIRST_DAY = date(2026, 2, 2)
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures" / "racing_com"
# The recorded answers and the request variables / caller context they were fetched with.
FIXTURE_REQUESTS = {
    "races.json": ({"meetCode": "5193238"}, {}),
    "raceEntries.json": ({"meetCode": "5193246", "raceNumber": 1}, {"meeting_date": date(2026, 3, 21)}),
    "raceResult.json": ({"meetCode": "5193242", "raceNumber": 3}, {"meeting_date": date(2026, 3, 7)}),
}


@dataclass(frozen=True)
class Request:
    operation: str
    variables: dict
    meeting_date: date

    @property
    def document(self) -> dict:
        return {
            "query": load_operation(self.operation).text,
            "variables": self.variables,
            "operationName": self.operation,
        }


def requests_of(world, days: int) -> list[Request]:
    """Every document a backfill of the world asks for: days, race lists, meetings, fields and results."""
    out = []
    for offset in range(days):
        day = FIRST_DAY + timedelta(days=offset)
        out.append(Request("GetMeetingByDate_CD", {"date": day.isoformat()}, day))
    for meeting in world.meetings.itertuples(index=False):
        day, code = meeting.meeting_date, str(meeting.meet_code)
        out.append(Request("getRaceNumberList_CD", {"meetCode": code}, day))
        out.append(Request("Races", {"meetCode": code}, day))
        for number in world.races.loc[world.races["meet_code"] == meeting.meet_code, "race_number"]:
            variables = {"meetCode": code, "raceNumber": int(number)}
            out.append(Request("getRaceEntriesForField_CD", variables, day))
            out.append(Request("getRaceResults_CD", variables, day))
    return out


def run(*, days: int, rounds: int, seed: int = 0) -> None:
    world = generate_world(seed, start=FIRST_DAY, end=FIRST_DAY + timedelta(days=days - 1), venues=VENUES)
    plan = requests_of(world, days)
    after = f"{FIRST_DAY + timedelta(days=days + 1)}T00:00:00Z"
    with scratch_env("source") as scratch, running_simulator(world, now=after) as sim:
        config = ClientConfig(
            url=sim.url,
            max_rps=None,
            run_budget=10**9,
            politeness_db=scratch / "politeness.sqlite",
            archive_path=scratch / "archive.sqlite",
        )
        session = requests.Session()
        bodies = [_post(session.post, sim.url, r) for r in plan]  # warms the simulator's caches
        best: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(lambda: float("inf")))
        with RacingComClient(config, run_id="bench") as client:
            sides = {
                "client": lambda r: client.execute(r.operation, r.variables),
                "session": lambda r: _post(session.post, sim.url, r),
                "post": lambda r: _post(requests.post, sim.url, r),
            }
            for _ in range(rounds):
                for side, call in sides.items():
                    for operation, seconds in _pass(plan, call).items():
                        best[operation][side] = min(best[operation][side], seconds)
    _report_client(plan, best, len(world.meetings), len(world.races), days, rounds)
    _report_parsers(plan, bodies)


def _post(post, url: str, request: Request) -> bytes:
    response = post(url, json=request.document, timeout=30)
    response.raise_for_status()
    return response.content


def _pass(plan: list[Request], call) -> dict[str, float]:
    seconds: dict[str, float] = defaultdict(float)
    for request in plan:
        began = time.perf_counter()
        call(request)
        seconds[request.operation] += time.perf_counter() - began
    return seconds


def _report_client(plan, best, meetings: int, races: int, days: int, rounds: int) -> None:
    counts = defaultdict(int)
    for request in plan:
        counts[request.operation] += 1
    rows = []
    for operation, sides in sorted(best.items(), key=lambda item: -counts[item[0]]):
        n = counts[operation]
        rows.append(
            [
                operation,
                n,
                n / sides["client"],
                n / sides["session"],
                n / sides["post"],
                ratio(sides["client"], sides["session"]),
                ratio(sides["client"], sides["post"]),
                f"{1000 * (sides['client'] - sides['session']) / n:.2f}",
            ]
        )
    total = {side: sum(sides[side] for sides in best.values()) for side in ("client", "session", "post")}
    rows.append(
        [
            "**all**",
            len(plan),
            len(plan) / total["client"],
            len(plan) / total["session"],
            len(plan) / total["post"],
            ratio(total["client"], total["session"]),
            ratio(total["client"], total["post"]),
            f"{1000 * (total['client'] - total['session']) / len(plan):.2f}",
        ]
    )
    table(
        f"Client requests/s over HTTP ({days} days, {len(VENUES)} venues: {meetings} meetings, "
        f"{races} races; best of {rounds} passes)",
        [
            "operation",
            "requests",
            "client req/s",
            "Session.post req/s",
            "requests.post req/s",
            "client / Session time",
            "client / requests.post time",
            "client extra ms/request",
        ],
        rows,
    )


def _report_parsers(plan: list[Request], bodies: list[bytes]) -> None:
    groups: dict[str, list[tuple[bytes, dict, dict]]] = defaultdict(list)
    for request, body in zip(plan, bodies, strict=True):
        groups[f"simulator {request.operation}"].append(
            (body, request.variables, {"meeting_date": request.meeting_date})
        )
    if FIXTURES.is_dir():
        for name, (variables, context) in FIXTURE_REQUESTS.items():
            groups[f"racing.com {name}"].append(((FIXTURES / name).read_bytes(), variables, context))
    rows = [_parser_row(label, items) for label, items in groups.items()]
    table(
        "Parser: parse_response vs json.loads of the same bodies (best of 5)",
        [
            "answers",
            "bodies",
            "MB",
            "runners",
            "rows, all tables",
            "runners/s",
            "rows/s",
            "json.loads ms/body",
            "parse ms/body",
            "parse / json.loads",
        ],
        rows,
    )
    if not FIXTURES.is_dir():
        print(f"(recorded racing.com answers not found at {FIXTURES}: skipped)")


def _parser_row(label: str, items: list[tuple[bytes, dict, dict]]) -> list:
    payloads = [json.loads(body) for body, _, _ in items]

    def parse_all() -> list:
        return [
            parse_response(payload, variables=variables, context=context)
            for payload, (_, variables, context) in zip(payloads, items, strict=True)
        ]

    parsed = parse_all()
    runners = sum(len(tables.runners) for tables in parsed)
    rows = sum(len(frame) for tables in parsed for _, frame in tables.items())
    repeat = 5 if len(items) < 200 else 2
    loads = best_of(lambda: [json.loads(body) for body, _, _ in items], repeat)
    parse = best_of(parse_all, repeat)
    megabytes = sum(len(body) for body, _, _ in items) / 1e6
    return [
        label,
        len(items),
        f"{megabytes:.2f}",
        runners,
        rows,
        f"{runners / parse:.0f}" if runners else "-",
        f"{rows / parse:.0f}",
        f"{1000 * loads / len(items):.2f}",
        f"{1000 * parse / len(items):.2f}",
        ratio(parse, loads),
    ]
