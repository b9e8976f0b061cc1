"""Venue registry from configs/venues.yaml and the sponsor-stripping slug rule.

The slug is the `venue` partition key, so it must be stable across sponsors and never contain the
characters Dagster reserves in multi-partition keys (`|`, `,`, `[`, `]`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from racing_platform.paths import config_dir

_SLUG_FORBIDDEN = re.compile(r"[^a-z0-9]+")


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


@dataclass(frozen=True)
class VenueRegistry:
    venues: tuple[Venue, ...]
    state_timezones: dict[str, str]
    sponsor_prefixes: tuple[str, ...]

    def by_slug(self, slug: str) -> Venue | None:
        return self._slug_index().get(slug)

    def by_code(self, venue_code: str | None) -> Venue | None:
        return self._code_index().get(str(venue_code)) if venue_code is not None else None

    def lookup(self, name: str | None = None, venue_code: str | None = None) -> Venue | None:
        """Find a venue by track code first (stable), then by sponsor-stripped name."""
        venue = self.by_code(venue_code)
        if venue is None and name:
            venue = self.by_slug(self.slugify(name))
        return venue

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

    def _slug_index(self) -> dict[str, Venue]:
        return {v.slug: v for v in self.venues}

    def _code_index(self) -> dict[str, Venue]:
        return {v.venue_code: v for v in self.venues if v.venue_code}


@lru_cache(maxsize=4)
def load_venues(path: str | None = None) -> VenueRegistry:
    raw = yaml.safe_load((Path(path) if path else config_dir() / "venues.yaml").read_text(encoding="utf-8"))
    venues = tuple(
        Venue(**{k: (str(v) if v is not None else None) for k, v in row.items()}) for row in raw["venues"]
    )
    return VenueRegistry(
        venues=venues,
        state_timezones={k.upper(): v for k, v in raw["state_timezones"].items()},
        sponsor_prefixes=tuple(raw.get("sponsor_prefixes", [])),
    )
