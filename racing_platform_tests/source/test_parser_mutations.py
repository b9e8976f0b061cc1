"""Every field of every recorded racing.com answer, set in turn to null, 0, "", a wrong type, removed and
renamed: the parse and the contracts accept it, or refuse it naming the field (a `ParseError` naming the
JSON field, or a contract failure on the column read from it). Never another exception.

Answers are trimmed to three items per list (mutations hit the first item, the others keep the race
real), so one parse costs about a millisecond; contracts run only on tables the mutation changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pandas as pd
import pandera.errors
import pytest

from racing_platform.contracts import SCHEMAS
from racing_platform.source.parsers import ParsedTables, ParseError, parse_response
from racing_platform_tests.paths import RACING_COM_FIXTURES

Path = tuple[str | int, ...]
KEPT_PER_LIST = 3
FLEMINGTON_LISTING = {"data": {"GetMeetingByDate": [
    {"id": "5193238", "venue": "Flemington", "venueName": "Flemington", "venueCode": "149",
     "date": "2026-03-07", "state": "VIC", "isTrial": 0, "isJumpOut": 0,
     "meetUrl": "https://www.racing.com/form/2026-03-07/flemington"},
    {"id": "5193242", "venue": "Royal Randwick", "venueName": "Royal Randwick", "venueCode": None,
     "date": "2026-03-07", "state": "NSW", "isTrial": None, "isJumpOut": None, "meetUrl": None},
]}}  # fmt: skip
# answer -> (body, document it was recorded with, request variables, what the caller knows)
ANSWERS: dict[str, tuple[Any, str, dict, dict]] = {
    "races.json": (None, "getRaceNumberList_CD", {"meetCode": "5193238"}, {}),
    "raceEntries.json": (
        None,
        "getRaceEntriesForField_CD",
        {"meetCode": "5193246", "raceNumber": 1},
        {"meeting_date": dt.date(2026, 3, 21)},
    ),
    "raceResult.json": (
        None,
        "getRaceResults_CD",
        {"meetCode": "5193242", "raceNumber": 3},
        {"meeting_date": dt.date(2026, 3, 7)},
    ),
    "listing": (FLEMINGTON_LISTING, "GetMeetingByDate_CD", {"date": "2026-03-07"}, {}),
}
WRONG_TYPES = {"object": {"unexpected": 1}, "null": None, "zero": 0, "empty": "", "list": ["unexpected"]}
REMOVED = object()


@cache
def trimmed(answer: str) -> str:
    """The answer as JSON with every list cut to its first `KEPT_PER_LIST` items."""
    body = ANSWERS[answer][0]
    if body is None:
        body = json.loads((RACING_COM_FIXTURES / answer).read_text(encoding="utf-8"))
    return json.dumps(_trim(body))


def _trim(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _trim(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_trim(value) for value in node[:KEPT_PER_LIST]]
    return node


def load(answer: str) -> Any:
    return json.loads(trimmed(answer))


def parse(answer: str, payload: Any) -> ParsedTables:
    _, document, variables, context = ANSWERS[answer]
    return parse_response(payload, operation=document, variables=variables, context=context)


def leaf_paths(node: Any, path: Path = ()) -> Iterator[Path]:
    """Paths of scalar values, empty lists and empty objects: every item of every list."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaf_paths(value, (*path, key))
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from leaf_paths(value, (*path, index))
    else:
        yield path


def key_paths(node: Any, path: Path = ()) -> Iterator[Path]:
    """Paths of object keys, at every depth, in the first item of each list."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from key_paths(value, (*path, key))
    elif isinstance(node, list) and node:
        yield from key_paths(node[0], (*path, 0))


def first_items(paths: Iterator[Path]) -> list[Path]:
    return [path for path in paths if all(step == 0 for step in path if isinstance(step, int))]


def set_at(payload: Any, path: Path, value: Any) -> None:
    *parents, last = path
    node = payload
    for step in parents:
        node = node[step]
    if value is REMOVED:
        del node[last]
    else:
        node[last] = value


def rename_at(payload: Any, path: Path) -> None:
    *parents, last = path
    node = payload
    for step in parents:
        node = node[step]
    node[f"{last}Renamed"] = node.pop(last)


def wrong_type_for(value: Any) -> Any:
    """Text where a number is due, a number where text is due."""
    return 12345 if isinstance(value, str) else "not a number"


def field_name(path: Path) -> str:
    """The JSON key the parser names for a path: its last object key."""
    return next(str(step) for step in reversed(path) if isinstance(step, str))


def outcome(answer: str, payload: Any, path: Path, baseline: ParsedTables) -> str | None:
    """None when the mutated answer is accepted or refused naming the field; else what went wrong."""
    try:
        tables = parse(answer, payload)
    except ParseError as error:
        name = field_name(path)
        named = f"'{name}'" in str(error) or name in str(error.field)
        return None if named else f"ParseError not naming it: {error}"
    except Exception as error:  # noqa: BLE001 - any other class is the defect this test exists to find
        return f"{type(error).__name__}: {error}"
    for table, frame in tables.items():
        before = getattr(baseline, table)
        if not frame.equals(before):
            problem = _contract_outcome(answer, table, frame, before)
            if problem:
                return problem
    return None


_CONTRACT_OUTCOMES: dict[tuple[str, str, str], str | None] = {}


def _contract_outcome(answer: str, table: str, frame: pd.DataFrame, before: pd.DataFrame) -> str | None:
    """Validated once per distinct frame: null, "" and 0 often store the same row."""
    key = (answer, table, frame.to_json(date_format="iso", default_handler=str))
    if key not in _CONTRACT_OUTCOMES:
        problem = None
        try:
            SCHEMAS[table].validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as errors:
            unnamed = _contract_failures_not_on(errors, _changed_columns(frame, before))
            if unnamed:
                problem = f"{table} contract failed on unchanged columns: {unnamed}"
        except Exception as error:  # noqa: BLE001
            problem = f"{table} contract raised {type(error).__name__}: {error}"
        _CONTRACT_OUTCOMES[key] = problem
    return _CONTRACT_OUTCOMES[key]


def _changed_columns(frame: pd.DataFrame, before: pd.DataFrame) -> set[str]:
    if len(frame) != len(before):
        return set(frame.columns)
    return {
        column
        for column in frame.columns
        if not frame[column].reset_index(drop=True).equals(before[column].reset_index(drop=True))
    }


def _contract_failures_not_on(errors: pandera.errors.SchemaErrors, columns: set[str]) -> list[str]:
    """Failures that name neither a changed column nor (table rules) one in their rule text."""
    unnamed = []
    for case in errors.failure_cases.drop_duplicates(["column", "check"]).itertuples():
        column, check = case.column, str(case.check)
        if column in columns or any(name in check for name in columns):
            continue
        unnamed.append(f"{column}: {check}")
    return unnamed


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_the_trimmed_answers_pass_as_they_are(answer):
    """The baseline: without mutation every table honours its contract."""
    for table, frame in parse(answer, load(answer)).items():
        SCHEMAS[table].validate(frame, lazy=True)


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_every_leaf_null_zero_empty_or_wrongly_typed_is_accepted_or_refused_by_name(answer):
    baseline = parse(answer, load(answer))
    leaves = first_items(leaf_paths(load(answer)))
    offenders = []
    read = 0
    for path in leaves:
        original = _get(load(answer), path)
        for kind, value in (*WRONG_TYPES.items(), ("wrong type", wrong_type_for(original))):
            payload = load(answer)
            set_at(payload, path, value)
            problem = outcome(answer, payload, path, baseline)
            if problem:
                offenders.append(f"{_shown(path)} = {kind}: {problem}")
            if kind == "object" and not problem and _unchanged(answer, payload, baseline):
                break  # every converter refuses an object, so the parser does not read this field
        else:
            read += 1
    assert read >= 5, "the parser reads some of these fields"
    assert leaves
    assert offenders == []


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_every_field_missing_or_renamed_is_accepted_or_refused_by_name(answer):
    baseline = parse(answer, load(answer))
    offenders = []
    for path in key_paths(load(answer)):
        for kind in ("missing", "renamed"):
            payload = load(answer)
            set_at(payload, path, REMOVED) if kind == "missing" else rename_at(payload, path)
            problem = outcome(answer, payload, path, baseline)
            if problem:
                offenders.append(f"{_shown(path)} {kind}: {problem}")
    assert offenders == []


def test_a_mutation_the_parser_reads_changes_the_stored_row():
    """The harness itself: a mutated field reaches the tables (else every outcome would be 'accepted')."""
    payload = load("raceResult.json")
    set_at(payload, ("data", "getRaceForm", "formRaceEntries", 0, "weight"), "58kg")
    assert parse("raceResult.json", payload).results.loc[0, "weight_kg"] == 58.0
    set_at(payload, ("data", "getRaceForm", "formRaceEntries", 0, "weight"), {"kg": 58})
    baseline = parse("raceResult.json", load("raceResult.json"))
    path = ("data", "getRaceForm", "formRaceEntries", 0, "weight")
    assert outcome("raceResult.json", payload, path, baseline) is None  # refused, naming 'weight'
    assert outcome("raceResult.json", payload, ("data", "getRaceForm", "id"), baseline) is not None


def _unchanged(answer: str, payload: Any, baseline: ParsedTables) -> bool:
    try:
        tables = parse(answer, payload)
    except ParseError:
        return False
    return all(frame.equals(getattr(baseline, table)) for table, frame in tables.items())


def _get(node: Any, path: Path) -> Any:
    for step in path:
        node = node[step]
    return node


def _shown(path: Path) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path).lstrip(".")
