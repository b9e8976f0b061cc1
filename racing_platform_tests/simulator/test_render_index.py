"""WorldIndex's column-sliced rows and runs equal what the pandas path gives, value and type."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from racing_platform.simulator.render import WorldIndex, _records
from racing_platform.simulator.world.generator import generate_world


@pytest.fixture(scope="module")
def index() -> WorldIndex:
    world = generate_world(
        5, start=date(2026, 1, 20), end=date(2026, 2, 10), venues=["flemington", "randwick"]
    )
    return WorldIndex(world)


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _assert_rows_equal(fast: tuple[dict, ...], reference: list[dict]) -> None:
    assert len(fast) == len(reference)
    for row, expected in zip(fast, reference, strict=True):
        assert list(row) == list(expected)
        wrong = {k: (row[k], expected[k]) for k in expected if not _same(row[k], expected[k])}
        assert not wrong, wrong


def test_entries_and_races_equal_the_pandas_records(index):
    entries = index._entries
    assert entries["scratched_at"].notna().any() and entries["emergency_number"].isna().any(), (
        "missing values"
    )
    for race_code in index._entry_slices:
        start, stop = index._entry_slices[race_code]
        _assert_rows_equal(index.entries(race_code), _records(entries.iloc[start:stop], "entries"))
    for meet_code, (start, stop) in index._race_slices.items():
        _assert_rows_equal(index.races_of(meet_code), _records(index._races.iloc[start:stop], "races"))


def test_runs_carry_utc_timestamps_of_their_race_and_meeting(index):
    races = index.world.races.set_index("race_code")
    fields_at = index.world.meetings.set_index("meet_code")["fields_at"]
    horses = index.world.entries["horse_code"].drop_duplicates().head(200)
    for horse in horses:
        for run in index.runs(horse):
            start = races.loc[run.race_code, "start_time_utc"]
            assert run.start == start and run.start.tz is not None and run.start.unit == "ns"
            assert run.declared_at == start + pd.Timedelta(minutes=5)
            assert run.fields_at == fields_at.loc[run.meet_code]


def test_single_rows_equal_the_pandas_records(index):
    entries = index._entries
    for position in range(0, len(entries), 7):
        _assert_rows_equal(
            (index.entry_record(position),), _records(entries.iloc[position : position + 1], "entries")
        )
    for race_code in index._races["race_code"]:
        position = index._race_codes.get_loc(race_code)
        _assert_rows_equal(
            (index.race_by_code(race_code),), _records(index._races.iloc[position : position + 1], "races")
        )


def test_results_barriers_equal_the_race_as_rendered_after_its_result(index):
    """A form line's barrierNumber (precomputed per entry) is the race's own after it is declared."""
    from racing_platform.simulator.render import Renderer

    runs = index.run_columns
    renderer = Renderer(index, pd.Timestamp("2026-03-01", tz="UTC"))
    by_entry = {}
    for race_code in index._entry_slices:
        race = index.race_by_code(race_code)
        _, scratched, barriers = renderer._field(race)
        by_entry.update(barriers)
    assert any(scratched for scratched in runs["results_barrier"] == 0)
    assert {e: int(b) for e, b in zip(runs["entry_id"], runs["results_barrier"], strict=True)} == by_entry
