"""The asset graph over the real racing.com recordings, through Dagster, over real HTTP.

meetings -> raw_race_cards -> race_cards, race_results -> form_lines, for the recorded meetings whose
whole-meeting call the recordings can answer with runners: Royal Randwick 2026-03-07 (resulted) and
Rosehill Gardens (a final field). Every expected count is read from the recordings themselves.
"""

from __future__ import annotations

from racing_platform_tests.replay.recordings import (
    FLEMINGTON_MEET_CODE,
    RANDWICK_CELL,
    RESULT_DAY,
    ROSEHILL_CELL,
    ROSEHILL_DATE,
    recorded_payload,
)

NON_RUNNER_FROM = 100


def _race(name: str) -> dict:
    return recorded_payload(name)["data"]["getRaceForm"]


def _ran(entry: dict) -> bool:
    return not entry["scratched"] and entry["finish"] is not None and entry["finish"] < NON_RUNNER_FROM


def test_every_recorded_meeting_is_listed_and_its_venue_registered(landed):
    platform, outcomes = landed
    assert outcomes[RESULT_DAY].success and outcomes[ROSEHILL_DATE].success
    stored = platform.rows("meetings")
    assert sorted(stored["meet_code"]) == sorted(
        [
            FLEMINGTON_MEET_CODE,
            _race("raceResult")["meetCode"],
            _race("raceEntries")["formRaceEntries"][0]["meetCode"],
        ]
    )
    assert stored["tracked"].all()
    assert set(platform.instance.get_dynamic_partitions("venue")) >= {
        "flemington",
        "royal-randwick",
        "rosehill-gardens",
    }
    assert dict(zip(stored["venue_slug"], stored["state"], strict=True))["flemington"] == "VIC"  # registry


def test_the_resulted_meeting_lands_its_race_runners_results_and_odds(landed):
    platform, outcomes = landed
    assert outcomes[RANDWICK_CELL].success
    recorded = _race("raceResult")
    entries = recorded["formRaceEntries"]
    where, cell = "meeting_date = ? AND venue_slug = ?", [RESULT_DAY, "royal-randwick"]
    races = platform.rows("races", where, cell)
    assert list(races["race_code"]) == [recorded["id"]] and list(races["race_number"]) == [3]
    runners = platform.rows("runners", where, cell)
    assert sorted(runners["saddlecloth"]) == sorted(e["raceEntryNumber"] for e in entries)
    assert sorted(runners.loc[runners["scratched"], "saddlecloth"]) == sorted(
        e["raceEntryNumber"] for e in entries if e["scratched"]
    )
    assert runners.loc[runners["scratched"], "barrier"].isna().all()
    results = platform.rows("results", where, cell)
    placed = results.dropna(subset=["finish_position"]).sort_values("finish_position")
    assert list(placed["saddlecloth"]) == [
        e["raceEntryNumber"] for e in sorted(filter(_ran, entries), key=lambda e: e["finish"])
    ]
    winner = placed.iloc[0]
    assert winner["horse_name"] == next(e["horseName"] for e in entries if e["finish"] == 1)
    assert winner["margin_lengths"] == 0 and winner["starting_price"] == 3.10
    odds = platform.rows("odds", where, cell)
    assert len(odds) == sum(len(e["odds"] or []) for e in entries)


def test_the_final_field_lands_its_runners_and_prices_without_results(landed):
    platform, outcomes = landed
    assert outcomes[ROSEHILL_CELL].success
    recorded = _race("raceEntries")
    entries = recorded["formRaceEntries"]
    where, cell = "meeting_date = ? AND venue_slug = ?", [ROSEHILL_DATE, "rosehill-gardens"]
    assert list(platform.rows("races", where, cell)["race_code"]) == [recorded["id"]]
    runners = platform.rows("runners", where, cell).sort_values("saddlecloth")
    assert list(runners["horse_name"]) == [
        e["horseName"] for e in sorted(entries, key=lambda e: e["raceEntryNumber"])
    ]
    assert list(runners["barrier"]) == [
        e["barrierNumber"] for e in sorted(entries, key=lambda e: e["raceEntryNumber"])
    ]
    assert platform.rows("results", where, cell).dropna(subset=["finish_position"]).empty
    odds = platform.rows("odds", where, cell)
    assert len(odds) == sum(len(e["odds"] or []) for e in entries)
    raw = platform.rows("raw_race_cards", where, cell)
    assert sorted(raw["operation"]) == ["Races", "getRaceEntriesForField_CD"]  # not finished: its own field


def test_form_lines_hold_one_line_per_runner_that_ran_that_day(landed):
    platform, outcomes = landed
    assert outcomes["form_lines"].success
    lines = platform.rows("form_lines", "meeting_date = ?", [RESULT_DAY])
    ran = [e for e in _race("raceResult")["formRaceEntries"] if _ran(e)]
    assert len(lines) == len(ran)
    assert set(lines["horse_code"]) == {e["horseCode"] for e in ran}
    assert lines.loc[lines["won"], "horse_code"].tolist() == [e["horseCode"] for e in ran if e["finish"] == 1]
