"""The race-class ladder: who may run where, what it is called, what it pays and how weights are set.

Eligibility follows Australian practice in simplified form: maidens are for non-winners, Class k for horses
with at most k wins, benchmark (BM) handicaps for horses rated at or below the benchmark, black type by
rating.
`level` puts every class on the rating scale so "class change" between two runs is a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BENCHMARKS = (58, 62, 64, 66, 68, 70, 72, 74, 78, 80, 84, 88, 90)


@dataclass(frozen=True)
class RaceClass:
    rdc_class: str
    kind: str  # maiden | class | bm | black
    name_form: str
    level: float  # rating-scale position, for class-change features and the handicapper
    min_rating: float
    max_rating: float
    min_wins: int
    max_wins: int
    weights: str  # set | handicap | penalties | wfa
    prize_metro: float
    benchmark: int = 0  # BM races: the benchmark; the rating band is [benchmark - 20, benchmark + 6]


def _ladder() -> list[RaceClass]:
    classes = [RaceClass("Maiden", "maiden", "MDN", 40, -1, 0.5, 0, 0, "set", 60_000)]
    for k in range(1, 7):
        classes.append(
            RaceClass(
                f"Class {k}", "class", f"CL{k}", 48 + 4 * k, -1, 999, 1, k, "handicap", 55_000 + 5_000 * k
            )
        )
    for i, bm in enumerate(BENCHMARKS):
        floor = -1 if i == 0 else bm - 20
        classes.append(
            RaceClass(
                f"BM {bm}",
                "bm",
                f"BM{bm}",
                bm - 4,
                floor,
                bm + 6,
                1,
                99,
                "handicap",
                40_000 + 2_500 * (bm - 58),
                bm,
            )
        )
    for rdc, floor, level, weights, prize in (
        ("Listed", 78, 88, "penalties", 180_000),
        ("Group 3", 82, 92, "handicap", 200_000),
        ("Group 2", 86, 97, "penalties", 300_000),
        ("Group 1", 90, 103, "wfa", 1_000_000),
    ):
        classes.append(
            RaceClass(
                rdc,
                "black",
                rdc.replace("Group ", "G").replace("Listed", "LR"),
                level,
                floor,
                999,
                1,
                99,
                weights,
                prize,
            )
        )
    return classes


CLASSES: tuple[RaceClass, ...] = tuple(_ladder())
CLASS_INDEX = {c.rdc_class: i for i, c in enumerate(CLASSES)}


def class_table() -> pd.DataFrame:
    """The ladder as arrays, for vectorised eligibility checks."""
    return pd.DataFrame([c.__dict__ for c in CLASSES])


# Programme mixes: probability of each class for a race by meeting type. Keys are rdc_class names.
def _mix(weights: dict[str, float]) -> np.ndarray:
    out = np.zeros(len(CLASSES))
    for name, w in weights.items():
        out[CLASS_INDEX[name]] = w
    return out / out.sum()


PROGRAMME_MIX = {
    "metro_saturday": _mix(
        {
            "Maiden": 0.07,
            "Class 1": 0.03,
            "Class 3": 0.02,
            "BM 70": 0.05,
            "BM 72": 0.05,
            "BM 74": 0.04,
            "BM 78": 0.08,
            "BM 80": 0.06,
            "BM 84": 0.10,
            "BM 88": 0.06,
            "BM 90": 0.06,
            "Listed": 0.16,
            "Group 3": 0.10,
            "Group 2": 0.07,
            "Group 1": 0.05,
        }
    ),
    "metro_midweek": _mix(
        {
            "Maiden": 0.15,
            "Class 1": 0.08,
            "Class 2": 0.04,
            "Class 3": 0.04,
            "BM 64": 0.08,
            "BM 66": 0.06,
            "BM 68": 0.08,
            "BM 70": 0.10,
            "BM 72": 0.08,
            "BM 74": 0.07,
            "BM 78": 0.10,
            "BM 84": 0.06,
            "Listed": 0.06,
        }
    ),
    "provincial": _mix(
        {
            "Maiden": 0.24,
            "Class 1": 0.12,
            "Class 2": 0.05,
            "Class 3": 0.05,
            "Class 4": 0.01,
            "Class 5": 0.01,
            "Class 6": 0.01,
            "BM 58": 0.12,
            "BM 62": 0.05,
            "BM 64": 0.10,
            "BM 66": 0.03,
            "BM 68": 0.06,
            "BM 70": 0.06,
            "BM 72": 0.04,
            "BM 78": 0.03,
            "Listed": 0.02,
        }
    ),
    "country": _mix(
        {
            "Maiden": 0.28,
            "Class 1": 0.16,
            "Class 2": 0.05,
            "Class 3": 0.03,
            "Class 4": 0.01,
            "BM 58": 0.24,
            "BM 62": 0.05,
            "BM 64": 0.12,
            "BM 66": 0.03,
            "BM 68": 0.02,
            "BM 70": 0.01,
        }
    ),
}

PRIZE_SPLIT = np.array([0.585, 0.18, 0.09, 0.045, 0.03, 0.025, 0.025, 0.02])
TIER_PRIZE_FACTOR = {"metro": 1.0, "provincial": 0.55, "country": 0.38}
