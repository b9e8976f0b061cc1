"""Materialization metadata every table asset reports: row count, column schema and a preview.

The column schema is what the UI's "Columns" tab shows: each column with its warehouse type (as
warehouse/sql/schema.sql declares a column of that name; a column the warehouse does not hold, or holds
with two types, by its values) and the description its pandera contract gives it
(`contracts.column_descriptions`), or one the asset passes for the columns it computes; a column
nobody describes is still listed, with its type.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources

import dagster as dg
import pandas as pd

from racing_platform.contracts import column_descriptions

PREVIEW_ROWS = 5


@cache
def declared_types() -> dict[str, str]:
    """Column name -> its type in the warehouse DDL, for the names declared with one type everywhere."""
    ddl = resources.files("racing_platform.warehouse").joinpath("sql/schema.sql").read_text()
    kind = r"([A-Z][A-Z0-9_]*(?:\[\])?(?:\([\d, ]+\))?)"
    columns = [
        column
        for body in re.findall(r"CREATE TABLE IF NOT EXISTS \w+ \((.*?)\n\);", ddl, flags=re.S)
        for column in re.findall(rf"^\s+(\w+) {kind}", body, flags=re.M)
    ]
    columns += re.findall(rf"ADD COLUMN IF NOT EXISTS (\w+) {kind}", ddl)
    found: dict[str, set[str]] = {}
    for name, declared in columns:
        found.setdefault(name, set()).add(declared)
    return {name: next(iter(kinds)) for name, kinds in found.items() if len(kinds) == 1}


def sql_type(column: pd.Series) -> str:
    """The warehouse type of a column: declared in the DDL, else from its pandas dtype (an object
    column by its values): DuckDB hands a DATE to pandas as a datetime, so the dtype alone cannot say."""
    declared = declared_types().get(str(column.name))
    if declared:
        return declared
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "TIMESTAMPTZ"
    if pd.api.types.is_datetime64_dtype(dtype):
        return "TIMESTAMP"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "INTERVAL"
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "INTEGER" if dtype.itemsize <= 4 else "BIGINT"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE"
    values = column.dropna()
    first = values.iloc[0] if len(values) else None
    if isinstance(first, dt.datetime):
        return "TIMESTAMPTZ" if first.tzinfo else "TIMESTAMP"
    if isinstance(first, dt.date):
        return "DATE"
    if isinstance(first, (dict, list)):
        return "JSON"
    return "VARCHAR"


def column_schema(frame: pd.DataFrame, descriptions: Mapping[str, str] | None = None) -> dg.TableSchema:
    """Every column of `frame` with its type and description (`descriptions` over the contracts')."""
    described = {**column_descriptions(), **(descriptions or {})}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=str(name), type=sql_type(frame[name]), description=described.get(str(name)))
            for name in frame.columns
        ]
    )


def table_metadata(frame: pd.DataFrame, descriptions: Mapping[str, str] | None = None) -> dict:
    """`frame`'s row count and column schema."""
    return {"dagster/row_count": len(frame), "dagster/column_schema": column_schema(frame, descriptions)}


def frame_metadata(
    frame: pd.DataFrame, *, preview: pd.DataFrame | None = None, preview_columns: list[str] | None = None
) -> dict:
    """`frame`'s row count and schema, and a preview of its first rows (or of `preview`'s, a part of it)."""
    shown = frame if preview is None else preview
    shown = shown[preview_columns] if preview_columns else shown
    return {
        **table_metadata(frame),
        "preview": dg.MetadataValue.md(
            shown.head(PREVIEW_ROWS).to_markdown(index=False) if len(shown) else "_empty_"
        ),
    }
