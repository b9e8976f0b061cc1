"""generate_world: seed -> World. Calendar, careers, everything racing.com shows, and the kept-aside truth.

The simulation starts BURN_IN_DAYS before the first visible day with a population that already has records,
so horses racing on the first visible day are not all debutants. Only meetings inside [start, end] are kept.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from racing_platform.paths import data_dir
from racing_platform.simulator.world import store
from racing_platform.simulator.world.calendar import Calendar, build_calendar, day_number
from racing_platform.simulator.world.careers import MODEL, CareerSimulation, SimulationResult
from racing_platform.simulator.world.classes import CLASSES, PRIZE_SPLIT, TIER_PRIZE_FACTOR
from racing_platform.simulator.world.market import (
    FLB_BETA,
    FLB_BETA_RANGE,
    MARKET_NOISE_RANGE,
    race_odds,
    starting_prices,
)
from racing_platform.simulator.world.model import (
    ENTRY_COLUMNS,
    HORSE_COLUMNS,
    JOCKEY_COLUMNS,
    MEETING_COLUMNS,
    ODDS_COLUMNS,
    RACE_COLUMNS,
    TRAINER_COLUMNS,
    VENUE_COLUMNS,
    World,
)
from racing_platform.simulator.world.names import (
    bloodline_names,
    horse_names,
    jockey_people,
    race_titles,
    stakes_titles,
    trainer_names,
)
from racing_platform.source.venues import load_venues

GENERATOR_VERSION = 5
CALENDAR_START = date(2023, 8, 1)
CALENDAR_END = date(2027, 7, 31)
BURN_IN_DAYS = 150
MEET_CODE_BASE = 5_190_000
RACE_CODE_BASE = 5_400_000
ENTRY_ID_BASE = 15_000_000
HORSE_CODE_BASE = 5_700_000

_AGE_TEXT = {
    "2YO": "Two-Years-Old",
    "3YO": "Three-Years-Old",
    "3UP": "Three-Years-Old and Upwards",
    "OPEN": "No age restriction",
}
_WEIGHTS_TEXT = {
    "set": "Set Weights",
    "handicap": "Handicap",
    "penalties": "Set Weights plus Penalties",
    "wfa": "Standard Weight for Age",
}


def market_parameters(
    market_noise: float | None = None, flb_beta: float | None = None
) -> tuple[float, float]:
    """(market_noise, flb_beta) with None as the defaults, checked against their realistic ranges."""
    noise = MODEL.market_noise if market_noise is None else float(market_noise)
    beta = FLB_BETA if flb_beta is None else float(flb_beta)
    low, high = MARKET_NOISE_RANGE
    if not low <= noise <= high:
        raise ValueError(
            f"market_noise must be in [{low}, {high}] (default {MODEL.market_noise}), got {market_noise}"
        )
    low, high = FLB_BETA_RANGE
    if not low <= beta <= high:
        raise ValueError(f"flb_beta must be in [{low}, {high}] (default {FLB_BETA}), got {flb_beta}")
    return noise, beta


def generate_world(
    seed: int,
    *,
    start: date | None = None,
    end: date | None = None,
    venues: list[str] | None = None,
    scale: float = 1.0,
    market_noise: float | None = None,
    flb_beta: float | None = None,
) -> World:
    """Build the world for `seed` over [start, end] (default: the full fixed calendar).

    venues: slugs, names or venue codes to restrict the calendar to (default: the registry's simulated
    venues); scale (0, 1]: the share of meetings kept, for small fast worlds. market_noise (sd of the
    market's error on each runner's performance score, [0, 1.5], default 0.3) and flb_beta (the
    favourite-longshot factor of every book, [0.5, 1.0], default 0.78; 1 = no bias) change only the
    market: starting prices and odds_for_race; races, results and truth are the same for every value.
    The result is a pure function of the arguments.
    """
    noise, beta = market_parameters(market_noise, flb_beta)
    started = time.perf_counter()
    start = start or CALENDAR_START
    end = end or CALENDAR_END
    if end < start:
        raise ValueError(f"generate_world: end {end} is before start {start}")
    if not 0 < scale <= 1:
        raise ValueError(f"generate_world: scale must be in (0, 1], got {scale}")
    registry = load_venues()
    chosen = list(registry.simulated_venues)
    if venues:
        chosen = []
        for key in venues:
            venue = registry.lookup(name=key, venue_code=key) or registry.by_slug(key)
            if venue is None:
                raise ValueError(f"generate_world: unknown venue {key!r} (use a slug, name or venue code)")
            chosen.append(venue)
    streams = np.random.SeedSequence([seed, GENERATOR_VERSION]).spawn(4)
    calendar_rng, career_rng, name_rng, detail_rng = (np.random.default_rng(s) for s in streams)
    first_visible = day_number(start)
    calendar = build_calendar(chosen, first_visible - BURN_IN_DAYS, day_number(end), calendar_rng, scale)
    model = MODEL if noise == MODEL.market_noise else dataclasses.replace(MODEL, market_noise=noise)
    result = CareerSimulation(calendar, career_rng, model).run()
    world = _assemble(seed, calendar, result, first_visible, day_number(end), name_rng, detail_rng, beta)
    world.meta = {
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "calendar_start": start.isoformat(),
        "calendar_end": end.isoformat(),
        "scale": scale,
        "venues": [v.slug for v in chosen] if venues else "all",
        "burn_in_days": BURN_IN_DAYS,
        "market_noise": noise,
        "flb_beta": beta,
        "generated_seconds": round(time.perf_counter() - started, 2),
    }
    return world


def local_to_utc(days: np.ndarray, minutes: np.ndarray, timezones: np.ndarray) -> pd.Series:
    """Local wall-clock (day number, minutes after local midnight, may be negative) -> tz-aware UTC."""
    days = np.asarray(days, dtype=np.int64)
    minutes = np.asarray(minutes, dtype=float)
    timezones = np.asarray(timezones)
    out = pd.Series(pd.NaT, index=range(len(days)), dtype="datetime64[ns, UTC]")
    naive = pd.to_datetime(days, unit="D") + pd.to_timedelta(np.nan_to_num(minutes), unit="min")
    valid = ~np.isnan(minutes)
    for tz in np.unique(timezones):
        sel = (timezones == tz) & valid
        if sel.any():
            local = pd.DatetimeIndex(naive[sel]).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
            out.iloc[np.flatnonzero(sel)] = local.tz_convert("UTC")
    return out


def _assemble(
    seed: int,
    calendar: Calendar,
    result: SimulationResult,
    first_day: int,
    last_day: int,
    name_rng: np.random.Generator,
    rng: np.random.Generator,
    flb_beta: float = FLB_BETA,
) -> World:
    venues_all = calendar.venues
    meetings = calendar.meetings
    sim_races = result.races.assign(
        race_number=calendar.races["race_number"].to_numpy(),
        track_rating=calendar.races["track_rating"].to_numpy(),
    )
    visible_meeting = (meetings["day"] >= first_day).to_numpy() & (meetings["day"] <= last_day).to_numpy()
    keep_race = visible_meeting[sim_races["meeting_idx"].to_numpy()] & ~sim_races["dropped"].to_numpy()
    races = sim_races[keep_race].copy()
    races["orig_row"] = np.flatnonzero(keep_race)
    races = races.sort_values(["meeting_idx", "race_number"], kind="stable")
    races["race_number"] = races.groupby("meeting_idx").cumcount() + 1
    meet = meetings[meetings["meeting_idx"].isin(races["meeting_idx"].unique())].copy()

    # --- meetings ---
    meet = meet.sort_values(["day", "first_race_min", "venue_idx", "session"], kind="stable").reset_index(
        drop=True
    )
    meet["meet_code"] = (MEET_CODE_BASE + np.arange(len(meet))).astype(str)
    tz = venues_all["timezone"].to_numpy()[meet["venue_idx"]]
    day = meet["day"].to_numpy()
    n = len(meet)
    meet["listed_at"] = local_to_utc(
        day - meet["listed_days"].to_numpy(), 600 + 15 * rng.integers(0, 9, n), tz
    )
    meet["fields_at"] = local_to_utc(day - meet["fields_days"].to_numpy(), meet["fields_min"].to_numpy(), tz)
    meet["final_fields_at"] = local_to_utc(day - 1, meet["final_fields_min"].to_numpy(), tz)
    trial_meeting = (meet["session"] == "trial").to_numpy()
    meet.loc[trial_meeting, "listed_at"] = local_to_utc(
        day[trial_meeting] - 2, np.full(trial_meeting.sum(), 540), tz[trial_meeting]
    ).array
    day_before = rng.random(n) < 0.4
    abandon_min = np.where(
        day_before,
        -1440 + 960 + 15 * rng.integers(0, 8, n),
        420 + rng.uniform(0, np.maximum(1, meet["first_race_min"].to_numpy() - 480), n),
    )
    meet["abandoned_at"] = local_to_utc(day, np.where(meet["abandoned"], abandon_min, np.nan), tz)
    rating = meet["track_rating"].to_numpy()
    meet["track_condition"] = _condition(rating)
    meet["venue_code"] = venues_all["venue_code"].to_numpy()[meet["venue_idx"]]
    meet["meeting_date"] = pd.to_datetime(day, unit="D").date
    code_of_meeting = dict(zip(meet["meeting_idx"], meet["meet_code"], strict=True))
    meet_pos = dict(zip(meet["meeting_idx"], range(n), strict=True))

    # --- races ---
    races["meet_pos"] = races["meeting_idx"].map(meet_pos)
    races = races.sort_values(["meet_pos", "race_number"], kind="stable").reset_index(drop=True)
    m = len(races)
    races["race_code"] = (RACE_CODE_BASE + np.arange(m)).astype(str)
    races["meet_code"] = races["meeting_idx"].map(code_of_meeting)
    mp = races["meet_pos"].to_numpy()
    start_min = (
        meet["first_race_min"].to_numpy()[mp]
        + (races["race_number"].to_numpy() - 1) * meet["gap_min"].to_numpy()[mp]
    )
    races["start_time_utc"] = local_to_utc(day[mp], start_min, tz[mp]).array
    races["start_min"] = start_min
    _describe_races(races, meet, venues_all, rng)
    _race_times(races, venues_all, meet, rng)

    # --- entries ---
    entries = result.entries
    row_to_race = np.full(len(sim_races), -1)
    row_to_race[races["orig_row"].to_numpy()] = np.arange(m)
    entries = entries[row_to_race[entries["race_row"].to_numpy()] >= 0].copy()
    entries["race_pos"] = row_to_race[entries["race_row"].to_numpy()]
    entries = entries.sort_values(["race_pos", "saddlecloth"], kind="stable").reset_index(drop=True)
    entries["entry_id"] = (ENTRY_ID_BASE + np.arange(len(entries))).astype(str)
    entries["race_code"] = races["race_code"].to_numpy()[entries["race_pos"]]
    _entry_times(entries, races, meet, tz)
    world_tables = _people_and_horses(result, entries, name_rng)

    rp = entries["race_pos"].to_numpy()
    trial = races["is_trial"].to_numpy()[rp]
    abandoned = meet["abandoned"].to_numpy()[races["meet_pos"].to_numpy()][rp]
    scratched = entries["scratched_at"].notna().to_numpy()
    runs = ~scratched & ~abandoned
    entries["finish"] = pd.array(
        np.where(scratched, 109, np.where(abandoned, -1, entries["finish"])), dtype="Int64"
    )
    entries.loc[entries["finish"] == -1, "finish"] = pd.NA
    entries["margin_lengths"] = np.where(runs, entries["margin_lengths"], np.nan)
    entries["true_win_prob"] = np.where(scratched, np.nan, entries["true_win_prob"])
    entry_key = entries["entry_id"].astype(np.int64).to_numpy()
    race_key = races["race_code"].astype(np.int64).to_numpy()[rp]
    entries["starting_price"] = starting_prices(
        seed, race_key, entry_key, entries["market_score"].to_numpy(), runs & ~trial, flb_beta
    )
    entries["emergency_number"] = pd.array(
        np.where(entries["emergency"], entries["emergency_number"], -1), dtype="Int64"
    )
    entries.loc[entries["emergency_number"] == -1, "emergency_number"] = pd.NA
    entries["handicap_rating"] = entries["rating"].astype(int)
    entries["barrier"] = entries["barrier"].astype(int)
    entries["saddlecloth"] = entries["saddlecloth"].astype(int)
    _remove_results_of_unrun_races(races, meet)

    market = entries[["entry_id", "market_score"]].copy()
    venue_table = venues_all[VENUE_COLUMNS].reset_index(drop=True)
    if len(meet):
        used = meet["venue_code"].unique()
        venue_table = venue_table[venue_table["venue_code"].isin(used)].reset_index(drop=True)
    tables = {
        "venues": venue_table,
        "meetings": meet[MEETING_COLUMNS],
        "races": races[RACE_COLUMNS],
        "entries": entries[ENTRY_COLUMNS],
        "market": market,
        **world_tables,
    }
    return world_from_tables(seed, tables, {"flb_beta": flb_beta})


def world_from_tables(seed: int, tables: dict[str, pd.DataFrame], meta: dict) -> World:
    """A World over generated (or cached) tables, with odds_for_race bound to its hidden market scores.

    The odds are a function of the seed the tables were generated from (meta["seed"] when known).
    """
    frames = {name: frame.reset_index(drop=True) for name, frame in tables.items()}
    market = frames.pop("market")
    world = World(seed=int(meta.get("seed", seed)), odds_for_race=_no_odds, meta=dict(meta), **frames)
    world.odds_for_race = OddsBook(world, market)
    return world


def _no_odds(race_code: str) -> pd.DataFrame:
    return pd.DataFrame(columns=ODDS_COLUMNS)


def world_cache_dir(seed: int, market_noise: float | None = None, flb_beta: float | None = None) -> Path:
    """`seed-{seed}-v{version}`, plus `-noise{x}` / `-flb{x}` for each market parameter off its default
    (so the default world keeps its cache directory)."""
    noise, beta = market_parameters(market_noise, flb_beta)
    name = f"seed-{seed}-v{GENERATOR_VERSION}"
    if noise != MODEL.market_noise:
        name += f"-noise{noise:g}"
    if beta != FLB_BETA:
        name += f"-flb{beta:g}"
    return data_dir() / "simulator" / name


_LOADED: dict[tuple[int, float, float], World] = {}
_LOAD_LOCK = threading.Lock()


def load_world(seed: int, market_noise: float | None = None, flb_beta: float | None = None) -> World:
    """The full-calendar world for `seed` (and market parameters, None = defaults): from memory, else the
    parquet cache, else generated and cached.

    Generating the full calendar takes tens of seconds (see docs/simulator.md); reading the cache about a
    second.
    Warm it explicitly with `python -m racing_platform.simulator.world.generator --seed N`.
    """
    noise, beta = market_parameters(market_noise, flb_beta)
    key = (seed, noise, beta)
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        directory = world_cache_dir(seed, noise, beta)
        if store.is_complete(directory):
            tables, meta = store.read_tables(directory)
            tables["races"]["prize_money"] = tables["races"]["prize_money"].map(list)
            world = world_from_tables(seed, tables, {"market_noise": noise, "flb_beta": beta, **meta})
        else:
            world = generate_world(seed, market_noise=noise, flb_beta=beta)
            store.write_tables(directory, world_tables(world), world.meta)
        _LOADED[key] = world
        return world


def world_tables(world: World) -> dict[str, pd.DataFrame]:
    """The World's tables plus its hidden market scores, as saved by the cache."""
    tables = {name: getattr(world, name) for name in store.TABLES if name != "market"}
    book = world.odds_for_race
    if not isinstance(book, OddsBook):
        raise TypeError("world_tables: this World was not built by the generator (no market scores to save)")
    tables["market"] = pd.DataFrame(
        {"entry_id": list(book.market_score), "market_score": list(book.market_score.values())}
    )
    return tables


class OddsBook:
    """World.odds_for_race: recomputes a race's price fluctuations from the seed on demand (see market.py)."""

    def __init__(self, world: World, market: pd.DataFrame):
        self.world = world
        self.market_score = dict(zip(market["entry_id"], market["market_score"], strict=True))
        self._by_race: dict[str, np.ndarray] | None = None

    def market_scores(self, entry_ids: pd.Series | np.ndarray) -> np.ndarray:
        # A race has a dozen entries: dict lookups, not Series.map (which rebuilds a 900k-row index per call).
        return np.array([self.market_score[e] for e in entry_ids], dtype=float)

    def __call__(self, race_code: str) -> pd.DataFrame:
        if self._by_race is None:
            self._prepare()
        if race_code not in self._race_pos:
            raise KeyError(f"odds_for_race: unknown race_code {race_code!r}")
        race = self._race_pos[race_code]
        meeting = self._meet_pos[self._race_meet[race]]
        if self._trial_or_jumpout[meeting]:
            return pd.DataFrame(columns=ODDS_COLUMNS)
        rows = self._by_race.get(race_code, np.empty(0, dtype=np.int64))
        rows = rows[~(self._emergency[rows] & self._scratched[rows])]  # never got a start
        entry_ids = self._entry_id[rows]
        opens_at = self._fields_at[meeting] + pd.Timedelta(minutes=30 + int(race_code) % 150)
        return race_odds(
            self.world.seed,
            int(race_code),
            entry_ids.astype(np.int64),
            entry_ids,
            self.market_scores(entry_ids),
            self._scratched_at[rows],
            opens_at,
            self._start_time[race],
            self._abandoned_at[meeting] if self._abandoned[meeting] else None,
            float(self.world.meta.get("flb_beta", FLB_BETA)),
        )

    def _prepare(self) -> None:
        """The columns a race's odds read, as arrays: a race then costs no pandas row selection."""
        world = self.world
        self._by_race = world.entries.groupby("race_code").indices
        self._race_pos = dict(zip(world.races["race_code"], range(len(world.races)), strict=True))
        self._meet_pos = dict(zip(world.meetings["meet_code"], range(len(world.meetings)), strict=True))
        self._race_meet = world.races["meet_code"].to_numpy()
        self._start_time = world.races["start_time_utc"].array
        meetings = world.meetings
        self._trial_or_jumpout = (meetings["is_trial"] | meetings["is_jumpout"]).to_numpy(dtype=bool)
        self._abandoned = meetings["abandoned"].to_numpy(dtype=bool)
        self._abandoned_at, self._fields_at = meetings["abandoned_at"].array, meetings["fields_at"].array
        self._entry_id = world.entries["entry_id"].to_numpy()
        self._emergency = world.entries["emergency"].to_numpy(dtype=bool)
        self._scratched_at = world.entries["scratched_at"].array
        self._scratched = world.entries["scratched_at"].notna().to_numpy()


def _condition(rating: np.ndarray) -> np.ndarray:
    return np.select(
        [rating == 0, rating <= 2, rating <= 4, rating <= 7], ["Synthetic", "Firm", "Good", "Soft"], "Heavy"
    )


def _describe_races(
    races: pd.DataFrame, meet: pd.DataFrame, venues: pd.DataFrame, rng: np.random.Generator
) -> None:
    m = len(races)
    cls = [CLASSES[max(c, 0)] for c in races["class_idx"]]  # trials (class -1) are described separately
    kind = np.array([c.kind for c in cls])
    rdc = np.array([c.rdc_class for c in cls], dtype=object)
    short = np.array([c.name_form for c in cls], dtype=object)
    trial = races["is_trial"].to_numpy()
    mp = races["meet_pos"].to_numpy()
    jumpout = trial & meet["is_jumpout"].to_numpy()[mp]
    tier = meet["tier"].to_numpy()[mp]
    age_rule = races["age_rule"].to_numpy()
    sex_rule = races["sex_rule"].to_numpy()
    titles = race_titles(rng, m)
    stakes = stakes_titles(rng, m)
    maiden_form = np.where(age_rule == "2YO", "2Y MDN", np.where(age_rule == "3YO", "3Y MDN", "MDN"))
    fm = np.where(sex_rule == "FM", "-F&M", "")
    name_form = np.where(kind == "maiden", np.char.add(maiden_form.astype(str), fm), short.astype(str))
    black = kind == "black"
    stakes_short = np.char.upper(np.array([s.split(" ")[0] for s in stakes]))
    name_form = np.where(black, stakes_short, name_form)
    name = np.select(
        [kind == "maiden", kind == "class", kind == "bm"],
        [
            np.char.add(titles, " Maiden Plate"),
            np.char.add(titles, " Handicap"),
            np.char.add(titles, np.where(rng.random(m) < 0.7, " Handicap", " Plate")),
        ],
        stakes,
    )
    number = races["race_number"].astype(str).to_numpy()
    name = np.where(trial, np.char.add(np.where(jumpout, "Jump Out ", "Barrier Trial "), number), name)
    races["name"] = name
    races["name_form"] = np.where(trial, np.where(jumpout, "JUMPOUT", "TRIAL"), name_form)
    races["class_name"] = np.where(black & ~trial, np.array([c.name_form for c in cls]), races["name_form"])
    races["rdc_class"] = np.where(trial, np.where(jumpout, "Jump Out", "Trial"), rdc)
    races["group"] = np.where(black & ~trial, rdc, "ungrouped")
    black &= ~trial

    weights = np.array([c.weights for c in cls])
    class_text = np.array([c.rdc_class.replace("BM ", "Benchmark ") for c in cls])
    claim = np.isin(kind, ["maiden", "class", "bm"])
    limit = venues["field_limit"].to_numpy()[meet["venue_idx"].to_numpy()[mp]]
    track_type = np.where(races["track_rating"].to_numpy() == 0, "Synthetic", "Turf")
    conditions = []
    for i in range(m):
        if trial[i]:
            conditions.append(
                f"{'Jump Out' if jumpout[i] else 'Barrier Trial'}. No betting. Track name: Main. "
                f"Track type: {track_type[i]}."
            )
            continue
        conditions.append(
            f"{_WEIGHTS_TEXT[weights[i]]}. {class_text[i]}. {_AGE_TEXT[age_rule[i]]}, "
            f"{'Fillies and Mares' if sex_rule[i] == 'FM' else 'No sex restriction'}. "
            f"{'No class restriction. ' if kind[i] in ('maiden', 'black') else ''}"
            f"Apprentices {'can' if claim[i] else 'cannot'} claim. "
            f"Track name: Main. Track type: {track_type[i]}. "
            f"Field limit: {limit[i]}."
        )
    races["condition"] = conditions
    base = np.array([c.prize_metro for c in cls]) * np.array([TIER_PRIZE_FACTOR[t] for t in tier])
    group_one = rdc == "Group 1"
    base = np.where(group_one, base * rng.choice([0.5, 1.0, 1.0, 1.5, 3.0], m), base)
    saturday = meet["kind"].to_numpy()[mp] == "metro_saturday"
    total = np.where(trial, 0.0, np.round(base * np.where(saturday, 1.25, 1.0) / 500) * 500)
    races["prize_money_total"] = total
    races["prize_money"] = [list(np.round(t * PRIZE_SPLIT, 2)) if t > 0 else [] for t in total]
    condition = _condition(races["track_rating"].to_numpy())
    races["track_condition"] = condition


def _race_times(
    races: pd.DataFrame, venues: pd.DataFrame, meet: pd.DataFrame, rng: np.random.Generator
) -> None:
    """Winning time from distance and going (1200 m ~ 69-72 s Good), class and track; sectionals sum to it."""
    m = len(races)
    d = races["distance_m"].to_numpy().astype(float)
    g = races["track_rating"].to_numpy().astype(float)
    g = np.where(g == 0, 4.5, g)
    level = np.array([CLASSES[c].level if c >= 0 else 60.0 for c in races["class_idx"]])
    speed = venues["speed_factor"].to_numpy()[meet["venue_idx"].to_numpy()[races["meet_pos"].to_numpy()]]
    seconds = (
        57.3
        * (d / 1000) ** 1.08
        * (1 + 0.0035 * (g - 3.5) + 0.01 * np.maximum(0, g - 5))
        * (1 - 0.0005 * (level - 70))
        * speed
        * (1 + rng.normal(0, 0.006, m))
        * np.where(races["is_trial"].to_numpy(), 1.015, 1.0)
    )
    total = np.round(seconds * 100).astype(np.int64)
    per400 = total * 400 / d
    mid = np.round(per400 * rng.normal(0.955, 0.015, m)).astype(np.int64)
    last = np.round(per400 * rng.normal(0.985, 0.025, m)).astype(np.int64)
    races["winning_time_cs"] = total
    races["sectional_800_400_cs"] = mid
    races["sectional_400_finish_cs"] = last
    races["sectional_800_cs"] = total - mid - last


def _entry_times(entries: pd.DataFrame, races: pd.DataFrame, meet: pd.DataFrame, tz: np.ndarray) -> None:
    """Scratching times: early ones at a local clock time, late ones a lead time before the jump."""
    rp = entries["race_pos"].to_numpy()
    mp = races["meet_pos"].to_numpy()[rp]
    scratched = entries["scratched"].to_numpy()
    late = entries["late_scratch"].to_numpy() & scratched
    early_at = local_to_utc(
        meet["day"].to_numpy()[mp], np.where(scratched & ~late, entries["scratch_min"], np.nan), tz[mp]
    )
    late_at = races["start_time_utc"].iloc[rp].reset_index(drop=True) - pd.to_timedelta(
        np.where(late, entries["scratch_lead_min"], np.nan), unit="min"
    )
    scratched_at = early_at.where(~late, late_at).dt.round("s")
    abandoned_at = meet["abandoned_at"].iloc[mp].reset_index(drop=True)
    scratched_at = scratched_at.mask((scratched_at >= abandoned_at).to_numpy())
    entries["scratched_at"] = scratched_at.array


def _remove_results_of_unrun_races(races: pd.DataFrame, meet: pd.DataFrame) -> None:
    abandoned = meet["abandoned"].to_numpy()[races["meet_pos"].to_numpy()]
    for col in ("winning_time_cs", "sectional_800_cs", "sectional_800_400_cs", "sectional_400_finish_cs"):
        races[col] = pd.array(np.where(abandoned, -1, races[col]), dtype="Int64")
        races.loc[abandoned, col] = pd.NA


def _people_and_horses(
    result: SimulationResult, entries: pd.DataFrame, rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    h = result.horses
    horse_idx = np.unique(entries["horse"].to_numpy())
    n = len(horse_idx)
    names = horse_names(rng, n)
    codes = (HORSE_CODE_BASE + np.arange(n)).astype(str)
    code_of_horse = np.full(len(h.ability), "", dtype=object)
    code_of_horse[horse_idx] = codes
    sires = np.array(bloodline_names(rng, max(40, n // 60), set(names)))
    dams = np.array(bloodline_names(rng, max(100, n // 2), set(names) | set(sires)))
    sex_name = np.array(["Gelding", "Mare", "Horse"])[h.sex[horse_idx]]
    horses = pd.DataFrame(
        {
            "horse_code": codes,
            "horse_name": names,
            "sex": sex_name,
            "foal_date": pd.to_datetime(h.foal_day[horse_idx], unit="D").date,
            "colour": rng.choice(
                ["Bay", "Brown", "Chestnut", "Bay or Brown", "Grey", "Black"],
                n,
                p=[0.45, 0.18, 0.2, 0.1, 0.06, 0.01],
            ),
            "sire": rng.choice(sires, n, p=_zipf(len(sires))),
            "dam": rng.choice(dams, n),
            "country": rng.choice(
                ["AUS", "NZ", "IRE", "GB", "USA", "JPN"], n, p=[0.84, 0.12, 0.015, 0.01, 0.01, 0.005]
            ),
            "ability": h.ability[horse_idx],
            "distance_pref_m": np.round(h.distance_pref[horse_idx], 1),
            "going_pref": h.going_pref[horse_idx],
        }
    )[HORSE_COLUMNS]
    entries["horse_code"] = code_of_horse[entries["horse"].to_numpy()]

    j = result.jockeys
    jockey_idx = np.unique(entries["jockey"].to_numpy())
    j_names, j_slugs = jockey_people(rng, len(jockey_idx), j.apprentice[jockey_idx])
    j_codes = _numeric_codes(rng, len(jockey_idx), [(700_000, 899_999), (20_700_000, 20_999_999)])
    jockeys = pd.DataFrame(
        {
            "jockey_code": j_codes,
            "jockey_name": j_names,
            "url_slug": j_slugs,
            "is_apprentice": j.apprentice[jockey_idx],
            "skill": j.skill[jockey_idx],
        }
    )[JOCKEY_COLUMNS]
    jockey_code = np.full(len(j.skill), "", dtype=object)
    jockey_code[jockey_idx] = j_codes
    entries["jockey_code"] = jockey_code[entries["jockey"].to_numpy()]

    t = result.trainers
    trainer_idx = np.unique(entries["trainer"].to_numpy())
    t_codes = _numeric_codes(
        rng, len(trainer_idx), [(10_000, 99_999), (500_000, 899_999), (20_600_000, 20_999_999)]
    )
    trainers = pd.DataFrame(
        {
            "trainer_code": t_codes,
            "trainer_name": trainer_names(rng, len(trainer_idx)),
            "skill": t.skill[trainer_idx],
        }
    )[TRAINER_COLUMNS]
    trainer_code = np.full(len(t.skill), "", dtype=object)
    trainer_code[trainer_idx] = t_codes
    entries["trainer_code"] = trainer_code[entries["trainer"].to_numpy()]
    return {"horses": horses, "jockeys": jockeys, "trainers": trainers}


def _zipf(n: int) -> np.ndarray:
    """A few sires cover many foals, as in a real stud book."""
    w = 1.0 / np.arange(1, n + 1) ** 0.9
    return w / w.sum()


def _numeric_codes(rng: np.random.Generator, n: int, ranges: list[tuple[int, int]]) -> np.ndarray:
    which = rng.integers(0, len(ranges), n * 2)
    raw = np.array([rng.integers(ranges[w][0], ranges[w][1]) for w in which])
    unique = pd.unique(raw)[:n]
    if len(unique) < n:
        raise ValueError(f"code generation: only {len(unique)} unique codes for {n} people")
    return unique.astype(str)


def main(argv: list[str] | None = None) -> None:
    """Warm the on-disk cache: python -m racing_platform.simulator.world.generator --seed 0 [--seed 1 ...]."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seed", type=int, action="append", default=None)
    parser.add_argument("--market-noise", type=float, default=None, help="default 0.3, in [0, 1.5]")
    parser.add_argument("--flb-beta", type=float, default=None, help="default 0.78, in [0.5, 1.0]")
    args = parser.parse_args(argv)
    for seed in args.seed or [0]:
        started = time.perf_counter()
        world = load_world(seed, args.market_noise, args.flb_beta)
        print(
            f"seed {seed}: {len(world.races)} races, {len(world.entries)} entries, "
            f"ready in {time.perf_counter() - started:.1f}s at "
            f"{world_cache_dir(seed, args.market_noise, args.flb_beta)}"
        )


if __name__ == "__main__":
    main()
