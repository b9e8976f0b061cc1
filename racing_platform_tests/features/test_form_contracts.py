"""form_lines and form_book contracts, through the assets on a real instance, DuckDB file and simulator.

A race code stored under two cells (a venue forked by a changed code and name) once multiplied a day's
form lines; the guarded query and contracts.FormLinesSchema / FormBookSchema now refuse that before
anything is written or served to the features.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pandas as pd

from racing_platform.cards.assets import race_cards, race_results, raw_race_cards
from racing_platform.features.assets import form_book, form_lines
from racing_platform.source.assets import meetings
from racing_platform_tests.worlds import AFTER_MEETING, RACE_DAY

DAY = RACE_DAY.isoformat()
RAN_IN_TRACKED_RACES = 14  # Flemington R1 5 (2 scratched), R2 5, R3 4; the trial meeting has no form


def _failure(result) -> str:
    return " ".join(
        e.event_specific_data.error.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    )


def _check(result, name: str):
    return [e for e in result.get_asset_check_evaluations() if e.check_name == name]


def _day_with_form(platform_for, world):
    platform = platform_for(world, AFTER_MEETING)
    assert platform.materialize([meetings], DAY).success
    assert platform.materialize([raw_race_cards, race_cards, race_results], f"{DAY}|flemington").success
    result = platform.materialize([form_lines], DAY)
    assert result.success
    assert _check(result, "form_lines_contract")[0].passed
    lines = platform.rows("form_lines")
    assert len(lines) == RAN_IN_TRACKED_RACES and not lines.duplicated(["race_code", "horse_code"]).any()
    return platform, lines


def test_a_race_code_under_two_cells_never_multiplies_form_lines(platform_for, tiny_world):
    platform, lines = _day_with_form(platform_for, tiny_world)
    with platform.warehouse.connect() as conn:  # the fork: the same meeting and races under a second venue
        for table in ("meetings", "races", "runners", "results"):
            conn.execute(
                f"INSERT INTO {table} SELECT * REPLACE ('flemington-racecourse' AS venue_slug) FROM {table} "
                "WHERE venue_slug = 'flemington' AND meeting_date = ?",
                [RACE_DAY],
            )

    result = platform.materialize([form_lines], DAY)

    assert not result.success
    pd.testing.assert_frame_equal(platform.rows("form_lines"), lines)  # nothing written
    message = _failure(result)
    assert f"form_lines [{DAY}]: form_lines_contract failed, nothing written" in message
    assert "race 5100002 (6100021) form_lines." in message and "FormLinesSchema" in message
    check = _check(result, "form_lines_contract")
    assert check and not check[0].passed and check[0].partition == DAY
    rules_broken = str(check[0].metadata)
    assert "multiple_fields_uniqueness" in rules_broken and "a race code belongs to one cell" in rules_broken


def test_the_form_book_refuses_a_race_counted_on_two_days(platform_for, tiny_world):
    platform, lines = _day_with_form(platform_for, tiny_world)
    assert platform.materialize([form_book], "2026-03-09").success
    next_day = lines.assign(meeting_date=pd.Timestamp("2026-03-08"))  # the same races dated a day later
    platform.warehouse.replace_slices(
        {"form_lines": next_day}, pd.DataFrame({"meeting_date": ["2026-03-08"]})
    )

    result = platform.materialize([form_book], "2026-03-09")

    assert not result.success
    message = _failure(result)
    assert "form_book [2026-03-09]: form_book_contract failed" in message
    assert "race 5100002 (6100021) form_book." in message and "FormBookSchema" in message
    check = _check(result, "form_book_contract")
    assert check and not check[0].passed
    assert "a race code belongs to one cell" in str(check[0].metadata)


def test_a_deterministic_error_in_form_lines_ends_the_step_at_once(platform_for, tiny_world):
    platform, _ = _day_with_form(platform_for, tiny_world)
    with platform.warehouse.connect() as conn:
        conn.execute("DROP TABLE results")  # a broken warehouse: retrying cannot help

    began = time.monotonic()
    result = platform.materialize([form_lines], DAY)

    assert not result.success and time.monotonic() - began < 10
    assert f"form_lines [{DAY}]: CatalogException" in _failure(result)
    assert not [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]


def test_the_form_book_is_complete_unless_a_meeting_that_raced_has_no_form(platform_for, tiny_world):
    platform, _ = _day_with_form(platform_for, tiny_world)
    next_day = (RACE_DAY + timedelta(days=1)).isoformat()
    with platform.warehouse.connect() as conn:  # two more tracked meetings that day, neither with form
        for meet_code, venue, status in (
            ("abandoned-1", "sandown", "Abandoned"),
            ("unformed-1", "sale", "Final"),
        ):
            conn.execute(
                f"INSERT INTO meetings SELECT * REPLACE ('{meet_code}' AS meet_code, '{venue}' AS "
                "venue_slug) FROM meetings WHERE venue_slug = 'flemington' AND meeting_date = ?",
                [RACE_DAY],
            )
            conn.execute(
                f"INSERT INTO races SELECT * REPLACE ('{meet_code}' AS meet_code, '{venue}' AS venue_slug, "
                f"race_code || '-{venue}' AS race_code, '{status}' AS race_status) "
                "FROM races WHERE venue_slug = 'flemington' AND meeting_date = ?",
                [RACE_DAY],
            )

    (complete,) = [
        c for c in _check(platform.materialize([form_book], next_day), "form_book_complete") if c.partition
    ]

    assert not complete.passed and complete.partition == next_day
    missing = complete.metadata["meetings_without_form"].value
    assert (
        "unformed-1" in missing and "abandoned-1" not in missing
    )  # an abandoned meeting has no form to miss
