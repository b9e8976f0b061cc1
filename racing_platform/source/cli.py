"""`racing-platform parse FILE`: one raw racing.com response -> normalised rows as JSON lines.

For eyeballing what the parsers make of a response (a saved fixture, an archived body) without a warehouse.
A body recorded with any document parses: fields it does not carry are null (only `--operation` or the
body's root field decides how it is read); a value the parser cannot read fails naming race and field.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from racing_platform.source.parsers import TABLES, ParsedTables, ParseError, parse_response


@click.command("parse")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--operation",
    default=None,
    help="Operation or document name (e.g. getRaceResults_CD); detected from the response when omitted.",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="Context the response lacks, e.g. --var meetCode=5193242 --var raceNumber=3 --var date=2026-03-07.",
)
@click.option("--table", "tables", multiple=True, type=click.Choice(TABLES), help="Print only these tables.")
def parse(file: Path, operation: str | None, variables: tuple[str, ...], tables: tuple[str, ...]) -> None:
    """Print the rows parsed from FILE (a GraphQL response, with or without its {"data": ...} envelope),
    one JSON object per line with a "table" field."""
    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise click.ClickException(f"{file} is not a readable JSON response: {err}") from None
    try:
        parsed = parse_response(payload, operation=operation, variables=_variables(variables))
    except ParseError as err:
        raise click.ClickException(f"{file}: {err}") from None
    for line in json_lines(parsed, tables or TABLES):
        click.echo(line)


def _variables(pairs: tuple[str, ...]) -> dict[str, str]:
    variables = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--var")
        variables[key.strip()] = value.strip()
    return variables


def json_lines(parsed: ParsedTables, tables: tuple[str, ...] = TABLES) -> Iterator[str]:
    """Rows as JSON: dates YYYY-MM-DD, UTC times ISO 8601 with Z, venue wall-clock times without zone,
    codes as strings, missing values null (never NaN)."""
    for name, frame in parsed.items():
        if name not in tables:
            continue
        for row in frame.to_dict("records"):
            record = {"table": name, **{column: _json_value(value) for column, value in row.items()}}
            yield json.dumps(record, allow_nan=False, ensure_ascii=False)


def _json_value(value: Any) -> Any:
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_value(item) for item in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return _timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value


def _timestamp(value: pd.Timestamp) -> str:
    if value.tzinfo is not None:
        value = value.tz_convert("UTC").tz_localize(None)
        suffix = "Z"
    else:
        suffix = ""  # a venue's wall-clock time
    precision = "nanoseconds" if value.nanosecond else "microseconds" if value.microsecond else "seconds"
    text = value.isoformat(timespec=precision)
    return text + suffix
