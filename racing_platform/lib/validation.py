"""Contract validation for assets: pandera checks before writing, failures as readable metadata."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pandera.errors
import pandera.pandas as pa

MAX_FAILURE_ROWS = 20


def contract_failures(schema: type[pa.DataFrameModel], frame: pd.DataFrame) -> dict | None:
    """None when `frame` honours `schema`; else metadata naming each broken rule and the rows breaking it."""
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        summary = (
            cases.groupby(["column", "check"], dropna=False).size().reset_index(name="failures")
            if len(cases)
            else cases
        )
        sample = _with_identity(cases.head(MAX_FAILURE_ROWS), frame)
        return {
            "contract": schema.__name__,
            "failures": len(cases),
            "rules_broken": dg.MetadataValue.md(summary.to_markdown(index=False)),
            "failure_sample": dg.MetadataValue.md(sample.astype(str).to_markdown(index=False)),
        }
    return None


IDENTITY_COLUMNS = (
    "meeting_date",
    "venue_slug",
    "meet_code",
    "race_code",
    "race_number",
    "saddlecloth",
    "horse_name",
)


def _with_identity(cases: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Name the failing rows by race and runner, not by a bare row index."""
    identity = [c for c in IDENTITY_COLUMNS if c in frame.columns]
    rows = cases["index"].where(cases["index"].isin(frame.index))
    named = frame.reindex(rows.to_numpy())[identity].reset_index(drop=True)
    return pd.concat([named, cases[["column", "check", "failure_case"]].reset_index(drop=True)], axis=1)
