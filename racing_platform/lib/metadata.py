"""What the UI shows of a table asset: its columns on the definition, its rows on each materialization.

`table_schema` is the asset's "Columns" tab (definition metadata `dagster/column_schema`): each column
of the warehouse table the asset writes, in declaration order, with the type DuckDB gives it once
warehouse/sql/schema.sql (its ALTER TABLE migrations included) is applied, and the description its
pandera contract gives it (`contracts.column_descriptions`), or one the asset passes for the columns it
computes; a column nobody describes is still listed, with its type. The schema is static per table, so
it lives on the definition: a season's backfill records tens of thousands of partition
materializations, and a copy of the schema in each made every event several times larger.

`frame_metadata` is what each partition's materialization carries: its row count and a preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import dagster as dg
import pandas as pd

from racing_platform.contracts import column_descriptions
from racing_platform.warehouse.resource import Warehouse

PREVIEW_ROWS = 5


@cache
def warehouse_columns() -> dict[str, list[tuple[str, str]]]:
    """Each warehouse table's (column, type) pairs in declaration order, read from an in-memory database
    the Warehouse resource has brought up to date (the same DDL, migrations and macros as the file's)."""
    with Warehouse(database=":memory:").connect() as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, []).append((column, kind))
    return tables


def table_schema(table: str, descriptions: Mapping[str, str] | None = None) -> dg.TableSchema:
    """Every column of warehouse `table` with its type and description (`descriptions` over the
    contracts'). An unknown table raises: an asset's Columns tab must name a real one."""
    columns = warehouse_columns().get(table)
    if columns is None:
        raise KeyError(f"warehouse/sql/schema.sql declares no table {table!r}")
    described = {**column_descriptions(), **(descriptions or {})}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=kind, description=described.get(name)) for name, kind in columns
        ]
    )


def frame_metadata(
    frame: pd.DataFrame, *, preview: pd.DataFrame | None = None, preview_columns: list[str] | None = None
) -> dict:
    """`frame`'s row count and a preview of its first rows (or of `preview`'s, a part of it)."""
    shown = frame if preview is None else preview
    shown = shown[preview_columns] if preview_columns else shown
    return {
        "dagster/row_count": len(frame),
        "preview": dg.MetadataValue.md(
            shown.head(PREVIEW_ROWS).to_markdown(index=False) if len(shown) else "_empty_"
        ),
    }
