"""Evaluation on a real DuckDB file holding hand-made predictions, results, model versions and truth
(conftest.py), through the plain functions and through Dagster."""

from __future__ import annotations

import math
from datetime import date

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from racing_platform.evaluation.assets import (
    SKIP_UNPRICED_RUNNER,
    TrainingRaceEvaluatedError,
    daily_evaluation,
    evaluate_day,
    evaluate_range,
    evaluation_rows,
    evaluation_summary,
    runner_frame,
)
from racing_platform.evaluation.metrics import METRICS, metrics_by_source
from racing_platform.evaluation.plots import PNG_SIGNATURE
from racing_platform_tests.evaluation.conftest import DAY, LEAKED_DAY, VENUE, _insert, _predictions, _results

BLEND_LL = (-math.log(0.5) - math.log(0.2)) / 2  # winners' blend probabilities 0.5 (R1) and 0.2 (R2)
ORACLE_LL = (-math.log(0.6) - math.log(0.7)) / 2  # winners' truth 0.6 and 0.7


def test_the_runner_frame_takes_each_race_s_latest_snapshot_and_skips_incomplete_races(filled):
    with filled.connect() as conn:
        evaluated = runner_frame(conn, DAY, DAY)
    rows = evaluated.rows
    assert list(rows["race_code"]) == ["7001", "7001", "7001", "7002", "7002"]
    assert list(rows["saddlecloth"]) == [1, 2, 3, 1, 2]
    np.testing.assert_allclose(rows["blend"], [0.3, 0.5, 0.2, 0.8, 0.2])  # not the 08:00 snapshot
    np.testing.assert_allclose(rows["stage1"], [0.4, 0.4, 0.2, 0.5, 0.5])
    np.testing.assert_allclose(rows["oracle"], [0.2, 0.6, 0.2, 0.3, 0.7])
    np.testing.assert_allclose(rows["market"][:3], [0.4 / 1.1, 0.5 / 1.1, 0.2 / 1.1])
    assert list(rows["won"]) == [False, True, False, False, True]
    assert evaluated.skipped == {SKIP_UNPRICED_RUNNER: ["7003"]}  # saddlecloth 2 ran unpriced
    assert evaluated.renormalised == []


def test_evaluate_day_stores_each_source_s_metrics(filled):
    result = evaluate_day(filled, DAY)
    assert set(result.metrics) == {"uniform", "stage1", "blend", "market", "oracle"}
    assert result.metrics["blend"]["log_loss"] == pytest.approx(BLEND_LL)
    assert result.metrics["oracle"]["log_loss"] == pytest.approx(ORACLE_LL)
    assert result.metrics["blend"]["brier"] == pytest.approx(0.83)
    stored = filled.query("SELECT * FROM evaluation_daily ORDER BY source")
    assert list(stored["source"]) == ["blend", "market", "oracle", "stage1", "uniform"]
    assert set(stored["meeting_date"].dt.date) == {DAY}
    blend = stored.set_index("source").loc["blend"]
    assert blend["log_loss"] == pytest.approx(BLEND_LL) and blend["races"] == 2 and blend["bets"] == 1
    assert pd.isna(stored.set_index("source").loc["market", "roi"])  # no bets: NULL, not NaN or 0
    evaluate_day(filled, DAY)  # re-evaluating replaces the day's rows
    assert len(filled.query("SELECT * FROM evaluation_daily")) == 5


def test_a_race_the_model_was_trained_on_is_never_evaluated(filled):
    with pytest.raises(TrainingRaceEvaluatedError, match=r"race 7051 \(2026-03-05\).*model v2.*2026-03-10"):
        evaluate_day(filled, LEAKED_DAY)
    with filled.connect() as conn, pytest.raises(TrainingRaceEvaluatedError, match="7051"):
        evaluation_rows(conn, DAY.replace(day=1), DAY)
    assert filled.query("SELECT * FROM evaluation_daily").empty


def test_a_version_missing_from_model_versions_cannot_be_checked_so_fails(filled):
    with filled.connect() as conn:
        conn.execute("DELETE FROM model_versions WHERE version = 'v1'")
        with pytest.raises(TrainingRaceEvaluatedError, match="model_versions does not list"):
            evaluation_rows(conn, DAY, DAY)


def test_a_late_scratching_rescales_the_snapshot_to_the_final_field(filled):
    day = date(2026, 3, 8)
    with filled.connect() as conn:
        _insert(
            conn,
            "predictions",
            _predictions(
                "7101", 1, [(1, 0.3, 0.3), (2, 0.5, 0.5), (3, 0.2, 0.2)], "v1", "2026-03-07T22:00", day
            ),
        )
        _insert(
            conn,
            "results",
            _results("7101", 1, [(1, 1, 3.0, False), (2, 2, 2.0, False), (3, None, None, True)], day),
        )
        evaluated = runner_frame(conn, day, day)
    assert evaluated.renormalised == ["7101"]
    np.testing.assert_allclose(evaluated.rows["blend"], [0.3 / 0.8, 0.5 / 0.8])


def test_evaluate_range_recomputes_over_runner_rows(filled):
    day = date(2026, 3, 8)
    with filled.connect() as conn:  # a second day: one race, 2 runners, saddlecloth 1 (blend 0.9) wins
        _insert(
            conn,
            "predictions",
            _predictions("7101", 1, [(1, 0.5, 0.9), (2, 0.5, 0.1)], "v1", "2026-03-07T22:00", day),
        )
        _insert(conn, "results", _results("7101", 1, [(1, 1, 1.2, False), (2, 2, 6.0, False)], day))
    result = evaluate_range(filled, DAY, day)
    # three races: (-ln 0.5 - ln 0.2 - ln 0.9) / 3, not the mean of the two days' log losses
    assert result.metrics["blend"]["log_loss"] == pytest.approx(
        (-math.log(0.5) - math.log(0.2) - math.log(0.9)) / 3
    )
    assert result.metrics["blend"]["races"] == 3 and result.metrics["oracle"]["races"] == 2
    assert result.calibration["blend"]["runners"].sum() == 7
    assert result.png.startswith(PNG_SIGNATURE)
    assert list(result.by_version["model_version"]) == ["v1"] and result.by_version["races"].iloc[0] == 3
    with filled.connect() as conn:
        rows = evaluation_rows(conn, DAY, day)
    assert result.metrics == metrics_by_source(rows)


def _materialize(warehouse, assets, partition=None, run_config=None):
    with dg.instance_for_test() as instance:
        return dg.materialize(
            assets,
            partition_key=partition,
            instance=instance,
            resources={"warehouse": warehouse},
            run_config=run_config,
            raise_on_error=False,
        )


def test_daily_evaluation_materializes_with_metrics_as_metadata(filled):
    result = _materialize(filled, [daily_evaluation], DAY.isoformat())
    assert result.success
    (materialization,) = result.asset_materializations_for_node("daily_evaluation")
    metadata = materialization.metadata
    assert metadata["blend_log_loss"].value == pytest.approx(BLEND_LL)
    assert metadata["oracle_log_loss"].value == pytest.approx(ORACLE_LL)
    assert metadata["market_bets"].value == 0 and "market_roi" not in metadata
    assert metadata["races_evaluated"].value == 2 and metadata["races_skipped"].value == 1
    assert metadata["skipped"].value == {SKIP_UNPRICED_RUNNER: ["7003"]}
    assert "| blend" in metadata["metrics"].value
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {"evaluation_no_training_races": True, "evaluation_probabilities_sum_to_one": True}
    assert len(filled.query("SELECT * FROM evaluation_daily")) == 5


def test_daily_evaluation_fails_on_a_training_race_naming_race_and_version(filled):
    result = _materialize(filled, [daily_evaluation], LEAKED_DAY.isoformat())
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failures[0].event_specific_data.error.message
    assert "7051" in message and "v2" in message and "2026-03-05" in message
    checks = [(c.check_name, c.passed) for c in result.get_asset_check_evaluations()]
    assert ("evaluation_no_training_races", False) in checks


def test_a_day_without_predictions_materializes_empty(filled):
    result = _materialize(filled, [daily_evaluation], "2026-03-20")
    assert result.success
    (materialization,) = result.asset_materializations_for_node("daily_evaluation")
    assert materialization.metadata["dagster/row_count"].value == 0


def test_evaluation_summary_shows_metrics_reliability_and_the_plot(filled):
    config = {"ops": {"evaluation_summary": {"config": {"start": DAY.isoformat(), "end": DAY.isoformat()}}}}
    result = _materialize(filled, [evaluation_summary], run_config=config)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("evaluation_summary")
    metadata = materialization.metadata
    assert metadata["blend_log_loss"].value == pytest.approx(BLEND_LL)
    assert set(METRICS) <= {k.split("_", 1)[1] for k in metadata if k.startswith("blend_")}
    assert metadata["calibration_plot"].value.startswith("![calibration plot](data:image/png;base64,")
    assert "observed_win_rate" in metadata["reliability_blend"].value
    assert "v1" in metadata["blend_vs_market_by_version"].value
    assert metadata["races_evaluated"].value == 2
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {"evaluation_no_training_races": True, "evaluation_probabilities_sum_to_one": True}


def test_evaluation_summary_over_a_training_race_fails(filled):
    result = _materialize(filled, [evaluation_summary])
    assert not result.success
    checks = [(c.check_name, c.passed) for c in result.get_asset_check_evaluations()]
    assert checks == [("evaluation_no_training_races", False)]


def test_the_venue_is_part_of_the_rows(filled):
    with filled.connect() as conn:
        assert set(evaluation_rows(conn, DAY, DAY)["venue_slug"]) == {VENUE}


def test_a_range_run_records_each_day_and_stops_at_a_training_race(filled):
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [daily_evaluation],
            instance=instance,
            resources={"warehouse": filled},
            tags={
                "dagster/asset_partition_range_start": LEAKED_DAY.isoformat(),
                "dagster/asset_partition_range_end": DAY.isoformat(),
            },
            raise_on_error=False,
        )
    assert not result.success  # 2026-03-05 holds a training race: named, not written
    written = {m.partition for m in result.asset_materializations_for_node("daily_evaluation")}
    assert written == {"2026-03-06", DAY.isoformat()}
    assert set(
        filled.query("SELECT DISTINCT meeting_date FROM evaluation_daily")["meeting_date"].dt.date
    ) == {DAY}
