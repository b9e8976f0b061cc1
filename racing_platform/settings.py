"""Platform configuration from configs/platform.yaml (what is covered, not where it runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from racing_platform.paths import config_dir


@dataclass(frozen=True)
class Scope:
    states: frozenset[str]
    tiers: frozenset[str]
    include_trials: bool

    def covers(self, state: str | None, tier: str | None, is_trial: bool, is_jumpout: bool) -> bool:
        if (is_trial or is_jumpout) and not self.include_trials:
            return False
        return (state or "").upper() in self.states and (tier or "unknown") in self.tiers


@dataclass(frozen=True)
class PlatformSettings:
    start_date: date
    timezone: str
    end_offset_days: int
    scope: Scope
    odds_provider: str
    demo_scope: Scope
    demo_history_days: int


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
        demo_scope=Scope(frozenset(demo["states"]), frozenset(demo["tiers"]), include_trials),
        demo_history_days=int(demo["history_days"]),
    )
