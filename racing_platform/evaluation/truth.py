"""The simulator's truth, kept aside for evaluation: true win probabilities of each resulted race.

The simulator serves them at `GET <base>/_sim/truth?meetCode=...` (simulator/server.py), where
<base> is the GraphQL URL's scheme, host and port. racing.com has no such channel: against it (or
any endpoint answering that path with an error or a non-truth body) nothing is stored and the
cell's metadata says "no truth channel"; the step does not fail. Only races that have a winner are
captured, so truth never sits in the warehouse before its race is run; features and the model never
read `simulator_truth` (docs/evaluation.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

import pandas as pd
import requests

from racing_platform.lib.cell_runs import WARN, Outcome, Verdict, cells_params, nothing_there, rows_by_cell
from racing_platform.lib.failures import TransientFault
from racing_platform.lib.metadata import frame_metadata
from racing_platform.partitions import Cell
from racing_platform.source.config import SIMULATOR_URL
from racing_platform.source.resource import RacingComResource
from racing_platform.warehouse.resource import Warehouse

NO_TRUTH = "no truth channel"
TRUTH_PATH = "/_sim/truth"
TRUTH_TIMEOUT_S = 30.0
TRUTH_COLUMNS = ["meeting_date", "venue_slug", "race_code", "horse_code", "saddlecloth", "true_win_prob"]
SUM_TOLERANCE = 1e-6
# Hosts known to be the real API: never asked for a path only the simulator serves.
REAL_API_DOMAINS = ("racing.com",)


class TruthUnreachableError(TransientFault, RuntimeError):
    """The simulator did not answer (connection refused, timeout, 5xx, 429): the step's policy retries."""


@cache
def _sql(name: str) -> str:
    return resources.files("racing_platform.evaluation").joinpath(f"sql/{name}.sql").read_text()


def graphql_url_of(resource: RacingComResource) -> str | None:
    """The GraphQL URL the source client uses (resource, then RACING_COM_GRAPHQL_URL, then the embedded
    simulator); None when it would be discovered from racing.com's config.js (the real API)."""
    url = resource.graphql_url or os.environ.get("RACING_COM_GRAPHQL_URL")
    if url:
        return url
    if os.environ.get("RACING_COM_CONFIG_JS_URL"):
        return None
    return SIMULATOR_URL


def truth_base_url(graphql_url: str | None) -> str | None:
    """scheme://host:port of the GraphQL URL, or None for the real API (which has no truth channel)."""
    if not graphql_url:
        return None
    parts = urlsplit(graphql_url)
    host = (parts.hostname or "").lower()
    if any(host == d or host.endswith(f".{d}") for d in REAL_API_DOMAINS):
        return None
    return f"{parts.scheme}://{parts.netloc}"


def fetch_truth(base_url: str, meet_code: str, *, timeout: float = TRUTH_TIMEOUT_S) -> pd.DataFrame | None:
    """The truth rows of a meeting (race_code, horse_code, saddlecloth, true_win_prob, ...); None when
    `base_url` has no truth channel (a 4xx other than 429, or a body that is not the channel's)."""
    url = f"{base_url}{TRUTH_PATH}"
    try:
        response = requests.get(url, params={"meetCode": meet_code}, timeout=timeout)
    except requests.RequestException as exc:
        raise TruthUnreachableError(f"GET {url}?meetCode={meet_code}: {type(exc).__name__}: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise TruthUnreachableError(f"GET {url}?meetCode={meet_code}: HTTP {response.status_code}")
    if response.status_code >= 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        return None
    frame = pd.DataFrame(rows, columns=None if rows else ["race_code", "horse_code", "saddlecloth"])
    if rows and not {"race_code", "horse_code", "true_win_prob"} <= set(frame.columns):
        return None
    return frame


def capture_truth(warehouse: Warehouse, cells: Sequence[Cell], graphql_url: str | None) -> dict[str, Outcome]:
    """Store the truth of each cell's resulted races (one transaction for every cell with truth).

    Returns each cell's outcome by partition key: its rows, or why there are none (no resulted race,
    no truth channel, the channel knows none of its races). Stored truth is kept when nothing new came.
    """
    base = truth_base_url(graphql_url)
    outcomes: dict[str, Outcome] = {}
    with warehouse.connect() as conn:
        resulted = rows_by_cell(conn.execute(_sql("cells_resulted_races"), cells_params(cells)).df())
        frames, keys = [], []
        channel = base is not None
        for cell in cells:
            races = resulted.get(cell)
            if races is None:
                outcomes[str(cell)] = nothing_there("truth", "no resulted race in this cell")
                continue
            if not channel:
                outcomes[str(cell)] = _no_channel(graphql_url)
                continue
            fetched = []
            for meet_code in races["meet_code"].drop_duplicates():
                answer = fetch_truth(base, str(meet_code))
                if answer is None:
                    channel = False
                    break
                fetched.append(answer)
            if not channel:
                outcomes[str(cell)] = _no_channel(graphql_url)
                continue
            truth = _cell_truth(cell, races, fetched)
            if truth.empty:
                outcomes[str(cell)] = nothing_there("truth", "the truth channel knows none of these races")
                continue
            frames.append(truth)
            keys.append(cell.keys_frame())
            outcomes[str(cell)] = Outcome(
                metadata={**frame_metadata(truth), "races": int(truth["race_code"].nunique())},
                verdicts={"simulator_truth_sums_to_one": truth_verdict(truth)},
            )
        if frames:
            warehouse.replace_slices(
                {"simulator_truth": pd.concat(frames, ignore_index=True)},
                pd.concat(keys, ignore_index=True),
                conn=conn,
            )
    return outcomes


def _no_channel(graphql_url: str | None) -> Outcome:
    where = graphql_url or "racing.com (discovered endpoint)"
    return Outcome(metadata={"truth": f"none: {NO_TRUTH} at {where}", "dagster/row_count": 0})


def _cell_truth(cell: Cell, races: pd.DataFrame, fetched: list[pd.DataFrame]) -> pd.DataFrame:
    answers = [f for f in fetched if len(f)]
    if not answers:
        return pd.DataFrame(columns=TRUTH_COLUMNS)
    truth = pd.concat(answers, ignore_index=True)
    truth["race_code"] = truth["race_code"].astype(str)
    truth = truth[truth["race_code"].isin(set(races["race_code"].astype(str)))]
    if "saddlecloth" not in truth.columns:
        truth["saddlecloth"] = pd.NA
    truth = truth.assign(
        meeting_date=cell.meeting_date,
        venue_slug=cell.venue_slug,
        horse_code=truth["horse_code"].astype(str),
        saddlecloth=pd.to_numeric(truth["saddlecloth"], errors="coerce").astype("Int64"),
        true_win_prob=truth["true_win_prob"].astype(float),
    )
    return truth[TRUTH_COLUMNS].sort_values(["race_code", "saddlecloth"]).reset_index(drop=True)


def truth_verdict(truth: pd.DataFrame) -> Verdict:
    """The truth of each race sums to 1 over its final field (WARN: it comes from the simulator)."""
    sums = truth.groupby("race_code")["true_win_prob"].sum()
    off = sums[(sums - 1).abs() > SUM_TOLERANCE]
    if len(off):
        return Verdict(
            False,
            {"races_off": len(off)},
            severity=WARN,
            problem=f"truth not summing to 1 in races {', '.join(map(str, off.index[:10]))}",
        )
    return Verdict(True, {"races": int(sums.size)})
