"""The kept-aside truth: true win probabilities of each race's final field, for evaluation only."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from racing_platform.simulator.world.model import World

TRUTH_FRAME_COLUMNS = ["race_code", "entry_id", "horse_code", "saddlecloth", "true_win_prob"]


def truth_frame(world: World, race_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """(race_code, entry_id, horse_code, saddlecloth, true_win_prob) for every runner of the given races.

    Scratched entries are left out: the probabilities are over the final field and sum to 1 per race.
    """
    entries = world.entries
    runners = entries[entries["scratched_at"].isna() & entries["true_win_prob"].notna()]
    if race_codes is not None:
        wanted = {str(code) for code in race_codes}
        unknown = wanted - set(world.races["race_code"])
        if unknown:
            raise KeyError(f"truth_frame: unknown race_code(s) {sorted(unknown)[:5]}")
        runners = runners[runners["race_code"].isin(wanted)]
    return runners[TRUTH_FRAME_COLUMNS].sort_values(["race_code", "saddlecloth"]).reset_index(drop=True)
