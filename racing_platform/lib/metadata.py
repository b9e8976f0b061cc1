"""Materialization metadata every table asset reports: row count, column schema and a preview."""

from __future__ import annotations

import dagster as dg
import pandas as pd

PREVIEW_ROWS = 5


def column_schema(frame: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()])


def frame_metadata(frame: pd.DataFrame, *, preview_columns: list[str] | None = None) -> dict:
    shown = frame[preview_columns] if preview_columns else frame
    return {
        "dagster/row_count": len(frame),
        "dagster/column_schema": column_schema(frame),
        "preview": dg.MetadataValue.md(
            shown.head(PREVIEW_ROWS).to_markdown(index=False) if len(frame) else "_empty_"
        ),
    }
