"""Cross-response rules (cards/rules.py) through the cell assets: a real instance, a real DuckDB file and
the simulator over real HTTP, answering first from a good world and then from a mutated one.

Each case stores a good cell, then lets one answer say something it must not: the stored rows stay, the
refused body is listed in fetch_failures naming cell, race, field and rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd

from racing_platform.cards.assets import race_cards, race_results, raw_race_cards
from racing_platform.cards.rules import StoredCell, latest_per_request, validate_cell_answer
from racing_platform.cards.tables import parse_cell
from racing_platform.features.assets import runner_features
from racing_platform.partitions import Cell
from racing_platform.source.assets import meetings
from racing_platform_tests.paths import RACING_COM_FIXTURES
from racing_platform_tests.worlds import AFTER_MEETING, MEET, RACE_DAY, RACE_MORNING

DAY = RACE_DAY.isoformat()
CELL = f"{DAY}|flemington"
CARDS = [raw_race_cards, race_cards, race_results]
STORED = ("raw_race_cards", "races", "runners", "results", "odds", "runner_features")


def _stored_good_cell(platform_for, world, now: str = AFTER_MEETING, downstream: tuple = ()):
    platform = platform_for(world, now)
    assert platform.materialize([meetings], DAY).success
    assert platform.materialize(CARDS + list(downstream), CELL).success
    return platform, {table: platform.rows(table) for table in STORED}


def _assert_unchanged(platform, stored: dict[str, pd.DataFrame]) -> None:
    for table, frame in stored.items():
        pd.testing.assert_frame_equal(platform.rows(table), frame, obj=table)


def _refusals(platform) -> pd.DataFrame:
    failures = platform.rows("fetch_failures")
    assert set(failures["error_type"]) == {"AnswerRefused"}, failures
    return failures


def _edit_stored_body(platform, race_code: str, edit: Callable[[list[dict]], None]) -> None:
    """Rewrite one race's entries in the cell's stored bodies, as an earlier version could have stored."""
    raw = platform.rows("raw_race_cards")

    def walk(node):
        if isinstance(node, dict):
            if node.get("id") == race_code and isinstance(node.get("formRaceEntries"), list):
                edit(node["formRaceEntries"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    bodies = []
    for body in raw["body"]:
        payload = json.loads(body)
        walk(payload)
        bodies.append(json.dumps(payload))
    keys = pd.DataFrame({"meeting_date": [RACE_DAY], "venue_slug": ["flemington"]})
    platform.warehouse.replace_slices({"raw_race_cards": raw.assign(body=bodies)}, keys)


def test_a_race_answered_without_runners_keeps_its_stored_runners_results_and_features(
    platform_for, tiny_world
):
    platform, stored = _stored_good_cell(platform_for, tiny_world, downstream=(runner_features,))
    assert len(stored["runner_features"])
    tiny_world.entries = tiny_world.entries[tiny_world.entries["race_code"] != "6100022"]  # R2: no field

    result = platform_for(tiny_world, AFTER_MEETING).materialize(CARDS + [runner_features], CELL)

    assert result.success
    _assert_unchanged(platform, stored)
    message = " ".join(_refusals(platform)["message"])
    assert f"{CELL} race {MEET} R2 (6100022) runners.formRaceEntries: broke runners_kept" in message
    assert "stored 5 runner(s), the answer none" in message
    assert "placings_kept" in message  # and its 5 placings


def test_an_all_scratched_answer_keeps_a_resulted_race_s_placings(platform_for, tiny_world):
    platform, stored = _stored_good_cell(platform_for, tiny_world)
    r1 = tiny_world.entries["race_code"] == "6100021"
    tiny_world.entries.loc[r1, "finish"] = 109  # every runner scratched: no placing left

    result = platform_for(tiny_world, AFTER_MEETING).materialize(CARDS, CELL)

    assert result.success
    _assert_unchanged(platform, stored)
    refused = _refusals(platform)
    assert list(refused["race_number"]) == [1]
    assert (
        f"{CELL} race {MEET} R1 (6100021) results.finish_position: broke placings_kept"
        in refused["message"][0]
    )


def test_two_winners_without_a_dead_heat_are_refused(platform_for, tiny_world):
    platform, stored = _stored_good_cell(platform_for, tiny_world)
    r2 = tiny_world.entries["race_code"] == "6100022"
    tiny_world.entries.loc[r2, "finish"] = [1, 1, 2, 5, 4]  # two 1sts and a 2nd: not a dead heat

    result = platform_for(tiny_world, AFTER_MEETING).materialize(CARDS, CELL)

    assert result.success
    _assert_unchanged(platform, stored)
    message = _refusals(platform)["message"][0]
    assert f"race {MEET} R2 (6100022) results.finish_position: broke one_winner" in message
    assert "2 runners placed 1st, yet also placed [2]" in message


def test_a_dead_heat_for_first_is_two_winners_and_no_second(platform_for, tiny_world):
    platform, _ = _stored_good_cell(platform_for, tiny_world)
    r2 = tiny_world.entries["race_code"] == "6100022"
    tiny_world.entries.loc[r2, "finish"] = [1, 1, 3, 5, 4]  # racing.com's mark: shared 1st, no 2nd

    assert platform_for(tiny_world, AFTER_MEETING).materialize(CARDS, CELL).success

    assert platform.rows("fetch_failures").empty
    results = platform.rows("results")
    winners = results[(results["race_code"] == "6100022") & (results["finish_position"] == 1)]
    assert sorted(winners["horse_code"]) == ["5300008", "5300009"]


def test_two_running_horses_on_one_saddlecloth_block_race_cards_naming_race_and_saddlecloth(
    platform_for, tiny_world
):
    platform, stored = _stored_good_cell(platform_for, tiny_world)

    def share_saddlecloth_1(entries: list[dict]) -> None:
        entries[1]["raceEntryNumber"] = entries[0]["raceEntryNumber"]  # both ran (3rd and 1st)

    _edit_stored_body(platform, "6100022", share_saddlecloth_1)
    result = platform.materialize([race_cards], CELL)

    assert not result.success
    check = [e for e in result.get_asset_check_evaluations() if e.check_name == "race_cards_contract"]
    assert check and not check[0].passed
    failure = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure[0].event_specific_data.error.message
    assert f"{CELL}: race_cards_contract: race {MEET} R2 (6100022) runners." in message
    assert "one entry per race and saddlecloth" in message and "saddlecloth 1" in message
    pd.testing.assert_frame_equal(platform.rows("runners"), stored["runners"])

    # The same answer fetched is refused before it is stored, naming the same race and saddlecloth.
    tiny_world.entries.loc[
        (tiny_world.entries["race_code"] == "6100022") & (tiny_world.entries["saddlecloth"] == 2),
        "saddlecloth",
    ] = 1
    assert platform_for(tiny_world, AFTER_MEETING).materialize([raw_race_cards], CELL).success
    refused = " ".join(_refusals(platform)["message"])
    assert f"race {MEET} R2 (6100022) runners." in refused and "one entry per race and saddlecloth" in refused


def test_a_race_code_stored_under_another_cell_is_refused_naming_both_cells(platform_for, tiny_world):
    platform, stored = _stored_good_cell(platform_for, tiny_world)
    # A changed venue code and name listed the same meeting under a second venue partition.
    with platform.warehouse.connect() as conn:
        conn.execute(
            "INSERT INTO meetings SELECT * REPLACE ('flemington-racecourse' AS venue_slug) FROM meetings "
            "WHERE meet_code = ?",
            [MEET],
        )
    platform.instance.add_dynamic_partitions("venue", ["flemington-racecourse"])
    fork = f"{DAY}|flemington-racecourse"

    assert platform.materialize([raw_race_cards], fork).success
    result = platform.materialize([race_cards, race_results], fork)

    assert not result.success
    _assert_unchanged(platform, stored)
    refused = _refusals(platform)
    assert set(refused["venue_slug"]) == {"flemington-racecourse"} and set(refused["race_number"]) == {
        1,
        2,
        3,
    }
    assert (
        f"{fork} race {MEET} R1 (6100021) races.race_code: broke race_in_one_cell (stored under cell "
        f"{CELL}, answered for cell {fork})" in " ".join(refused["message"])
    )
    failure = " ".join(
        e.event_specific_data.error.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    )
    assert f"{fork}: race_cards_contract: no answer stored for the cell" in failure
    assert f"{fork} race {MEET} R1 (6100021)" in failure


def test_one_refused_race_does_not_hold_back_the_others(platform_for, tiny_world):
    platform, stored = _stored_good_cell(platform_for, tiny_world, RACE_MORNING)
    entries = tiny_world.entries
    entries.loc[entries["race_code"] == "6100022", "weight_kg"] = 99.0  # R2 broken
    entries.loc[(entries["race_code"] == "6100023") & (entries["saddlecloth"] == 1), "weight_kg"] = (
        57.5  # R3 news
    )

    assert platform_for(tiny_world, RACE_MORNING).materialize(CARDS, CELL).success

    runners = platform.rows("runners").set_index(["race_code", "saddlecloth"])["weight_kg"]
    before = stored["runners"].set_index(["race_code", "saddlecloth"])["weight_kg"]
    assert runners[("6100023", 1)] == 57.5  # R3's new field landed
    pd.testing.assert_series_equal(runners.loc["6100022"], before.loc["6100022"])  # R2 kept
    refused = _refusals(platform)
    assert set(refused["race_number"]) == {2}
    assert set(refused["operation"]) == {"getRaceEntriesForField_CD", "Races"}


def test_a_stored_body_breaking_its_contract_blocks_race_cards_and_downstream(platform_for, tiny_world):
    platform, stored = _stored_good_cell(platform_for, tiny_world)

    def overweight(entries: list[dict]) -> None:
        entries[0]["weight"] = "99kg"

    _edit_stored_body(platform, "6100022", overweight)  # stored before the rules existed
    result = platform.materialize([race_cards, runner_features], CELL)

    assert not result.success
    failure = " ".join(
        e.event_specific_data.error.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    )
    assert f"{CELL}: race_cards_contract: race {MEET} R2 (6100022) runners.weight_kg" in failure
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert "race_cards_and_results" in started and "runner_features" not in started
    _assert_unchanged(platform, {t: f for t, f in stored.items() if t != "raw_race_cards"})
    check = [e for e in result.get_asset_check_evaluations() if e.check_name == "race_cards_contract"]
    assert check and not check[0].passed and "weight_kg" in str(check[0].metadata)


def _real_flemington_cell() -> tuple[Cell, object]:
    """racing.com's real Flemington race list (races.json) parsed as raw_race_cards would store it."""
    body = (RACING_COM_FIXTURES / "races.json").read_text()
    day = pd.Timestamp("2026-03-07")
    raw = pd.DataFrame(
        {
            "meeting_date": [day.date()],
            "venue_slug": ["flemington"],
            "meet_code": ["5193238"],
            "operation": ["getRaceNumberList_CD"],
            "race_number": pd.array([None], dtype="Int64"),
            "variables": [json.dumps({"meetCode": "5193238"})],
            "sha256": ["0" * 64],
            "first_fetched_at": [pd.Timestamp("2026-03-07T09:00Z")],
            "last_fetched_at": [pd.Timestamp("2026-03-07T09:00Z")],
            "body": [body],
        }
    )
    meeting = raw[["meet_code", "meeting_date", "venue_slug"]].assign(venue="Flemington", state="VIC")
    return Cell(day.date(), "flemington"), parse_cell(latest_per_request(raw.head(0), raw), meeting)


def _stored(**races) -> StoredCell:
    columns = ["meet_code", "race_number", "race_code", "race_status", "runners", "placings"]
    return StoredCell(
        races=pd.DataFrame(races or None, columns=columns),
        elsewhere=pd.DataFrame(columns=["race_code", "meeting_date", "venue_slug"]),
    )


def test_the_real_race_list_passes_every_rule_with_its_dead_heat_for_11th():
    cell, tables = _real_flemington_cell()
    r9 = tables.results[tables.results["race_number"] == 9]
    assert (r9["finish_position"] == 11).sum() == 2 and not (r9["finish_position"] == 12).any()
    assert validate_cell_answer(cell, tables, _stored()).empty


def test_a_race_answered_without_its_stored_status_is_a_breach():
    cell, tables = _real_flemington_cell()
    r6 = tables.races["race_number"] == 6
    tables.races.loc[r6, "race_status"] = pd.NA
    stored = _stored(
        meet_code=["5193238"], race_number=[6], race_code=list(tables.races.loc[r6, "race_code"]),
        race_status=["Paying"], runners=[0], placings=[12],
    )  # fmt: skip
    breaches = validate_cell_answer(cell, tables, stored)
    assert list(breaches["rule"]) == ["status_kept"] and list(breaches["field"]) == ["race_status"]
    assert list(breaches["race_number"]) == [6] and breaches["detail"][0] == "stored Paying, the answer none"


def test_a_stored_body_the_parser_now_refuses_is_dropped_not_left_to_jam_its_cell(platform_for, tiny_world):
    platform, stored = _stored_good_cell(platform_for, tiny_world, RACE_MORNING)  # races fetched one by one

    def unreadable(entries: list[dict]) -> None:
        entries[0]["weight"] = {"kg": 58}  # a shape the parser refuses, stored by an older version

    _edit_stored_body(platform, "6100022", unreadable)
    bad = platform.rows("raw_race_cards").query("race_number == 2")["sha256"].tolist()
    # After the meeting only the whole-meeting answer is fetched: R2's own stored body is not replaced.
    result = platform_for(tiny_world, AFTER_MEETING).materialize(CARDS, CELL)

    assert result.success
    refused = _refusals(platform)
    assert set(refused["race_number"]) == {2} and all("broke readable" in m for m in refused["message"])
    assert all("dropped from raw_race_cards, kept in the archive" in m for m in refused["message"])
    assert not set(bad) & set(platform.rows("raw_race_cards")["sha256"])
    assert set(platform.rows("runners")["race_code"]) == set(stored["runners"]["race_code"])
