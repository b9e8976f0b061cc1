"""Walk-forward versions: each trained only on races strictly before its own cutoff."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pandas as pd

from racing_platform.model import walk_forward
from racing_platform.model.registry import list_versions, version_for
from racing_platform.model.walk_forward import BLEND_WINDOW, cutoffs_every, train_walk_forward
from racing_platform_tests.features.generated_history import PROVIDER

CUTOFFS = [date(2024, 11, 2), date(2024, 11, 16)]


def test_cutoffs_step_by_the_given_days_and_include_the_first():
    assert cutoffs_every(date(2024, 11, 2), date(2024, 11, 30), 14) == [
        date(2024, 11, 2),
        date(2024, 11, 16),
        date(2024, 11, 30),
    ]


def test_walk_forward_never_trains_on_a_date_on_or_after_its_cutoff(history, tmp_path, monkeypatch):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path / "data"))
    warehouse = history.copy_to(tmp_path / "racing.duckdb")
    warehouse.query("DELETE FROM model_versions")
    seen: dict[date, pd.DataFrame] = {}
    real_rows = walk_forward.training_rows

    def spying(conn, cutoff, provider, since=date.min):
        rows = real_rows(conn, cutoff, provider, since)
        seen[cutoff] = rows
        return rows

    monkeypatch.setattr(walk_forward, "training_rows", spying)

    versions = train_walk_forward(warehouse, CUTOFFS, PROVIDER, logging.getLogger("test"))

    assert [v.cutoff for v in versions] == CUTOFFS and len({v.version for v in versions}) == 2
    later = warehouse.query("SELECT count(*) AS n FROM runner_features WHERE meeting_date >= ?", [CUTOFFS[0]])
    assert later["n"].iloc[0] > 500  # races after the first cutoff exist: the filter is exercised
    for version in versions:
        rows = seen[version.cutoff]
        assert rows["meeting_date"].max() < pd.Timestamp(version.cutoff)
        assert date.fromisoformat(version.metrics["stage1_trained_before"]) == version.cutoff - BLEND_WINDOW
    # The later version learned from more: the two weeks between the cutoffs.
    assert len(seen[CUTOFFS[1]]) > len(seen[CUTOFFS[0]])
    # Each day is priced by the newest version trained before it.
    assert version_for(warehouse, CUTOFFS[1] - timedelta(days=1)).version == versions[0].version
    assert version_for(warehouse, CUTOFFS[1]).version == versions[1].version
    assert {v.version for v in list_versions(warehouse)} == {v.version for v in versions}


def test_a_reused_walk_forward_trains_nothing_new(history, tmp_path, monkeypatch):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path / "data"))
    warehouse = history.copy_to(tmp_path / "racing.duckdb")
    trained = train_walk_forward(warehouse, CUTOFFS[:1], PROVIDER, logging.getLogger("test"))

    def refuse(*_args, **_kwargs):
        raise AssertionError("a cutoff with a version was trained again")

    monkeypatch.setattr(walk_forward, "train_version", refuse)
    again = train_walk_forward(warehouse, CUTOFFS[:1], PROVIDER, logging.getLogger("test"), reuse=True)
    assert [v.version for v in again] == [v.version for v in trained]
