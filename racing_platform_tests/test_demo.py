"""`make demo` end to end on a short window: a real simulator, Dagster instance and DuckDB file in tmp.

The demo serves the full-calendar world of its seed; without a cache in the test's data directory the
simulator generates it first (about a minute on two cores), which is most of this test's time.
"""

from __future__ import annotations

import importlib
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.storage.tags import BACKFILL_ID_TAG

from racing_platform.demo import CARD_ASSETS, run_demo
from racing_platform.partitions import VENUE_DIMENSION
from racing_platform.settings import load_settings
from racing_platform.source.venues import load_venues
from racing_platform.warehouse.resource import Warehouse

TODAY = date(2025, 3, 1)  # a Saturday: VIC and NSW metro meetings
HISTORY_DAYS = 4  # the model's two stages need ~20 races each before today
CHAIN = [
    "meetings",
    *CARD_ASSETS,
    "horse_careers",
    "form_lines",
    "form_book",
    "runner_features",
    "win_model",
    "predictions",
]


def test_the_demo_prices_today_and_leaves_its_runs_in_the_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("RACING_DUCKDB_PATH", raising=False)
    monkeypatch.setenv("RACING_COM_GRAPHQL_URL", "")  # the demo sets it; restored after the test
    if "racing_platform.definitions" in sys.modules:
        # Resources are resolved when the module is imported: point them at this test's files.
        importlib.reload(sys.modules["racing_platform.definitions"])

    demo = run_demo(history_days=HISTORY_DAYS, today=TODAY, say=lambda line: None)

    database = tmp_path / "data" / "racing.duckdb"
    assert database.exists()
    warehouse = Warehouse(database=str(database))
    assert demo.today == TODAY and demo.history_cells > 0 and demo.today_cells > 0
    priced = warehouse.query("SELECT * FROM predictions WHERE meeting_date = ?", [TODAY])
    assert priced["venue_slug"].nunique() == demo.today_cells
    assert set(priced["model_version"]) == {demo.model_version}
    np.testing.assert_allclose(priced.groupby("race_code")["win_probability"].sum(), 1.0)
    assert len(demo.card) and set(demo.card["model_version"]) == {demo.model_version}
    assert not demo.card.duplicated("saddlecloth").any()
    # The card shows stage 1, the market and the blend side by side, each a distribution over the race.
    for column in ("stage1_probability", "win_probability", "market_probability"):
        assert demo.card[column].sum() == pytest.approx(1.0), column
    # The blend-market agreement it prints is the correlation of the stored log-probabilities.
    priced_by_market = priced[priced["market_probability"] > 0]
    expected = np.corrcoef(
        np.log(priced_by_market["win_probability"]), np.log(priced_by_market["market_probability"])
    )
    assert demo.agreement["blend_market_log_correlation"] == pytest.approx(expected[0, 1])
    assert demo.agreement["runners"] == len(priced_by_market)

    with dg.DagsterInstance.from_config(str(Path(tmp_path / "dagster_home"))) as instance:
        runs = instance.get_runs()
        assert len(runs) == demo.runs
        assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
        # Every run belongs to one of the demo's Dagster backfills and to the code location.
        backfills = {b.backfill_id: b for b in instance.get_backfills()}
        assert set(backfills) == {r.backfill_id for r in demo.backfills} and len(backfills) == 4
        assert all(b.status == BulkActionStatus.COMPLETED_SUCCESS for b in backfills.values())
        assert {run.tags.get(BACKFILL_ID_TAG) for run in runs} == set(backfills)
        assert all(run.remote_job_origin is not None for run in runs)
        for asset in CHAIN:
            assert instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None, asset
        priced_cells = instance.get_materialized_partitions(dg.AssetKey("predictions"))
        assert {key.split("|")[0] for key in priced_cells} == {TODAY.isoformat()}
        assert len(priced_cells) == demo.today_cells

        # One scope: the venue dimension holds only venues the platform tracks, so the demo fills it.
        venues = set(instance.get_dynamic_partitions(VENUE_DIMENSION))
        scope, registry = load_settings().scope, load_venues()
        assert venues and all(
            scope.covers(registry.by_slug(v).state, registry.by_slug(v).tier, False, False) for v in venues
        )
        carded = {
            key.split("|")[1] for key in instance.get_materialized_partitions(dg.AssetKey("race_cards"))
        }
        assert carded <= venues
        # ... and the form book it built is complete: every day's form_book_complete passed.
        complete = dg.AssetCheckKey(dg.AssetKey("form_book"), "form_book_complete")
        verdicts = instance.event_log_storage.get_asset_check_execution_history(complete, limit=100)
        by_day = {r.partition: r.status.value for r in verdicts if r.partition}
        assert TODAY.isoformat() in by_day and set(by_day.values()) == {"SUCCEEDED"}, by_day
