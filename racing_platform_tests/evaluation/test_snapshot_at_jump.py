"""Which snapshot of a race is scored: the one the platform published before the jump, never a re-price
made after it (a late scratching in R7 re-prices the whole cell, R1-R6 included, with post-jump odds).

On top of conftest's day (2026-03-07 at flemington):

* R4 (race 7104, jumps 03:00Z): snapshots at 22:00 the evening before and at 02:00 (both before the
  jump) and at 04:00 (after it): the 02:00 one counts.
* R5 (race 7105, jumps 03:30Z) priced only after the fact, by a backfill on 03-08 and again on 03-09:
  the earliest (03-08) counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from racing_platform.evaluation.assets import runner_frame
from racing_platform_tests.evaluation.conftest import DAY, _insert, _predictions, _races, _results

PRE_EVENING, PRE_JUMP, POST_JUMP = "2026-03-06T22:00", "2026-03-07T02:00", "2026-03-07T04:00"
BACKFILL, SECOND_BACKFILL = "2026-03-08T10:00", "2026-03-09T10:00"


def add_repriced_races(warehouse) -> None:
    with warehouse.connect() as conn:
        _insert(
            conn,
            "races",
            _races("7104", 4, start="2026-03-07T03:00") + _races("7105", 5, start="2026-03-07T03:30"),
        )
        _insert(
            conn,
            "predictions",
            _predictions("7104", 4, [(1, 0.5, 0.5), (2, 0.5, 0.5)], "v1", PRE_EVENING)
            + _predictions("7104", 4, [(1, 0.6, 0.6), (2, 0.4, 0.4)], "v1", PRE_JUMP)
            + _predictions("7104", 4, [(1, 0.9, 0.9), (2, 0.1, 0.1)], "v1", POST_JUMP)
            + _predictions("7105", 5, [(1, 0.7, 0.7), (2, 0.3, 0.3)], "v1", BACKFILL)
            + _predictions("7105", 5, [(1, 0.2, 0.2), (2, 0.8, 0.8)], "v1", SECOND_BACKFILL),
        )
        _insert(
            conn,
            "results",
            _results("7104", 4, [(1, 1, 2.0, False), (2, 2, 2.0, False)])
            + _results("7105", 5, [(1, 2, 2.0, False), (2, 1, 2.0, False)]),
        )


def test_each_race_s_snapshot_is_its_newest_before_the_jump_else_its_earliest(filled):
    add_repriced_races(filled)

    chosen = filled.query(
        "SELECT race_code, predicted_at, saddlecloth, win_probability FROM latest_predictions(?, ?) "
        "ORDER BY race_code, saddlecloth",
        [DAY, DAY],
    ).set_index(["race_code", "saddlecloth"])

    at = chosen["predicted_at"].dt.tz_convert("UTC").dt.tz_localize(None).groupby(level=0).unique()
    assert at.map(list).to_dict() == {
        "7001": [pd.Timestamp("2026-03-06T22:00")],  # newest of two snapshots, both before the jump
        "7002": [pd.Timestamp("2026-03-06T22:00")],
        "7003": [pd.Timestamp("2026-03-06T22:00")],
        "7104": [pd.Timestamp(PRE_JUMP)],
        "7105": [pd.Timestamp(BACKFILL)],
    }
    np.testing.assert_allclose(chosen.loc["7104", "win_probability"], [0.6, 0.4])
    np.testing.assert_allclose(chosen.loc["7105", "win_probability"], [0.7, 0.3])


def test_the_evaluation_scores_the_price_published_before_the_jump(filled):
    add_repriced_races(filled)

    with filled.connect() as conn:
        rows = runner_frame(conn, DAY, DAY).rows.set_index(["race_code", "saddlecloth"])

    np.testing.assert_allclose(rows.loc["7104", "blend"], [0.6, 0.4])  # not the 04:00 re-price
    np.testing.assert_allclose(rows.loc["7104", "stage1"], [0.6, 0.4])
    np.testing.assert_allclose(rows.loc["7105", "blend"], [0.7, 0.3])  # the first backfill's
