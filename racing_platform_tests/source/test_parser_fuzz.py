"""Hypothesis fuzz of the parsers on racing.com-shaped answers: the recorded answers (trimmed) with a few
values anywhere replaced by arbitrary JSON, removed, or list items repeated or dropped.

Property: `parse_response` raises only `ParseError`, or returns tables whose columns and dtypes are the
declared ones (what the contracts then make of the values is the mutation test's subject).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from racing_platform.source.parsers import TABLE_COLUMNS, ParseError, empty_table
from racing_platform_tests.source.test_parser_mutations import (
    ANSWERS,
    REMOVED,
    Path,
    key_paths,
    leaf_paths,
    load,
    parse,
    set_at,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        ["0", "", "$0.00", "0kg", "56.5kg", "1400m", "2.97L", "1:22.77", "\u2028", "nan", "1e999"]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def list_paths(node: Any, path: Path = ()) -> list[Path]:
    """Paths of non-empty lists (for repeating or dropping an item)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += list_paths(value, (*path, key))
    elif isinstance(node, list) and node:
        found.append(path)
        for index, value in enumerate(node):
            found += list_paths(value, (*path, index))
    return found


SHAPES = {
    answer: (list(leaf_paths(load(answer))), list(key_paths(load(answer))), list_paths(load(answer)))
    for answer in ANSWERS
}


@st.composite
def mutated_answers(draw: st.DrawFn, answer: str) -> Any:
    leaves, keys, lists = SHAPES[answer]
    payload = load(answer)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        action = draw(st.sampled_from(["value", "value", "remove", "repeat", "drop"]))
        try:
            if action == "value":
                set_at(payload, draw(st.sampled_from(leaves)), draw(json_values))
            elif action == "remove":
                set_at(payload, draw(st.sampled_from(keys)), REMOVED)
            else:
                items = _get(payload, draw(st.sampled_from(lists)))
                if isinstance(items, list) and items:
                    index = draw(st.integers(min_value=0, max_value=len(items) - 1))
                    items.insert(index, items[index]) if action == "repeat" else items.pop(index)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path's parent
    return payload


def _get(node: Any, path: Path) -> Any:
    for step in path:
        node = node[step]
    return node


@pytest.mark.parametrize("answer", list(ANSWERS))
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_parse_raises_only_parse_errors_or_returns_the_declared_dtypes(answer, data):
    payload = data.draw(mutated_answers(answer))
    try:
        tables = parse(answer, payload)
    except ParseError:
        return
    for table, frame in tables.items():
        assert list(frame.columns) == list(TABLE_COLUMNS[table])
        assert frame.dtypes.equals(empty_table(table).dtypes), table
