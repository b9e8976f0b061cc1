"""Platform configuration from configs/platform.yaml (what is covered, not where it runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from racing_platform.paths import config_dir
from racing_platform.source.venues import UNKNOWN_TIER


@dataclass(frozen=True)
class Scope:
    states: frozenset[str]
    tiers: frozenset[str]
    include_trials: bool

    def covers(
        self, state: str | None, tier: str | None, is_trial: bool | None, is_jumpout: bool | None
    ) -> bool:
        """Whether a meeting is tracked. Any value may be null (None or pd.NA): a meeting without a state is
        not tracked (no time zone), a venue without a tier is `unknown`, and a null trial or jump-out flag
        does not make a meeting a trial (racing.com sets the flag on trials)."""
        if not self.include_trials and any(_is_set(flag) for flag in (is_trial, is_jumpout)):
            return False
        known_state = None if pd.isna(state) else str(state).upper()
        return known_state in self.states and (tier or UNKNOWN_TIER) in self.tiers


def _is_set(flag: bool | None) -> bool:
    return not pd.isna(flag) and bool(flag)


@dataclass(frozen=True)
class PlatformSettings:
    start_date: date
    timezone: str
    end_offset_days: int
    scope: Scope
    odds_provider: str
    demo_history_days: int

    @property
    def demo_scope(self) -> Scope:
        """The demo covers the platform's one scope, so what it fills is what the UI's partitions count."""
        return self.scope


@lru_cache(maxsize=2)
def load_settings(path: str | None = None) -> PlatformSettings:
    raw = yaml.safe_load((Path(path) if path else config_dir() / "platform.yaml").read_text(encoding="utf-8"))
    parts, scope, demo = raw["partitions"], raw["scope"], raw["demo"]
    include_trials = bool(scope.get("include_trials", False))
    return PlatformSettings(
        start_date=date.fromisoformat(str(parts["start_date"])),
        timezone=parts["timezone"],
        end_offset_days=int(parts["end_offset_days"]),
        scope=Scope(frozenset(scope["states"]), frozenset(scope["tiers"]), include_trials),
        odds_provider=raw["market"]["odds_provider"],
        demo_history_days=int(demo["history_days"]),
    )
