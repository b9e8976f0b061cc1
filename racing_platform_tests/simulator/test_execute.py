"""The fast executor answers exactly what ariadne and graphql-core answer, or steps aside.

Every real document (the client's and the reference ones) is executed both ways over the hand-built
world at every stage of its meeting's day, and over a generated world's meetings: where graphql-core
answers without errors the fast path must answer too, with the same bytes; where graphql-core reports an
error the fast path must return None, so the server falls back and answers that error as before.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from ariadne import graphql_sync, load_schema_from_path, make_executable_schema
from graphql import parse

from racing_platform.simulator.clock import to_utc
from racing_platform.simulator.execute import FastExecutor
from racing_platform.simulator.render import Renderer, WorldIndex
from racing_platform.simulator.server import SCHEMA_PATH, appsync_error, query
from racing_platform.simulator.world.generator import generate_world
from racing_platform_tests.paths import CLIENT_QUERIES
from racing_platform_tests.paths import REFERENCE_DOCUMENTS as DOCUMENTS
from racing_platform_tests.worlds import (
    ACCEPTANCES,
    AFTER_MEETING,
    BEFORE_FIELDS,
    BEFORE_LISTING,
    FINAL_FIELDS,
    LATER,
    MEET,
    RACE_DAY,
    RACE_MORNING,
    horse_code,
)

HISTORY_HORSE = horse_code("H1")

DOCUMENT_FILES = sorted(DOCUMENTS.glob("*.graphql")) + sorted(CLIENT_QUERIES.glob("*.graphql"))
CLOCKS = [
    BEFORE_LISTING,
    BEFORE_FIELDS,
    ACCEPTANCES,
    FINAL_FIELDS,
    RACE_MORNING,
    "2026-03-07T01:17:00Z",  # R1 jumped, result not declared yet
    "2026-03-07T03:00:00Z",  # some races paying, others still to run
    AFTER_MEETING,
    LATER,
]


@pytest.fixture(scope="module")
def schema():
    return make_executable_schema(load_schema_from_path(str(SCHEMA_PATH)), query)


def _answer_bytes(answer: dict) -> bytes:
    """What starlette's JSONResponse sends for an answer."""
    return json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _variables(document: str, meet_code: str, day: date, race_number: int) -> dict:
    names = {v.variable.name.value for d in parse(document).definitions for v in d.variable_definitions or ()}
    values = {
        "date": day.isoformat(),
        "meetCode": meet_code,
        "id": meet_code,
        "raceNumber": race_number,
        # GetRaceEntryItemByHorsePaged: H1 runs on 2026-02-14 and in R1 of the race day
        "horseCode": HISTORY_HORSE,
        "lastEvaluatedKey": None,
        "pageSize": race_number,
    }
    return {name: values[name] for name in names}


def _both_ways(schema, index: WorldIndex, now: str, data: dict) -> tuple[dict | None, bool, dict]:
    clock = to_utc(now)
    fast = FastExecutor(schema).execute(data, {"renderer": Renderer(index, clock)})
    success, reference = graphql_sync(
        schema, data, context_value={"renderer": Renderer(index, clock)}, error_formatter=appsync_error
    )
    return fast, success, reference


def _check(schema, index, now, data) -> bool:
    """Asserts the two paths agree; True when the fast path answered."""
    fast, success, reference = _both_ways(schema, index, now, data)
    if "errors" in reference:
        assert fast is None, f"{data.get('operationName')} at {now}: fast path answered an error case"
        return False
    assert success and fast is not None, f"{data.get('operationName')} at {now}: fast path stepped aside"
    assert _answer_bytes(fast) == _answer_bytes(reference), f"{data.get('operationName')} at {now}"
    return True


@pytest.mark.parametrize("path", DOCUMENT_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_document_answers_the_same_at_every_stage_of_the_day(schema, small_world, path):
    index = WorldIndex(small_world)
    text = path.read_text()
    answered = 0
    for now in CLOCKS:
        for race_number in (1, 2, 99):
            data = {"query": text, "variables": _variables(text, MEET, RACE_DAY, race_number)}
            answered += _check(schema, index, now, data)
    assert answered, f"{path.name}: the fast path never answered"


def test_a_generated_worlds_meetings_answer_the_same(schema):
    world = generate_world(3, start=date(2026, 2, 5), end=date(2026, 2, 8), venues=["flemington", "randwick"])
    index = WorldIndex(world)
    now = "2026-02-07T04:00:00Z"  # the 7th's races part run, the 8th's fields out
    documents = [CLIENT_QUERIES / f"{name}.graphql" for name in ("Races", "getRaceResults_CD")]
    answered = 0
    for meeting in world.meetings.itertuples(index=False):
        for path in documents:
            text = path.read_text()
            for race_number in (1, 5):
                variables = _variables(text, str(meeting.meet_code), meeting.meeting_date, race_number)
                answered += _check(schema, index, now, {"query": text, "variables": variables})
    assert answered == 2 * len(world.meetings) * len(documents)


@pytest.mark.parametrize(
    "data",
    [
        {"query": "{ getRaceForm(meetCode: 5100002, raceNumber: 1) { id trueWinProb } }"},  # invalid
        {"query": '{ getRaceForm(meetCode: "5100002", raceNumber: 1) { id @include(if: true) } }'},
        {"query": '{ __schema { queryType { name } } getRacesForMeet(meetCode: "5100002") { id } }'},
        {"query": "query Q($n: Int!) { getRaceForm(meetCode: 1, raceNumber: $n) { id } }", "variables": {}},
        {"query": '{ getRaceForm(meetCode: "5100002", raceNumber: 42) { id } }'},  # NotFound
        {"query": "query A { getRacesForMeet(meetCode: 1) { id } } query B { getMeeting(id: 1) { id } }"},
    ],
)
def test_what_the_fast_path_cannot_vouch_for_goes_to_graphql_core(schema, small_world, data):
    fast, _, _ = _both_ways(schema, WorldIndex(small_world), AFTER_MEETING, data)
    assert fast is None


def test_aliases_fragments_and_typename_answer_the_same(schema, small_world):
    text = """
    query Q($m: ID!) {
      first: getRaceForm(meetCode: $m, raceNumber: 1) { __typename id ...F ... on Race { n: raceNumber } }
      getRacesForMeet(meetCode: $m) { id status formRaceEntries { id ...E } }
    }
    fragment F on Race { raceNumber formRaceEntries { ...E odds { providerCode } } }
    fragment E on RaceEntryItem { horseName odds { oddsWin } horse { __typename id } }
    """
    assert _check(schema, WorldIndex(small_world), AFTER_MEETING, {"query": text, "variables": {"m": MEET}})
