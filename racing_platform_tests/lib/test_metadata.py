"""Column schemas as the UI shows them: warehouse types, not pandas dtypes, and the contracts' words."""

from __future__ import annotations

import duckdb

from racing_platform.contracts import DOCUMENTED, column_descriptions
from racing_platform.lib.metadata import column_schema, frame_metadata


def test_columns_carry_warehouse_types_and_the_contracts_descriptions():
    frame = (
        duckdb.connect()
        .execute(
            "SELECT DATE '2025-03-01' AS meeting_date, 'R1' AS race_code, 3::INTEGER AS saddlecloth, "
            "TIMESTAMPTZ '2025-03-01 03:15:00+00' AS start_time_utc, 2.5::DOUBLE AS win_price, "
            "true AS scratched, DATE '2025-02-01' AS some_day, 7::BIGINT AS a_count, 'x' AS a_note"
        )
        .df()
    )
    assert str(frame["meeting_date"].dtype).startswith("datetime64")  # what pandas alone would show

    columns = {c.name: c for c in column_schema(frame, {"a_count": "runners counted"}).columns}

    assert list(columns) == list(frame.columns)
    assert {name: c.type for name, c in columns.items()} == {
        "meeting_date": "DATE",
        "race_code": "VARCHAR",
        "saddlecloth": "INTEGER",
        "start_time_utc": "TIMESTAMPTZ",
        "win_price": "DOUBLE",
        "scratched": "BOOLEAN",
        "some_day": "TIMESTAMP",  # not a warehouse column: DuckDB's DATE reaches pandas as a datetime
        "a_count": "BIGINT",
        "a_note": "VARCHAR",
    }
    assert columns["saddlecloth"].description == column_descriptions()["saddlecloth"]
    assert columns["a_count"].description == "runners counted"
    assert columns["a_note"].description is None  # listed although nobody describes it


def test_every_contract_column_is_described():
    declared = {name for model in DOCUMENTED.values() for name in model.to_schema().columns}
    assert declared == set(column_descriptions()) and all(column_descriptions().values())


def test_frame_metadata_counts_rows_and_previews_the_first():
    frame = duckdb.connect().execute("SELECT range AS race_number FROM range(1, 9)").df()
    metadata = frame_metadata(frame)
    assert metadata["dagster/row_count"] == 8
    assert metadata["preview"].value.count("\n") == 1 + 5  # header, rule, five rows
