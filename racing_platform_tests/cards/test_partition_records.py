"""What a range run records per partition is that partition's own, and cards and results parse a cell once.

A real instance, DuckDB file and simulator: every stage from meetings to runner features runs as range
runs over three weeks of Flemington (two meetings, twenty empty days); then each partition's latest
materialization is read back from the instance and compared with what DuckDB holds for it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import dagster as dg
import pandas as pd

from racing_platform.cards import assets as cards_assets
from racing_platform.cards.assets import race_cards_and_results, raw_race_cards
from racing_platform.features.assets import form_book, form_lines, runner_features
from racing_platform.source.assets import meetings
from racing_platform_tests.worlds import AFTER_MEETING, RACE_DAY

FIRST = date(2026, 2, 14)
DAYS = [FIRST + timedelta(days=i) for i in range((RACE_DAY - FIRST).days + 1)]
CELLS = [f"{day}|flemington" for day in DAYS]
WITH_MEETING = {f"{FIRST}|flemington", f"{RACE_DAY}|flemington"}

# Per asset: the DuckDB rows of one partition (a cell's table, a day's, or the form book before a day).
CELL_TABLE = {
    "raw_race_cards": "raw_race_cards",
    "race_cards": "runners",
    "race_results": "results",
    "runner_features": "runner_features",
}
DAY_ROWS = {
    "meetings": "SELECT count(*) FROM meetings WHERE meeting_date = ?",
    "form_lines": "SELECT count(*) FROM form_lines WHERE meeting_date = ?",
    "form_book": "SELECT count(*) FROM form_lines WHERE meeting_date < ?",
}


def _latest_metadata(instance: dg.DagsterInstance, asset: str, partition: str) -> dict:
    (record,) = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    return {k: v.value for k, v in record.asset_materialization.metadata.items()}


def _count(platform, sql: str, params: list) -> int:
    return int(platform.warehouse.query(sql, params).iloc[0, 0])


def _counting_parses(monkeypatch) -> Counter:
    """Count the parses race_cards_and_results makes, per cell."""
    parses: Counter = Counter()
    parse = cards_assets.parse_cell

    def counted(raw: pd.DataFrame, meetings_of_cell: pd.DataFrame):
        for cell in {
            f"{d:%Y-%m-%d}|{v}" for d, v in zip(raw["meeting_date"], raw["venue_slug"], strict=True)
        }:
            parses[cell] += 1
        return parse(raw, meetings_of_cell)

    monkeypatch.setattr(cards_assets, "parse_cell", counted)
    return parses


def test_each_partition_of_a_range_run_records_its_own_rows_and_each_cell_is_parsed_once(
    platform_for, tiny_world, monkeypatch
):
    platform = platform_for(tiny_world, AFTER_MEETING)
    cell_range, day_range = (CELLS[0], CELLS[-1]), (str(DAYS[0]), str(DAYS[-1]))
    assert platform.materialize([meetings], range_=day_range).success
    assert platform.materialize([raw_race_cards], range_=cell_range).success
    parses = _counting_parses(monkeypatch)
    assert platform.materialize([race_cards_and_results], range_=cell_range).success
    assert parses == Counter(dict.fromkeys(WITH_MEETING, 1)), "each cell with a meeting parsed exactly once"
    for asset, partitions in ((form_lines, day_range), (form_book, day_range), (runner_features, cell_range)):
        assert platform.materialize([asset], range_=partitions).success

    instance = platform.instance
    for asset, table in CELL_TABLE.items():
        for cell in CELLS:
            day, venue = cell.split("|")
            recorded = _latest_metadata(instance, asset, cell)
            stored = _count(
                platform,
                f"SELECT count(*) FROM {table} WHERE meeting_date = ? AND venue_slug = ?",
                [day, venue],
            )
            assert recorded["dagster/row_count"] == stored, (asset, cell, recorded)
            if cell in WITH_MEETING:
                assert stored > 0, (asset, cell)
            else:
                assert any(str(v).startswith("none:") for v in recorded.values()), (asset, cell, recorded)
    for asset, sql in DAY_ROWS.items():
        for day in DAYS:
            recorded = _latest_metadata(instance, asset, str(day))
            assert recorded["dagster/row_count"] == _count(platform, sql, [day]), (asset, day, recorded)
    assert _latest_metadata(instance, "form_book", str(RACE_DAY))["dagster/row_count"] > 0
    assert _count(platform, DAY_ROWS["meetings"], [RACE_DAY]) > 1  # a day's own meetings, not the range's


def test_a_range_run_records_per_cell_verdicts_only_for_cells_with_a_meeting(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    assert platform.materialize([meetings], range_=(str(DAYS[0]), str(DAYS[-1]))).success
    result = platform.materialize([raw_race_cards, race_cards_and_results], range_=(CELLS[0], CELLS[-1]))

    assert result.success
    judged = Counter((e.check_name, e.partition) for e in result.get_asset_check_evaluations() if e.partition)
    checks = (
        "raw_race_cards_complete",
        "raw_race_cards_accepted",
        "race_cards_contract",
        "race_results_contract",
    )
    assert judged == Counter({(check, cell): 1 for check in checks for cell in WITH_MEETING})
    summaries = {e.check_name for e in result.get_asset_check_evaluations() if not e.partition}
    assert summaries == set(checks), "every check spec answered once for the run"
    recorded = Counter(
        (e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()
    )
    assert recorded == Counter(
        {(asset, cell): 1 for asset in ("raw_race_cards", "race_cards", "race_results") for cell in CELLS}
    )
