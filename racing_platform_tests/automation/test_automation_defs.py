"""The code location exposes the sensors, schedules and jobs with their intended targets and status."""

from __future__ import annotations

import dagster as dg

from racing_platform.definitions import defs
from racing_platform.resources import default_schedule_status, default_sensor_status

REPOSITORY = defs.get_repository_def()
SENSOR_JOBS = {
    "new_meetings_sensor": {"meetings_job", "price_cell_job"},
    "late_changes_sensor": {"price_cell_job"},
    "results_sensor": {"results_job", "close_day_job"},
}
JOB_ASSETS = {
    "meetings_job": {"meetings"},
    "price_cell_job": {
        "raw_race_cards",
        "race_cards",
        "race_results",
        "horse_careers",
        "runner_features",
        "predictions",
    },
    "results_job": {"raw_race_cards", "race_cards", "race_results", "simulator_truth"},
    "close_day_job": {"form_lines", "form_book", "daily_evaluation"},
    "retrain_job": {"win_model"},
}


def test_the_sensors_target_their_jobs_and_run_by_default_in_the_local_profile():
    assert default_sensor_status("local") == dg.DefaultSensorStatus.RUNNING
    for name, jobs in SENSOR_JOBS.items():
        sensor = REPOSITORY.get_sensor_def(name)
        assert {t.job_name for t in sensor.targets} == jobs
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert set(sensor.required_resource_keys) == {"racing_com", "race_clock"}
    # Listing then pricing is two ticks: inside the 60 s from a meeting visible to its prices stored.
    assert REPOSITORY.get_sensor_def("new_meetings_sensor").minimum_interval_seconds <= 15


def test_each_job_selects_its_stage_s_assets():
    for name, assets in JOB_ASSETS.items():
        job = REPOSITORY.get_job(name)
        assert {key.to_user_string() for key in job.asset_layer.selected_asset_keys} == assets


def test_the_schedules_target_retraining_and_the_cells_and_run_by_default():
    assert default_schedule_status("local") == dg.DefaultScheduleStatus.RUNNING
    retrain = REPOSITORY.get_schedule_def("weekly_retrain")
    assert retrain.job_name == "retrain_job"
    assert retrain.execution_timezone == "Australia/Sydney"
    sweep = REPOSITORY.get_schedule_def("daily_sweep")
    sweep_assets = {
        k.to_user_string() for k in REPOSITORY.get_job(sweep.job_name).asset_layer.selected_asset_keys
    }
    assert sweep_assets == JOB_ASSETS["price_cell_job"] | JOB_ASSETS["results_job"]
    day_sweep = REPOSITORY.get_schedule_def("daily_day_sweep")
    day_sweep_assets = {
        k.to_user_string() for k in REPOSITORY.get_job(day_sweep.job_name).asset_layer.selected_asset_keys
    }
    assert day_sweep_assets == JOB_ASSETS["meetings_job"] | JOB_ASSETS["close_day_job"]
    for schedule in (retrain, sweep, day_sweep):
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        assert schedule.execution_timezone == "Australia/Sydney"
