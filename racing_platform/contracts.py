"""Data contracts (pandera) for the tables the racing.com parsers produce.

The one module for per-table contracts: each table's rules, judged on the table alone. The rules that
compare an answer with stored data (a race never shrinks to zero runners or loses its placings, one
winner, a race code in one cell) are in `racing_platform.cards.rules`, which applies these contracts
first. Columns and dtypes mirror `source.parsers.TABLE_COLUMNS` (a test keeps the two in step). Keys
the warehouse partitions and joins on (meet code, meeting date, venue slug, race code) must be present:
a lone response parsed without its meeting's context fails here.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

UtcTimestamp = Annotated[pd.DatetimeTZDtype, "ns", "UTC"]
Text = pd.StringDtype
Int = pd.Int64Dtype
Flag = pd.BooleanDtype

# A venue slug is a Dagster partition key: lower-case words joined by '-', never `| , [ ]`.
VENUE_SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
WEIGHT_KG = {"min_value": 45.0, "max_value": 75.0}
APPRENTICE_CLAIM_KG = {"min_value": 0.0, "max_value": 4.0}
# Fields are capped at 24 starters; emergencies draw barriers and carry saddlecloths beyond the field.
DRAW_NUMBER = {"min_value": 1, "max_value": 30}
NON_RUNNER_FINISH_CODE = 100  # racing.com finish codes from here up (109 = scratched) are not placings
SADDLECLOTH_RULE = (
    "one entry per race and saddlecloth: racing.com may list a scratching and the emergency that replaced it"
    " on one saddlecloth, and the parser then keeps only the one that ran; two rows here are two horses"
    " that ran on one saddlecloth, which no race can have"
)


class _Contract(pa.DataFrameModel):
    class Config:
        strict = False  # downstream may add columns (e.g. ranks); the declared ones must hold
        coerce = False  # the parser types every column; a wrong dtype is a parser bug to surface


class MeetingsSchema(_Contract):
    meet_code: Series[Text] = pa.Field(
        unique=True, description="racing.com's code of the meeting (one venue's races on one day)"
    )
    meeting_date: Series[pa.Date] = pa.Field(
        description="the meeting's local date (Australian calendar): the `date` partition"
    )
    venue: Series[Text] = pa.Field(description="the venue's name as racing.com shows it")
    venue_slug: Series[Text] = pa.Field(
        str_matches=VENUE_SLUG_PATTERN,
        description="the venue's partition key: lower-case words joined by '-' (configs/venues.yaml)",
    )
    venue_code: Series[Text] = pa.Field(
        nullable=True, description="racing.com's venue code, stable across renames"
    )
    state: Series[Text] = pa.Field(nullable=True, description="the venue's state (VIC, NSW, ...)")
    timezone: Series[Text] = pa.Field(
        nullable=True, description="the venue's IANA time zone, for local jump times"
    )
    is_trial: Series[Flag] = pa.Field(
        description="a barrier trial (not a race; untracked unless the scope includes trials)"
    )
    is_jumpout: Series[Flag] = pa.Field(
        description="a jump-out (not a race; untracked unless the scope includes trials)"
    )
    meet_url: Series[Text] = pa.Field(nullable=True, description="the meeting's page on racing.com")
    fetched_at: Series[UtcTimestamp] = pa.Field(
        nullable=True, description="when the platform fetched the answer this row comes from (UTC)"
    )


class _RaceKeyed(_Contract):
    meet_code: Series[Text]
    meeting_date: Series[pa.Date]
    venue_slug: Series[Text] = pa.Field(str_matches=VENUE_SLUG_PATTERN)
    race_code: Series[Text] = pa.Field(description="racing.com's code of the race, unique across meetings")
    race_number: Series[Int] = pa.Field(
        ge=1, le=50, description="the race's number on the day's card (R1, R2, ...)"
    )
    fetched_at: Series[UtcTimestamp] = pa.Field(nullable=True)


class RacesSchema(_RaceKeyed):
    race_code: Series[Text] = pa.Field(unique=True)
    venue: Series[Text] = pa.Field(nullable=True)
    state: Series[Text] = pa.Field(nullable=True)
    venue_code: Series[Text] = pa.Field(nullable=True)
    timezone: Series[Text] = pa.Field(nullable=True)
    race_name: Series[Text] = pa.Field(nullable=True, description="the race's name (often a sponsor's)")
    name_form: Series[Text] = pa.Field(
        nullable=True, description="the race's name as the form guide prints it"
    )
    race_class: Series[Text] = pa.Field(
        nullable=True, description="the race's class, e.g. BM64, Maiden, Group 1"
    )
    class_name: Series[Text] = pa.Field(nullable=True, description="racing.com's longer class text")
    group: Series[Text] = pa.Field(
        nullable=True, description="the group or listed status of a black-type race"
    )
    race_status: Series[Text] = pa.Field(
        nullable=True, description="racing.com's race status (e.g. Open, Interim, Final, Abandoned)"
    )
    is_trial: Series[Flag] = pa.Field(nullable=True)
    is_jumpout: Series[Flag] = pa.Field(nullable=True)
    start_time_utc: Series[UtcTimestamp] = pa.Field(nullable=True, description="scheduled jump time (UTC)")
    start_time_local: Series[pa.DateTime] = pa.Field(
        nullable=True, description="scheduled jump time on the venue's clock"
    )
    distance_m: Series[Int] = pa.Field(nullable=True, ge=100, le=7500, description="race distance in metres")
    track_condition: Series[Text] = pa.Field(
        nullable=True, description="track condition (Good, Soft, Heavy, ...)"
    )
    track_rating: Series[Int] = pa.Field(
        nullable=True, ge=1, le=10, description="track rating 1-10 (1-2 Firm, 3-4 Good, 5-7 Soft, 8-10 Heavy)"
    )
    prize_money_total: Series[float] = pa.Field(
        nullable=True, ge=0, description="total prize money of the race (AUD)"
    )
    prize_money: Series[object] = pa.Field(
        nullable=True, description="prize money per placing as racing.com lists it"
    )
    conditions: Series[Text] = pa.Field(nullable=True, description="the race's entry conditions")
    winning_time_s: Series[float] = pa.Field(nullable=True, gt=0, description="the winner's time in seconds")
    sectional_800_s: Series[float] = pa.Field(
        nullable=True, gt=0, description="the race's time to the 800 m mark in seconds"
    )
    sectional_800_400_s: Series[float] = pa.Field(
        nullable=True, gt=0, description="the race's time from the 800 m to the 400 m mark in seconds"
    )
    sectional_400_finish_s: Series[float] = pa.Field(
        nullable=True, gt=0, description="the race's time over the last 400 m in seconds"
    )

    @pa.dataframe_check(error="start_time_local is start_time_utc on the venue's clock: both or neither")
    def local_start_follows_utc(cls, df: pd.DataFrame) -> Series[bool]:
        return df["start_time_local"].isna() | df["start_time_utc"].notna()


class _EntryRows(_RaceKeyed):
    venue: Series[Text] = pa.Field(nullable=True)
    state: Series[Text] = pa.Field(nullable=True)
    entry_id: Series[Text] = pa.Field(
        nullable=True, description="racing.com's id of one horse's entry in one race"
    )
    horse_code: Series[Text] = pa.Field(nullable=True, description="racing.com's code of the horse")
    horse_name: Series[Text] = pa.Field(description="the horse's name")
    barrier: Series[Int] = pa.Field(
        nullable=True,
        in_range=DRAW_NUMBER,
        description="barrier (starting gate) drawn; null when scratched or before the draw",
    )  # drawn runners; scratched -> null
    weight_kg: Series[float] = pa.Field(
        nullable=True, in_range=WEIGHT_KG, description="weight allotted in kg, before any apprentice claim"
    )
    claim_kg: Series[float] = pa.Field(
        nullable=True,
        in_range=APPRENTICE_CLAIM_KG,
        description="the apprentice jockey's claim in kg (taken off the weight)",
    )
    carried_weight_kg: Series[float] = pa.Field(
        nullable=True, ge=40.0, le=75.0, description="weight actually carried in kg (weight less claim)"
    )
    jockey_code: Series[Text] = pa.Field(nullable=True, description="racing.com's code of the jockey")
    jockey_name: Series[Text] = pa.Field(nullable=True, description="the jockey's name")
    trainer_code: Series[Text] = pa.Field(nullable=True, description="racing.com's code of the trainer")
    trainer_name: Series[Text] = pa.Field(nullable=True, description="the trainer's name")
    scratched: Series[Flag] = pa.Field(description="withdrawn from the race (a scratching)")

    @pa.dataframe_check(error="a scratched runner has no barrier (racing.com sends 0; the parser nulls it)")
    def scratched_have_no_barrier(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["scratched"].fillna(False) | df["barrier"].isna()


class RunnersSchema(_EntryRows):
    horse_code: Series[Text]
    saddlecloth: Series[Int] = pa.Field(
        in_range=DRAW_NUMBER, description="the runner's number on the card (saddlecloth)"
    )
    horse_country: Series[Text] = pa.Field(
        nullable=True, description="the horse's country of birth when not Australian (e.g. NZ)"
    )
    emergency: Series[Flag] = pa.Field(
        nullable=True, description="an emergency: runs only if a horse in the field is scratched"
    )
    emergency_number: Series[Int] = pa.Field(
        nullable=True, ge=1, description="the emergency's order of call-up (1 first)"
    )
    handicap_rating: Series[Int] = pa.Field(
        nullable=True, ge=1, description="the horse's handicap rating (null when unrated)"
    )  # racing.com's 0 (unrated) is stored null
    last_five: Series[object] = pa.Field(
        nullable=True, description="the horse's last five finishes as the form guide prints them"
    )

    @pa.dataframe_check(error=SADDLECLOTH_RULE)
    def one_runner_per_saddlecloth(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["race_code", "saddlecloth"], keep=False)


class ResultsSchema(_EntryRows):
    saddlecloth: Series[Int] = pa.Field(nullable=True, in_range=DRAW_NUMBER)  # race lists: horse only
    finish_code: Series[Int] = pa.Field(
        nullable=True,
        ge=1,
        description="racing.com's finish code (100 and above: did not finish or scratched)",
    )
    finish_position: Series[Int] = pa.Field(
        nullable=True, ge=1, description="placing at the finish (1 = won)"
    )
    margin_lengths: Series[float] = pa.Field(
        nullable=True, ge=0, description="lengths behind the winner (the winner: 0)"
    )
    starting_price: Series[float] = pa.Field(
        nullable=True, gt=1, description="starting price, decimal odds (the market at the jump)"
    )
    winning_time_s: Series[float] = pa.Field(nullable=True, gt=0)
    prize_money_won: Series[float] = pa.Field(
        nullable=True, ge=0, description="prize money the runner won (AUD)"
    )
    position_at_800: Series[Int] = pa.Field(
        nullable=True, ge=1, description="position in running at the 800 m mark"
    )
    position_at_400: Series[Int] = pa.Field(
        nullable=True, ge=1, description="position in running at the 400 m mark"
    )

    @pa.dataframe_check(error=f"{SADDLECLOTH_RULE} (race lists without saddlecloths: one per race and horse)")
    def one_result_per_runner(cls, df: pd.DataFrame) -> Series[bool]:
        by_saddlecloth = df["saddlecloth"].notna() & df.duplicated(["race_code", "saddlecloth"], keep=False)
        by_horse = df["saddlecloth"].isna() & df.duplicated(["race_code", "horse_name"], keep=False)
        return ~(by_saddlecloth | by_horse)

    @pa.dataframe_check(
        error="a runner that ran (has a finish_position) and is listed by saddlecloth has a barrier:"
        " racing.com sends barrierNumber 0 only for scratchings and before the draw (race lists, without"
        " saddlecloths, select no barrier)"
    )
    def runners_that_ran_have_a_barrier(cls, df: pd.DataFrame) -> Series[bool]:
        listed_runner = df["finish_position"].notna() & df["saddlecloth"].notna()
        return ~listed_runner | df["barrier"].notna()

    @pa.dataframe_check(error="a placing is a finish code below 100; scratched runners have no placing")
    def placings_are_runners(cls, df: pd.DataFrame) -> Series[bool]:
        placed = df["finish_position"].notna()
        code_agrees = df["finish_code"].isna() | (df["finish_code"] < NON_RUNNER_FINISH_CODE)
        return ~placed | (code_agrees.fillna(False) & ~df["scratched"].fillna(False))

    @pa.dataframe_check(error="the winner's margin is 0 (racing.com shows its margin to second)")
    def winner_margin_is_zero(cls, df: pd.DataFrame) -> Series[bool]:
        winner = (df["finish_position"] == 1).fillna(False)
        return ~winner | df["margin_lengths"].isna() | (df["margin_lengths"] == 0)


class OddsSchema(_RaceKeyed):
    entry_id: Series[Text]
    horse_code: Series[Text] = pa.Field(nullable=True)
    saddlecloth: Series[Int] = pa.Field(nullable=True, in_range=DRAW_NUMBER)
    provider_code: Series[Text] = pa.Field(
        description="the odds provider's racing.com code (the market used is configs/platform.yaml's)"
    )
    win_price: Series[float] = pa.Field(
        nullable=True, gt=1, description="the provider's win price, decimal odds"
    )
    place_price: Series[float] = pa.Field(
        nullable=True, ge=1, description="the provider's place price, decimal odds"
    )
    is_favourite: Series[Flag] = pa.Field(nullable=True, description="the provider's favourite of the race")
    is_market_mover: Series[Flag] = pa.Field(
        nullable=True, description="racing.com flags the price as moving"
    )

    class Config:
        unique = ["entry_id", "provider_code"]


class OddsFlucsSchema(_RaceKeyed):
    """A price's moves (flucsWin), keyed like `odds` so a cell's moves are stored and replaced with it."""

    entry_id: Series[Text]
    saddlecloth: Series[Int] = pa.Field(nullable=True, in_range=DRAW_NUMBER)
    provider_code: Series[Text]
    update_time_utc: Series[UtcTimestamp] = pa.Field(description="when the price moved to this value (UTC)")
    win_price: Series[float] = pa.Field(nullable=True, gt=1)


class FormBookSchema(_Contract):
    """The form book (every form line before a day), on its key columns: one line per runner and race,
    and each race code in one cell, so no race's history is counted twice."""

    meeting_date: Series[pa.DateTime]
    venue_slug: Series[Text] = pa.Field(str_matches=VENUE_SLUG_PATTERN)
    meet_code: Series[Text]
    race_code: Series[Text]
    horse_code: Series[Text]
    finish_position: Series[Int] = pa.Field(ge=1)

    class Config:
        coerce = True  # query results: DuckDB hands them to pandas with dtypes that depend on nulls
        unique = ["race_code", "horse_code"]

    @pa.dataframe_check(error="a race code belongs to one cell: one meeting_date and one venue_slug")
    def race_in_one_cell(cls, df: pd.DataFrame) -> Series[bool]:
        by_race = df.groupby("race_code")
        return (by_race["meeting_date"].transform("nunique") <= 1) & (
            by_race["venue_slug"].transform("nunique") <= 1
        )


class FormLinesSchema(FormBookSchema):
    """Form lines of a day (features/sql/form_lines.sql): one per runner that ran in a tracked race."""

    field_size: Series[Int] = pa.Field(ge=1, description="runners that ran in the race")
    barrier: Series[Int] = pa.Field(nullable=True, ge=1)
    weight_kg: Series[float] = pa.Field(nullable=True, in_range=WEIGHT_KG)
    claim_kg: Series[float] = pa.Field(nullable=True, in_range=APPRENTICE_CLAIM_KG)
    margin_lengths: Series[float] = pa.Field(ge=0)
    starting_price: Series[float] = pa.Field(nullable=True, gt=1)
    won: Series[Flag] = pa.Field(description="the runner won (finish_position 1)")
    placed: Series[Flag] = pa.Field(description="the runner finished 1st to 3rd")

    @pa.dataframe_check(error="field_size is the number of the race's form lines")
    def field_size_counts_the_lines(cls, df: pd.DataFrame) -> Series[bool]:
        return df["field_size"] == df.groupby("race_code")["race_code"].transform("size")

    @pa.dataframe_check(error="won is finish_position 1 and placed is finish_position 1 to 3")
    def won_and_placed_follow_the_position(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["won"] == (df["finish_position"] == 1)) & (df["placed"] == (df["finish_position"] <= 3))


SCHEMAS: dict[str, type[_Contract]] = {
    "meetings": MeetingsSchema,
    "races": RacesSchema,
    "runners": RunnersSchema,
    "results": ResultsSchema,
    "odds": OddsSchema,
    "odds_flucs": OddsFlucsSchema,
    "form_lines": FormLinesSchema,
    "form_book": FormBookSchema,
}


class HorseStartsSchema(_Contract):
    """A horse's past starts as stored in `horse_starts` (careers/): one row per horse and entry, any
    venue or state. The winner's margin is racing.com's margin to second, so no zero-margin rule here."""

    horse_code: Series[Text]
    entry_id: Series[Text]
    race_code: Series[Text] = pa.Field(nullable=True)
    race_date: Series[pa.Date] = pa.Field(description="the date of the past start (any venue or state)")
    venue_code: Series[Text] = pa.Field(nullable=True)
    venue_name: Series[Text] = pa.Field(nullable=True, description="the venue of the past start")
    race_number: Series[Int] = pa.Field(nullable=True, ge=1, le=50)
    distance_m: Series[Int] = pa.Field(nullable=True, ge=700, le=7200)
    race_class: Series[Text] = pa.Field(nullable=True)
    track_condition: Series[Text] = pa.Field(nullable=True)
    track_rating: Series[Int] = pa.Field(nullable=True, ge=1, le=10)
    runners_count: Series[Int] = pa.Field(
        nullable=True, ge=1, le=40, description="runners in the past start's race"
    )
    is_trial: Series[Flag]
    is_jumpout: Series[Flag]
    scratched: Series[Flag]
    finish_position: Series[Int] = pa.Field(nullable=True, ge=1, lt=NON_RUNNER_FINISH_CODE)
    margin_lengths: Series[float] = pa.Field(nullable=True, ge=0)
    starting_price: Series[float] = pa.Field(nullable=True, gt=1)
    weight_kg: Series[float] = pa.Field(nullable=True, in_range=WEIGHT_KG)
    barrier: Series[Int] = pa.Field(nullable=True, in_range=DRAW_NUMBER)
    jockey_name: Series[Text] = pa.Field(nullable=True)
    trainer_name: Series[Text] = pa.Field(nullable=True)
    handicap_rating: Series[Int] = pa.Field(nullable=True, ge=1)
    fetched_at: Series[UtcTimestamp]

    class Config:
        unique = ["horse_code", "entry_id"]

    @pa.dataframe_check(error="a scratched start has no placing and no barrier")
    def scratchings_did_not_run(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["scratched"].fillna(False) | (df["finish_position"].isna() & df["barrier"].isna())


# Every table contract, for docs/data_contracts.md: the cell parsers' tables and the careers'.
DOCUMENTED: dict[str, type[_Contract]] = {**SCHEMAS, "horse_starts": HorseStartsSchema}


@cache
def column_descriptions() -> dict[str, str]:
    """Each contract column's description by name, for the UI's column schemas and the contracts doc.

    A column means the same in every table (race_code, barrier, ...), so it is described once, where a
    contract first declares it; a subclass narrowing its rules keeps that description.
    """
    described: dict[str, str] = {}
    for model in DOCUMENTED.values():
        for name, column in model.to_schema().columns.items():
            if column.description:
                described.setdefault(name, column.description)
    return described
