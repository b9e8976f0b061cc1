"""`weekly_retrain`: a walk-forward model version every week, its cutoff the scheduled day.

Each version trains only on races strictly before its cutoff (model/walk_forward.py), and `predictions`
prices a day with the newest version whose cutoff is on or before it, so a weekly version is used from
its own day on and never for a race it trained on.
"""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from racing_platform.jobs import retrain_job
from racing_platform.resources import default_schedule_status
from racing_platform.settings import load_settings
from racing_platform.source.clock import racing_day

# Monday 03:00 in the partitions' time zone: before the day's fields are priced.
WEEKLY_RETRAIN_CRON = "0 3 * * 1"


def retrain_request(scheduled_at: datetime) -> dg.RunRequest:
    cutoff = racing_day(scheduled_at).isoformat()
    return dg.RunRequest(
        run_key=f"retrain:{cutoff}",
        run_config={"ops": {"win_model": {"config": {"cutoff": cutoff}}}},
        tags={"racing/cutoff": cutoff},
    )


@dg.schedule(
    name="weekly_retrain",
    cron_schedule=WEEKLY_RETRAIN_CRON,
    execution_timezone=load_settings().timezone,
    job=retrain_job,
    default_status=default_schedule_status(),
    description="Trains the walk-forward model version whose cutoff is the scheduled day "
    "(racing_platform/model/schedules.py).",
)
def weekly_retrain(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return retrain_request(context.scheduled_execution_time)
