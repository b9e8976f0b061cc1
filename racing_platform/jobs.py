"""The jobs the sensors and schedules launch, defined once: each is one stage of a racing day.

Partitions come from the selected assets (days for `meetings` and the day's closing, cells for a
cell's chain). Sensors request these explicitly (docs/automation.md says why not declarative
automation): a cell's chain must run in order, and only for cells that hold a tracked meeting.
"""

from __future__ import annotations

import dagster as dg

PRICE_CELL_ASSETS = [
    "raw_race_cards",
    "race_cards",
    "race_results",
    "horse_careers",
    "runner_features",
    "predictions",
]
RESULTS_ASSETS = ["raw_race_cards", "race_cards", "race_results", "simulator_truth"]
CLOSE_DAY_ASSETS = ["form_lines", "form_book", "daily_evaluation"]

# A day's listing: registers the venues of its tracked meetings.
meetings_job = dg.define_asset_job(
    "meetings_job",
    selection=dg.AssetSelection.assets("meetings"),
    description="List a day's meetings (new_meetings_sensor: a tracked meeting appeared or went).",
)

# A cell priced over its current field; every pricing is kept as a snapshot (predictions).
price_cell_job = dg.define_asset_job(
    "price_cell_job",
    selection=dg.AssetSelection.assets(*PRICE_CELL_ASSETS),
    description="Fetch a cell's cards and price its field (new_meetings_sensor, late_changes_sensor).",
)

# A cell's results once the source reports them, and the simulator's truth for evaluation.
results_job = dg.define_asset_job(
    "results_job",
    selection=dg.AssetSelection.assets(*RESULTS_ASSETS),
    description="Fetch a cell's results (results_sensor).",
)

# A settled day: its form lines, the form book the next day's features read, and its evaluation.
close_day_job = dg.define_asset_job(
    "close_day_job",
    selection=dg.AssetSelection.assets(*CLOSE_DAY_ASSETS),
    description="Close a racing day once every cell is settled (results_sensor, daily_sweep).",
)

# A walk-forward model version at a cutoff (run config ops.win_model.config.cutoff).
retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.assets("win_model"),
    description="Train the model version for a cutoff (weekly_retrain).",
)

JOBS = [meetings_job, price_cell_job, results_job, close_day_job, retrain_job]
