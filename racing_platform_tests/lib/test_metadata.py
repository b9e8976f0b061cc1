"""Column schemas as the UI shows them: on each asset's definition, with the warehouse's own types and
the contracts' words; a partition's materialization carries its rows only."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from racing_platform.contracts import DOCUMENTED, column_descriptions
from racing_platform.definitions import defs
from racing_platform.lib.metadata import frame_metadata, table_schema
from racing_platform.predictions.pricing import PREDICTION_DESCRIPTIONS

# Each table asset and the warehouse table its Columns tab shows (race_cards: its preview's runners;
# form_book: the form lines before D).
TABLE_OF = {
    "meetings": "meetings",
    "raw_race_cards": "raw_race_cards",
    "race_cards": "runners",
    "race_results": "results",
    "horse_careers": "horse_starts",
    "form_lines": "form_lines",
    "form_book": "form_lines",
    "runner_features": "runner_features",
    "predictions": "predictions",
    "simulator_truth": "simulator_truth",
    "daily_evaluation": "evaluation_daily",
    "win_model": "model_versions",
}
GRAPH = defs.resolve_asset_graph()


def _columns(schema: dg.TableSchema) -> dict[str, dg.TableColumn]:
    return {c.name: c for c in schema.columns}


def test_columns_carry_the_warehouse_types_in_declaration_order(warehouse):
    with warehouse.connect() as conn:  # a real DuckDB file the resource brought up to date
        tables = [t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        for table in tables:
            declared = conn.execute(f"DESCRIBE {table}").fetchall()
            shown = [(c.name, c.type) for c in table_schema(table).columns]
            assert shown == [(name, kind) for name, kind, *_ in declared]
    prices = _columns(table_schema("predictions"))
    # DuckDB's types, not pandas' (a DATE reaches pandas as datetime64, an INTEGER with nulls as float).
    assert (prices["meeting_date"].type, prices["predicted_at"].type) == ("DATE", "TIMESTAMP WITH TIME ZONE")
    assert (prices["saddlecloth"].type, prices["stage1_probability"].type) == ("INTEGER", "DOUBLE")
    assert _columns(table_schema("raw_race_cards"))["body"].type == "JSON"
    assert _columns(table_schema("runners"))["last_five"].type == "VARCHAR[]"


def test_columns_carry_the_contracts_descriptions_and_undescribed_ones_are_listed():
    features = _columns(table_schema("runner_features"))
    assert features["saddlecloth"].description == column_descriptions()["saddlecloth"]
    assert features["rating_vs_field"].description is None  # listed although nobody describes it
    computed = _columns(table_schema("predictions", {"rank": "runners ranked", "saddlecloth": "cloth"}))
    assert computed["rank"].description == "runners ranked"
    assert computed["saddlecloth"].description == "cloth"  # the asset's words over the contracts'
    with pytest.raises(KeyError, match="no table 'runner'"):
        table_schema("runner")


def test_every_contract_column_is_described():
    declared = {name for model in DOCUMENTED.values() for name in model.to_schema().columns}
    assert declared == set(column_descriptions()) and all(column_descriptions().values())


@pytest.mark.parametrize("asset", sorted(TABLE_OF))
def test_each_table_asset_definition_shows_its_tables_columns(asset):
    shown = GRAPH.get(dg.AssetKey(asset)).metadata["dagster/column_schema"]
    table = TABLE_OF[asset]
    assert shown == table_schema(table, PREDICTION_DESCRIPTIONS if asset == "predictions" else None)
    columns = _columns(shown)
    contract = DOCUMENTED.get(table)
    for name in contract.to_schema().columns if contract else []:  # every contract column, described
        assert columns[name].description == column_descriptions()[name]
    if asset == "predictions":  # the columns the pricing computes, in its words
        assert all(columns[name].description == words for name, words in PREDICTION_DESCRIPTIONS.items())


def test_frame_metadata_counts_rows_and_previews_the_first_without_a_schema():
    frame = duckdb.connect().execute("SELECT range AS race_number FROM range(1, 9)").df()
    metadata = frame_metadata(frame)
    assert set(metadata) == {"dagster/row_count", "preview"}  # the schema lives on the definition
    assert metadata["dagster/row_count"] == 8
    assert metadata["preview"].value.count("\n") == 1 + 5  # header, rule, five rows
