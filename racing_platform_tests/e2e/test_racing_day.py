"""A racing day run by `dagster-daemon` and the simulator, with no launch by hand: only the clock moves.

The scenario and the harness are racing_platform/benchmarks/racing_day.py (B7 in docs/benchmarks.md):
a meeting is listed before its field (its cell is listed and priced with no runners), its field enters
the sensors' view and is priced, a scratching re-prices it (the first snapshot kept), its races jump
and the results land. The latency from the field being visible to its prices being stored is printed
(run with -s); its figure is the benchmark's, not an assertion here: a shared two-core machine makes
any timing assertion flaky, so the phases only have generous timeouts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from racing_platform.benchmarks.racing_day import (
    TARGET_SECONDS,
    no_manual_runs,
    play,
    racing_day,
    scenario_for,
)
from racing_platform.warehouse.resource import Warehouse

PHASE_TIMEOUT_S = 600.0


@pytest.mark.timeout(3600)
def test_the_daemon_prices_a_new_field_reprices_a_scratching_and_stores_results(
    racing_day_platform, tmp_path
):
    platform = racing_day_platform
    scenario = scenario_for(platform)
    with racing_day(platform, scenario, tmp_path / "dagster-daemon.log") as day:
        timeline = play(day, scenario, timeout=PHASE_TIMEOUT_S, say=print)
        manual = no_manual_runs(day)
        cell_runs = [r for r in day.new_runs() if r.tags.get("dagster/partition") == scenario.cell]
        first_run = min(cell_runs, key=lambda r: day.instance.get_run_record_by_id(r.run_id).create_timestamp)
    field, scratching, results = (timeline.phases[p] for p in ("field", "scratching", "results"))
    print(
        f"racing day {scenario.cell}: field visible -> predictions stored {field.latency:.1f} s "
        f"(target {TARGET_SECONDS:.0f} s); scratching -> re-priced {scratching.latency:.1f} s; "
        f"results declared -> stored {results.latency:.1f} s; setup {timeline.setup_seconds:.0f} s, "
        f"in all {timeline.seconds:.0f} s; field published {scenario.fields_at}, watched from "
        f"{scenario.watched_at}, priced before then: {timeline.priced_before_watched}"
    )

    # Nothing was launched by hand: the cell was found by the listing sensor, re-priced on its field and
    # its scratching by the late-changes sensor, and its results fetched by the results sensor.
    assert manual == []
    assert first_run.tags.get("dagster/sensor_name") == "new_meetings_sensor"
    assert (field.sensor, scratching.sensor, results.sensor) == (
        "late_changes_sensor",
        "late_changes_sensor",
        "results_sensor",
    )

    # The daemon is stopped: the DuckDB file is ours to read.
    warehouse = Warehouse(database=str(platform.duckdb_path))
    priced = warehouse.query(
        "SELECT * FROM predictions WHERE meeting_date = ? AND venue_slug = ?",
        [scenario.meeting_date, scenario.venue_slug],
    )
    priced["predicted_at"] = pd.to_datetime(priced["predicted_at"], utc=True)
    first_at = pd.Timestamp(field.metadata["predicted_at"])
    second_at = pd.Timestamp(scratching.metadata["predicted_at"])
    assert first_at < second_at
    first, second = (priced[priced["predicted_at"] == at] for at in (first_at, second_at))
    # Each snapshot prices every race of the meeting over its field at the time, as a distribution.
    for snapshot, rows in ((first, field.metadata), (second, scratching.metadata)):
        assert len(snapshot) == int(rows["dagster/row_count"])
        assert set(snapshot["race_code"]) == set(scenario.races)
        np.testing.assert_allclose(snapshot.groupby("race_code")["win_probability"].sum(), 1.0)
        assert not snapshot.duplicated(["race_code", "saddlecloth"]).any()
    # Priced after the field became visible, stored before its materialization was recorded.
    assert field.moved_at <= first_at.timestamp() <= field.stored_at
    # The scratching: the first snapshot (kept) priced the horse, the second prices the race without it.
    race_first = first[first["race_code"] == scenario.scratched_race]
    race_second = second[second["race_code"] == scenario.scratched_race]
    assert scenario.scratched_horse in set(race_first["horse_code"])
    assert set(race_second["horse_code"]) == set(race_first["horse_code"]) - {scenario.scratched_horse}
    # Races without the scratching are priced over the same field in both snapshots.
    others = first[first["race_code"] != scenario.scratched_race]
    assert set(second.loc[second["race_code"] != scenario.scratched_race, "horse_code"]) == set(
        others["horse_code"]
    )

    # Results landed for every race of the meeting, one winner each (dead heats aside).
    stored = warehouse.query(
        "SELECT race_code, count(*) FILTER (WHERE finish_position = 1) AS winners FROM results "
        "WHERE meeting_date = ? AND venue_slug = ? GROUP BY race_code",
        [scenario.meeting_date, scenario.venue_slug],
    )
    assert set(stored["race_code"]) == set(scenario.races)
    assert (stored["winners"] >= 1).all()
