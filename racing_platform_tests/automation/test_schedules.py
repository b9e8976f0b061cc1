"""weekly_retrain and daily_sweep evaluated on a real instance at a given scheduled time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from racing_platform.cards.sweep import daily_day_sweep, daily_sweep
from racing_platform.definitions import ASSETS, defs
from racing_platform.jobs import CLOSE_DAY_ASSETS, JOBS, PRICE_CELL_ASSETS, RESULTS_ASSETS
from racing_platform.model.schedules import weekly_retrain
from racing_platform.partitions import VENUE_DIMENSION, Cell, meeting_cells
from racing_platform.source.clock import racing_day
from racing_platform.source.sensors import new_meetings_sensor
from racing_platform_tests.worlds import RACE_MORNING

SYDNEY = ZoneInfo("Australia/Sydney")


def evaluate(schedule, instance: dg.DagsterInstance, at: datetime):
    """One tick; the context is closed after it, as the daemon closes it."""
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=at) as context:
        return schedule(context)


def test_weekly_retrain_trains_the_version_whose_cutoff_is_the_scheduled_day():
    with dg.instance_for_test() as instance:
        monday = datetime(2026, 3, 9, 3, 0, tzinfo=SYDNEY)
        request = evaluate(weekly_retrain, instance, monday)
    assert request.run_config == {"ops": {"win_model": {"config": {"cutoff": "2026-03-09"}}}}
    assert request.run_key == "retrain:2026-03-09"


def materialize(instance, asset: str, partition: str, **metadata) -> None:
    """A record stored now, as a run finishing now would store it."""
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset, partition=partition, metadata=metadata)
    )


def listed(instance, day: date, venues: list[str]) -> list[Cell]:
    instance.add_dynamic_partitions(VENUE_DIMENSION, venues)
    materialize(
        instance,
        "meetings",
        day.isoformat(),
        tracked_venues=dg.MetadataValue.json(venues),
        tracked_meet_codes=dg.MetadataValue.json({v: [f"m-{v}"] for v in venues}),
    )
    return [Cell(day, v) for v in venues]


def test_daily_sweep_requests_the_window_s_cells_missing_prices_or_results_once_each():
    # Records are stamped with the wall clock, so the window's last day is the real today: its cells'
    # results, fetched now, were fetched before the day ended (races may still be to run).
    today = racing_day(datetime.now(SYDNEY)) + timedelta(days=1)
    with dg.instance_for_test() as instance:
        old = listed(instance, today - timedelta(days=9), ["flemington"])  # outside the window
        done, unpriced = listed(instance, today - timedelta(days=2), ["flemington", "rosehill-gardens"])
        (early,) = listed(instance, today - timedelta(days=1), ["sandown-hillside"])
        for cell in (done, early):
            materialize(instance, "predictions", str(cell.key))
            materialize(instance, "race_results", str(cell.key))
        scheduled = datetime.combine(today, datetime.min.time(), SYDNEY).replace(hour=5)
        requests = evaluate(daily_sweep, instance, scheduled)

    by_key = {r.run_key: r for r in requests}
    assert sorted(by_key) == [
        f"sweep:{today}:price:{unpriced}",
        f"sweep:{today}:results:{unpriced}",
        f"sweep:{today}:results:{early}",
    ]
    price = by_key[f"sweep:{today}:price:{unpriced}"]
    assert price.partition_key == str(unpriced.key)
    assert price.asset_selection == [dg.AssetKey(a) for a in PRICE_CELL_ASSETS]
    assert by_key[f"sweep:{today}:results:{early}"].asset_selection == [
        dg.AssetKey(a) for a in RESULTS_ASSETS
    ]
    assert old[0] not in {Cell.from_key(r.partition_key) for r in requests}


def test_daily_sweep_requests_a_cell_whose_pricing_failed(automation_for, tiny_world):
    auto = automation_for(tiny_world, RACE_MORNING)
    assert auto.run(auto.tick(new_meetings_sensor).run_requests[0]).success
    flemington = next(r for r in auto.tick(new_meetings_sensor).run_requests if "flemington" in r.run_key)
    assert not auto.run(flemington).success  # the hand-built world has no model to price with
    status = auto.instance.get_status_by_partition(
        dg.AssetKey("predictions"), [flemington.partition_key], meeting_cells
    )
    assert status == {flemington.partition_key: dg.AssetPartitionStatus.FAILED}

    scheduled = datetime(2026, 3, 8, 5, 0, tzinfo=SYDNEY)
    requests = evaluate(daily_sweep, auto.instance, scheduled)
    priced = {r.partition_key for r in requests if r.run_key.startswith("sweep:2026-03-08:price:")}
    # The failed cell, and the cells never priced (Sandown, Rosehill).
    assert priced == {f"2026-03-07|{v}" for v in ("flemington", "rosehill-gardens", "sandown-hillside")}


def test_daily_day_sweep_lists_days_never_listed_and_closes_days_whose_cells_all_have_results():
    # The window's days are over (before the real today), so results stored now came after them.
    today = racing_day(datetime.now(SYDNEY))
    never_listed, unclosed, closed = (today - timedelta(days=n) for n in (3, 2, 1))
    with dg.instance_for_test() as instance:
        for cell in listed(instance, unclosed, ["flemington", "rosehill-gardens"]):
            materialize(instance, "race_results", str(cell.key))
        (done,) = listed(instance, closed, ["flemington"])
        materialize(instance, "race_results", str(done.key))
        materialize(instance, "daily_evaluation", closed.isoformat())
        scheduled = datetime.combine(today, datetime.min.time(), SYDNEY).replace(hour=5)
        requests = evaluate(daily_day_sweep, instance, scheduled)
        by_key = {r.run_key: r for r in requests}
        assert sorted(by_key) == [f"sweep:{today}:close:{unclosed}", f"sweep:{today}:meetings:{never_listed}"]
        assert by_key[f"sweep:{today}:close:{unclosed}"].asset_selection == [
            dg.AssetKey(a) for a in CLOSE_DAY_ASSETS
        ]

        # A day with a cell whose results were never fetched is not closed (daily_sweep fetches them).
        listed(instance, unclosed, ["flemington", "rosehill-gardens", "sandown-hillside"])
        requests = evaluate(daily_day_sweep, instance, scheduled)
        assert [r.run_key for r in requests] == [f"sweep:{today}:meetings:{never_listed}"]

        # Its target resolves to one job: every asset it requests shares the `date` partitions.
        repository = dg.Definitions(
            assets=ASSETS, jobs=JOBS, schedules=[daily_day_sweep], resources=defs.resources
        ).get_repository_def()
        assert repository.get_job(daily_day_sweep.job_name).partitions_def is not None
