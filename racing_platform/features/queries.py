"""The feature SQL, read from sql/*.sql next to this module."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache
from importlib import resources

import duckdb
import pandas as pd

from racing_platform.lib.cell_runs import cells_params, rows_by_cell
from racing_platform.partitions import Cell


@cache
def sql(name: str) -> str:
    return resources.files("racing_platform.features").joinpath(f"sql/{name}.sql").read_text()


def form_lines_of(conn: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    return conn.execute(sql("form_lines"), {"day": day}).df()


def runner_features_of(conn: duckdb.DuckDBPyConnection, day: date, venue_slug: str) -> pd.DataFrame:
    """The features of the card of cell (`day`, `venue_slug`), in race and saddlecloth order."""
    return conn.execute(sql("runner_features"), cells_params([Cell(day, venue_slug)])).df()


DAYS_PER_QUERY = 128
"""Cells of up to this many days share one query. Its jockeys' and trainers' windows join each
(person, day) to every span of the query's days, a cost that grows with the days squared: the bound
keeps a long call linear. Measured on 1M form lines, 120 weekly cells of a venue cost 2.7 ms a cell
in one query, 3.0 in chunks of 64 days."""


def runner_features_of_cells(
    conn: duckdb.DuckDBPyConnection, cells: Iterable[Cell]
) -> dict[Cell, pd.DataFrame]:
    """Each cell's features (the rows `runner_features_of` returns; an empty frame for a cell without
    a card) from one query per DAYS_PER_QUERY days: the cells share its passes over the history, so
    a venue's season in a range run costs little more than one of its days.

    An integer column can come back as pandas' nullable Int64 where the cell alone would give int64:
    DuckDB picks it when any of the query's cells has a null there."""
    cells = list(cells)
    days = sorted({cell.meeting_date for cell in cells})
    features: dict[Cell, pd.DataFrame] = {}
    for first in range(0, len(days), DAYS_PER_QUERY):
        chunk_days = set(days[first : first + DAYS_PER_QUERY])
        chunk = [cell for cell in cells if cell.meeting_date in chunk_days]
        rows = conn.execute(sql("runner_features"), cells_params(chunk)).df()
        of_cell, no_card = rows_by_cell(rows), rows.iloc[:0]
        features.update({cell: of_cell.get(cell, no_card) for cell in chunk})
    return features
