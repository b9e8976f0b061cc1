"""Materialization metadata every table asset reports: row count, column schema and a preview."""

from __future__ import annotations

import dagster as dg
import pandas as pd

PREVIEW_ROWS = 5


def column_schema(frame: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()])


def frame_metadata(
    frame: pd.DataFrame, *, preview: pd.DataFrame | None = None, preview_columns: list[str] | None = None
) -> dict:
    """`frame`'s row count and schema, and a preview of its first rows (or of `preview`'s, a part of it)."""
    shown = frame if preview is None else preview
    shown = shown[preview_columns] if preview_columns else shown
    return {
        "dagster/row_count": len(frame),
        "dagster/column_schema": column_schema(frame),
        "preview": dg.MetadataValue.md(
            shown.head(PREVIEW_ROWS).to_markdown(index=False) if len(shown) else "_empty_"
        ),
    }
