"""The horse_careers asset on a real instance, DuckDB file and simulator: per-cell metadata and check."""

from __future__ import annotations

from racing_platform.cards.assets import race_cards, race_results, raw_race_cards
from racing_platform.careers.assets import horse_careers
from racing_platform.source.assets import meetings
from racing_platform_tests.worlds import AFTER_MEETING, RACE_DAY

DAY = RACE_DAY.isoformat()
CELL = f"{DAY}|flemington"


def test_the_asset_records_what_each_cell_cost_and_its_contract(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    assert platform.materialize([meetings], DAY).success
    assert platform.materialize([raw_race_cards, race_cards, race_results], CELL).success

    first = platform.materialize([horse_careers], CELL)
    assert first.success
    metadata = first.get_asset_materialization_events()[0].materialization.metadata
    on_card = metadata["horses_on_card"].value
    assert on_card > 0 and metadata["horses_fetched"].value == on_card
    assert metadata["horses_up_to_date"].value == 0 and metadata["pages"].value >= on_card
    starts = platform.rows("horse_starts")
    assert metadata["starts_fetched"].value == metadata["dagster/row_count"].value == len(starts) > 0
    assert metadata["starts_stored"].value == len(starts)
    (check,) = [c for c in first.get_asset_check_evaluations() if c.partition]
    assert check.check_name == "horse_careers_contract" and check.passed and check.partition == CELL

    again = platform.materialize([horse_careers], CELL)
    assert again.success
    metadata = again.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["horses_fetched"].value == 0 and metadata["horses_up_to_date"].value == on_card
    assert platform.rows("horse_starts").equals(starts)


def test_a_cell_whose_cards_are_not_stored_fails_and_says_what_to_run(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    assert platform.materialize([meetings], DAY).success
    result = platform.materialize([horse_careers], CELL)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "materialize race_cards first" in failure.event_specific_data.error.message


def test_a_cell_without_a_meeting_fetches_nothing(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    assert platform.materialize([meetings], DAY).success
    platform.instance.add_dynamic_partitions("venue", ["caulfield"])
    result = platform.materialize([horse_careers], f"{DAY}|caulfield")
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert "no tracked meeting" in metadata["meeting"].value
    assert platform.rows("horse_starts").empty
    assert not [r for r in platform.sim.control.requests_log() if "GetRaceEntryItemByHorsePaged" in str(r)]
