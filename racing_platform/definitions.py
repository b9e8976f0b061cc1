"""The code location: every asset, check and resource of the platform, loaded from one place."""

from __future__ import annotations

import warnings

import dagster as dg

from racing_platform.cards.assets import race_cards_and_results, raw_race_cards
from racing_platform.cards.sensors import late_changes_sensor, results_sensor
from racing_platform.cards.sweep import daily_day_sweep, daily_sweep
from racing_platform.careers.assets import horse_careers
from racing_platform.evaluation.assets import daily_evaluation, evaluation_summary, simulator_truth
from racing_platform.features.assets import form_book, form_lines, runner_features
from racing_platform.jobs import JOBS
from racing_platform.lib import pool_wait
from racing_platform.lib.crashed_runs import dead_runs
from racing_platform.lib.event_log import enable_event_batches
from racing_platform.model.assets import win_model
from racing_platform.model.schedules import weekly_retrain
from racing_platform.predictions.assets import predictions
from racing_platform.resources import resources_for
from racing_platform.source.assets import meetings
from racing_platform.source.sensors import new_meetings_sensor

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

# Runs of this code location wait for a pool slot without spinning, stop on SIGTERM, and free the
# slot of a run whose worker died (lib/pool_wait.py); the sensor does the latter when the daemon runs.
pool_wait.install()
# A range run's materializations reach the event log as one batch per step (lib/event_log.py).
enable_event_batches()

ASSETS = [
    meetings,
    raw_race_cards,
    race_cards_and_results,
    horse_careers,
    form_lines,
    form_book,
    runner_features,
    win_model,
    predictions,
    simulator_truth,
    daily_evaluation,
    evaluation_summary,
]

# Steps run in the run's own process: the DuckDB writer is one process anyway (pool `duckdb`), and a
# subprocess per step costs ~3 s of imports on 2 cores (see docs/ARCHITECTURE.md).
defs = dg.Definitions(
    assets=ASSETS,
    jobs=JOBS,
    # The racing day runs by itself: sensors request each stage explicitly (docs/automation.md).
    sensors=[dead_runs, new_meetings_sensor, late_changes_sensor, results_sensor],
    schedules=[weekly_retrain, daily_sweep, daily_day_sweep],
    resources=resources_for(),
    executor=dg.in_process_executor,
)
