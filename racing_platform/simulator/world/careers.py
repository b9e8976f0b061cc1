"""Day-by-day careers: who races where, weights, jockeys, the race itself, and what it does to a horse.

Each day, horses that are fit and due choose among the day's races in their region (class eligibility,
distance, tier), races take entries up to a target size (full races list emergencies), under-filled races
are relaxed or re-programmed, and then every race of the day is run at once (vectorised). Results feed
back: wins lift a horse's rating and its class, losses lower it, campaigns end in spells, careers end in
retirement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from racing_platform.simulator.world.calendar import Calendar
from racing_platform.simulator.world.classes import CLASSES, class_table
from racing_platform.simulator.world.segments import (
    group_max,
    group_sum,
    rank_by,
    rank_within,
    segment_cumsum,
    segment_softmax,
    segment_sum,
)

REGIONS = ("VIC", "NSW", "QLD", "SA", "WA", "TAS", "NT")
STATE_REGION = {"VIC": 0, "NSW": 1, "ACT": 1, "QLD": 2, "SA": 3, "WA": 4, "TAS": 5, "NT": 6}
TIER_CODE = {"metro": 0, "provincial": 1, "country": 2}
FEMALE = 1
NEVER = -(10**6)
AGE_RULES = ("OPEN", "2YO", "3YO", "3UP")
SEX_RULES = ("ANY", "FM")
AGE_OK = np.array(
    [  # [age rule, racing age capped at 4] -> eligible
        [False, False, True, True, True],
        [False, False, True, False, False],
        [False, False, False, True, False],
        [False, False, False, True, True],
    ]
)


@dataclass(frozen=True)
class RaceModel:
    """Coefficients of the performance score (logit units: win probability = softmax of the score)."""

    ability_scale: float = 1.15
    distance_coef: float = 2.0  # penalty per squared octave away from the preferred distance
    going_coef: float = 1.0  # going_pref x (rating - 4) / 6
    barrier_coef: float = 1.0  # venue bias x outside-draw fraction x (1200 / distance) ** 0.5
    weight_coef: float = 0.06  # per kg carried above the race mean
    debut: float = -0.15
    first_up: float = -0.25
    second_up: float = -0.08
    lengths_per_logit: float = 1.5
    market_noise: float = 0.3  # sd of the market's error on the score, before the FLB transform
    # (a world parameter: generate_world(market_noise=...) replaces it; see world/market.py)


MODEL = RaceModel()
STARTS_PER_FOAL = 17.0  # foals per year = a region's runner demand per year / this
RATING_CEILING = 128
JOCKEY_MOVES = 0.04  # share of riders changing state each season
MAIDEN_RETIREMENT = 0.25  # per run, once a maiden has had six starts
STAY_HOME = 0.4  # weight of "wait for another day" against a race that suits
FIELD_TARGET_MEAN = 10.8  # acceptances a race seeks: N(mean, sd) + 1 for a scratching, within 7..limit
FIELD_TARGET_SD = 2.6


def fast_gumbel(rng: np.random.Generator, shape) -> np.ndarray:
    """Gumbel noise for choices (not for race outcomes): single-precision draws are several times faster."""
    with np.errstate(divide="ignore"):
        return -np.log(-np.log(rng.random(shape, dtype=np.float32)))


def age_effect(age_years: np.ndarray) -> np.ndarray:
    """Horses improve to about four, hold, and decline after six and a half."""
    return -0.45 * np.maximum(0.0, 4.0 - age_years) - 0.18 * np.maximum(0.0, age_years - 6.5)


@dataclass
class Horses:
    """Per-horse arrays (index = horse): fixed traits and latent truth, then the career state days update."""

    region: np.ndarray
    trainer: np.ndarray
    sex: np.ndarray
    foal_day: np.ndarray
    foal_season: np.ndarray
    debut_day: np.ndarray
    retire_day: np.ndarray
    ability: np.ndarray
    distance_pref: np.ndarray
    going_pref: np.ndarray
    freshness: np.ndarray
    perceived_ability: np.ndarray
    perceived_distance: np.ndarray
    starts: np.ndarray
    wins: np.ndarray
    rating: np.ndarray
    last_run_day: np.ndarray
    campaign_runs: np.ndarray
    campaign_target: np.ndarray
    ready_day: np.ndarray
    last_trial_day: np.ndarray
    retired: np.ndarray


@dataclass
class People:
    """Jockeys or trainers as per-person arrays."""

    region: np.ndarray
    skill: np.ndarray
    size: np.ndarray = field(default_factory=lambda: np.zeros(0))  # trainers: stable size
    apprentice: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # jockeys
    claim: np.ndarray = field(default_factory=lambda: np.zeros(0))  # jockeys: apprentice claim kg


@dataclass
class SimulationResult:
    races: pd.DataFrame  # planned races with their final class and conditions, and whether dropped
    entries: pd.DataFrame  # one row per accepted entry (incl. emergencies and trials)
    horses: Horses
    jockeys: People
    trainers: People


def _season_of(days: np.ndarray) -> np.ndarray:
    dates = pd.to_datetime(np.asarray(days), unit="D")
    return (dates.year - (dates.month < 8)).to_numpy()


def create_people(
    rng: np.random.Generator, horses_per_region: np.ndarray, meetings_peak: np.ndarray
) -> tuple[People, People]:
    n_trainers = np.maximum(4, np.round(horses_per_region / 22)).astype(int)
    region = np.repeat(np.arange(len(REGIONS)), n_trainers)
    size = rng.lognormal(0.0, 0.9, len(region))
    skill = rng.normal(0.0, 0.14, len(region)) + 0.04 * np.log(size)
    trainers = People(region=region, skill=skill, size=size)

    n_jockeys = np.where(meetings_peak > 0, 22 * meetings_peak + 10, 0).astype(int)
    j_region = np.repeat(np.arange(len(REGIONS)), n_jockeys)
    apprentice = rng.random(len(j_region)) < 0.22
    j_skill = np.where(
        apprentice, rng.normal(-0.08, 0.10, len(j_region)), rng.normal(0.04, 0.12, len(j_region))
    )
    claim = np.where(apprentice, rng.choice([3.0, 2.0, 1.5], len(j_region), p=[0.4, 0.35, 0.25]), 0.0)
    jockeys = People(region=j_region, skill=j_skill, apprentice=apprentice, claim=claim)
    return trainers, jockeys


def _assign_trainers(
    rng: np.random.Generator, region: np.ndarray, ability: np.ndarray, trainers: People
) -> np.ndarray:
    """Better horses tend to go to better stables: noisy ability rank -> skill-sorted cumulative size."""
    out = np.zeros(len(region), dtype=np.int64)
    for r in range(len(REGIONS)):
        horses = np.flatnonzero(region == r)
        pool = np.flatnonzero(trainers.region == r)
        if len(horses) == 0:
            continue
        pool = pool[np.argsort(trainers.skill[pool])]
        cum = np.cumsum(trainers.size[pool])
        cum /= cum[-1]
        noisy = ability[horses] + rng.normal(0, 1.5, len(horses))
        position = (np.argsort(np.argsort(noisy)) + 0.5) / len(horses)
        out[horses] = pool[np.minimum(np.searchsorted(cum, position), len(pool) - 1)]
    return out


def create_horses(
    rng: np.random.Generator, births_per_year: np.ndarray, first_day: int, last_day: int, trainers: People
) -> Horses:
    first_season = int(_season_of(np.array([first_day]))[0])
    last_season = int(_season_of(np.array([last_day]))[0])
    chunks = []
    for season in range(first_season - 9, last_season - 1):
        counts = rng.poisson(births_per_year)
        region = np.repeat(np.arange(len(REGIONS)), counts)
        n = len(region)
        foal_day = (np.datetime64(f"{season}-08-01") - np.datetime64("1970-01-01")).astype(
            int
        ) + rng.integers(0, 110, n)
        debut_age = np.clip(2.0 + rng.gamma(2.0, 0.35, n), 2.05, 5.5)
        debut_day = foal_day + (debut_age * 365.25).astype(int)
        career = 0.4 + rng.gamma(2.0, 1.25, n)
        retire_day = np.minimum(debut_day + (career * 365.25).astype(int), foal_day + int(10 * 365.25))
        chunks.append(
            pd.DataFrame(
                {
                    "region": region,
                    "foal_day": foal_day,
                    "foal_season": season,
                    "debut_day": debut_day,
                    "retire_day": retire_day,
                }
            )
        )
    frame = pd.concat(chunks, ignore_index=True)
    frame = frame[(frame["retire_day"] > first_day) & (frame["debut_day"] <= last_day)].reset_index(drop=True)
    n = len(frame)
    ability = rng.normal(0.0, 1.0, n)
    distance_pref = np.clip(1400 * 2 ** rng.normal(0.0, 0.35, n), 1000, 3200)
    debut_day = frame["debut_day"].to_numpy()
    years_raced = np.maximum(0.0, (first_day - debut_day) / 365.25)
    starts = rng.poisson(7.0 * years_raced)
    win_p = 1 / (1 + np.exp(-(-2.3 + 0.9 * ability)))
    wins = rng.binomial(starts, win_p)
    rating = np.where(wins > 0, np.clip(50 + 5 * wins + 5 * ability + rng.normal(0, 4, n), 40, 120), 0.0)
    region = frame["region"].to_numpy()
    return Horses(
        region=region,
        trainer=_assign_trainers(rng, region, ability, trainers),
        sex=rng.choice(3, n, p=[0.47, 0.42, 0.11]),
        foal_day=frame["foal_day"].to_numpy(),
        foal_season=frame["foal_season"].to_numpy(),
        debut_day=debut_day,
        retire_day=frame["retire_day"].to_numpy(),
        ability=ability,
        distance_pref=distance_pref,
        going_pref=rng.normal(0.0, 0.6, n),
        freshness=rng.normal(0.0, 0.2, n),
        perceived_ability=ability + rng.normal(0, 0.6, n),
        perceived_distance=distance_pref * 2 ** rng.normal(0, 0.15, n),
        starts=starts,
        wins=wins,
        rating=np.round(rating),
        last_run_day=np.where(starts > 0, first_day - rng.integers(14, 120, n), NEVER),
        campaign_runs=np.zeros(n, dtype=np.int64),
        campaign_target=2 + rng.poisson(3, n),
        ready_day=np.maximum(debut_day, first_day + rng.integers(0, 100, n)),
        last_trial_day=np.full(n, NEVER),
        retired=np.zeros(n, dtype=bool),
    )


class CareerSimulation:
    """Runs the calendar day by day; see the module docstring."""

    def __init__(self, calendar: Calendar, rng: np.random.Generator, model: RaceModel = MODEL):
        self.rng = rng
        self.model = model
        meetings = calendar.meetings
        venues = calendar.venues
        cls = class_table()
        self.cls_kind = cls["kind"].to_numpy()
        self.cls_min = cls["min_rating"].to_numpy().astype(float)
        self.cls_max = cls["max_rating"].to_numpy().astype(float)
        self.cls_max_wins = cls["max_wins"].to_numpy()
        self.cls_level = cls["level"].to_numpy().astype(float)
        self.cls_weights = cls["weights"].to_numpy()
        self.cls_bench = cls["benchmark"].to_numpy().astype(float)
        self._plain_classes = np.array([i for i, c in enumerate(CLASSES) if c.kind != "black"])
        races = calendar.races
        m_idx = races["meeting_idx"].to_numpy()
        self.r_meeting = m_idx
        self.r_class = races["class_idx"].to_numpy().copy()
        self.r_age = (
            races["age_rule"].map({r: i for i, r in enumerate(AGE_RULES)}).to_numpy().astype(np.int64)
        )
        self.r_sex = (
            races["sex_rule"].map({r: i for i, r in enumerate(SEX_RULES)}).to_numpy().astype(np.int64)
        )
        self.r_distance = races["distance_m"].to_numpy()
        self.r_day = meetings["day"].to_numpy()[m_idx]
        self.r_venue = meetings["venue_idx"].to_numpy()[m_idx]
        self.r_region = meetings["state"].map(STATE_REGION).to_numpy()[m_idx]
        self.r_tier = meetings["tier"].map(TIER_CODE).to_numpy()[m_idx]
        self.r_trial = (meetings["kind"] == "trial").to_numpy()[m_idx]
        self.r_abandoned = meetings["abandoned"].to_numpy()[m_idx]
        self.r_limit = np.where(self.r_trial, 8, venues["field_limit"].to_numpy()[self.r_venue])
        self.r_early_lo = (
            -meetings["fields_days"].to_numpy() * 1440 + meetings["fields_min"].to_numpy() + 60
        )[m_idx]
        rating = races["track_rating"].to_numpy()
        self.r_going = np.where(rating == 0, 4, rating)
        self.r_dropped = np.zeros(len(races), dtype=bool)
        wanted = np.round(rng.normal(FIELD_TARGET_MEAN, FIELD_TARGET_SD, len(races))).astype(np.int64) + 1
        self.r_target = np.clip(wanted, 7, self.r_limit)  # acceptances sought: final field + a scratching
        self.m_metro = (meetings["tier"] == "metro").to_numpy()
        self.bias = venues["barrier_bias"].to_numpy()

        self.first_day = int(self.r_day.min()) if len(races) else 0
        self.last_day = int(self.r_day.max()) if len(races) else -1
        days = np.arange(self.first_day, self.last_day + 1)
        self.season_by_day = dict(zip(days.tolist(), _season_of(days).tolist(), strict=True))
        calendar_days = pd.to_datetime(days, unit="D")
        self.season_start = np.asarray((calendar_days.month == 8) & (calendar_days.day == 1))
        counts = np.bincount(self.r_region[~self.r_trial], minlength=len(REGIONS))
        runners_per_year = counts * 11.0 * 365.25 / max(1, len(days))
        births = runners_per_year / STARTS_PER_FOAL
        region_day = pd.DataFrame({"region": meetings["state"].map(STATE_REGION), "day": meetings["day"]})
        meetings_peak = (
            region_day.groupby(["region", "day"])
            .size()
            .groupby("region")
            .max()
            .reindex(range(len(REGIONS)), fill_value=0)
            .to_numpy()
        )
        self.trainers, self.jockeys = create_people(rng, births * 3.2, meetings_peak)
        self.horses = create_horses(rng, births, self.first_day, self.last_day, self.trainers)
        self._records: list[dict[str, np.ndarray]] = []

    # ---- who may run, who wants to -----------------------------------------------------------------------

    def _eligible(self, horses: np.ndarray, rows: np.ndarray, day: int, slack: float = 0.0) -> np.ndarray:
        return self._eligible_for(horses, self.r_class[rows], self.r_age[rows], self.r_sex[rows], day, slack)

    def _eligible_for(
        self,
        horses: np.ndarray,
        c: np.ndarray,
        age_rule: np.ndarray,
        sex_rule: np.ndarray,
        day: int,
        slack: float = 0.0,
    ) -> np.ndarray:
        """(horses x races) eligibility by wins, rating band, age and sex conditions."""
        h = self.horses
        wins = h.wins[horses][:, None]
        rating = h.rating[horses][:, None]
        maiden = (self.cls_kind[c] == "maiden")[None, :]
        wins_ok = np.where(
            maiden, wins == 0, (wins >= 1) & (wins <= self.cls_max_wins[c][None, :] + int(slack // 6))
        )
        rating_ok = maiden | (
            (rating >= self.cls_min[c][None, :] - slack) & (rating <= self.cls_max[c][None, :] + slack)
        )
        age = np.minimum(self.season_by_day[day] - h.foal_season[horses], 4)
        age_ok = AGE_OK[age_rule[None, :], age[:, None]]
        sex_ok = (sex_rule[None, :] == 0) | (h.sex[horses][:, None] == FEMALE)
        return wins_ok & rating_ok & age_ok & sex_ok

    def _preference(self, horses: np.ndarray, rows: np.ndarray) -> np.ndarray:
        h = self.horses
        c = self.r_class[rows]
        kind = self.cls_kind[c][None, :]
        rating = h.rating[horses][:, None]
        bm = self.cls_bench[c][None, :]
        pref = np.where(kind == "bm", -0.5 * ((bm - rating - 1) / 4) ** 2, 0.0)
        pref = pref + np.where(
            kind == "class", -0.6 * (self.cls_max_wins[c][None, :] - h.wins[horses][:, None]), 0.0
        )
        pref = pref + np.where(kind == "black", np.minimum(2.0, (rating - self.cls_min[c][None, :]) / 6), 0.0)
        octaves = np.log2(self.r_distance[rows][None, :] / h.perceived_distance[horses][:, None])
        tier_sign = 1 - self.r_tier[rows][None, :]  # metro +1, provincial 0, country -1
        return pref - octaves**2 / (2 * 0.3**2) + 0.8 * tier_sign * h.perceived_ability[horses][:, None]

    def _select_region(
        self, day: int, region: int, rows: np.ndarray, ready: np.ndarray, due_soon: np.ndarray
    ) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Fields for one region's races today: (race row, main field horses, emergency horses).

        Horses choose a race (or to wait) with a random utility fixed for the day; a race takes the
        highest-priority choosers up to its target size and the rest take their next choice among races with
        room, for a few rounds. Short races are then relaxed (wider rating band, horses due back within days),
        re-programmed to another class, or dropped.
        """
        rng = self.rng
        h = self.horses
        pool = ready[h.region[ready] == region]
        n_rows = len(rows)
        target = self.r_target[rows]
        eligible = self._eligible(pool, rows, day)
        can_run = eligible.any(axis=1)  # horses with no race today only matter if a race must be relaxed
        pool = np.concatenate([pool[can_run], pool[~can_run]])
        eligible = eligible[can_run]
        field_of = np.full(len(pool), -1)
        if len(eligible):
            choosers = len(eligible)
            logw = np.where(eligible, self._preference(pool[:choosers], rows), -np.inf)
            waiting = day - h.ready_day[pool[:choosers]]
            stay_home = np.log(STAY_HOME) - 0.12 * waiting
            priority = h.rating[pool[:choosers]] + 0.3 * waiting + 4 * fast_gumbel(rng, choosers)
            utility = np.column_stack([logw, stay_home]) + fast_gumbel(rng, (choosers, n_rows + 1))
            home = np.zeros(choosers, dtype=bool)
            for _ in range(3):
                room = target - np.bincount(field_of[field_of >= 0], minlength=n_rows)
                open_ = np.flatnonzero(~home & (field_of[:choosers] < 0))
                if len(open_) == 0 or not (room > 0).any():
                    break
                keys = utility[open_]
                keys[:, :n_rows][:, room <= 0] = -np.inf
                choice = np.argmax(keys, axis=1)
                home[open_[choice == n_rows]] = True
                bidders = open_[choice < n_rows]
                picked = choice[choice < n_rows]
                rank = rank_by(picked, -priority[bidders])
                accepted = rank < room[picked]
                field_of[bidders[accepted]] = picked[accepted]
        by_race = np.argsort(field_of, kind="stable")
        cuts = np.searchsorted(field_of[by_race], np.arange(n_rows + 1))
        main = [by_race[cuts[j] : cuts[j + 1]] for j in range(n_rows)]
        taken = field_of >= 0

        short = [j for j in range(n_rows) if len(main[j]) < 7]
        if short:
            soon = due_soon[h.region[due_soon] == region]
            pool = np.concatenate([pool, soon])
            taken = np.concatenate([taken, np.zeros(len(soon), dtype=bool)])
            free = np.flatnonzero(~taken)
            relaxed = self._eligible(pool[free], rows[short], day, slack=8.0)
            plain: np.ndarray | None = None
            for k, j in enumerate(short):
                ok = free[relaxed[:, k] & ~taken[free]]
                extra = rng.permutation(ok)[: target[j] - len(main[j])]
                taken[extra] = True
                main[j] = np.concatenate([main[j], extra]).astype(np.int64)
                if len(main[j]) < 6:
                    taken[main[j]] = False
                    if plain is None:
                        k_plain = len(self._plain_classes)
                        plain = self._eligible_for(
                            pool, self._plain_classes, np.full(k_plain, 3), np.zeros(k_plain, np.int64), day
                        )
                    main[j] = self._reprogramme(rows[j], plain, taken)
                    taken[main[j]] = True
        full = [j for j in range(n_rows) if len(main[j]) >= self.r_limit[rows[j]]]
        emergencies = {j: np.zeros(0, dtype=np.int64) for j in range(n_rows)}
        if full:  # oversubscribed races list up to four emergencies from the horses left over
            free = np.flatnonzero(~taken)
            elig = self._eligible(pool[free], rows[full], day)
            for k, j in enumerate(full):
                ok = free[elig[:, k] & ~taken[free]]
                emergencies[j] = rng.permutation(ok)[: rng.integers(1, 5)]
                taken[emergencies[j]] = True
        out = []
        for j, row in enumerate(rows):
            if len(main[j]) < 6:
                self.r_dropped[row] = True
                continue
            out.append((row, pool[main[j]], pool[emergencies[j]]))
        return out

    def _reprogramme(self, row: int, plain: np.ndarray, taken: np.ndarray) -> np.ndarray:
        """Change an unfillable race to the class with most free eligible horses (clubs do re-programme).

        plain: (pool x plain classes) eligibility for an open-age, open-sex race of each non-black-type class.
        """
        available = plain & ~taken[:, None]
        counts = available.sum(axis=0)
        best = int(np.argmax(counts))
        if counts[best] < 6:
            return np.zeros(0, dtype=np.int64)
        self.r_class[row], self.r_age[row], self.r_sex[row] = self._plain_classes[best], 3, 0
        return self.rng.permutation(np.flatnonzero(available[:, best]))[: self.r_target[row]]

    def _select_trials(
        self, day: int, region: int, rows: np.ndarray, racing_today: np.ndarray
    ) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Barrier trials and jump-outs: horses about to debut or back from a spell, and not racing today."""
        h = self.horses
        due = h.ready_day - day
        free = np.ones(len(h.region), dtype=bool)
        free[racing_today] = False
        candidates = np.flatnonzero(
            free
            & (h.region == region)
            & ~h.retired
            & (h.retire_day > day)
            & (h.debut_day <= day + 40)
            & (due >= 3)
            & (due <= 30)
            & (h.campaign_runs == 0)
            & (h.last_trial_day < day - 12)
            & (self.season_by_day[day] - h.foal_season >= 2)
        )
        candidates = self.rng.permutation(candidates)
        out, used = [], 0
        empty = np.zeros(0, dtype=np.int64)
        for row in rows:
            size = int(self.rng.integers(4, 9))
            heat = candidates[used : used + size]
            if len(heat) < 3:
                self.r_dropped[row] = True
                continue
            used += len(heat)
            out.append((row, heat, empty))
        return out

    # ---- one day ------------------------------------------------------------------------------------------

    def run(self) -> SimulationResult:
        order = np.argsort(self.r_day, kind="stable")
        day_sorted = self.r_day[order]
        bounds = np.searchsorted(day_sorted, np.arange(self.first_day, self.last_day + 2))
        h = self.horses
        for k, day in enumerate(range(self.first_day, self.last_day + 1)):
            if self.season_start[k]:
                self._relocate_jockeys()
            rows_today = order[bounds[k] : bounds[k + 1]]
            if len(rows_today) == 0:
                continue
            if k % 7 == 0:  # horses left waiting for weeks go back to the paddock
                stale = ~h.retired & (day - h.ready_day > 50) & (h.debut_day <= day)
                h.ready_day[stale] = day + 40
                h.campaign_runs[stale] = 0
            fit = ~h.retired & (h.debut_day <= day) & (h.retire_day > day)
            ready = np.flatnonzero(fit & (h.ready_day <= day))
            due_soon = np.flatnonzero(  # a few days short of their next run, or of the end of a spell
                fit
                & (h.ready_day > day)
                & (h.ready_day <= day + np.where(h.campaign_runs > 0, 6, 12))
                & (h.last_run_day <= day - 10)
            )
            fields = []
            for region in np.unique(self.r_region[rows_today]):
                in_region = rows_today[self.r_region[rows_today] == region]
                racing = in_region[~self.r_trial[in_region]]
                trials = in_region[self.r_trial[in_region]]
                if len(racing):
                    fields += self._select_region(day, int(region), racing, ready, due_soon)
                if len(trials):
                    racing_today = np.concatenate([np.r_[a, b] for _, a, b in fields] or [np.zeros(0, int)])
                    fields += self._select_trials(day, int(region), trials, racing_today)
            if fields:
                self._run_day(day, fields)
        h.retired |= h.retire_day <= self.last_day
        return self._result()

    def _relocate_jockeys(self) -> None:
        """A few riders move state at the start of each season, mostly to the bigger jurisdictions."""
        j = self.jockeys
        counts = np.bincount(j.region, minlength=len(REGIONS)).astype(float)
        movers = np.flatnonzero(self.rng.random(len(j.region)) < JOCKEY_MOVES)
        j.region[movers] = self.rng.choice(len(REGIONS), len(movers), p=counts / counts.sum())

    def _run_day(self, day: int, fields: list[tuple[int, np.ndarray, np.ndarray]]) -> None:
        rng = self.rng
        m = self.model
        h = self.horses
        sizes = np.array([len(a) + len(b) for _, a, b in fields])
        row = np.repeat([r for r, _, _ in fields], sizes)
        horse = np.concatenate([x for _, a, b in fields for x in (a, b)]).astype(np.int64)
        emergency_no = np.concatenate(
            [x for _, a, b in fields for x in (np.zeros(len(a), np.int64), np.arange(1, len(b) + 1))]
        )
        emergency = emergency_no > 0
        n = len(row)
        trial = self.r_trial[row]
        c = self.r_class[row]
        kind = self.cls_kind[c]
        distance = self.r_distance[row]

        # scratchings (main field), emergencies moving in, the rest of the emergencies scratched
        main = ~emergency
        n_main = segment_sum(main.astype(float), row)
        scratched = main & ~trial & (rng.random(n) < 0.085)
        scratched &= segment_cumsum(scratched, row) <= np.maximum(0, n_main - 6)
        late = scratched & (rng.random(n) < 0.28)
        early = scratched & ~late
        scratch_min = np.where(early, rng.uniform(self.r_early_lo[row], 450), np.nan)
        scratch_lead = np.where(late, rng.uniform(15, 240, n), np.nan)  # minutes before the jump
        early_count = segment_sum(early.astype(float), row)
        unused_emergency = emergency & (emergency_no > early_count)
        scratch_min = np.where(unused_emergency, 450 + rng.uniform(0, 30, n), scratch_min)
        scratched |= unused_emergency
        runs = ~scratched

        # barriers drawn among all acceptances; saddlecloths by weight; live draw among runners
        barrier = rank_by(row, rng.random(n)) + 1
        age_years = (day - h.foal_day[horse]) / 365.25
        weight = self._weights(day, row, horse, c)
        sort_weight = np.where(emergency, -100.0 - emergency_no, weight) + rng.random(n) * 0.01
        saddlecloth = rank_by(row, -sort_weight) + 1
        jockey = self._jockeys(row, horse)
        claim = np.where(
            self.jockeys.apprentice[jockey] & np.isin(kind, ["maiden", "class", "bm"]) & ~trial,
            self.jockeys.claim[jockey],
            0.0,
        )
        carried = weight - claim
        trainer = h.trainer[horse]

        starts = h.starts[horse]
        campaign = h.campaign_runs[horse]
        fitness = np.where(
            starts == 0,
            m.debut + h.freshness[horse],
            np.where(
                campaign == 0, m.first_up + h.freshness[horse], np.where(campaign == 1, m.second_up, 0.0)
            ),
        )
        going = self.r_going[row]
        base = (
            m.ability_scale * (h.ability[horse] + age_effect(age_years))
            - m.distance_coef * np.log2(distance / h.distance_pref[horse]) ** 2
            + m.going_coef * h.going_pref[horse] * (going - 4) / 6
            + self.jockeys.skill[jockey]
            + self.trainers.skill[trainer]
            + fitness
        )
        draw_factor = m.barrier_coef * self.bias[self.r_venue[row]] * np.sqrt(1200 / distance)

        def draw_and_weight(members: np.ndarray) -> np.ndarray:
            """Barrier and weight effects relative to the horses actually in the race."""
            group = np.where(members, row, -1)
            live = rank_by(group, barrier)
            size = group_sum(np.ones(n), group)
            mean_carried = group_sum(np.where(members, carried, 0.0), row) / np.maximum(
                1.0, group_sum(members.astype(float), row)
            )
            return -draw_factor * live / np.maximum(1.0, size - 1) - m.weight_coef * (carried - mean_carried)

        all_accepted = np.ones(n, dtype=bool)
        market_score = base + draw_and_weight(all_accepted) + rng.normal(0, m.market_noise, n)
        score = base + draw_and_weight(runs)

        # the race: Plackett-Luce order from Gumbel-perturbed scores; truth = softmax among runners
        p_true = np.full(n, np.nan)
        finish = np.full(n, -1)
        lengths = np.full(n, np.nan)
        idx = np.flatnonzero(runs)
        sub_row = row[idx]
        p_true[idx] = segment_softmax(score[idx], sub_row)
        perf = score[idx] + rng.gumbel(size=len(idx))
        pos = rank_by(sub_row, -perf)
        finish[idx] = pos + 1
        by_place = np.lexsort((pos, sub_row))
        ordered_perf = perf[by_place]
        ordered_row = sub_row[by_place]
        gap = np.r_[0.0, ordered_perf[:-1] - ordered_perf[1:]]
        gap[rank_within(ordered_row) == 0] = 0.0
        gap *= m.lengths_per_logit * np.sqrt(distance[idx][by_place] / 1400)
        gap = np.where(rank_within(ordered_row) == 0, 0.0, np.maximum(0.05, np.round(gap, 2)))
        behind = segment_cumsum(gap, ordered_row)
        second = np.where(rank_within(ordered_row) == 1, behind, 0.0)
        behind = np.where(rank_within(ordered_row) == 0, segment_sum(second, ordered_row), behind)
        lengths[idx[by_place]] = np.round(behind, 2)

        self._records.append(
            {
                "race_row": row,
                "horse": horse,
                "emergency": emergency,
                "emergency_number": emergency_no,
                "saddlecloth": saddlecloth,
                "barrier": barrier,
                "weight_kg": weight,
                "claim_kg": claim,
                "jockey": jockey,
                "trainer": trainer,
                "rating": h.rating[horse].copy(),
                "scratched": scratched,
                "late_scratch": late,
                "scratch_min": scratch_min,
                "scratch_lead_min": scratch_lead,
                "finish": finish,
                "margin_lengths": lengths,
                "true_win_prob": p_true,
                "market_score": market_score,
                "carried": carried,
            }
        )
        self._update_careers(day, row, horse, trial, scratched, unused_emergency, finish, lengths)

    def _update_careers(
        self,
        day: int,
        row: np.ndarray,
        horse: np.ndarray,
        trial: np.ndarray,
        scratched: np.ndarray,
        unused_emergency: np.ndarray,
        finish: np.ndarray,
        lengths: np.ndarray,
    ) -> None:
        rng = self.rng
        h = self.horses
        abandoned = self.r_abandoned[row]
        h.last_trial_day[horse[trial]] = day
        back_in_pool = ~trial & (abandoned | unused_emergency)
        h.ready_day[horse[back_in_pool]] = day + 1
        vetted = ~trial & ~abandoned & scratched & ~unused_emergency
        h.ready_day[horse[vetted]] = day + 7 + rng.integers(0, 14, vetted.sum())

        ran = ~trial & ~abandoned & (finish > 0)
        hs = horse[ran]
        place = finish[ran]
        behind = lengths[ran]
        tier = self.r_tier[row[ran]]
        level = self.cls_level[self.r_class[row[ran]]]
        won = place == 1
        maiden_win = won & (h.wins[hs] == 0)
        rating = h.rating[hs].astype(float)
        rated = h.wins[hs] >= 1
        headroom = np.clip((RATING_CEILING - rating) / 30, 0.1, 1.0)  # wins at the top earn fewer points
        delta = np.select(
            [place == 1, place == 2, place == 3, behind < 6],
            [
                np.maximum(1.0, (3 + 1.2 * np.minimum(behind, 4)) * headroom),
                (behind < 1).astype(float),
                0.0,
                -1.0,
            ],
            -2.0,
        )
        rating = np.where(rated, rating + delta, rating)
        rating = np.where(won & rated, np.maximum(rating, level - 2), rating)
        tier_base = np.array([62.0, 56.0, 52.0])[tier]
        rating = np.where(
            maiden_win, tier_base + 1.5 * np.minimum(behind, 5) + rng.normal(0, 2, len(hs)), rating
        )
        h.rating[hs] = np.clip(np.round(rating), 35, RATING_CEILING)
        h.wins[hs] += won
        h.starts[hs] += 1
        h.last_run_day[hs] = day
        h.campaign_runs[hs] += 1
        spell = h.campaign_runs[hs] >= h.campaign_target[hs]
        gap_days = 7 + np.round(rng.gamma(3.0, 4.0, len(hs))).astype(int)
        spell_days = 45 + np.round(rng.gamma(3.0, 18.0, len(hs))).astype(int)
        h.ready_day[hs] = day + np.where(spell, spell_days, gap_days)
        spelled = hs[spell]
        h.campaign_runs[spelled] = 0
        h.campaign_target[spelled] = 2 + rng.poisson(3, len(spelled))
        movers = spelled[rng.random(len(spelled)) < 0.06]
        for r in np.unique(h.region[movers]):
            stables = np.flatnonzero(self.trainers.region == r)
            weights = self.trainers.size[stables] / self.trainers.size[stables].sum()
            moving = movers[h.region[movers] == r]
            h.trainer[moving] = rng.choice(stables, len(moving), p=weights)
        age = (day - h.foal_day[hs]) / 365.25
        retire = (
            ((h.starts[hs] >= 6) & (h.wins[hs] == 0) & (rng.random(len(hs)) < MAIDEN_RETIREMENT))
            | ((h.wins[hs] >= 1) & (h.rating[hs] < 48) & (rng.random(len(hs)) < 0.1))
            | (rng.random(len(hs)) < 0.012)
            | (age > 9.5)
        )
        h.retired[hs[retire]] = True
        h.retire_day[hs[retire]] = np.minimum(h.retire_day[hs[retire]], day + 1)

    def _weights(self, day: int, row: np.ndarray, horse: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Allotted weights: set weights by age/sex, benchmark handicaps, penalties, weight-for-age."""
        h = self.horses
        age = self.season_by_day[day] - h.foal_season[horse]
        female = h.sex[horse] == FEMALE
        rating = h.rating[horse].astype(float)
        months = (pd.Timestamp(day, unit="D").month - 8) % 12
        set_weight = np.select([age <= 2, age == 3], [56.5, 57.5], 59.0) - 2.0 * female
        benchmark = self.cls_bench[c]
        bm = np.clip(60.0 + 0.5 * (rating - benchmark), 54.0, 61.5)
        top = group_max(rating, row)
        handicap = np.clip(59.5 - 0.5 * (top - rating), 54.0, 61.5)
        penalties = (
            np.select([age <= 2, age == 3], [55.5, 56.5], 58.0)
            - 2.0 * female
            + np.minimum(3.0, 0.5 * np.floor(np.maximum(0.0, rating - self.cls_min[c]) / 4))
        )
        wfa = np.select([age <= 2, age == 3], [52.0, 53.5 + 0.3 * months], 59.0) - 2.0 * female
        kind = self.cls_kind[c]
        style = self.cls_weights[c]
        weight = np.select(
            [self.r_trial[row], style == "set", kind == "bm", style == "handicap", style == "penalties"],
            [58.0, set_weight, bm, handicap, penalties],
            wfa,
        )
        return np.round(weight * 2) / 2

    def _jockeys(self, row: np.ndarray, horse: np.ndarray) -> np.ndarray:
        """Book riders: each jockey rides at one meeting a day; better horses get better riders (noisily)."""
        rng = self.rng
        j = self.jockeys
        meeting = self.r_meeting[row]
        out = np.zeros(len(row), dtype=np.int64)
        for region in np.unique(self.r_region[row]):
            in_region = self.r_region[row] == region
            meetings = np.unique(meeting[in_region])
            riders = np.flatnonzero(j.region == region)
            metro = self.m_metro[meetings].astype(float)
            size = np.bincount(np.searchsorted(meetings, meeting[in_region]), minlength=len(meetings))
            keys = (
                np.log(size)[None, :]
                + 6.0 * j.skill[riders][:, None] * metro[None, :]
                + fast_gumbel(rng, (len(riders), len(meetings)))
            )
            booked_at = np.argmax(keys, axis=1)
            for k, meet in enumerate(meetings):
                roster = riders[booked_at == k]
                entries = np.flatnonzero(in_region & (meeting == meet))
                _, race, size = np.unique(row[entries], return_inverse=True, return_counts=True)
                need = int(size.max())
                if len(roster) < need:  # a thin day: borrow riders from elsewhere in the region
                    spare = np.setdiff1d(riders, roster)
                    roster = np.r_[
                        roster, rng.choice(spare, min(len(spare), need - len(roster)), replace=False)
                    ]
                quality = (
                    self.horses.perceived_ability[horse[entries]]
                    + 3 * self.trainers.skill[self.horses.trainer[horse[entries]]]
                    + rng.normal(0, 0.5, len(entries))
                )
                # each race draws distinct riders from the roster; the best of them get the best horses
                picks = roster[np.argsort(rng.random((len(size), len(roster))), axis=1)[:, :need]]
                rank = j.skill[picks] + rng.normal(0, 0.08, picks.shape)
                rank[np.arange(need)[None, :] >= size[:, None]] = -np.inf
                picks = np.take_along_axis(picks, np.argsort(-rank, axis=1), axis=1)
                order = np.lexsort((-quality, race))
                out[entries[order]] = picks[race[order], rank_within(race[order])]
        return out

    def _result(self) -> SimulationResult:
        entries = (
            pd.DataFrame({k: np.concatenate([rec[k] for rec in self._records]) for k in self._records[0]})
            if self._records
            else pd.DataFrame()
        )
        races = pd.DataFrame(
            {
                "meeting_idx": self.r_meeting,
                "class_idx": self.r_class,
                "age_rule": np.array(AGE_RULES)[self.r_age],
                "sex_rule": np.array(SEX_RULES)[self.r_sex],
                "distance_m": self.r_distance,
                "dropped": self.r_dropped,
                "is_trial": self.r_trial,
            }
        )
        return SimulationResult(
            races=races, entries=entries, horses=self.horses, jockeys=self.jockeys, trainers=self.trainers
        )
