"""The cell assets on a real instance, a real DuckDB file and the simulator over real HTTP."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from racing_platform.cards.assets import race_cards, race_results, raw_race_cards
from racing_platform.features.assets import runner_features
from racing_platform.source.assets import meetings
from racing_platform_tests.worlds import AFTER_MEETING, MEET, RACE_DAY, RACE_MORNING

DAY = RACE_DAY.isoformat()
CARDS = [raw_race_cards, race_cards, race_results]


def _listed(platform, day: str = DAY):
    result = platform.materialize([meetings], day)
    assert result.success
    return result


def _cell_events(result, event_type: str) -> list:
    return [e for e in result.all_events if e.event_type_value == event_type]


def _failure_message(result) -> str:
    return " ".join(e.event_specific_data.error.message for e in _cell_events(result, "STEP_FAILURE"))


def test_meetings_registers_tracked_venues_and_records_untracked_trials(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    _listed(platform)
    assert sorted(platform.instance.get_dynamic_partitions("venue")) == [
        "flemington",
        "rosehill-gardens",
        "sandown-hillside",
    ]
    stored = platform.rows("meetings", "meet_code")
    assert list(stored["meet_code"]) == ["5100002", "5100003", "5100004", "5100005"]
    assert dict(zip(stored["meet_code"], stored["tracked"], strict=True))["5100003"] is False  # the trial


def test_cards_and_results_of_a_resulted_cell(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    _listed(platform)
    result = platform.materialize(CARDS, f"{DAY}|flemington")
    assert result.success
    races = platform.rows("races", "race_number")
    assert list(races["race_number"]) == [1, 2, 3] and set(races["meet_code"]) == {MEET}
    runners = platform.rows("runners", "race_number, saddlecloth")
    r1 = runners[runners["race_number"] == 1]
    assert sorted(r1.loc[r1["scratched"], "saddlecloth"]) == [4, 7]
    assert r1["barrier"][r1["scratched"]].isna().all()
    results = platform.rows("results", "race_number, finish_position")
    winners = results[results["finish_position"] == 1]
    assert len(winners) == 3 and (winners["margin_lengths"] == 0).all()
    raw = platform.rows("raw_race_cards")
    # A meeting whose races are all resulted is history: one whole-meeting call, no call per race.
    assert list(raw["operation"]) == ["Races"]


def test_rematerializing_a_cell_three_times_leaves_identical_rows(platform_for, tiny_world):
    platform = platform_for(tiny_world, RACE_MORNING)
    _listed(platform)
    snapshots = []
    for _ in range(3):
        assert platform.materialize(CARDS, f"{DAY}|flemington").success
        snapshots.append(
            {
                t: platform.rows(t).drop(columns=["last_fetched_at"], errors="ignore")
                for t in ("raw_race_cards", "races", "runners", "results", "odds", "odds_flucs")
            }
        )
    for table, frame in snapshots[0].items():
        pd.testing.assert_frame_equal(frame, snapshots[2][table], obj=table)
    assert len(snapshots[0]["runners"]) == 16
    flucs = snapshots[0]["odds_flucs"]  # price moves of the race fields, stored per cell like odds
    assert len(flucs) and set(flucs["venue_slug"]) == {"flemington"} and set(flucs["meet_code"]) == {MEET}
    assert not flucs.duplicated(["entry_id", "provider_code", "update_time_utc"]).any()


def test_a_cell_without_a_meeting_is_materialized_explicitly_and_touches_nothing(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    _listed(platform)
    platform.instance.add_dynamic_partitions("venue", ["caulfield"])
    result = platform.materialize(CARDS, f"{DAY}|caulfield")
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert "no tracked meeting" in metadata["meeting"].value
    for table in ("raw_race_cards", "races", "runners", "results"):
        assert platform.rows(table).empty


def test_a_venue_racing_twice_in_one_day_keeps_both_meetings_in_its_cell(platform_for, tiny_world):
    twilight = tiny_world.meetings["meet_code"] == "5100003"
    tiny_world.meetings.loc[twilight, "is_trial"] = False  # a second, real meeting at Flemington that day
    platform = platform_for(tiny_world, AFTER_MEETING)
    _listed(platform)
    assert platform.materialize(CARDS, f"{DAY}|flemington").success
    races = platform.rows("races", "meet_code, race_number")
    assert sorted(set(races["meet_code"])) == [MEET, "5100003"]
    assert len(races) == 4


def test_range_run_over_a_venue_materializes_meeting_and_empty_cells(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    _listed(platform, "2026-02-14")
    assert platform.materialize([meetings], range_=("2026-02-15", DAY)).success
    result = platform.materialize(CARDS, range_=("2026-02-14|flemington", f"{DAY}|flemington"))
    assert result.success
    materialized = platform.instance.get_materialized_partitions(dg.AssetKey("race_cards"))
    assert len(materialized) == 22  # 2026-02-14 .. 2026-03-07, empty days included
    races = platform.rows("races")
    assert sorted(set(races["meet_code"])) == ["5100001", MEET]


def test_a_body_breaking_its_contract_is_refused_and_the_stored_body_kept(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    _listed(platform)
    assert platform.materialize(CARDS, f"{DAY}|flemington").success
    good_raw, good_runners = platform.rows("raw_race_cards"), platform.rows("runners")

    heavy = tiny_world.entries["race_code"] == "6100022"
    tiny_world.entries.loc[heavy, "weight_kg"] = 99.0  # no thoroughbred carries 99 kg
    bad = platform_for(tiny_world, AFTER_MEETING)
    result = bad.materialize(CARDS + [runner_features], f"{DAY}|flemington")

    # The bad body never replaces the good one: race_cards re-parses the stored body, downstream runs.
    assert result.success
    pd.testing.assert_frame_equal(platform.rows("raw_race_cards"), good_raw)
    pd.testing.assert_frame_equal(platform.rows("runners"), good_runners)
    refused = platform.rows("fetch_failures")
    assert set(refused["error_type"]) == {"AnswerRefused"} and list(refused["race_number"].unique()) == [2]
    message = " ".join(refused["message"])
    assert f"{DAY}|flemington race {MEET} R2 (6100022) runners.weight_kg" in message
    assert "in_range(45.0, 75.0)" in message and "value 99.0" in message
    check = [e for e in result.get_asset_check_evaluations() if e.check_name == "raw_race_cards_accepted"]
    assert not check[0].passed and check[0].severity == dg.AssetCheckSeverity.WARN
    assert "weight_kg" in str(check[0].metadata)


def test_range_with_one_bad_cell_writes_the_good_cells_and_names_the_bad_one(platform_for, tiny_world):
    tiny_world.entries.loc[tiny_world.entries["race_code"] == "6100022", "weight_kg"] = 99.0
    platform = platform_for(tiny_world, AFTER_MEETING)
    assert platform.materialize([meetings], range_=("2026-02-14", DAY)).success
    result = platform.materialize(CARDS, range_=("2026-02-14|flemington", f"{DAY}|flemington"))
    assert not result.success
    assert f"Re-run these partitions: {DAY}|flemington: race_cards_contract" in _failure_message(result)
    assert set(platform.rows("races")["meet_code"]) == {"5100001"}
    good = {
        e.partition
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("race_cards")
    }
    assert "2026-02-14|flemington" in good and f"{DAY}|flemington" not in good


def test_one_failing_race_is_recorded_and_a_later_run_completes_the_meeting(platform_for, tiny_world):
    platform = platform_for(tiny_world, RACE_MORNING)
    _listed(platform)
    platform.sim.control.queue_faults(
        [{"kind": "graphql_error", "message": "resolver exploded"}],
        match={"operation": "getRaceEntriesForField_CD", "variables": {"raceNumber": 2}},
    )
    result = platform.materialize([raw_race_cards], f"{DAY}|flemington")
    assert result.success
    failures = platform.rows("fetch_failures")
    assert (
        list(failures["race_number"]) == [2] and failures["message"].str.contains("resolver exploded").all()
    )
    assert sorted(platform.rows("raw_race_cards")["race_number"].dropna()) == [1, 3]
    complete = [e for e in result.get_asset_check_evaluations() if e.check_name == "raw_race_cards_complete"]
    assert complete[0].passed is False and complete[0].severity == dg.AssetCheckSeverity.WARN

    assert platform.materialize([raw_race_cards], f"{DAY}|flemington").success
    assert platform.rows("fetch_failures").empty
    assert sorted(platform.rows("raw_race_cards")["race_number"].dropna()) == [1, 2, 3]


def test_an_outage_never_wipes_stored_meetings_or_cards(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    _listed(platform)
    assert platform.materialize(CARDS, f"{DAY}|flemington").success
    stored_meetings, stored_raw = platform.rows("meetings"), platform.rows("raw_race_cards")

    platform.sim.control.set_clock("2026-02-20T00:00:00Z")  # racing.com answers: nothing listed that day
    result = platform.materialize([meetings], DAY)
    assert not result.success and "treated as an outage" in _failure_message(result)
    pd.testing.assert_frame_equal(platform.rows("meetings"), stored_meetings)

    platform.sim.control.set_clock(AFTER_MEETING)
    platform.sim.control.queue_faults([{"kind": "status", "status": 401}], match={"operation": "Races"})
    result = platform.materialize(CARDS, f"{DAY}|flemington")
    assert not result.success and "AuthError" in str(result.all_events)
    pd.testing.assert_frame_equal(platform.rows("raw_race_cards"), stored_raw)
