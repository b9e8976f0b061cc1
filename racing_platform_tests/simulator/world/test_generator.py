"""generate_world: deterministic per seed, the model.py column contract, codes, names, bad arguments."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from racing_platform.simulator.world.generator import GENERATOR_VERSION, generate_world
from racing_platform.simulator.world.model import TRUTH_COLUMNS

TINY = {"start": date(2024, 1, 1), "end": date(2024, 1, 31), "venues": ["flemington", "geelong", "kilmore"]}
TABLES = ("venues", "meetings", "races", "entries", "horses", "jockeys", "trainers")


def test_same_seed_gives_identical_frames_and_odds():
    first, second = generate_world(11, **TINY), generate_world(11, **TINY)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_exact=True)
    race = first.races["race_code"].iloc[len(first.races) // 2]
    pd.testing.assert_frame_equal(first.odds_for_race(race), second.odds_for_race(race))


def test_different_seed_gives_a_different_world():
    first, other = generate_world(11, **TINY), generate_world(12, **TINY)
    assert list(first.races["distance_m"]) != list(other.races["distance_m"])
    assert set(first.horses["horse_name"]) != set(other.horses["horse_name"])


def test_columns_follow_the_model_contract(small_world):
    small_world.check_columns()
    for table, columns in TRUTH_COLUMNS.items():
        assert set(columns) <= set(getattr(small_world, table).columns)
    assert small_world.meta["generator_version"] == GENERATOR_VERSION
    assert small_world.meta["calendar_start"] == "2024-03-01"
    assert small_world.meta["calendar_end"] == "2024-04-30"


def test_codes_are_numeric_unique_and_racing_com_sized(small_world):
    w = small_world
    for frame, column, digits in (
        (w.meetings, "meet_code", 7),
        (w.races, "race_code", 7),
        (w.entries, "entry_id", 8),
    ):
        values = frame[column]
        assert values.is_unique, column
        assert values.str.fullmatch(rf"\d{{{digits}}}").all(), column
    for frame, column in ((w.horses, "horse_code"), (w.jockeys, "jockey_code"), (w.trainers, "trainer_code")):
        assert frame[column].is_unique and frame[column].str.fullmatch(r"\d{5,8}").all(), column
    assert set(w.entries["horse_code"]) <= set(w.horses["horse_code"])
    assert set(w.entries["jockey_code"]) <= set(w.jockeys["jockey_code"])
    assert set(w.entries["trainer_code"]) <= set(w.trainers["trainer_code"])
    assert set(w.entries["race_code"]) == set(w.races["race_code"])


def test_names_look_like_racing_com(small_world):
    w = small_world
    assert w.horses["horse_name"].is_unique
    assert w.jockeys["jockey_name"].str.fullmatch(r"([A-Z]\.){1,2}[A-Z][A-Za-z'\-]+").all()
    assert w.jockeys["url_slug"].str.fullmatch(r"[a-z]+(-[a-z0-9]+)+").all()
    slug_of = dict(zip(w.jockeys["jockey_name"], w.jockeys["url_slug"], strict=True))
    mcs = [name for name in slug_of if ".Mc" in name]
    assert all(re.search(r"-mc-", slug_of[name]) for name in mcs)
    assert (
        w.trainers["trainer_name"]
        .str.fullmatch(r"(([A-Z]\.)+[A-Z][A-Za-z'\-]+)|([A-Z][a-z]+ & [A-Z][a-z]+ .+)")
        .all()
    )
    assert set(w.horses["sex"]) <= {"Gelding", "Mare", "Horse"}


def test_race_classes_match_racing_com_vocabulary(small_world):
    races = small_world.races
    allowed = re.compile(r"Maiden|Class [1-6]|BM (5[8-9]|[6-8]\d|90)|Listed|Group [123]|Trial|Jump Out")
    assert races["rdc_class"].map(lambda v: bool(allowed.fullmatch(v))).all()
    black = races["rdc_class"].isin(["Listed", "Group 1", "Group 2", "Group 3"])
    assert (races.loc[black, "group"] == races.loc[black, "rdc_class"]).all()
    assert (races.loc[~black, "group"] == "ungrouped").all()
    bm = races[races["rdc_class"].str.startswith("BM ")]
    assert (bm["name_form"] == bm["rdc_class"].str.replace(" ", "")).all()
    assert bm["condition"].str.startswith("Handicap. Benchmark ").all()
    maiden = races[races["rdc_class"] == "Maiden"]
    assert maiden["name_form"].str.contains("MDN").all()
    assert (races.loc[~races["rdc_class"].isin(["Trial", "Jump Out"]), "prize_money_total"] > 0).all()
    paid = races[races["prize_money_total"] > 0]
    assert all(
        abs(sum(p) - t) < 1.0 for p, t in zip(paid["prize_money"], paid["prize_money_total"], strict=True)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"venues": ["nowhere-park"]}, "unknown venue 'nowhere-park'"),
        ({"scale": 0.0}, "scale must be in"),
        ({"start": date(2024, 2, 1), "end": date(2024, 1, 1)}, "is before start"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_world(1, **{**TINY, **kwargs})


def test_venues_by_code_name_or_slug_and_scale_thins_meetings():
    by_code = generate_world(3, start=date(2024, 2, 1), end=date(2024, 2, 14), venues=["149", "Caulfield"])
    assert set(by_code.venues["venue_code"]) <= {"149", "122"}
    full = generate_world(3, start=date(2024, 2, 1), end=date(2024, 2, 29), venues=TINY["venues"])
    thin = generate_world(3, start=date(2024, 2, 1), end=date(2024, 2, 29), venues=TINY["venues"], scale=0.4)
    assert len(thin.meetings) < len(full.meetings)
