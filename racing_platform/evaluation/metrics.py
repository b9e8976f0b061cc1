"""Every evaluation metric, defined once: pure functions of a runner-level frame (numpy/pandas only).

The runner frame has one row per runner of a race's final field (the horses that ran), ordered by
race and saddlecloth, with

- `race_code`, `won` (bool, exactly one winner per race), `starting_price` (decimal SP, may be NaN);
- one probability column per source (`uniform`, `stage1`, `blend`, `market`, `oracle`), each summing
  to 1 per race over the final field. A source may be missing (NaN) for a whole race: stage 1 for
  predictions made before it was stored, the market when a runner has no SP, the oracle off the
  simulator. Each source is scored on the races where it is complete; `races` says how many, and
  McFadden's R² compares it with the uniform baseline on exactly those races.

Nothing here imports the model (training.py's CatBoost), so the model can import the log loss from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

SOURCES = ("uniform", "stage1", "blend", "market", "oracle")
"""The probability columns evaluation knows, in the order tables show them."""

METRICS = ("log_loss", "brier", "mcfadden_r2", "top_pick_strike_rate", "roi", "bets", "races")
"""The keys of every source's metrics, in the order tables show them."""

VALUE_MARGIN = 0.10
"""The value rule backs a runner when p x SP > 1 + margin."""

CALIBRATION_BINS = 10

_EPS = 1e-12


# -- sources -------------------------------------------------------------------------------------------


def uniform_probabilities(frame: pd.DataFrame) -> pd.Series:
    """1/n for each of a race's n runners: the baseline every other source must beat."""
    return 1.0 / frame.groupby("race_code")["race_code"].transform("size").astype(float)


def market_from_sp(frame: pd.DataFrame) -> pd.Series:
    """The market's probabilities at SP: 1/SP normalised per race (the overround removed proportionally).

    A race with any runner without a (positive) SP gets NaN for every runner: a partial market is not a
    distribution over the field.
    """
    sp = pd.to_numeric(frame["starting_price"], errors="coerce").astype(float)
    implied = 1.0 / sp.where(sp > 0)
    complete = implied.notna().groupby(frame["race_code"]).transform("all")
    total = implied.groupby(frame["race_code"]).transform("sum")
    return (implied / total).where(complete)


def normalised(frame: pd.DataFrame, column: str) -> pd.Series:
    """`column` rescaled to sum to 1 per race (NaN for a race where any runner lacks it)."""
    values = pd.to_numeric(frame[column], errors="coerce").astype(float)
    complete = values.notna().groupby(frame["race_code"]).transform("all")
    total = values.groupby(frame["race_code"]).transform("sum")
    return (values / total).where(complete & (total > 0))


# -- metrics -------------------------------------------------------------------------------------------


def log_loss(rows: pd.DataFrame, probability) -> float:
    """Mean over races of -ln p(winner): the project's one log loss (one winner per race).

    `rows` has `won`; `probability` is aligned with its rows (an array or the frame's column).
    """
    p = np.asarray(probability, dtype=float)
    winners = p[rows["won"].astype(bool).to_numpy()]
    return float(-np.log(np.clip(winners, _EPS, 1.0)).mean())


def uniform_log_loss(rows: pd.DataFrame) -> float:
    """The log loss of 1/n: mean over races of ln(field size)."""
    return log_loss(rows, uniform_probabilities(rows).to_numpy())


def brier(rows: pd.DataFrame, probability) -> float:
    """Mean over races of the sum over runners of (p - won)²."""
    p = np.asarray(probability, dtype=float)
    squared = pd.Series((p - rows["won"].astype(float).to_numpy()) ** 2, index=rows.index)
    return float(squared.groupby(rows["race_code"]).sum().mean())


def top_pick_strike_rate(rows: pd.DataFrame, probability) -> float:
    """Share of races whose highest-probability runner won. A tie goes to the runner that comes first
    in the frame's order (the runner frame is ordered by saddlecloth: the lowest saddlecloth)."""
    p = pd.Series(np.asarray(probability, dtype=float), index=pd.RangeIndex(len(rows)))
    top = p.groupby(rows["race_code"].to_numpy(), sort=False).idxmax()
    return float(rows["won"].astype(bool).to_numpy()[top.to_numpy()].mean())


def value_bets(rows: pd.DataFrame, probability, margin: float = VALUE_MARGIN) -> tuple[int, float | None]:
    """Level 1-unit stakes at SP on every runner with p x SP > 1 + margin: (bets, ROI).

    ROI = (returns - stakes) / stakes, a winning bet returning its SP (stake included); None without
    bets. A runner without SP is never backed.
    """
    p = np.asarray(probability, dtype=float)
    sp = pd.to_numeric(rows["starting_price"], errors="coerce").to_numpy(dtype=float)
    backed = np.nan_to_num(p * sp, nan=0.0) > 1.0 + margin
    bets = int(backed.sum())
    if bets == 0:
        return 0, None
    returns = float(sp[backed & rows["won"].astype(bool).to_numpy()].sum())
    return bets, (returns - bets) / bets


def complete_races(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """The rows of the races where every runner has a value in `column`."""
    complete = frame[column].notna().groupby(frame["race_code"]).transform("all")
    return frame[complete].reset_index(drop=True)


def source_metrics(frame: pd.DataFrame, column: str, margin: float = VALUE_MARGIN) -> dict:
    """`METRICS` of one source over the races where it is complete (all None but races=0 if none)."""
    rows = complete_races(frame, column)
    races = int(rows["race_code"].nunique())
    if races == 0:
        return {**dict.fromkeys(METRICS), "bets": 0, "races": 0}
    p = rows[column].to_numpy(dtype=float)
    loss = log_loss(rows, p)
    bets, roi = value_bets(rows, p, margin)
    return {
        "log_loss": loss,
        "brier": brier(rows, p),
        "mcfadden_r2": 1.0 - loss / uniform_log_loss(rows),
        "top_pick_strike_rate": top_pick_strike_rate(rows, p),
        "roi": roi,
        "bets": bets,
        "races": races,
    }


def on_common_races(frame: pd.DataFrame, sources: Sequence[str] | None = None) -> pd.DataFrame:
    """The rows of the races where every source present has a value for every runner: so sources
    compare on the same races (the market at SP can miss a race; the truth exists only on the simulator)."""
    present = [s for s in (sources or SOURCES) if s in frame.columns and frame[s].notna().any()]
    complete = frame[present].notna().all(axis=1).groupby(frame["race_code"]).transform("all")
    return frame[complete].reset_index(drop=True)


def metrics_by_source(
    frame: pd.DataFrame, sources: Sequence[str] | None = None, margin: float = VALUE_MARGIN
) -> dict[str, dict]:
    """{source: {metric: value}} with keys exactly `METRICS`, for each source column of `frame` (default:
    the `SOURCES` present) that is complete on at least one race."""
    sources = [s for s in (sources or SOURCES) if s in frame.columns]
    scored = {s: source_metrics(frame, s, margin) for s in sources}
    return {s: m for s, m in scored.items() if m["races"]}


def probability_sums(frame: pd.DataFrame, sources: Iterable[str] | None = None) -> pd.DataFrame:
    """Per race and source, the sum of the probabilities over the final field (NaN sources left out)."""
    sources = [s for s in (sources or SOURCES) if s in frame.columns]
    sums = {s: complete_races(frame, s).groupby("race_code")[s].sum() for s in sources}
    return pd.DataFrame(sums)


# -- calibration ---------------------------------------------------------------------------------------


def calibration_table(probs, won, bins: int | Sequence[float] = CALIBRATION_BINS) -> pd.DataFrame:
    """Reliability table: runners binned by predicted probability, with each bin's mean prediction and
    observed win rate. `bins` is a number of equal-width bins over [0, 1] or the bin edges; a bin holds
    [low, high) except the last, which holds its upper edge. Empty bins are left out, so `runners`
    sums to the number of runners with a probability (NaN left out)."""
    p = np.asarray(probs, dtype=float)
    y = np.asarray(won, dtype=bool)
    keep = ~np.isnan(p)
    p, y = p[keep], y[keep]
    edges = np.linspace(0.0, 1.0, bins + 1) if isinstance(bins, int) else np.asarray(bins, dtype=float)
    index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for i in np.unique(index):
        inside = index == i
        rows.append(
            {
                "bin": f"[{edges[i]:.2f}, {edges[i + 1]:.2f}{']' if i == len(edges) - 2 else ')'}",
                "bin_low": float(edges[i]),
                "bin_high": float(edges[i + 1]),
                "mean_predicted": float(p[inside].mean()),
                "observed_win_rate": float(y[inside].mean()),
                "runners": int(inside.sum()),
                "winners": int(y[inside].sum()),
            }
        )
    columns = ["bin", "bin_low", "bin_high", "mean_predicted", "observed_win_rate", "runners", "winners"]
    return pd.DataFrame(rows, columns=columns)


# -- presentation --------------------------------------------------------------------------------------


def metrics_frame(metrics: Mapping[str, Mapping]) -> pd.DataFrame:
    """`metrics_by_source`'s dict as a frame: one row per source, the columns `METRICS`."""
    return pd.DataFrame(
        [{"source": s, **{k: m.get(k) for k in METRICS}} for s, m in metrics.items()],
        columns=["source", *METRICS],
    )


def format_table(metrics: Mapping[str, Mapping]) -> str:
    """The metrics as a plain-text table for the terminal (and, being a pipe table, for markdown)."""
    if not metrics:
        return "no races evaluated"
    frame = metrics_frame(metrics)
    shown = frame.astype(object).where(frame.notna(), "-")
    for column in ("log_loss", "brier", "mcfadden_r2", "top_pick_strike_rate", "roi"):
        shown[column] = [v if v == "-" else f"{v:.4f}" for v in shown[column]]
    return shown.to_markdown(index=False, disable_numparse=True)
