"""The realism report: all keys on a small world, targets met on a realistic window, the CLI functions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from racing_platform.simulator.report import (
    fit_conditional_logit,
    format_report,
    last_complete_season,
    season_bounds,
    season_report,
    world_report,
)
from racing_platform.simulator.world import store
from racing_platform.simulator.world.generator import world_cache_dir, world_tables

REQUIRED = {
    "favourite_win_rate",
    "mean_field_size",
    "bookmaker_overround",
    "sp_overround",
    "races",
    "log_loss",
    "season",
    "seed",
    "targets",
    "favourite_longshot",
}


def test_report_on_a_small_world_has_every_key(small_world):
    report = world_report(small_world, date(2024, 3, 1), date(2024, 4, 30))
    assert REQUIRED - {"season", "seed"} <= set(report)
    assert set(report["log_loss"]) == {"uniform", "form_only", "market", "truth"}
    assert report["races"] > 100
    assert "first half" in report["form_model"]["note"]  # no history before a two-month world
    assert all(row["runners"] > 0 for row in report["favourite_longshot"])
    text = format_report(report)
    assert "favourite_win_rate" in text and "truth" in text


def test_targets_are_met_on_a_realistic_window(seasons_world):
    """VIC/NSW/ACT, trained on 2023-24, evaluated on Aug-Dec 2024 (full-season figures: docs/simulator.md)."""
    report = world_report(seasons_world, date(2024, 8, 1), date(2024, 12, 31))
    failed = {k: v for k, v in report["targets"].items() if not v["met"]}
    assert not failed, failed
    ll = report["log_loss"]
    assert ll["truth"] < ll["market"] < ll["form_only"] < ll["uniform"] - 0.05
    longshots = report["favourite_longshot"][-1]
    favourites = report["favourite_longshot"][0]
    assert longshots["ratio"] < favourites["ratio"] - 0.2


def test_season_report_reads_the_cached_world_for_its_seed(small_world, tmp_path, monkeypatch):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path))
    seed = 90_417  # a seed no other test loads: its cache holds the small world
    store.write_tables(world_cache_dir(seed), world_tables(small_world), small_world.meta)
    report = season_report(seed, clock=datetime(2024, 11, 3, tzinfo=UTC))
    assert report["season"] == 2024 and report["seed"] == seed
    assert set(report) >= REQUIRED
    assert report["window"] == {"start": "2023-08-01", "end": "2024-07-31"}
    with pytest.raises(ValueError, match="season 2030 .* outside the world's calendar"):
        season_report(seed, season=2030)


def test_season_arithmetic():
    assert season_bounds(2026) == (date(2025, 8, 1), date(2026, 7, 31))
    assert last_complete_season(datetime(2026, 11, 25, tzinfo=UTC)) == 2026
    assert last_complete_season(datetime(2026, 7, 31, tzinfo=UTC)) == 2025


def test_conditional_logit_recovers_a_known_coefficient():
    import numpy as np

    rng = np.random.default_rng(0)
    races, size = 3000, 8
    x = rng.normal(size=(races * size, 2))
    race = np.repeat(np.arange(races), size)
    score = (1.5 * x[:, 0]).reshape(races, size) + rng.gumbel(size=(races, size))
    won = (score == score.max(axis=1, keepdims=True)).ravel().astype(float)
    beta = fit_conditional_logit(x, race, won)
    assert abs(beta[0] - 1.5) < 0.15 and abs(beta[1]) < 0.1
