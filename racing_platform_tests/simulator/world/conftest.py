"""Generated worlds shared by the world tests (built once per session, each a pure function of its seed)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from racing_platform.simulator.world.generator import generate_world
from racing_platform.simulator.world.model import World

SEED = 7
SMALL_VENUES = [
    "flemington",
    "caulfield",
    "moonee-valley",
    "sandown-hillside",
    "geelong",
    "ballarat",
    "bendigo",
    "cranbourne",
    "pakenham",
    "kilmore",
    "seymour",
    "royal-randwick",
    "rosehill-gardens",
    "newcastle",
    "wyong",
]
VIC_NSW_ACT = ("VIC", "NSW", "ACT")


@pytest.fixture(scope="session")
def small_world() -> World:
    """Two months at fifteen VIC/NSW venues: every table, a few hundred races."""
    return generate_world(SEED, start=date(2024, 3, 1), end=date(2024, 4, 30), venues=SMALL_VENUES)


@pytest.fixture(scope="session")
def month_world() -> World:
    """A full-scale month: all sixty venues (the national calendar)."""
    return generate_world(SEED, start=date(2024, 6, 1), end=date(2024, 6, 30))


@pytest.fixture(scope="session")
def seasons_world() -> World:
    """Seventeen months of VIC, NSW and ACT racing: careers across two seasons, enough history to train on."""
    from racing_platform.source.venues import load_venues

    slugs = [v.slug for v in load_venues().simulated_venues if v.state in VIC_NSW_ACT]
    return generate_world(SEED, start=date(2023, 8, 1), end=date(2024, 12, 31), venues=slugs)


def run_races(world: World) -> pd.DataFrame:
    """Races that were run and bet on: not trials or jump-outs, not at abandoned meetings."""
    meetings = world.meetings
    betting = meetings[~meetings["is_trial"] & ~meetings["is_jumpout"] & ~meetings["abandoned"]]
    return world.races[world.races["meet_code"].isin(set(betting["meet_code"]))]


def runners(world: World) -> pd.DataFrame:
    entries = world.entries
    return entries[entries["scratched_at"].isna()]
