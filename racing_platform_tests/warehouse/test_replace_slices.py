"""Cell replacement in DuckDB: one transaction, columns by name, DATE keys, other cells untouched."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date

import pandas as pd
import pytest

from racing_platform.warehouse.resource import EmptyReplacementError, Warehouse

D1, D2 = date(2026, 3, 7), date(2026, 3, 8)


def _listing(day: date, listed: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "meeting_date": [day],
            "listed": [listed],
            "tracked": [1],
            "fetched_at": [pd.Timestamp("2026-03-01", tz="UTC")],
        }
    )


def _failures(day: date, venue: str, races: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "meeting_date": [day] * len(races),
            "venue_slug": [venue] * len(races),
            "meet_code": ["5193242"] * len(races),
            "race_number": races,
            "operation": ["getRaceForm"] * len(races),
            "error_type": ["TransientError"] * len(races),
            "message": [f"race {r} failed" for r in races],
            "failed_at": [pd.Timestamp("2026-03-07T01:00", tz="UTC")] * len(races),
        }
    )


def _cell(day: date, venue: str) -> pd.DataFrame:
    return pd.DataFrame({"meeting_date": [day], "venue_slug": [venue]})


def _rows(warehouse: Warehouse, table: str) -> pd.DataFrame:
    return warehouse.query(f"SELECT * FROM {table} ORDER BY ALL")


def test_replacing_a_cell_three_times_leaves_identical_rows_and_other_cells_untouched(warehouse):
    warehouse.replace_slices({"fetch_failures": _failures(D1, "flemington", [9])}, _cell(D1, "flemington"))
    for _ in range(3):
        warehouse.replace_slices({"fetch_failures": _failures(D1, "randwick", [1, 2])}, _cell(D1, "randwick"))
    rows = _rows(warehouse, "fetch_failures")
    assert sorted(zip(rows["venue_slug"], rows["race_number"], strict=True)) == [
        ("flemington", 9),
        ("randwick", 1),
        ("randwick", 2),
    ]


def test_columns_match_by_name_not_position(warehouse):
    frame = _failures(D1, "randwick", [3])
    reordered = frame[list(reversed(frame.columns))]
    warehouse.replace_slices({"fetch_failures": reordered}, _cell(D1, "randwick"))
    row = _rows(warehouse, "fetch_failures").iloc[0]
    assert (row["venue_slug"], row["race_number"], row["message"]) == ("randwick", 3, "race 3 failed")


def test_dates_are_stored_as_date_so_the_slice_delete_matches(warehouse):
    types = warehouse.query(
        "SELECT table_name, data_type FROM information_schema.columns WHERE column_name = 'meeting_date'"
    )
    assert set(types["data_type"]) == {"DATE"}
    assert len(types) >= 8
    warehouse.replace_slices({"meeting_listings": _listing(D1, 5)}, pd.DataFrame({"meeting_date": [D1]}))
    warehouse.replace_slices({"meeting_listings": _listing(D1, 6)}, pd.DataFrame({"meeting_date": [D1]}))
    assert list(_rows(warehouse, "meeting_listings")["listed"]) == [6]


def test_failed_insert_rolls_back_the_delete(warehouse):
    warehouse.replace_slices({"fetch_failures": _failures(D1, "randwick", [1, 2])}, _cell(D1, "randwick"))
    broken = _failures(D1, "randwick", [7]).assign(race_number=["not a number"])
    with pytest.raises(Exception, match="(?i)convert|cast"):
        warehouse.replace_slices({"fetch_failures": broken}, _cell(D1, "randwick"))
    assert list(_rows(warehouse, "fetch_failures")["race_number"]) == [1, 2]


def test_process_killed_between_delete_and_insert_loses_nothing(warehouse, tmp_path):
    warehouse.replace_slices({"fetch_failures": _failures(D1, "randwick", [1, 2])}, _cell(D1, "randwick"))
    script = textwrap.dedent(
        f"""
        import os, pandas as pd
        from datetime import date
        from racing_platform.warehouse.resource import Warehouse

        class DiesOnInsert:
            '''A connection that kills the process when the INSERT is about to run (after the DELETE).'''
            def __init__(self, conn):
                self.conn = conn
            def execute(self, sql, *args):
                if sql.startswith("INSERT"):
                    os._exit(17)
                return self.conn.execute(sql, *args)
            def __getattr__(self, name):
                return getattr(self.conn, name)

        wh = Warehouse(database={warehouse.database!r})
        frame = pd.read_pickle({str(tmp_path / "frame.pkl")!r})
        with wh.connect() as conn:
            cell = pd.DataFrame({{"meeting_date": [date(2026, 3, 7)], "venue_slug": ["randwick"]}})
            wh.replace_slices({{"fetch_failures": frame}}, cell, conn=DiesOnInsert(conn))
        """
    )
    _failures(D1, "randwick", [5]).to_pickle(tmp_path / "frame.pkl")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 17, done.stderr
    assert list(_rows(warehouse, "fetch_failures")["race_number"]) == [1, 2]


def test_empty_frame_never_wipes_stored_rows_unless_allowed(warehouse):
    warehouse.replace_slices({"fetch_failures": _failures(D1, "randwick", [1])}, _cell(D1, "randwick"))
    empty = _failures(D1, "randwick", [])
    with pytest.raises(EmptyReplacementError, match="fetch_failures.*2026-03-07|randwick"):
        warehouse.replace_slices({"fetch_failures": empty}, _cell(D1, "randwick"))
    assert len(_rows(warehouse, "fetch_failures")) == 1
    warehouse.replace_slices(
        {"fetch_failures": empty}, _cell(D1, "randwick"), allow_empty=frozenset({"fetch_failures"})
    )
    assert _rows(warehouse, "fetch_failures").empty


def test_rows_outside_the_replaced_cells_are_refused(warehouse):
    with pytest.raises(ValueError, match="outside"):
        warehouse.replace_slices({"fetch_failures": _failures(D2, "randwick", [1])}, _cell(D1, "randwick"))
    assert _rows(warehouse, "fetch_failures").empty


def test_kept_rows_read_back_mix_with_fetched_rows_of_every_date_type(warehouse):
    warehouse.replace_slices({"fetch_failures": _failures(D1, "randwick", [1, 2])}, _cell(D1, "randwick"))
    kept = _rows(warehouse, "fetch_failures").query("race_number == 1")
    assert str(kept["meeting_date"].dtype).startswith("datetime64")  # how DuckDB hands DATE to pandas
    fresh = [
        _failures(D1, "randwick", [2]),  # datetime.date
        _failures(D1, "randwick", [3]).assign(meeting_date="2026-03-07"),
        _failures(D1, "randwick", [4]).assign(meeting_date=pd.Timestamp("2026-03-07")),
    ]
    mixed = pd.concat([kept, *fresh], ignore_index=True)
    key_kinds = [_cell(D1, "randwick"), _cell(D1, "randwick").assign(meeting_date=["2026-03-07"])]
    for keys in key_kinds:
        warehouse.replace_slices({"fetch_failures": mixed}, keys)
        rows = _rows(warehouse, "fetch_failures")
        assert list(rows["race_number"]) == [1, 2, 3, 4]
        assert set(rows["meeting_date"].dt.date) == {D1}


def test_a_date_key_with_a_time_of_day_or_no_date_at_all_is_refused(warehouse):
    timed = _failures(D1, "randwick", [1]).assign(meeting_date=pd.Timestamp("2026-03-07T10:30"))
    with pytest.raises(ValueError, match="fetch_failures: key column meeting_date is a DATE but 1 value"):
        warehouse.replace_slices({"fetch_failures": timed}, _cell(D1, "randwick"))
    bogus = _failures(D1, "randwick", [1]).assign(meeting_date="next tuesday")
    with pytest.raises(
        ValueError, match="fetch_failures: key column meeting_date holds a value that is not a date"
    ):
        warehouse.replace_slices({"fetch_failures": bogus}, _cell(D1, "randwick"))
    assert _rows(warehouse, "fetch_failures").empty


def test_a_row_of_another_day_is_still_outside_whatever_its_type(warehouse):
    other_day = _failures(D1, "randwick", [1]).assign(meeting_date=pd.Timestamp(D2))
    with pytest.raises(ValueError, match="1 row\\(s\\) fall outside"):
        warehouse.replace_slices({"fetch_failures": other_day}, _cell(D1, "randwick"))


def test_one_cell_with_rows_never_carries_another_cell_s_emptiness_through(warehouse):
    two_cells = pd.concat([_cell(D1, "randwick"), _cell(D1, "rosehill")], ignore_index=True)
    warehouse.replace_slices(
        {"fetch_failures": pd.concat([_failures(D1, "randwick", [1]), _failures(D1, "rosehill", [2])])},
        two_cells,
    )
    with pytest.raises(EmptyReplacementError, match=r"fetch_failures.*2026-03-07\|rosehill"):
        warehouse.replace_slices({"fetch_failures": _failures(D1, "randwick", [3])}, two_cells)
    assert list(_rows(warehouse, "fetch_failures")["race_number"]) == [1, 2]


def test_each_table_can_replace_its_own_slices_in_one_transaction(warehouse):
    warehouse.replace_slices({"fetch_failures": _failures(D1, "randwick", [1])}, _cell(D1, "randwick"))
    warehouse.replace_slices(
        {"fetch_failures": _failures(D1, "rosehill", [2]), "meeting_listings": _listing(D2, 3)},
        {"fetch_failures": _cell(D1, "rosehill"), "meeting_listings": pd.DataFrame({"meeting_date": [D2]})},
    )
    assert list(_rows(warehouse, "fetch_failures")["venue_slug"]) == ["randwick", "rosehill"]
    assert list(_rows(warehouse, "meeting_listings")["listed"]) == [3]
