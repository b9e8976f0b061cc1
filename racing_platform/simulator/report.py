"""How realistic is the simulated world? Season figures against Australian racing targets, and learnability.

Log loss everywhere is the mean over races of -ln p(winner). The form-only model is a conditional logit on a
few point-in-time form features (computed strictly from results before each race's date), trained on earlier
seasons; it must beat the uniform baseline and stay behind the truth, with the market (SP, overround removed
proportionally) in between. Trials, jump-outs and abandoned meetings are left out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from racing_platform.simulator.world.classes import CLASSES
from racing_platform.simulator.world.market import closing_prices
from racing_platform.simulator.world.model import World
from racing_platform.simulator.world.segments import segment_bounds, segment_softmax

TARGETS = {
    "favourite_win_rate": (0.30, 0.36),
    "mean_field_size": (9.0, 11.0),
    "bookmaker_overround": (1.10, 1.25),
    "sp_overround": (1.10, 1.25),
}
SP_BANDS = [1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 51.0, 1000.0]
FORM_FEATURES = [
    "last_finish_frac",
    "avg3_finish_frac",
    "last_margin",
    "career_win_rate",
    "career_place_rate",
    "log_days_since",
    "first_up",
    "debut",
    "class_change",
    "rating_vs_field",
    "weight_vs_field",
]
MIN_TRAINING_RACES = 300
_CLASS_LEVEL = {c.rdc_class: c.level for c in CLASSES}


def season_bounds(season: int) -> tuple[date, date]:
    """Season 2026 = 2025-08-01 .. 2026-07-31 (named for the year it ends)."""
    return date(season - 1, 8, 1), date(season, 7, 31)


def last_complete_season(clock: datetime) -> int:
    today = clock.date()
    return today.year if today >= date(today.year, 8, 1) else today.year - 1


def season_report(
    seed: int,
    season: int | None = None,
    clock: datetime | None = None,
    market_noise: float | None = None,
    flb_beta: float | None = None,
) -> dict:
    """Realism figures for one season of the seeded world (default: the last complete season before clock);
    market_noise / flb_beta pick the world's market (None = defaults, see load_world)."""
    from racing_platform.simulator.world.generator import load_world

    clock = clock or datetime.now(UTC)
    season = season or last_complete_season(clock)
    world = load_world(seed, market_noise, flb_beta)
    start, end = season_bounds(season)
    calendar_start = date.fromisoformat(world.meta.get("calendar_start", "1900-01-01"))
    if end < calendar_start or start > date.fromisoformat(world.meta.get("calendar_end", "2100-01-01")):
        raise ValueError(
            f"season_report: season {season} ({start}..{end}) is outside the world's calendar "
            f"({world.meta.get('calendar_start')}..{world.meta.get('calendar_end')})"
        )
    report = world_report(world, start, end)
    report.update({"seed": seed, "season": season})
    return report


def world_report(world: World, start: date, end: date) -> dict:
    """The season report's figures for any window of any generated world (tests use small worlds)."""
    runners, races = _runners(world)
    in_window = (races["meeting_date"] >= start) & (races["meeting_date"] <= end)
    window_races = races[in_window]
    window = runners[runners["race_code"].isin(set(window_races["race_code"]))]
    if window.empty:
        raise ValueError(f"world_report: no run races between {start} and {end}")
    grouped = window.groupby("race_code", sort=False)
    field_size = grouped.size()
    favourite = (
        window.sort_values(["race_code", "starting_price", "saddlecloth"]).groupby("race_code").head(1)
    )
    winners = window[window["finish"] == 1]

    market = (1.0 / window["starting_price"]) / (1.0 / window["starting_price"]).groupby(
        window["race_code"]
    ).transform("sum")
    form_ll, form_note, coefficients = _form_only_log_loss(runners, races, start, end)
    report = {
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "races": int(len(field_size)),
        "runners": int(len(window)),
        "favourite_win_rate": float((favourite["finish"] == 1).mean()),
        "mean_field_size": float(field_size.mean()),
        "sp_overround": float((1.0 / window["starting_price"]).groupby(window["race_code"]).sum().mean()),
        "bookmaker_overround": _bookmaker_overround(world, window),
        "log_loss": {
            "uniform": float(np.log(field_size).mean()),
            "form_only": form_ll,
            "market": float(-np.log(market[window["finish"] == 1]).mean()),
            "truth": float(-np.log(winners["true_win_prob"]).mean()),
        },
        "form_model": {"note": form_note, "coefficients": coefficients},
        "favourite_longshot": _favourite_longshot(window),
    }
    report["targets"] = _targets(report)
    report["targets_met"] = all(t["met"] for t in report["targets"].values())
    return report


def _runners(world: World) -> tuple[pd.DataFrame, pd.DataFrame]:
    meetings = world.meetings
    betting = meetings[~meetings["is_trial"] & ~meetings["is_jumpout"] & ~meetings["abandoned"]]
    races = world.races.merge(betting[["meet_code", "meeting_date"]], on="meet_code")
    races = races.sort_values(["start_time_utc", "race_code"]).reset_index(drop=True)
    entries = world.entries
    runners = entries[entries["scratched_at"].isna() & entries["race_code"].isin(set(races["race_code"]))]
    runners = runners.merge(
        races[["race_code", "meeting_date", "start_time_utc", "rdc_class"]], on="race_code"
    )
    return runners.sort_values(["start_time_utc", "race_code", "saddlecloth"]).reset_index(drop=True), races


def _bookmaker_overround(world: World, window: pd.DataFrame) -> float | None:
    book = world.odds_for_race
    if not hasattr(book, "market_scores"):
        return None
    prices = closing_prices(
        world.seed,
        window["race_code"].astype(np.int64).to_numpy(),
        window["entry_id"].astype(np.int64).to_numpy(),
        book.market_scores(window["entry_id"]),
        np.ones(len(window), dtype=bool),
    )
    per_book = (1.0 / prices["price"]).groupby([prices["race"], prices["provider_code"]]).sum()
    return float(per_book.mean())


def _favourite_longshot(window: pd.DataFrame) -> list[dict]:
    band = pd.cut(window["starting_price"], SP_BANDS, right=False)
    table = (
        window.assign(implied=1.0 / window["starting_price"], won=window["finish"] == 1)
        .groupby(band, observed=True)
        .agg(runners=("won", "size"), implied=("implied", "mean"), win_rate=("won", "mean"))
    )
    return [
        {
            "sp_band": f"${b.left:g}-${b.right:g}",
            "runners": int(r.runners),
            "sp_implied": round(float(r.implied), 4),
            "win_rate": round(float(r.win_rate), 4),
            "ratio": round(float(r.win_rate / r.implied), 3),
        }
        for b, r in table.iterrows()
    ]


def _targets(report: dict) -> dict:
    out = {}
    for key, (lo, hi) in TARGETS.items():
        value = report[key]
        out[key] = {"range": [lo, hi], "value": value, "met": value is not None and lo <= value <= hi}
    ll = report["log_loss"]
    form = ll["form_only"]
    out["form_beats_uniform"] = {"met": form is not None and form < ll["uniform"] - 0.02}
    out["truth_beats_form"] = {"met": form is not None and ll["truth"] < form}
    out["market_between_form_and_truth"] = {"met": form is not None and ll["truth"] <= ll["market"] <= form}
    fl = report["favourite_longshot"]
    longshots = [row for row in fl if row["sp_implied"] < 0.05]
    out["favourite_longshot_bias"] = {
        "met": bool(longshots) and all(row["ratio"] < 1.0 for row in longshots),
        "detail": "longshots (SP implied < 5%) win less often than their SP implies",
    }
    return out


# ---- the form-only model -----------------------------------------------------------------------------------


def form_features(runners: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time features per runner from the horse's earlier runs only (runners sorted by start time)."""
    frame = runners[
        [
            "race_code",
            "horse_code",
            "meeting_date",
            "finish",
            "margin_lengths",
            "rdc_class",
            "handicap_rating",
            "weight_kg",
            "claim_kg",
        ]
    ].copy()
    field = frame.groupby("race_code")["race_code"].transform("size")
    frame["finish_frac"] = (frame["finish"].astype(float) - 1) / np.maximum(1, field - 1)
    frame["won"] = (frame["finish"] == 1).astype(float)
    frame["placed"] = (frame["finish"] <= 3).astype(float)
    frame["level"] = frame["rdc_class"].map(_CLASS_LEVEL).astype(float)
    frame["day"] = pd.to_datetime(frame["meeting_date"])
    by_horse = frame.groupby("horse_code", sort=False)
    prior_starts = by_horse.cumcount()
    prior_wins = by_horse["won"].cumsum() - frame["won"]
    prior_places = by_horse["placed"].cumsum() - frame["placed"]
    last_finish = by_horse["finish_frac"].shift()
    out = pd.DataFrame(index=frame.index)
    out["debut"] = (prior_starts == 0).astype(float)
    out["last_finish_frac"] = last_finish.fillna(0.5)
    recent = np.column_stack([last_finish] + [by_horse["finish_frac"].shift(k) for k in (2, 3)])
    counted = np.isfinite(recent).sum(axis=1)
    out["avg3_finish_frac"] = np.where(counted > 0, np.nansum(recent, axis=1) / np.maximum(counted, 1), 0.5)
    out["last_margin"] = np.minimum(by_horse["margin_lengths"].shift().fillna(6.0), 15.0) / 5
    out["career_win_rate"] = (prior_wins + 0.1) / (prior_starts + 1)
    out["career_place_rate"] = (prior_places + 0.3) / (prior_starts + 1)
    days = (frame["day"] - by_horse["day"].shift()).dt.days
    out["log_days_since"] = np.log1p(days.fillna(60.0))
    out["first_up"] = ((days > 60) | days.isna()).astype(float) * (1 - out["debut"])
    out["class_change"] = ((frame["level"] - by_horse["level"].shift()).fillna(0.0)) / 10
    race = frame["race_code"]
    rating = frame["handicap_rating"].astype(float)
    out["rating_vs_field"] = (rating - rating.groupby(race).transform("mean")) / 10
    carried = frame["weight_kg"] - frame["claim_kg"]
    out["weight_vs_field"] = carried - carried.groupby(race).transform("mean")
    return out[FORM_FEATURES]


def fit_conditional_logit(
    x: np.ndarray, race: np.ndarray, won: np.ndarray, ridge: float = 1e-3, iterations: int = 30
) -> np.ndarray:
    """Newton-Raphson for softmax-within-race (McFadden's conditional logit); race must be sorted."""
    beta = np.zeros(x.shape[1])
    starts, _ = segment_bounds(race)
    for _ in range(iterations):
        p = segment_softmax(x @ beta, race)
        grad = ((won - p)[:, None] * x).sum(axis=0)
        weighted = p[:, None] * x
        per_race = np.add.reduceat(weighted, starts, axis=0)
        hessian = x.T @ weighted - per_race.T @ per_race + ridge * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, grad - ridge * beta)
        beta += step
        if np.abs(step).max() < 1e-6:
            break
    return beta


def _form_only_log_loss(
    runners: pd.DataFrame, races: pd.DataFrame, start: date, end: date
) -> tuple[float | None, str, dict]:
    features = form_features(runners)
    x = features.to_numpy(dtype=float)
    race = runners["race_code"].to_numpy()
    order = np.argsort(race, kind="stable")
    day = runners["meeting_date"].to_numpy()
    won = (runners["finish"] == 1).to_numpy(dtype=float)
    train = day < start
    test = (day >= start) & (day <= end)
    note = "trained on all run races before the window"
    if runners.loc[train, "race_code"].nunique() < MIN_TRAINING_RACES:
        window_days = sorted(set(day[test]))
        if len(window_days) < 2:
            return None, "not enough races to train a form model", {}
        split = window_days[len(window_days) // 2]
        train, test = test & (day < split), test & (day >= split)
        note = f"too little history before the window: trained on its first half, evaluated from {split}"
    mean, scale = x[train].mean(axis=0), x[train].std(axis=0) + 1e-9
    z = (x - mean) / scale
    tr = order[train[order]]
    beta = fit_conditional_logit(z[tr], race[tr], won[tr])
    te = order[test[order]]
    p = segment_softmax(z[te] @ beta, race[te])
    log_loss = float(-np.log(p[won[te] == 1]).mean())
    return (
        log_loss,
        note,
        {name: round(float(b), 4) for name, b in zip(FORM_FEATURES, beta / scale, strict=True)},
    )


def format_report(report: dict) -> str:
    """A readable summary of season_report(): figures, targets, log losses, the favourite-longshot table."""
    ll = report["log_loss"]
    lines = [
        f"Simulated world, seed {report.get('seed', '?')}, season {report.get('season', '?')} "
        f"({report['window']['start']} .. {report['window']['end']}): {report['races']} races, "
        f"{report['runners']} runners",
        "",
        f"{'figure':<24}{'value':>10}  target",
    ]
    for key, target in report["targets"].items():
        if "range" in target:
            value = target["value"]
            shown = (
                "n/a" if value is None else (f"{value:.3f}" if key != "mean_field_size" else f"{value:.2f}")
            )
            lines.append(
                f"{key:<24}{shown:>10}  {target['range'][0]:g}-{target['range'][1]:g}"
                f"  {'ok' if target['met'] else 'MISSED'}"
            )
    lines += ["", "log loss (mean -ln p(winner))"]
    for key in ("uniform", "form_only", "market", "truth"):
        value = ll[key]
        lines.append(f"  {key:<10}{'n/a' if value is None else f'{value:.4f}':>10}")
    for key in (
        "form_beats_uniform",
        "truth_beats_form",
        "market_between_form_and_truth",
        "favourite_longshot_bias",
    ):
        lines.append(f"  {key:<32}{'ok' if report['targets'][key]['met'] else 'MISSED'}")
    lines += [
        "",
        f"form model: {report['form_model']['note']}",
        "",
        "favourite-longshot (SP band: implied vs won)",
    ]
    for row in report["favourite_longshot"]:
        lines.append(
            f"  {row['sp_band']:<12}{row['runners']:>8}  implied {row['sp_implied']:.3f}"
            f"  won {row['win_rate']:.3f}  ratio {row['ratio']:.2f}"
        )
    lines.append("")
    lines.append("all targets met" if report["targets_met"] else "some targets MISSED")
    return "\n".join(lines)
