"""`predictions` on a real instance: the race day after the generated history, fetched from the simulator
before the jump and priced with the session's win model."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from racing_platform.cards.assets import race_cards, raw_race_cards
from racing_platform.demo import next_race_card
from racing_platform.features.assets import runner_features
from racing_platform.model.assets import win_model
from racing_platform.model.registry import get_version
from racing_platform.partitions import VENUE_DIMENSION
from racing_platform.predictions.assets import card_metadata, predictions
from racing_platform.predictions.pricing import price_card
from racing_platform.settings import load_settings
from racing_platform.simulator.testing import running_simulator
from racing_platform.source.assets import meetings
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.conftest import Platform
from racing_platform_tests.features.generated_history import RACE_DAY

CARD_TO_PRICES = [raw_race_cards, race_cards, runner_features, predictions]
PROVIDER = load_settings().odds_provider
CARD_HEADER = ["No", "Horse", "Bar", "Jockey", "Kg", "Stage 1 %", "Blend %", "Fair $", "$", "Market %"]


def late_scratching(world) -> pd.Series:
    """The race day's first runner scratched between final fields and the first race, with its meeting."""
    meeting = world.meetings[world.meetings["meeting_date"] == RACE_DAY].iloc[0]
    races = world.races[world.races["meet_code"] == meeting["meet_code"]]
    entries = world.entries.merge(races[["race_code", "race_number"]], on="race_code")
    late = entries[
        (entries["scratched_at"] > meeting["final_fields_at"])
        & (entries["scratched_at"] < races["start_time_utc"].min() - pd.Timedelta(minutes=5))
    ]
    venue = world.venues.set_index("venue_code").loc[meeting["venue_code"], "slug"]
    return late.sort_values("scratched_at").iloc[0].copy().rename(venue)


@dataclass(frozen=True)
class FirstPricing:
    """The race day's cell priced once, with the clock a minute before its first late scratching."""

    database: Path
    cell: str
    scratching: pd.Series
    checks: list[dg.AssetCheckEvaluation]
    metadata: dict  # the predictions materialization's, as the UI shows it

    @property
    def clock(self) -> pd.Timestamp:
        return self.scratching["scratched_at"] - pd.Timedelta(minutes=1)


@pytest.fixture(scope="module")
def first_pricing(history, tmp_path_factory) -> FirstPricing:
    """Listing, cards, features and prices of the cell, run once; each test starts from a copy."""
    scratching = late_scratching(history.world)
    directory = tmp_path_factory.mktemp("race_day")
    shutil.copyfile(history.database, directory / "racing.duckdb")
    pricing = FirstPricing(directory / "racing.duckdb", f"{RACE_DAY}|{scratching.name}", scratching, [], {})
    with (
        pytest.MonkeyPatch.context() as env,
        dg.instance_for_test() as instance,
        running_simulator(history.world, now=pricing.clock) as sim,
    ):
        env.setenv("RACING_DATA_DIR", str(directory / "data"))
        platform = Platform(sim=sim, instance=instance, warehouse=Warehouse(database=str(pricing.database)))
        assert platform.materialize([meetings], RACE_DAY.isoformat()).success
        result = platform.materialize(CARD_TO_PRICES, pricing.cell)
        assert result.success
        pricing.checks.extend(result.get_asset_check_evaluations())
        (materialization,) = result.asset_materializations_for_node("predictions")
        assert materialization.partition == pricing.cell
        pricing.metadata.update(materialization.metadata)
    return pricing


@dataclass
class RaceDay:
    platform: Platform
    cell: str
    scratching: pd.Series

    def prices(self) -> pd.DataFrame:
        return self.platform.rows("predictions", "predicted_at, race_number, saddlecloth")


@pytest.fixture
def race_day(first_pricing, history, platform_for) -> RaceDay:
    """The first pricing's state on this test's own instance, files and simulator (same clock)."""
    platform = platform_for(history.world, first_pricing.clock)
    shutil.copyfile(first_pricing.database, platform.warehouse.database)
    platform.instance.add_dynamic_partitions(VENUE_DIMENSION, [first_pricing.scratching.name])
    return RaceDay(platform, first_pricing.cell, first_pricing.scratching)


def test_every_runner_is_priced_with_probabilities_that_sum_to_one(race_day, first_pricing, history):
    priced = race_day.prices()
    runners = race_day.platform.warehouse.query("SELECT * FROM runners WHERE meeting_date = ?", [RACE_DAY])

    assert priced["predicted_at"].nunique() == 1 and set(priced["model_version"]) == {history.model_version}
    checks = [(c.partition, c.passed) for c in first_pricing.checks if c.check_name == "predictions_contract"]
    assert checks == [(race_day.cell, True), (None, True)]  # the cell's verdict, then the run's summary
    on_card = runners.loc[~runners["scratched"], ["race_code", "saddlecloth"]]
    assert sorted(map(tuple, priced[["race_code", "saddlecloth"]].to_numpy())) == sorted(
        map(tuple, on_card.to_numpy())
    )
    assert runners["scratched"].any()  # a scratching already known: it must not be priced
    assert priced["win_probability"].between(0, 1).all()
    sums = priced.groupby("race_code")["win_probability"].sum()
    np.testing.assert_allclose(sums, 1.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(priced["fair_odds"], 1 / priced["win_probability"], rtol=1e-12)
    expected_rank = priced.groupby("race_code")["win_probability"].rank(ascending=False, method="first")
    assert (priced["rank"] == expected_rank).all()


def test_the_market_probability_is_the_provider_s_latest_price_without_its_overround(race_day):
    priced = race_day.prices()
    odds = race_day.platform.rows("odds", "fetched_at")
    latest = (
        odds[odds["provider_code"] == PROVIDER]
        .drop_duplicates(["race_code", "saddlecloth"], keep="last")
        .set_index(["race_code", "saddlecloth"])["win_price"]
    )
    quoted = latest.reindex(pd.MultiIndex.from_frame(priced[["race_code", "saddlecloth"]])).to_numpy()
    assert not np.isnan(quoted).any()
    overround = (1 / priced["market_price"]).groupby(priced["race_code"]).transform("sum")

    np.testing.assert_allclose(priced["market_price"], quoted)
    assert (overround > 1.05).all()  # a bookmaker's book: the removal has something to remove
    np.testing.assert_allclose(priced["market_probability"], 1 / priced["market_price"] / overround)
    np.testing.assert_allclose(priced.groupby("race_code")["market_probability"].sum(), 1.0)


def test_repricing_an_unchanged_card_keeps_its_snapshot_even_after_the_odds_move(race_day):
    first = race_day.prices()
    assert race_day.platform.materialize([predictions], race_day.cell).success
    pd.testing.assert_frame_equal(race_day.prices(), first)

    # The market moves (the odds table keeps only the cell's latest prices) and a runner loses its price.
    unquoted = first.iloc[0]
    with race_day.platform.warehouse.connect() as conn:
        conn.execute("UPDATE odds SET win_price = win_price * 2, fetched_at = now()")
        conn.execute(
            "DELETE FROM odds WHERE race_code = ? AND saddlecloth = ?",
            [unquoted["race_code"], int(unquoted["saddlecloth"])],
        )
    assert race_day.platform.materialize([predictions], race_day.cell).success

    # The snapshot is the card as first priced, its market included: nothing is overwritten.
    pd.testing.assert_frame_equal(race_day.prices(), first)


def test_an_unpriced_runner_is_still_blended_and_the_priced_share_the_market(race_day, history):
    warehouse = race_day.platform.warehouse
    features = warehouse.query(
        "SELECT * FROM runner_features WHERE meeting_date = ? AND venue_slug = ? "
        "ORDER BY race_code, saddlecloth",
        [RACE_DAY, race_day.cell.split("|")[1]],
    )
    odds = warehouse.query("SELECT * FROM odds WHERE meeting_date = ?", [RACE_DAY])
    runner = features[~features["scratched"]].iloc[0]
    odds = odds[
        ~((odds["race_code"] == runner["race_code"]) & (odds["saddlecloth"] == runner["saddlecloth"]))
    ]
    model = get_version(warehouse, history.model_version)

    priced = price_card(features, odds, model, PROVIDER, pd.Timestamp.now(tz="UTC"))

    race = priced["race_code"] == runner["race_code"]
    unpriced = race & (priced["saddlecloth"] == runner["saddlecloth"])
    assert priced.loc[unpriced, ["market_price", "market_probability"]].isna().all(axis=None)
    implied = 1 / priced.loc[race & ~unpriced, "market_price"]
    np.testing.assert_allclose(priced.loc[race & ~unpriced, "market_probability"], implied / implied.sum())
    assert priced.loc[race, "win_probability"].sum() == pytest.approx(1.0)
    assert priced.loc[race, "stage1_probability"].sum() == pytest.approx(1.0)
    assert priced.loc[unpriced, "win_probability"].iloc[0] > 0


def test_a_scratching_adds_a_snapshot_and_keeps_the_old_one(race_day):
    before = race_day.prices()
    scratched = race_day.scratching
    race_day.platform.sim.control.set_clock(scratched["scratched_at"] + pd.Timedelta(minutes=1))

    assert race_day.platform.materialize(CARD_TO_PRICES, race_day.cell).success

    both = race_day.prices()
    first_at, second_at = sorted(both["predicted_at"].unique())
    assert first_at == before["predicted_at"].iloc[0] and second_at > first_at
    pd.testing.assert_frame_equal(both[both["predicted_at"] == first_at].reset_index(drop=True), before)
    after = both[both["predicted_at"] == second_at]
    race = before[before["race_number"] == scratched["race_number"]]
    assert scratched["saddlecloth"] in set(race["saddlecloth"])
    still_running = after[after["race_number"] == scratched["race_number"]]
    assert set(still_running["saddlecloth"]) == set(race["saddlecloth"]) - {scratched["saddlecloth"]}
    np.testing.assert_allclose(both.groupby(["predicted_at", "race_code"])["win_probability"].sum(), 1.0)
    assert len(race_day.platform.rows("card_versions")) == 2


def test_a_new_model_version_adds_a_snapshot_and_the_race_card_shows_only_the_newest(race_day, history):
    first = race_day.prices()
    trained = race_day.platform.materialize(
        [win_model], run_config={"ops": {"win_model": {"config": {"cutoff": RACE_DAY.isoformat()}}}}
    )
    newest = str(
        trained.get_asset_materialization_events()[0].materialization.metadata["model_version"].value
    )
    assert newest != history.model_version

    assert race_day.platform.materialize([predictions], race_day.cell).success

    both = race_day.prices()
    assert set(both["model_version"]) == {history.model_version, newest}
    assert both["predicted_at"].nunique() == 1  # the same card, priced by two models
    card = next_race_card(race_day.platform.warehouse, RACE_DAY, race_day.platform.sim.control.now())
    first_race = first[first["race_number"] == first["race_number"].min()]
    assert sorted(card["saddlecloth"]) == sorted(first_race["saddlecloth"])
    assert set(card["model_version"]) == {newest}


def test_a_broken_contract_fails_the_cell_and_writes_nothing(race_day):
    stored, versions = race_day.prices(), race_day.platform.rows("card_versions")
    with race_day.platform.warehouse.connect() as conn:  # one runner's features stored twice
        conn.execute(
            "INSERT INTO runner_features SELECT * FROM runner_features WHERE meeting_date = ? "
            "AND NOT scratched LIMIT 1",
            [RACE_DAY],
        )

    result = race_day.platform.materialize([predictions], race_day.cell)

    assert not result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "predictions_contract" and not check.passed
    assert not result.get_asset_materialization_events()
    pd.testing.assert_frame_equal(race_day.prices(), stored)
    pd.testing.assert_frame_equal(race_day.platform.rows("card_versions"), versions)


def _card_facts(warehouse: Warehouse, cell: str) -> pd.DataFrame:
    day, venue = cell.split("|")
    return warehouse.query(
        "SELECT ru.race_code, ru.saddlecloth, ru.jockey_name, ru.weight_kg, ra.race_number, ra.race_name, "
        "ra.distance_m, ra.race_class, ra.start_time_utc, ra.timezone FROM runners ru "
        "JOIN races ra USING (race_code) WHERE ru.meeting_date = ? AND ru.venue_slug = ?",
        [date.fromisoformat(day), venue],
    )


def _race_rows(preview: str, race_number: int) -> pd.DataFrame:
    """The table under a race's heading in a markdown card, as strings."""
    section = preview.split(f"**R{race_number} ", 1)[1].split("\n\n**R", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    return pd.DataFrame(rows, columns=header)


def test_each_cell_s_materialization_shows_its_whole_priced_card_on_the_venue_s_clock(
    race_day, first_pricing
):
    metadata, priced = first_pricing.metadata, race_day.prices()
    facts = _card_facts(race_day.platform.warehouse, race_day.cell)
    zone = facts["timezone"].iloc[0]
    assert zone.startswith("Australia/")

    assert metadata["dagster/row_count"].value == len(priced)
    assert metadata["races"].value == priced["race_code"].nunique() > 1
    predicted_at = pd.Timestamp(metadata["predicted_at"].value)
    assert predicted_at == priced["predicted_at"].iloc[0]
    assert (
        predicted_at.utcoffset() == pd.Timestamp(predicted_at).tz_convert(zone).utcoffset() != pd.Timedelta(0)
    )
    preview = metadata["preview"].value
    for race in facts.drop_duplicates("race_code").itertuples():
        if race.race_code not in set(priced["race_code"]):
            continue
        jump = pd.Timestamp(race.start_time_utc).tz_convert(zone)
        heading = f"**R{race.race_number} {race.race_name} — {race.distance_m} m {race.race_class} — jumps "
        assert f"{heading}{jump:%H:%M %Z}**" in preview
        rows = _race_rows(preview, race.race_number)
        assert list(rows.columns) == [*CARD_HEADER[:-2], f"{PROVIDER} $", "Market %"]
        runners = priced[priced["race_code"] == race.race_code].sort_values("saddlecloth")
        assert rows["No"].astype(int).tolist() == runners["saddlecloth"].tolist()
        assert rows["Horse"].tolist() == runners["horse_name"].tolist()
        np.testing.assert_allclose(rows["Blend %"].astype(float), 100 * runners["win_probability"], atol=0.05)
        np.testing.assert_allclose(rows[f"{PROVIDER} $"].astype(float), runners["market_price"], atol=0.005)
        jockeys = facts[facts["race_code"] == race.race_code].set_index("saddlecloth")["jockey_name"]
        assert rows["Jockey"].tolist() == jockeys.reindex(runners["saddlecloth"]).tolist()
    # Columns: on the asset's definition (not on each partition's materialization), with the
    # warehouse's types and the contracts' (or the pricing's) descriptions.
    assert "dagster/column_schema" not in metadata
    schema = predictions.specs_by_key[predictions.key].metadata["dagster/column_schema"]
    columns = {c.name: c for c in schema.columns}
    assert list(columns) == list(priced.columns)
    assert columns["predicted_at"].type == "TIMESTAMP WITH TIME ZONE"  # DuckDB's name of TIMESTAMPTZ
    assert columns["meeting_date"].type == "DATE"  # not pandas' datetime64
    assert (columns["race_code"].type, columns["win_probability"].type) == ("VARCHAR", "DOUBLE")
    assert columns["saddlecloth"].description == "the runner's number on the card (saddlecloth)"
    assert "blend" in columns["win_probability"].description


def test_a_race_with_an_unpriced_runner_shows_the_priced_runners_market(race_day, history):
    warehouse = race_day.platform.warehouse
    venue = race_day.cell.split("|")[1]
    features = warehouse.query(
        "SELECT * FROM runner_features WHERE meeting_date = ? AND venue_slug = ? "
        "ORDER BY race_code, saddlecloth",
        [RACE_DAY, venue],
    )
    odds = warehouse.query("SELECT * FROM odds WHERE meeting_date = ?", [RACE_DAY])
    race = features[~features["scratched"]].iloc[0]["race_code"]
    field = features[(features["race_code"] == race) & ~features["scratched"]]
    unpriced = set(field["saddlecloth"].iloc[:3])  # 3 runners of the race lack a price
    odds = odds[~((odds["race_code"] == race) & odds["saddlecloth"].isin(unpriced))]
    priced = price_card(
        features, odds, get_version(warehouse, history.model_version), PROVIDER, pd.Timestamp.now(tz="UTC")
    )

    facts = _card_facts(warehouse, race_day.cell).drop(columns=["race_number"])
    preview = card_metadata(priced, facts, PROVIDER)["preview"].value

    rows = _race_rows(preview, int(field["race_number"].iloc[0])).set_index("No")
    dashes = rows.index.astype(int).isin(unpriced)
    assert (rows.loc[dashes, [f"{PROVIDER} $", "Market %"]] == "-").all(axis=None)
    market = rows.loc[~dashes, "Market %"].astype(float)
    assert len(market) == len(field) - 3 and market.sum() == pytest.approx(100, abs=0.5)
    assert (rows["Blend %"] != "-").all() and (rows["Stage 1 %"] != "-").all()
