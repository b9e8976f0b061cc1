"""Hostile racing.com answers, through the assets: each is a clear error or a safe acceptance.

A good run over the recordings is stored once per module; each case copies that DuckDB file, serves a
mutated answer (or a raw HTTP answer) from the replay endpoint, re-runs the assets and checks

* a refusal: the run fails, or a check fails, or the race is recorded in `fetch_failures`, within
  10 s, without asking Dagster for a retry, with a message naming the cell, the race, the field and
  the rule; and the stored good data is unchanged;
* an acceptance: the run lands, and only the facts the answer changed on purpose differ.

Randwick R3 (resulted; its whole-meeting answer is built from `raceResult`) and Rosehill R1 (a final
field: whole-meeting answer plus its own field call, both from `raceEntries`) are the cells under fire.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pandas as pd
import pytest

from racing_platform.cards.assets import race_cards, race_results, raw_race_cards
from racing_platform.contracts import VENUE_SLUG_PATTERN
from racing_platform.source.assets import meetings
from racing_platform.source.client import load_operation
from racing_platform_tests.replay.recordings import (
    FLEMINGTON_MEET_CODE,
    RANDWICK_CELL,
    RESULT_DAY,
    ROSEHILL_CELL,
    recorded_payload,
)
from racing_platform_tests.replay.server import RawAnswer

RANDWICK_MEET, RANDWICK_RACE = "5193242", "5449708"
ROSEHILL_RACE = "5449752"
CARDS = [raw_race_cards, race_cards, race_results]
STORED = ("raw_race_cards", "races", "runners", "odds", "results")
DETERMINISTIC_LIMIT_S = 10.0
OVERSIZE_LIMIT_S = 5.0
OVERSIZE_PADDING_BYTES = 50 * 1024 * 1024  # above the client's MAX_ANSWER_BYTES (20 MiB)
REPEATS_OF_A_BAD_ANSWER = 3  # enough to see a retry; bounded so a retrying client still ends quickly


# --------------------------------------------------------------------------------------------- fixtures


def _snapshot(platform, tables=STORED) -> dict[str, pd.DataFrame]:
    return {t: platform.rows(t).drop(columns=["last_fetched_at"], errors="ignore") for t in tables}


@pytest.fixture(scope="module")
def baseline(landed):
    """The package's good platform (recorded meetings listed, Randwick and Rosehill stored) and its rows."""
    good, outcomes = landed
    assert all(outcome.success for outcome in outcomes.values())
    return good, _snapshot(good, (*STORED, "fetch_failures", "meetings"))


@pytest.fixture
def platform(baseline, replay, tmp_path):
    """A copy of the good warehouse for one case; the endpoint serves the recordings until mutated."""
    good, _ = baseline
    return good.copy_to(tmp_path / "racing.duckdb")


@pytest.fixture
def good(baseline) -> dict[str, pd.DataFrame]:
    return baseline[1]


# --------------------------------------------------------------------------------------------- running


class Outcome:
    """One run of assets over a partition: what Dagster, the checks and fetch_failures said, and how long."""

    def __init__(self, platform, assets, partition: str) -> None:
        started = time.monotonic()
        self.result = platform.materialize(assets, partition)
        self.seconds = time.monotonic() - started
        events = self.result.all_events
        self.failures = [e.event_specific_data.error for e in events if e.event_type_value == "STEP_FAILURE"]
        self.failed_checks = [c for c in self.result.get_asset_check_evaluations() if not c.passed]
        self.retries = [e for e in events if e.event_type_value == "STEP_UP_FOR_RETRY"] + [
            f
            for f in self.failures
            if "RetryRequested" in (f.message or "") or f.cls_name == "RetryRequested"
        ]
        recorded = platform.rows("fetch_failures")
        self.fetch_failures = list(recorded["message"]) if len(recorded) else []
        self.text = "\n".join(
            [_error_text(f) for f in self.failures]
            + [f"{c.check_name} [{c.partition or partition}]: {c.metadata}" for c in self.failed_checks]
            + self.fetch_failures
        )

    @property
    def refused(self) -> bool:
        return not self.result.success or bool(self.failed_checks) or bool(self.fetch_failures)

    def describe(self) -> str:
        return (
            f"success={self.result.success} in {self.seconds:.1f}s, retries asked={len(self.retries)}, "
            f"failed checks={[c.check_name for c in self.failed_checks]}; said:\n{self.text[:3000]}"
        )


def _error_text(error) -> str:
    parts = []
    while error is not None:
        parts.append(f"{error.cls_name}: {error.message}")
        error = error.cause
    return " <- ".join(parts)


def assert_refused(outcome: Outcome, *names: tuple[str, ...], limit_s: float = DETERMINISTIC_LIMIT_S) -> None:
    """Refused at once, without a retry, naming one of each group of `names` (case-insensitive)."""
    assert outcome.refused, f"accepted a bad answer: {outcome.describe()}"
    assert not outcome.retries, f"a deterministic fault asked for a retry: {outcome.describe()}"
    assert outcome.seconds < limit_s, f"took {outcome.seconds:.1f}s (limit {limit_s}s): {outcome.describe()}"
    assert "TypeError" not in outcome.text, f"a TypeError instead of a named rule: {outcome.describe()}"
    text = outcome.text.lower()
    unnamed = [group for group in names if not any(name.lower() in text for name in group)]
    assert not unnamed, f"the message names none of {unnamed}: {outcome.describe()}"


def assert_unchanged(platform, good: dict[str, pd.DataFrame], tables=STORED) -> None:
    for table, stored in _snapshot(platform, tables).items():
        pd.testing.assert_frame_equal(stored, good[table], obj=f"stored {table}")


def run_cell(platform, cell: str) -> Outcome:
    return Outcome(platform, CARDS, cell)


def run_meetings(platform, day: str = RESULT_DAY) -> Outcome:
    return Outcome(platform, [meetings], day)


# --------------------------------------------------------------------------------------------- mutations


def _race(payload: dict) -> dict:
    return payload["data"]["getRaceForm"]


def _entry(payload: dict, finish: int) -> dict:
    return next(e for e in _race(payload)["formRaceEntries"] if e["finish"] == finish)


def edit_result(replay, change: Callable[[dict], None]) -> None:
    """Serve the Randwick result (and the whole-meeting answer built on it) with `change` applied."""

    def mutated(payload: dict) -> dict:
        change(payload)
        return payload

    replay.endpoint.recordings.mutate("raceResult", mutated)


def edit_field(replay, change: Callable[[dict], None]) -> None:
    def mutated(payload: dict) -> dict:
        change(payload)
        return payload

    replay.endpoint.recordings.mutate("raceEntries", mutated)


def edit_listing(replay, change: Callable[[list[dict]], None]) -> None:
    def mutated(payload: dict) -> dict:
        change(payload["data"]["GetMeetingByDate"])
        return payload

    replay.endpoint.recordings.mutate("meetings", mutated)


def _randwick(listing: list[dict]) -> dict:
    return next(m for m in listing if m["id"] == RANDWICK_MEET)


def _set_on_winner(**fields) -> Callable[[dict], None]:
    return lambda payload: _entry(payload, 1).update(fields)


RANDWICK = (RANDWICK_CELL,), (RANDWICK_RACE, "R3")


# --------------------------------------------------------------------------------------------- silent loss


def test_a_field_answered_with_zero_runners_keeps_the_stored_field(platform, replay, good):
    edit_field(replay, lambda payload: _race(payload).update(formRaceEntries=[]))
    outcome = run_cell(platform, ROSEHILL_CELL)
    assert_refused(outcome, (ROSEHILL_CELL,), (ROSEHILL_RACE,), ("formRaceEntries", "runner"), ("runner",))
    assert_unchanged(platform, good)


def test_an_all_scratched_answer_for_a_resulted_race_keeps_its_placings(platform, replay, good):
    def all_scratched(payload: dict) -> None:
        for entry in _race(payload)["formRaceEntries"]:
            entry.update(scratched=True, finish=109, position=109, barrierNumber=0, margin=None)

    edit_result(replay, all_scratched)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, *RANDWICK, ("scratched", "position", "finish", "placing"), ("placing", "winner"))
    assert_unchanged(platform, good)


def test_two_running_horses_on_one_saddlecloth_are_refused(platform, replay, good):
    edit_result(
        replay,
        lambda payload: _entry(payload, 9).update(raceEntryNumber=_entry(payload, 1)["raceEntryNumber"]),
    )
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, *RANDWICK, ("raceEntryNumber", "saddlecloth"), ("saddlecloth",))
    assert_unchanged(platform, good)


def test_two_winners_without_a_dead_heat_mark_are_refused(platform, replay, good):
    # 1, 2, 1: a dead heat for 1st skips 2nd (racing.com's mark: 1, 1, 3), so this is two winners.
    edit_result(replay, lambda payload: _entry(payload, 3).update(finish=1, position=1))
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, *RANDWICK, ("position", "finish"), ("winner",))
    assert_unchanged(platform, good)


def test_a_race_code_moved_to_another_venue_is_refused(platform, replay, good):
    def to_warwick_farm(listing: list[dict]) -> None:
        _randwick(listing).update(venue="Warwick Farm", venueName="Warwick Farm", venueCode="350")

    edit_listing(replay, to_warwick_farm)
    edit_result(replay, lambda payload: _race(payload)["venue"].update(venueName="Warwick Farm"))
    listed = run_meetings(platform)
    outcome = listed if listed.refused else run_cell(platform, f"{RESULT_DAY}|warwick-farm")
    assert_refused(outcome, (RANDWICK_RACE, RANDWICK_MEET), ("venue",), ("royal-randwick", "Royal Randwick"))
    assert_unchanged(platform, good)


def test_a_race_code_moved_to_another_date_is_refused(platform, replay, good):
    def to_next_day(listing: list[dict]) -> None:
        _randwick(listing).update(
            date="2026-03-08", meetUrl="https://www.racing.com/form/2026-03-08/royal-randwick"
        )

    edit_listing(replay, to_next_day)
    listed = run_meetings(platform, "2026-03-08")
    outcome = listed if listed.refused else run_cell(platform, "2026-03-08|royal-randwick")
    assert_refused(outcome, (RANDWICK_RACE, RANDWICK_MEET), ("date",), (RESULT_DAY,))
    assert_unchanged(platform, good)


def test_a_known_venue_under_a_new_name_and_code_is_matched_not_forked(platform, replay):
    edit_listing(
        replay,
        lambda listing: _randwick(listing).update(venue="Randwick", venueName="Randwick", venueCode="348"),
    )
    partitions = set(platform.instance.get_dynamic_partitions("venue"))
    outcome = run_meetings(platform)
    assert outcome.result.success, outcome.describe()
    stored = platform.rows("meetings", "meet_code = ?", [RANDWICK_MEET])
    assert list(stored["venue_slug"]) == ["royal-randwick"]
    assert set(platform.instance.get_dynamic_partitions("venue")) == partitions


# --------------------------------------------------------------------------------------------- shapes


def test_a_selected_field_missing_from_a_field_answer_is_refused(platform, replay, good):
    def without_horse_codes(answer: dict) -> dict:
        for entry in answer["data"]["getRaceForm"]["formRaceEntries"]:
            del entry["horseCode"]
        return answer

    replay.endpoint.edit_answers("getRaceEntriesForField_CD", without_horse_codes)
    outcome = run_cell(platform, ROSEHILL_CELL)
    assert_refused(
        outcome, (ROSEHILL_CELL,), (ROSEHILL_RACE, '"raceNumber": 1'), ("horseCode",), ("missing",)
    )
    assert_unchanged(platform, good)


def test_a_selected_field_missing_from_the_whole_meeting_answer_is_refused(platform, replay, good):
    def without_status(answer: dict) -> dict:
        for race in answer["data"]["getRacesForMeet"]:
            del race["raceStatus"]
        return answer

    replay.endpoint.edit_answers("Races", without_status)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, (RANDWICK_CELL,), (RANDWICK_MEET, RANDWICK_RACE), ("raceStatus",), ("missing",))
    assert_unchanged(platform, good)


def test_a_renamed_field_is_refused(platform, replay, good):
    def renamed(answer: dict) -> dict:
        for entry in answer["data"]["getRacesForMeet"][0]["formRaceEntries"]:
            entry["saddleNumber"] = entry.pop("raceEntryNumber")
        return answer

    replay.endpoint.edit_answers("Races", renamed)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(
        outcome, (RANDWICK_CELL,), (RANDWICK_MEET, RANDWICK_RACE), ("raceEntryNumber",), ("missing",)
    )
    assert_unchanged(platform, good)


@pytest.mark.parametrize(
    ("field", "value", "names"),
    [
        ("raceEntryNumber", "two", ("raceEntryNumber", "saddlecloth")),  # a string for a number
        ("horseName", {"name": "Chayan"}, ("horseName", "horse_name")),  # an object for a string
        ("weight", ["56.5kg"], ("weight",)),  # a list for a scalar
    ],
    ids=["string_for_number", "object_for_string", "list_for_scalar"],
)
def test_a_wrong_type_is_refused_naming_the_field(platform, replay, good, field, value, names):
    edit_result(replay, _set_on_winner(**{field: value}))
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, *RANDWICK, names)
    assert_unchanged(platform, good)


def test_a_race_list_without_runner_identities_is_refused_or_lands_without_runners(platform, replay, good):
    """Flemington's only recording is a race list: its whole-meeting answer has no saddlecloths or codes."""
    outcome = run_cell(platform, f"{RESULT_DAY}|flemington")
    flemington = "meeting_date = ? AND venue_slug = 'flemington'"
    if outcome.refused:
        assert_refused(
            outcome,
            (f"{RESULT_DAY}|flemington",),
            ("5435930", "R6"),
            ("saddlecloth", "raceEntryNumber", "horse_code", "horseCode"),
        )
        assert platform.rows("runners", flemington, [RESULT_DAY]).empty
    else:
        assert len(platform.rows("races", flemington, [RESULT_DAY])) == len(
            recorded_payload("races")["data"]["getNoCacheRacesForMeet"]
        )
        assert platform.rows("runners", flemington, [RESULT_DAY])["saddlecloth"].notna().all()
    for table in STORED:
        kept = platform.rows(table, "venue_slug <> 'flemington'").drop(
            columns=["last_fetched_at"], errors="ignore"
        )
        pd.testing.assert_frame_equal(kept, good[table], obj=f"stored {table}")


# --------------------------------------------------------------------------------------------- values


def test_null_is_trial_and_is_jump_out_in_a_listing_never_raise(platform, replay, good):
    def unknown_flags(listing: list[dict]) -> None:
        for meeting in listing:
            meeting.update(isTrial=None, isJumpOut=None)

    edit_listing(replay, unknown_flags)
    outcome = run_meetings(platform)
    if outcome.refused:
        assert_refused(outcome, (RESULT_DAY,), (FLEMINGTON_MEET_CODE, RANDWICK_MEET), ("isTrial", "is_trial"))
    else:
        stored = platform.rows("meetings", "meeting_date = ?", [RESULT_DAY])
        assert sorted(stored["meet_code"]) == sorted([FLEMINGTON_MEET_CODE, RANDWICK_MEET])
        assert stored["tracked"].all()  # unknown is not "a trial": the meetings stay in scope
    assert_unchanged(platform, good)


def test_a_zero_winning_time_is_accepted_and_stored_as_not_measured(platform, replay, good):
    def unmeasured(payload: dict) -> None:
        for entry in _race(payload)["formRaceEntries"]:
            entry["winningTime"] = "0"

    edit_result(replay, unmeasured)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert outcome.result.success and not outcome.failed_checks, outcome.describe()
    where = "race_code = ?", [RANDWICK_RACE]
    assert platform.rows("races", *where)["winning_time_s"].isna().all()
    assert platform.rows("results", *where)["winning_time_s"].isna().all()
    for table in ("runners", "odds"):  # the same runners and prices, first seen in the new body
        pd.testing.assert_frame_equal(
            platform.rows(table).drop(columns="fetched_at"), good[table].drop(columns="fetched_at"), obj=table
        )


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"weight": "5kg"}, ("weight",)),
        ({"weight": "500kg"}, ("weight",)),
        ({"barrierNumber": 0}, ("barrier",)),
        ({"barrierNumber": 99}, ("barrier",)),
    ],
    ids=["weight_5kg", "weight_500kg", "barrier_0_running", "barrier_99"],
)
def test_absurd_weights_and_barriers_are_refused(platform, replay, good, fields, names):
    edit_result(replay, _set_on_winner(**fields))
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, *RANDWICK, names)
    assert_unchanged(platform, good)


@pytest.mark.parametrize("listed_date", ["1900-01-01", "2999-12-31"], ids=["far_past", "far_future"])
def test_a_listing_dating_a_meeting_far_from_the_day_asked_is_refused(platform, replay, good, listed_date):
    def misdated(answer: dict) -> dict:
        _randwick(answer["data"]["GetMeetingByDate"])["date"] = listed_date
        return answer

    replay.endpoint.edit_answers("GetMeetingByDate_CD", misdated)
    outcome = run_meetings(platform)
    assert_refused(outcome, (RESULT_DAY,), (RANDWICK_MEET,), ("date",), (listed_date,))
    assert_unchanged(platform, good, (*STORED, "meetings"))


@pytest.mark.parametrize(
    "start", ["1900-03-07T04:05:00.000Z", "2999-03-07T04:05:00.000Z"], ids=["far_past", "far_future"]
)
def test_a_race_starting_far_from_its_meeting_date_is_refused(platform, replay, good, start):
    edit_result(replay, lambda payload: _race(payload).update(time=start))
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, *RANDWICK, ("time", "start_time"), (RESULT_DAY,))
    assert_unchanged(platform, good)


@pytest.mark.parametrize(
    "name",
    [
        'O\'Brien "The Park"',
        "Royal|Park",
        "Park, North",
        "Park [Inner]",
        "'; DROP TABLE races; --",
        "Pakenham – Tynong",
        "Warrnambool Ōhau",
    ],
    ids=["quotes", "pipe", "commas", "brackets", "sql", "en_dash", "macron"],
)
def test_a_venue_named_with_awkward_characters_gets_a_safe_partition_key(platform, replay, good, name):
    def with_new_venue(listing: list[dict]) -> None:
        new = {"id": "9990001", "venue": name, "venueName": name, "state": "VIC", "meetUrl": None}
        listing.append({**_randwick(listing), **new})

    edit_listing(replay, with_new_venue)
    known = set(platform.instance.get_dynamic_partitions("venue"))
    outcome = run_meetings(platform)
    assert outcome.result.success, outcome.describe()
    stored = platform.rows("meetings", "meet_code = '9990001'")
    assert list(stored["venue"]) == [name]
    slug = stored["venue_slug"].iloc[0]
    assert re.fullmatch(VENUE_SLUG_PATTERN, slug) and slug.isascii(), slug
    assert set(platform.instance.get_dynamic_partitions("venue")) - known <= {slug}
    assert_unchanged(platform, good)


def test_names_with_control_characters_are_stored_normalised_and_archived_raw(platform, replay, good):
    raw_name = "Cha\nyan\tthe\u2028Great"
    edit_result(replay, _set_on_winner(horseName=raw_name))
    outcome = run_cell(platform, RANDWICK_CELL)
    assert outcome.result.success and not outcome.failed_checks, outcome.describe()
    for table in ("runners", "results"):
        names = platform.rows(table, "race_code = ?", [RANDWICK_RACE])["horse_name"]
        stored = next(n for n in names if "Cha" in n)
        assert not re.search(r"[\x00-\x1f\x7f\u2028\u2029]", stored), repr(stored)
        assert stored.split() == ["Chayan", "the", "Great"] or stored.split() == [
            "Cha",
            "yan",
            "the",
            "Great",
        ]
    body = platform.rows("raw_race_cards", "meet_code = ?", [RANDWICK_MEET])["body"].iloc[0]
    entries = json.loads(body)["data"]["getRacesForMeet"][0]["formRaceEntries"]
    assert raw_name in [e["horseName"] for e in entries]  # the raw body keeps what racing.com sent


def test_a_whole_meeting_answer_the_parser_refuses_is_recorded_and_the_stored_bodies_kept(
    platform, replay, good
):
    def mistyped(answer: dict) -> dict:
        answer["data"]["getRacesForMeet"][0]["distance"] = {"metres": 1200}
        return answer

    replay.endpoint.edit_answers("Races", mistyped)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, (RANDWICK_CELL,), ("distance",))
    assert outcome.result.success, outcome.describe()  # recorded like a failed race, not a failed step
    failures = platform.rows("fetch_failures")
    assert failures[["meet_code", "operation", "error_type"]].values.tolist() == [
        [RANDWICK_MEET, "Races", "ParseError"]
    ]
    assert failures["race_number"].isna().all()
    assert_unchanged(platform, good)


def test_a_null_race_number_in_the_whole_meeting_answer_is_refused_naming_it(platform, replay, good):
    def unnumbered(answer: dict) -> dict:
        answer["data"]["getRacesForMeet"][0]["raceNumber"] = None
        return answer

    replay.endpoint.edit_answers("Races", unnumbered)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, (RANDWICK_CELL,), (RANDWICK_RACE,), ("raceNumber", "race_number"))
    assert_unchanged(platform, good)


def test_a_null_race_status_in_the_whole_meeting_answer_never_raises(platform, replay, good):
    edit_result(replay, lambda payload: _race(payload).update(raceStatus=None))
    outcome = run_cell(platform, RANDWICK_CELL)
    assert "TypeError" not in outcome.text, outcome.describe()
    assert not outcome.retries and outcome.seconds < DETERMINISTIC_LIMIT_S, outcome.describe()
    assert_unchanged(platform, good, ("races", "results"))
    # The refused status sends the race to its own field request, whose answer also selects fields the
    # whole-meeting answer does not (apprentice claims, favourite flags): new information, not damage.
    # Every stored row is still there and every value stored before is unchanged (but when it was seen).
    for table, stored in _snapshot(platform, ("runners", "odds")).items():
        before = good[table]
        assert len(stored) == len(before), table
        for column in before.columns.drop("fetched_at"):
            known = before[column].notna()
            kept = stored[column][known].astype(str) == before[column][known].astype(str)
            assert kept.all(), f"{table}.{column}"


# --------------------------------------------------------------------------------------------- transport


def _recorded_races_answer(replay) -> bytes:
    answer = replay.endpoint.execute(load_operation("Races").text, {"meetCode": RANDWICK_MEET}, "Races")
    return json.dumps(answer).encode()


@pytest.mark.parametrize(
    ("answer", "names"),
    [
        (
            RawAnswer(200, b"<!DOCTYPE html><html><body>Request blocked</body></html>", "text/html"),
            ("json", "html"),
        ),
        (RawAnswer(200, b'{"data": {}}'), ("getRacesForMeet", "data")),
    ],
    ids=["html_with_200", "empty_data"],
)
def test_a_deterministic_bad_body_fails_at_once_without_retries(platform, replay, good, answer, names):
    replay.endpoint.queue("Races", answer, times=REPEATS_OF_A_BAD_ANSWER)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, (RANDWICK_CELL,), (RANDWICK_MEET,), ("Races", "getRacesForMeet"), names)
    assert len(replay.endpoint.requests_for("Races")) == 1, "the bad body was requested again"
    assert_unchanged(platform, good)


def test_truncated_json_with_200_fails_at_once_without_retries(platform, replay, good):
    whole = _recorded_races_answer(replay)
    replay.endpoint.queue("Races", RawAnswer(200, whole[: len(whole) // 2]), times=REPEATS_OF_A_BAD_ANSWER)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, (RANDWICK_CELL,), (RANDWICK_MEET,), ("Races", "getRacesForMeet"), ("json",))
    assert len(replay.endpoint.requests_for("Races")) == 1, "the cut-off body was requested again"
    assert_unchanged(platform, good)


def test_a_gigantic_answer_is_refused_quickly(platform, replay, good):
    padding = b'{"data": {"getRacesForMeet": [], "padding": "' + b"x" * OVERSIZE_PADDING_BYTES + b'"}}'
    replay.endpoint.queue("Races", RawAnswer(200, padding), times=REPEATS_OF_A_BAD_ANSWER)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(
        outcome, (RANDWICK_CELL,), (RANDWICK_MEET,), ("size", "bytes", "large"), limit_s=OVERSIZE_LIMIT_S
    )
    assert_unchanged(platform, good)


def test_graphql_errors_fail_at_once_naming_them(platform, replay, good):
    def with_errors(payload: dict) -> None:
        payload["errors"] = [{"errorType": "InternalFailure", "message": "resolver exploded"}]

    edit_result(replay, with_errors)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert_refused(outcome, (RANDWICK_CELL,), (RANDWICK_MEET,), ("resolver exploded",))
    assert len(replay.endpoint.requests_for("Races")) == 1
    assert_unchanged(platform, good)


@pytest.mark.parametrize(
    "fault",
    [RawAnswer(500, b"Internal Server Error", "text/plain"), RawAnswer(429, b"slow down", "text/plain")],
    ids=["http_500", "http_429"],
)
def test_a_transient_fault_is_retried_and_the_data_lands(platform, replay, good, fault):
    replay.endpoint.queue("Races", fault)
    outcome = run_cell(platform, RANDWICK_CELL)
    assert outcome.result.success and not outcome.failed_checks, outcome.describe()
    assert len(replay.endpoint.requests_for("Races")) == 2
    assert_unchanged(platform, good)
