"""The parquet cache round-trips a world exactly (tables, odds); truth_frame serves the kept-aside truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from racing_platform.simulator.world import store
from racing_platform.simulator.world.generator import load_world, world_cache_dir, world_tables
from racing_platform.simulator.world.truth import TRUTH_FRAME_COLUMNS, truth_frame
from racing_platform_tests.simulator.world.conftest import run_races


def test_cache_round_trip_is_exact(small_world, tmp_path, monkeypatch):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path))
    seed = 90_418
    directory = world_cache_dir(seed)
    assert directory.parent == tmp_path / "simulator"
    store.write_tables(directory, world_tables(small_world), small_world.meta)
    assert store.is_complete(directory)
    loaded = load_world(seed)
    assert load_world(seed) is loaded  # in-process cache
    for name in ("venues", "meetings", "races", "entries", "horses", "jockeys", "trainers"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(small_world, name))
    assert isinstance(loaded.races["prize_money"].iloc[0], list)
    race = run_races(small_world)["race_code"].iloc[3]
    pd.testing.assert_frame_equal(loaded.odds_for_race(race), small_world.odds_for_race(race))
    assert loaded.meta["calendar_start"] == "2024-03-01"


def test_an_interrupted_cache_is_reported_not_read(tmp_path):
    (tmp_path / "races.parquet").write_bytes(b"")
    assert not store.is_complete(tmp_path)
    with pytest.raises(FileNotFoundError, match="incomplete"):
        store.read_tables(tmp_path)


def test_truth_frame_is_the_final_field_with_probabilities_summing_to_one(small_world):
    races = list(run_races(small_world)["race_code"].iloc[:5])
    truth = truth_frame(small_world, races)
    assert list(truth.columns) == TRUTH_FRAME_COLUMNS
    assert set(truth["race_code"]) == set(races)
    assert np.allclose(truth.groupby("race_code")["true_win_prob"].sum(), 1.0)
    scratched = small_world.entries[small_world.entries["scratched_at"].notna()]["entry_id"]
    assert not set(truth["entry_id"]) & set(scratched)
    assert len(truth_frame(small_world)) == small_world.entries["true_win_prob"].notna().sum()
    with pytest.raises(KeyError, match="unknown race_code"):
        truth_frame(small_world, ["123"])


def test_a_cache_finished_first_by_another_process_is_kept(small_world, tmp_path):
    directory = tmp_path / "seed-1-v1"
    tables = world_tables(small_world)
    store.write_tables(directory, tables, {"writer": "first"})
    store.write_tables(directory, tables, {"writer": "second"})
    _, meta = store.read_tables(directory)
    assert meta == {"writer": "first"}
    assert [p.name for p in tmp_path.iterdir()] == ["seed-1-v1"]  # no staging directory left behind
