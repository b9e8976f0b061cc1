"""Re-fetching a live cell when one race fails: the cell is written, the failed race keeps its old body.

The kept rows are read back from DuckDB (meeting_date as datetime64) and mixed with freshly fetched ones
(datetime.date); the warehouse boundary normalises both, so the cell lands with its fetch_failures.
"""

from __future__ import annotations

from racing_platform.cards.assets import raw_race_cards
from racing_platform.source.assets import meetings
from racing_platform_tests.worlds import FINAL_FIELDS, RACE_DAY, RACE_MORNING

DAY = RACE_DAY.isoformat()
CELL = f"{DAY}|flemington"


def _per_race(platform):
    raw = platform.rows("raw_race_cards")
    return raw[raw["race_number"].notna()].set_index("race_number")[["sha256", "last_fetched_at"]]


def test_a_refetch_with_one_failed_race_writes_the_cell_and_keeps_that_race(platform_for, tiny_world):
    platform = platform_for(tiny_world, FINAL_FIELDS)
    assert platform.materialize([meetings], DAY).success
    assert platform.materialize([raw_race_cards], CELL).success
    before = _per_race(platform)
    assert sorted(before.index) == [1, 2, 3]

    platform.sim.control.set_clock(RACE_MORNING)  # R1's saddlecloth 4 has been scratched since
    platform.sim.control.queue_faults(
        [{"kind": "graphql_error", "message": "resolver exploded"}],
        match={"operation": "getRaceEntriesForField_CD", "variables": {"raceNumber": 2}},
    )
    result = platform.materialize([raw_race_cards], CELL)

    assert result.success
    after = _per_race(platform)
    assert sorted(after.index) == [1, 2, 3]
    assert after.loc[1, "sha256"] != before.loc[1, "sha256"], "R1's new field replaced the old one"
    assert after.loc[3, "last_fetched_at"] > before.loc[3, "last_fetched_at"], "R3 was fetched again"
    assert after.loc[2].to_dict() == before.loc[2].to_dict(), "R2's earlier body is kept as it was"
    failures = platform.rows("fetch_failures")
    assert list(failures["race_number"]) == [2]
    assert failures["message"].str.contains("resolver exploded").all()
    assert set(failures["meeting_date"].dt.date) == {RACE_DAY}
