"""Venue registry from configs/venues.yaml and the sponsor-stripping slug rule.

The slug is the `venue` partition key, so it must be stable across sponsors, renames and new track codes,
and never contain the characters Dagster reserves in multi-partition keys (`|`, `,`, `[`, `]`). A venue
racing.com names differently (a new sponsor, a former name, a new code) is matched to its registry entry
by code, sponsor-stripped name or alias, so it keeps its slug instead of forking a second partition.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from racing_platform.paths import config_dir

_SLUG_FORBIDDEN = re.compile(r"[^a-z0-9]+")
TIERS = ("metro", "provincial", "country")
UNKNOWN_TIER = "unknown"  # a venue racing.com lists that the registry does not know (yet)


class VenueRegistryError(ValueError):
    """configs/venues.yaml is malformed, or two venues share a slug, a code or a name."""


class VenueConflictError(ValueError):
    """racing.com names one registry venue and gives the track code of another."""


@dataclass(frozen=True)
class Venue:
    name: str
    slug: str
    state: str
    timezone: str
    venue_code: str | None = None
    abbr: str | None = None
    tier: str | None = None
    display_name: str | None = None
    aliases: tuple[str, ...] = ()
    simulated: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Every name racing.com has used for the venue, as configured."""
        return (self.name, *((self.display_name,) if self.display_name else ()), *self.aliases)


@dataclass(frozen=True)
class VenueRegistry:
    venues: tuple[Venue, ...]
    state_timezones: dict[str, str]
    sponsor_prefixes: tuple[str, ...]

    def __post_init__(self) -> None:
        """Check every venue now: a contradiction in the file fails the load, not a meeting later."""
        for venue in self.venues:
            self._check(venue)
        for index in ("_slug_index", "_code_index", "_name_index"):
            getattr(self, index)

    def _check(self, venue: Venue) -> None:
        where = f"configs/venues.yaml: venue {venue.name!r}"
        if venue.state not in self.state_timezones:
            raise VenueRegistryError(f"{where}: state {venue.state!r} is not in state_timezones")
        if venue.tier not in TIERS:
            raise VenueRegistryError(f"{where}: tier {venue.tier!r} is not one of {', '.join(TIERS)}")
        try:
            ZoneInfo(venue.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise VenueRegistryError(f"{where}: timezone {venue.timezone!r} is not an IANA zone") from exc
        if venue.slug != self.slugify(venue.name):
            raise VenueRegistryError(
                f"{where}: slug {venue.slug!r} is not the name's slug {self.slugify(venue.name)!r}"
            )

    @property
    def simulated_venues(self) -> tuple[Venue, ...]:
        """The venues of the simulator's national calendar (a fixed set: its worlds stay reproducible)."""
        return tuple(v for v in self.venues if v.simulated)

    def by_slug(self, slug: str | None) -> Venue | None:
        return self._slug_index.get(slug) if slug else None

    def by_code(self, venue_code: str | None) -> Venue | None:
        return self._code_index.get(str(venue_code)) if venue_code is not None else None

    def by_name(self, name: str | None) -> Venue | None:
        """The venue whose name, sponsored name or alias has the same sponsor-stripped slug as `name`."""
        return self._name_index.get(self.slugify(name)) if name else None

    def lookup(self, name: str | None = None, venue_code: str | None = None) -> Venue | None:
        """The registry venue an answer means, by track code or by name: either alone is enough.

        A renamed venue (same code) and a recoded one (same name) keep their slug. A name of one venue
        with the code of another is an error, never a guess.
        """
        by_code, by_name = self.by_code(venue_code), self.by_name(name)
        if by_code is not None and by_name is not None and by_code is not by_name:
            raise VenueConflictError(
                f"venue {name!r} with code {venue_code!r}: the name is {by_name.name} "
                f"({by_name.slug}, code {by_name.venue_code}) but the code is {by_code.name} "
                f"({by_code.slug}); fix venue_code or aliases in configs/venues.yaml"
            )
        return by_code or by_name

    def timezone_for(self, state: str | None) -> str | None:
        return self.state_timezones.get((state or "").upper())

    def slugify(self, name: str) -> str:
        """Sponsor-stripped, lower-case, hyphenated ("Sportsbet Sandown Hillside" -> sandown-hillside)."""
        text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().strip()
        text = text.replace("-", " ")
        lowered = text.lower()
        for prefix in sorted(self.sponsor_prefixes, key=len, reverse=True):
            p = prefix.lower().replace("-", " ")
            if lowered.startswith(p + " ") and len(lowered) > len(p) + 1:
                lowered = lowered[len(p) + 1 :]
                break
        slug = _SLUG_FORBIDDEN.sub("-", lowered).strip("-")
        if not slug:
            raise ValueError(f"venue name {name!r} has no usable characters for a slug")
        return slug

    @cached_property
    def _slug_index(self) -> dict[str, Venue]:
        return _unique_index(((v.slug, v) for v in self.venues), "slug")

    @cached_property
    def _code_index(self) -> dict[str, Venue]:
        return _unique_index(((v.venue_code, v) for v in self.venues if v.venue_code), "venue_code")

    @cached_property
    def _name_index(self) -> dict[str, Venue]:
        """Sponsor-stripped slug of every configured name -> venue; one slug never means two venues."""
        return _unique_index(((self.slugify(name), v) for v in self.venues for name in v.names), "name")


def _unique_index(pairs: Iterable[tuple[str, Venue]], what: str) -> dict[str, Venue]:
    index: dict[str, Venue] = {}
    for key, venue in pairs:
        other = index.setdefault(key, venue)
        if other is not venue:
            raise VenueRegistryError(
                f"configs/venues.yaml: {what} {key!r} is both {other.name} and {venue.name}"
            )
    return index


def _venue_from_row(row: dict) -> Venue:
    """One `venues:` row of configs/venues.yaml; a row with a missing or unknown field names itself."""
    unknown = set(row) - set(Venue.__dataclass_fields__)
    if unknown:
        raise VenueRegistryError(
            f"configs/venues.yaml: venue {row.get('name')!r}: unknown fields {sorted(unknown)}"
        )
    text = {
        k: (str(v) if v is not None else None) for k, v in row.items() if k not in ("aliases", "simulated")
    }
    try:
        return Venue(
            **text,
            aliases=tuple(str(a) for a in row.get("aliases", ())),
            simulated=bool(row.get("simulated")),
        )
    except TypeError as exc:
        raise VenueRegistryError(f"configs/venues.yaml: venue {row.get('name')!r}: {exc}") from exc


@lru_cache(maxsize=4)
def load_venues(path: str | None = None) -> VenueRegistry:
    raw = yaml.safe_load((Path(path) if path else config_dir() / "venues.yaml").read_text(encoding="utf-8"))
    return VenueRegistry(
        venues=tuple(_venue_from_row(row) for row in raw["venues"]),
        state_timezones={k.upper(): v for k, v in raw["state_timezones"].items()},
        sponsor_prefixes=tuple(raw.get("sponsor_prefixes", [])),
    )
