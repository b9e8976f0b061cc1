"""The venue registry: every Australian venue, stable slugs, and one venue however racing.com names it."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml

from racing_platform.contracts import VENUE_SLUG_PATTERN
from racing_platform.paths import config_dir
from racing_platform.settings import load_settings
from racing_platform.source.venues import (
    TIERS,
    VenueConflictError,
    VenueRegistryError,
    load_venues,
)
from racing_platform_tests.paths import REPO

# Thoroughbred venues per state, roughly: racing.com lists ~360 nationally, NSW and QLD the most.
PLAUSIBLE_COUNTS = {
    "NSW": (90, 130),
    "QLD": (80, 120),
    "VIC": (50, 75),
    "WA": (25, 45),
    "SA": (15, 30),
    "NT": (5, 15),
    "TAS": (3, 8),
    "ACT": (1, 3),
}
ZONE_EXCEPTIONS = {"broken-hill": "Australia/Broken_Hill"}  # Far West NSW keeps South Australian time


@pytest.fixture(scope="module")
def registry():
    return load_venues()


def test_every_state_holds_a_plausible_number_of_venues(registry):
    counts = Counter(v.state for v in registry.venues)
    assert set(counts) == set(PLAUSIBLE_COUNTS)
    for state, (low, high) in PLAUSIBLE_COUNTS.items():
        assert low <= counts[state] <= high, f"{state}: {counts[state]} venues"
    assert 330 <= len(registry.venues) <= 380


def test_slugs_are_unique_valid_partition_keys_and_the_names_slug(registry):
    slugs = [v.slug for v in registry.venues]
    assert len(slugs) == len(set(slugs))
    for venue in registry.venues:
        assert re.fullmatch(VENUE_SLUG_PATTERN, venue.slug), venue
        assert venue.slug == registry.slugify(venue.name), venue


def test_every_zone_is_an_iana_zone_and_the_states_unless_the_venue_keeps_another_clock(registry):
    for venue in registry.venues:
        ZoneInfo(venue.timezone)
        assert venue.timezone == ZONE_EXCEPTIONS.get(venue.slug, registry.timezone_for(venue.state)), venue
    assert registry.by_slug("broken-hill").state == "NSW"


def test_codes_are_unique_and_tiers_known(registry):
    codes = [v.venue_code for v in registry.venues if v.venue_code]
    assert len(codes) == len(set(codes)) >= 60
    assert {v.tier for v in registry.venues} == set(TIERS)


def test_committed_venues_keep_their_key_fields():
    """A slug is a partition key and a code the match of renamed venues: committed ones never change."""
    try:
        committed = subprocess.run(
            ["git", "show", "HEAD:configs/venues.yaml"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    current = {
        row["slug"]: row for row in yaml.safe_load((config_dir() / "venues.yaml").read_text())["venues"]
    }
    before = yaml.safe_load(committed)["venues"]
    assert len(before) >= 60
    for row in before:
        now = current.get(row["slug"])
        assert now is not None, f"{row['slug']} left the registry"
        kept = ("name", "state", "timezone", "abbr", "tier", "display_name")
        assert {k: now.get(k) for k in kept} == {k: row.get(k) for k in kept}
        if row.get("venue_code"):
            assert now["venue_code"] == row["venue_code"]


def test_the_simulators_calendar_is_the_original_sixty(registry):
    simulated = registry.simulated_venues
    assert len(simulated) == 60 and all(v.venue_code for v in simulated)


@pytest.mark.parametrize(
    ("name", "code", "slug"),
    [
        ("Sportsbet Sandown Hillside", "152", "sandown-hillside"),  # as listed today
        ("Sandown Hillside", "152", "sandown-hillside"),  # sponsor dropped
        ("Sportsbet Sandown Hillside", "9152", "sandown-hillside"),  # new code, same name
        ("Ladbrokes Park Hillside", None, "sandown-hillside"),  # former sponsored name (alias)
        ("Tabcorp Park Sandown Hillside", None, "sandown-hillside"),  # another sponsor
        ("Totally New Name", "152", "sandown-hillside"),  # renamed, same code
        ("Thomas Farms RC Murray Bridge", None, "murray-bridge"),
        ("Ladbrokes Cannon Park", None, "cairns"),
        ("Aquis Park Gold Coast Poly", None, "gold-coast-poly"),
        ("Sportsbet-Ballarat Synthetic", None, "ballarat-synthetic"),
        ("Randwick", "348", "royal-randwick"),
        ("Mt Gambier", None, "mount-gambier"),
    ],
)
def test_a_renamed_or_recoded_venue_is_the_same_venue(registry, name, code, slug):
    assert registry.lookup(name, code).slug == slug


def test_a_name_of_one_venue_with_the_code_of_another_is_an_error_naming_both(registry):
    with pytest.raises(VenueConflictError, match=r"Sandown Hillside.*149.*Flemington"):
        registry.lookup("Sandown Hillside", "149")


def test_an_unknown_venue_is_not_guessed(registry):
    assert registry.lookup("Hypothetical Downs", "990001") is None
    assert registry.lookup(None, None) is None


def _registry_file(tmp_path, venues: list[dict]) -> str:
    raw = yaml.safe_load((config_dir() / "venues.yaml").read_text())
    raw["venues"] = venues
    path = tmp_path / "venues.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


MOE = {"name": "Moe", "slug": "moe", "state": "VIC", "timezone": "Australia/Melbourne", "tier": "country"}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [MOE, {**MOE, "name": "Sale", "slug": "sale", "aliases": ["Moe"]}],
            r"name 'moe' is both Moe and Sale",
        ),
        ([MOE, MOE], r"slug 'moe' is both Moe and Moe"),
        (
            [{**MOE, "venue_code": "1"}, {**MOE, "name": "Sale", "slug": "sale", "venue_code": "1"}],
            r"venue_code '1' is both Moe and Sale",
        ),
        ([{**MOE, "timezone": "Australia/Moe"}], "not an IANA zone"),
        ([{**MOE, "tier": "picnic"}], "tier 'picnic'"),
        ([{**MOE, "slug": "moe-park"}], "not the name's slug"),
        ([{**MOE, "state": "NZ"}], "state 'NZ'"),
        ([{**MOE, "track": "Moe"}], r"unknown fields \['track'\]"),
        ([{k: v for k, v in MOE.items() if k != "state"}], r"venue 'Moe': .*missing .*'state'"),
    ],
)
def test_a_contradictory_registry_fails_to_load_naming_the_venue(tmp_path, rows, message):
    with pytest.raises(VenueRegistryError, match=message):
        load_venues(_registry_file(tmp_path, rows))


@pytest.mark.parametrize(
    ("state", "tier", "is_trial", "is_jumpout", "tracked"),
    [
        ("VIC", "metro", False, False, True),
        ("vic", "unknown", False, False, True),  # a venue the registry does not know is tracked
        ("VIC", None, pd.NA, pd.NA, True),  # null flags: not a trial
        ("VIC", "metro", None, None, True),
        ("VIC", "metro", True, pd.NA, False),
        ("VIC", "metro", pd.NA, True, False),
        (pd.NA, "metro", False, False, False),  # no state: no time zone, not tracked
        (None, "unknown", False, False, False),
    ],
)
def test_scope_reads_null_values_without_bool_of_na(state, tier, is_trial, is_jumpout, tracked):
    assert load_settings().scope.covers(state, tier, is_trial, is_jumpout) is tracked
