"""Fetch the careers of the horses on a run's cards, once per horse, and store them in one transaction.

Which horses: those running on a cell's card (scratchings left out) whose career is not known up to the
cell's date, i.e. never fetched, or fetched before the cell's meeting day began (local midnight on the
platform's calendar). A fetch made after a race day holds every start before it, so in a season backfill
each horse is fetched about once, by the first cell of the run that needs it.

Incremental: pages come newest first, and paging stops at the first page that reaches a start already
stored. The fetched starts are merged onto the stored ones (same entry: the fetched row wins), so a
shorter answer never deletes a stored start; every fetched horse's whole career and its
`horse_career_fetches` row are replaced in one transaction. Nothing is written until every horse is
fetched: a bad page fails the run naming partition, horse, page, field and rule, a transient fault goes
to the step's RetryPolicy, and what is stored stays as it was.

Requests run on `config.concurrency` threads, one client each (a client serves one thread), all under
the run's one rate limit and budget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, time
from importlib import resources
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pandas as pd

from racing_platform.cards.assets import NO_MEETING, tracked_meetings
from racing_platform.contracts import HorseStartsSchema
from racing_platform.lib.cell_runs import Outcome, Verdict, cells_params, nothing_there
from racing_platform.lib.failures import failures_by_class
from racing_platform.lib.metadata import frame_metadata
from racing_platform.lib.validation import contract_failures
from racing_platform.partitions import Cell
from racing_platform.settings import load_settings
from racing_platform.source.client import FetchedResponse, RacingComClient
from racing_platform.source.parsers import parse_career_page, starts_frame
from racing_platform.warehouse.resource import Warehouse

CONTRACT_CHECK = "horse_careers_contract"
PREVIEW = ["horse_code", "race_date", "venue_name", "distance_m", "race_class", "finish_position"]


def sql(name: str) -> str:
    """The query in careers/sql/`name`.sql."""
    return resources.files("racing_platform.careers").joinpath(f"sql/{name}.sql").read_text()


@dataclass(frozen=True)
class Career:
    """One horse's fetch: the starts its pages held (rows, newest first, one per entry) and its cost."""

    horse_code: str
    starts: list[dict]
    pages: int
    fetched_at: pd.Timestamp


def fetch_career(client: RacingComClient, horse_code: str, stored_entries: frozenset[str]) -> Career:
    """A horse's starts since the newest stored one (all of them when none is stored)."""
    starts: dict[str, dict] = {}  # by entry: a start listed on two pages is kept once, as first seen
    pages = 0

    def reaches_stored(page: FetchedResponse) -> bool:
        nonlocal pages
        pages += 1
        rows = parse_career_page(
            page.payload, horse_code=horse_code, page=pages, fetched_at=page.fetched_at
        ).rows
        for row in rows:
            starts.setdefault(row["entry_id"], row)
        return any(row["entry_id"] in stored_entries for row in rows)

    fetched = client.horse_career(horse_code, stop=reaches_stored)
    return Career(horse_code, list(starts.values()), len(fetched), pd.Timestamp(fetched[0].fetched_at))


def fetch_careers(warehouse: Warehouse, client: RacingComClient, cells: Sequence[Cell]) -> dict[str, Outcome]:
    """Fetch the careers the run's cells need, judge them by cell, write those that passed at once.

    A horse is attributed to the first cell of the run that needs it (that cell's metadata counts its
    pages and starts; a failure names that cell). Returns each cell's outcome by partition key.
    """
    with warehouse.connect() as conn:
        meetings = tracked_meetings(conn, cells)
        with_cards = {
            Cell(row.meeting_date.date(), row.venue_slug)
            for row in conn.execute(sql("cells_with_cards"), cells_params(list(meetings))).df().itertuples()
        }
        missing = [str(cell) for cell in meetings if cell not in with_cards]
        if missing:
            raise dg.Failure(
                f"horse_careers: no race cards stored for {', '.join(missing[:5])}"
                f"{' and more' if len(missing) > 5 else ''}, so their horses are unknown; "
                "materialize race_cards first",
                allow_retries=False,
            )
        on_cards = conn.execute(sql("cells_horses"), cells_params(list(meetings))).df()
        needed = _needed_by_cell(on_cards)
        horses = [horse for codes in needed.values() for horse in codes]
        stored = _with_horses(conn, horses, lambda: conn.execute(sql("stored_entries")).df())
    stored_by_horse = {h: frozenset(rows["entry_id"]) for h, rows in stored.groupby("horse_code")}
    owner = {horse: cell for cell, codes in needed.items() for horse in codes}
    careers = _fetch_all(client, horses, stored_by_horse, owner)

    outcomes = {str(cell): nothing_there("meeting", NO_MEETING) for cell in cells if cell not in meetings}
    on_card = {
        cell: rows for cell, rows in on_cards.groupby([on_cards["meeting_date"].dt.date, "venue_slug"])
    }
    passed: list[Career] = []
    for cell in (c for c in cells if c in meetings):
        own = [careers[horse] for horse in needed.get(cell, [])]
        starts = starts_frame([row for career in own for row in career.starts])
        breaches = contract_failures(HorseStartsSchema, starts)
        if breaches is None:
            passed += own
        outcomes[str(cell)] = _outcome(
            starts, own, len(on_card.get((cell.meeting_date, cell.venue_slug), [])), breaches
        )
    if passed:
        _write(warehouse, passed)
    _add_stored_counts(warehouse, cells, outcomes)
    return {str(cell): outcomes[str(cell)] for cell in cells}


def _needed_by_cell(on_cards: pd.DataFrame) -> dict[Cell, list[str]]:
    """Each cell's horses whose career is not known up to the cell's day, each horse under its first cell."""
    zone = ZoneInfo(load_settings().timezone)
    needed: dict[Cell, list[str]] = {}
    taken: set[str] = set()
    for row in on_cards.itertuples(index=False):
        day = row.meeting_date.date()
        day_start = pd.Timestamp(datetime.combine(day, time(), tzinfo=zone))
        if row.horse_code in taken or (
            not pd.isna(row.career_fetched_at) and pd.Timestamp(row.career_fetched_at) >= day_start
        ):
            continue
        taken.add(row.horse_code)
        needed.setdefault(Cell(day, row.venue_slug), []).append(row.horse_code)
    return needed


def _fetch_all(
    client: RacingComClient,
    horses: list[str],
    stored: dict[str, frozenset[str]],
    owner: dict[str, Cell],
) -> dict[str, Career]:
    """Every horse's career over `client.config.concurrency` threads; the first failure cancels the rest
    and is raised naming the cell and horse (a transient fault unchanged, for the RetryPolicy)."""
    local = threading.local()
    siblings: list[RacingComClient] = []
    lock = threading.Lock()

    def fetch(worker: RacingComClient, horse: str) -> Career:
        with failures_by_class(f"horse_careers [{owner[horse]}] horse {horse}"):
            return fetch_career(worker, horse, stored.get(horse, frozenset()))

    def on_a_worker(horse: str) -> Career:
        worker = getattr(local, "client", None)
        if worker is None:
            worker = local.client = client.sibling()
            with lock:
                siblings.append(worker)
        return fetch(worker, horse)

    if client.config.concurrency <= 1 or len(horses) <= 1:
        return {horse: fetch(client, horse) for horse in horses}
    pool = ThreadPoolExecutor(client.config.concurrency, thread_name_prefix="careers")
    try:
        futures = {pool.submit(on_a_worker, horse): horse for horse in horses}
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f.exception() for f in done if f.exception() is not None), None)
        if failed is not None:
            raise failed
        return {horse: future.result() for future, horse in futures.items()}
    finally:
        pool.shutdown(cancel_futures=True)
        for sibling in siblings:
            sibling.close()


def _write(warehouse: Warehouse, careers: list[Career]) -> None:
    """Every fetched horse's merged career and its fetch row, in one transaction."""
    horses = [career.horse_code for career in careers]
    fetched = starts_frame([row for career in careers for row in career.starts])
    with warehouse.connect() as conn:
        conn.register("_fetched", fetched)
        try:
            merged = _with_horses(conn, horses, lambda: conn.execute(sql("merged_careers")).df())
        finally:
            conn.unregister("_fetched")
        counts = merged.groupby("horse_code").size()
        fetches = pd.DataFrame(
            {
                "horse_code": horses,
                "fetched_at": [career.fetched_at for career in careers],
                "starts": [int(counts.get(horse, 0)) for horse in horses],
                "pages": [career.pages for career in careers],
            }
        )
        keys = pd.DataFrame({"horse_code": horses})
        warehouse.replace_slices({"horse_starts": merged, "horse_career_fetches": fetches}, keys, conn=conn)


def _with_horses(conn: duckdb.DuckDBPyConnection, horses: list[str], query: Callable[[], pd.DataFrame]):
    """`query()` with the horses registered as the table `_horses` (a join, where a list parameter would
    be searched once per stored start)."""
    conn.register("_horses", pd.DataFrame({"horse_code": pd.Series(horses, dtype="string")}))
    try:
        return query()
    finally:
        conn.unregister("_horses")


def _outcome(starts: pd.DataFrame, own: list[Career], on_card: int, breaches: dict | None) -> Outcome:
    counts = {
        "horses_on_card": on_card,
        "horses_fetched": len(own),
        "horses_up_to_date": on_card - len(own),
        "pages": sum(career.pages for career in own),
        "starts_fetched": len(starts),
    }
    if breaches is not None:
        return Outcome(
            {},
            {
                CONTRACT_CHECK: Verdict(
                    False, breaches, problem=f"{breaches['failures']} contract failure(s), nothing written"
                )
            },
        )
    return Outcome(
        {**frame_metadata(starts, preview_columns=PREVIEW), **counts},
        {CONTRACT_CHECK: Verdict(True, {"starts_fetched": len(starts)})},
    )


def _add_stored_counts(warehouse: Warehouse, cells: Sequence[Cell], outcomes: dict[str, Outcome]) -> None:
    """Each written cell's `starts_stored`: the starts now stored for its card's horses."""
    judged = [cell for cell in cells if outcomes[str(cell)].verdicts and not outcomes[str(cell)].blocked]
    if not judged:
        return
    with warehouse.connect() as conn:
        counts = conn.execute(sql("cells_stored_starts"), cells_params(judged)).df()
    for row in counts.itertuples(index=False):
        key = str(Cell(row.meeting_date.date(), row.venue_slug))
        if key in outcomes:
            outcomes[key].metadata["starts_stored"] = int(row.starts_stored)
