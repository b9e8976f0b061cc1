"""Rules an answer must pass before it replaces stored data, written once for every asset that stores it.

`validate_cell_answer` judges a cell's parsed tables: each table's pandera contract, then the rules
below, which compare the answer with what the warehouse already holds. raw_race_cards applies it before
storing what it fetched (`accept_answers` refuses only the bodies that break a rule, race by race: the
refused ones stay in the archive and go to fetch_failures); race_cards and race_results apply it again
to what they parse from the stored bodies before writing. A breach names its race, table, field and rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import duckdb
import numpy as np
import pandas as pd
import pandera.errors
import pandera.pandas as pa

from racing_platform import contracts
from racing_platform.cards.tables import CellTables, UnreadableBody, parse_cell
from racing_platform.partitions import Cell

BREACH_COLUMNS = ["table", "rule", "field", "meet_code", "race_number", "race_code", "detail"]
RACE = ["meet_code", "race_number", "race_code"]
REQUEST = ["meet_code", "operation", "race_number"]  # one raw body per request of a cell
BODY_COLUMNS = ["body_meet_code", "body_race_number", "body_operation", "body_sha256"]


@cache
def sql(name: str) -> str:
    """The query in cards/sql/`name`.sql."""
    return resources.files("racing_platform.cards").joinpath(f"sql/{name}.sql").read_text()


@dataclass(frozen=True)
class StoredCell:
    """What the warehouse holds that one answer must not take away or contradict."""

    # Per race stored in the cell: meet_code, race_number, race_code, race_status, runners, placings.
    races: pd.DataFrame
    # The answer's race codes stored under another cell: race_code, meeting_date, venue_slug.
    elsewhere: pd.DataFrame


def stored_cell(conn: duckdb.DuckDBPyConnection, cell: Cell, race_codes: Iterable[str]) -> StoredCell:
    params = {"day": cell.meeting_date, "venue": cell.venue_slug}
    return StoredCell(
        races=conn.execute(sql("stored_races"), params).df(),
        elsewhere=conn.execute(
            sql("races_elsewhere"), {**params, "codes": sorted(set(race_codes) - {None})}
        ).df(),
    )


@dataclass(frozen=True)
class Rule:
    name: str
    text: str
    # The offending races: table, field, meet_code, race_number, race_code, detail.
    find: Callable[[Cell, CellTables, StoredCell], pd.DataFrame]


def _breaches(rows: pd.DataFrame, table: str, field: str, detail: pd.Series | str) -> pd.DataFrame:
    return rows[RACE].assign(table=table, field=field, detail=detail)


def _status_kept(cell: Cell, tables: CellTables, stored: StoredCell) -> pd.DataFrame:
    known = stored.races.dropna(subset=["race_status"])
    unknown_now = tables.races.loc[tables.races["race_status"].isna(), "race_code"]
    lost = known[known["race_code"].isin(unknown_now)]
    return _breaches(lost, "races", "race_status", "stored " + lost["race_status"] + ", the answer none")


def _runners_kept(cell: Cell, tables: CellTables, stored: StoredCell) -> pd.DataFrame:
    had = stored.races[stored.races["runners"] > 0]
    lost = had[~had["race_code"].isin(tables.runners["race_code"])]
    return _breaches(
        lost,
        "runners",
        "formRaceEntries",
        "stored " + lost["runners"].astype(str) + " runner(s), the answer none",
    )


def _placings_kept(cell: Cell, tables: CellTables, stored: StoredCell) -> pd.DataFrame:
    placed = tables.results.loc[tables.results["finish_position"].notna(), "race_code"]
    had = stored.races[stored.races["placings"] > 0]
    lost = had[~had["race_code"].isin(placed)]
    return _breaches(
        lost,
        "results",
        "finish_position",
        "stored " + lost["placings"].astype(str) + " placing(s), the answer none",
    )


def _winners_problem(positions: pd.Series) -> str | None:
    winners = int((positions == 1).sum())
    if winners == 0:
        return f"no winner among {len(positions)} placing(s)"
    skipped = sorted(int(p) for p in positions[(positions > 1) & (positions <= winners)])
    if winners > 1 and skipped:
        return f"{winners} runners placed 1st, yet also placed {skipped}: not a dead heat"
    return None


def _one_winner(cell: Cell, tables: CellTables, stored: StoredCell) -> pd.DataFrame:
    placed = tables.results.dropna(subset=["finish_position"])
    problems = placed.groupby(RACE, dropna=False)["finish_position"].agg(_winners_problem).dropna()
    found = problems.rename("detail").reset_index()
    return _breaches(found, "results", "finish_position", found["detail"])


def _race_in_one_cell(cell: Cell, tables: CellTables, stored: StoredCell) -> pd.DataFrame:
    clash = tables.races[RACE].merge(stored.elsewhere, on="race_code")
    other = pd.to_datetime(clash["meeting_date"]).dt.strftime("%Y-%m-%d") + "|" + clash["venue_slug"]
    return _breaches(
        clash, "races", "race_code", "stored under cell " + other + f", answered for cell {cell}"
    )


def _answer_in_cell(cell: Cell, tables: CellTables, stored: StoredCell) -> pd.DataFrame:
    found = []
    for table, frame in tables.items():
        if frame.empty or not {"meeting_date", "venue_slug"} <= set(frame.columns):
            continue
        day = pd.to_datetime(frame["meeting_date"], errors="coerce").dt.date
        outside = frame[(day != cell.meeting_date) | (frame["venue_slug"] != cell.venue_slug).fillna(True)]
        outside = outside.drop_duplicates(RACE)
        said = outside["meeting_date"].astype(str) + "|" + outside["venue_slug"].astype(str)
        found.append(
            _breaches(outside, table, "meeting_date, venue_slug", f"asked for {cell}, answered " + said)
        )
    return pd.concat(found, ignore_index=True) if found else _breaches(tables.races.head(0), "", "", "")


def _runner_has_race(cell: Cell, tables: CellTables, stored: StoredCell) -> pd.DataFrame:
    orphans = tables.runners[~tables.runners["race_code"].isin(tables.races["race_code"])]
    orphans = orphans.drop_duplicates(RACE)
    return _breaches(orphans, "runners", "race_code", "no such race in the answer's races")


RULES = (
    Rule(
        "status_kept",
        "A stored race never loses its status because one answer says so: an answer giving a race the "
        "warehouse holds a status for (e.g. Paying) no status at all is refused.",
        _status_kept,
    ),
    Rule(
        "runners_kept",
        "A stored race never shrinks to zero runners because one answer says so: an answer giving a race "
        "the warehouse holds runners for no runner at all is refused.",
        _runners_kept,
    ),
    Rule(
        "placings_kept",
        "A stored race never loses its placings because one answer says so: an answer giving a resulted "
        "race no placing (all scratched, or no result) is refused.",
        _placings_kept,
    ),
    Rule(
        "one_winner",
        "A resulted race (one with any placing) has exactly one finish_position 1. Dead heats excepted, "
        "explicitly: racing.com sends no dead-heat flag; it marks a dead heat by the shared placing and "
        "the places it skips (a dead heat for 11th is 11, 11, 13). So k >= 2 runners may share 1st only "
        "when no runner is placed 2..k.",
        _one_winner,
    ),
    Rule(
        "race_in_one_cell",
        "A race code belongs to one venue and one date: an answer whose race codes are stored under "
        "another (date, venue) cell is refused, naming both cells.",
        _race_in_one_cell,
    ),
    Rule(
        "answer_in_cell",
        "Every row of an answer belongs to the cell asked for: its meeting_date and venue_slug are the "
        "cell's.",
        _answer_in_cell,
    ),
    Rule("runner_has_race", "Every runner's race is among the answer's races.", _runner_has_race),
)
# Judged before the rules: a body they cannot be applied to.
READABLE = (
    "readable",
    "A raw body is stored only if the parser can read it (source/formats.py); one stored before the parser "
    "grew stricter is dropped from raw_race_cards (the archive keeps it) rather than jam its cell.",
)
RULE_TEXT = {rule.name: rule.text for rule in RULES} | dict([READABLE])

CARD_TABLES = frozenset({"races", "runners", "odds", "odds_flucs"})
RESULT_TABLES = frozenset({"results"})


def validate_cell_answer(
    cell: Cell,
    tables: CellTables,
    stored: StoredCell,
    guarding: frozenset[str] = CARD_TABLES | RESULT_TABLES,
    contract_found: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every breach of the `guarding` tables' contracts and of the rules by a cell's parsed answer.

    Empty when the answer may be written. One row per breach: table, rule, field, race, detail.
    `contract_found`: the cell's contract breaches when already judged (`contract_breaches_by_cell`).
    """
    if contract_found is None:
        found = [
            contract_breaches(table, contracts.SCHEMAS[table], frame)
            for table, frame in tables.items()
            if table in guarding
        ]
    else:
        found = [contract_found]
    found += [rule.find(cell, tables, stored).assign(rule=rule.name) for rule in RULES]
    found = [f for f in found if len(f)]
    if not found:
        return pd.DataFrame(columns=BREACH_COLUMNS)
    breaches = pd.concat(found, ignore_index=True)
    return breaches.loc[breaches["table"].isin(guarding), BREACH_COLUMNS].reset_index(drop=True)


def contract_breaches_by_cell(
    answers: Mapping[Cell, CellTables], guarding: frozenset[str]
) -> dict[Cell, pd.DataFrame]:
    """Each cell's contract breaches from one pandera pass per table over the rows of all `answers`.

    pandera's cost is mostly per call, so a run's cells are judged together. A breach is the cell's
    whose row broke it; one pandera names no row for (a column's dtype, say) is every cell's.
    """
    found: dict[Cell, list[pd.DataFrame]] = {cell: [] for cell in answers}
    for table in sorted(guarding):
        parts = {cell: getattr(tables, table) for cell, tables in answers.items()}
        parts = {cell: frame for cell, frame in parts.items() if len(frame)}
        if not parts:
            continue
        owners = list(parts)
        frame = pd.concat(parts.values(), ignore_index=True)
        owner = pd.Series(np.repeat(np.arange(len(owners)), [len(f) for f in parts.values()]))
        breaches = contract_breaches(table, contracts.SCHEMAS[table], frame, owner=owner)
        for index, rows in breaches.groupby("owner", dropna=False):
            for cell in owners if pd.isna(index) else [owners[int(index)]]:
                found[cell].append(rows[BREACH_COLUMNS])
    return {
        cell: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BREACH_COLUMNS)
        for cell, parts in found.items()
    }


def contract_breaches(
    table: str, schema: type[pa.DataFrameModel], frame: pd.DataFrame, owner: pd.Series | None = None
) -> pd.DataFrame:
    """`frame`'s breaches of its pandera contract, one per failing row and check, naming the race.

    `owner` (aligned with `frame`) is carried into column `owner` for the failing row (null: no row).
    """
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        return _named_cases(table, schema.__name__, exc.failure_cases, frame, owner)
    return pd.DataFrame(columns=BREACH_COLUMNS + ([] if owner is None else ["owner"]))


def _named_cases(
    table: str, contract: str, cases: pd.DataFrame, frame: pd.DataFrame, owner: pd.Series | None
) -> pd.DataFrame:
    """pandera lists a table-wide check once per column of each failing row: fold those into one row
    whose field is the columns the check compares (a uniqueness check) or `row` (any other)."""
    cases = cases.assign(check=cases["check"].astype(str), column=cases["column"].astype(str))
    table_wide = cases["schema_context"].eq("DataFrameSchema") & cases["index"].notna()
    folded = (
        cases[table_wide]
        .groupby(["check", "index"], sort=False)
        .agg(column=("column", ", ".join), failure_case=("failure_case", lambda v: ", ".join(map(str, v))))
        .reset_index()
    )
    unique_check = folded["check"].eq("multiple_fields_uniqueness")
    folded["column"] = folded["column"].where(unique_check, "row")
    folded["failure_case"] = folded["failure_case"].where(unique_check, "")
    cases = pd.concat([cases.loc[~table_wide, folded.columns], folded], ignore_index=True)
    found = cases["index"].where(cases["index"].isin(frame.index))
    rows = frame.reindex(found.to_numpy()).reset_index(drop=True)
    who = [c for c in ("meeting_date", "venue_slug", "saddlecloth", "horse_name", "horse_code") if c in rows]
    named = [
        ", ".join([f"{c} {row[c]}" for c in who if pd.notna(row[c])] + [f"value {value}"] * (value != ""))
        for (_, row), value in zip(rows.iterrows(), cases["failure_case"].astype(str), strict=True)
    ]
    named = pd.DataFrame(
        {
            "table": table,
            "rule": contract + ": " + cases["check"],
            "field": cases["column"],
            **{c: rows.get(c, pd.NA) for c in RACE},
            "detail": named,
        }
    )[BREACH_COLUMNS]
    if owner is None:
        return named
    return named.assign(owner=owner.reindex(found.to_numpy()).to_numpy())


def describe(breaches: pd.DataFrame, limit: int = 3) -> str:
    """One line naming the first breaches' race, field and rule (the cell is named by the caller)."""
    distinct = breaches.drop_duplicates(["table", "rule", "field", "race_code"])
    lines = [
        f"race {_race(b)} {b.table}.{b.field}: {b.rule} ({b.detail})"
        for b in distinct.head(limit).itertuples()
    ]
    more = len(distinct) - limit
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


def _race(breach) -> str:
    if pd.isna(breach.meet_code) and pd.isna(breach.race_code):
        return "(all)"
    number = "" if pd.isna(breach.race_number) else f" R{int(breach.race_number)}"
    return f"{breach.meet_code}{number} ({breach.race_code})"


# -- raw bodies: which fetched answers may replace stored ones ---------------------------------------


def latest_per_request(stored: pd.DataFrame, fetched: pd.DataFrame) -> pd.DataFrame:
    """New bodies replace stored ones for the same request; requests not re-fetched are kept.

    Index labels say where a body comes from: ("stored", i) or ("fetched", i), i its row in that frame.
    """
    parts = {"stored": stored.astype({"race_number": "Int64"}), "fetched": fetched}
    merged = pd.concat(
        {source: frame for source, frame in parts.items() if len(frame)} or {"fetched": fetched}
    )
    return merged.drop_duplicates(subset=REQUEST, keep="last")


@dataclass(frozen=True)
class Acceptance:
    raw: pd.DataFrame  # the cell's raw bodies to store: stored ones, replaced by the fetched ones that passed
    # Per refused fetched body and breach: the breach's columns, and the body's (body_meet_code,
    # body_race_number, body_operation, body_sha256).
    refused: pd.DataFrame
    tables: CellTables  # the parse of `raw`


def accept_answers(
    cell: Cell,
    meetings: pd.DataFrame,
    stored_raw: pd.DataFrame,
    fetched_raw: pd.DataFrame,
    load_stored: Callable[[Iterable[str]], StoredCell],
    first_judged: tuple[CellTables, pd.DataFrame] | None = None,
) -> Acceptance:
    """Keep the fetched bodies whose parse passes `validate_cell_answer` together with the stored ones.

    A breach is blamed on the fetched body that gave the race its rows in the broken table, or, when the
    answer left the race without rows, on every fetched body about the race; those bodies are set aside
    and the rest judged again, until what remains passes or no fetched body is left to blame (then the
    breach lies in stored bodies, and race_cards/race_results block).
    `first_judged`: the parse of the first candidate (`first_candidate`) and its contract breaches, when
    a run already judged all its cells' first candidates together (`first_candidates_judged`).
    """
    fetched = fetched_raw.reset_index(drop=True)
    refused: list[pd.DataFrame] = []
    stored: StoredCell | None = None
    while True:
        candidate = latest_per_request(stored_raw, fetched)
        contract_found = None
        try:
            if first_judged is not None:
                (tables, contract_found), first_judged = first_judged, None
            else:
                tables = parse_cell(candidate, meetings)
        except UnreadableBody as exc:
            source, row = exc.body
            if source == "fetched":
                refused.append(_unreadable(fetched.loc[[row]], exc, source))
                fetched = fetched.drop(index=row)
            else:
                refused.append(_unreadable(stored_raw.loc[[row]], exc, source))
                stored_raw = stored_raw.drop(index=row)
            continue
        stored = stored or load_stored(tables.races["race_code"])
        breaches = validate_cell_answer(cell, tables, stored, contract_found=contract_found)
        blamed = _blame(breaches, tables.sources, candidate)
        if not refused:  # first pass: also the rows of fetched bodies that other bodies outrank
            outranked = _outranked_contract_breaches(tables)
            blamed = pd.concat([f for f in (outranked, blamed) if len(f)] or [blamed], ignore_index=True)
        if blamed.empty:
            refusals = (
                pd.concat(refused, ignore_index=True)
                if refused
                else pd.DataFrame(columns=BREACH_COLUMNS + BODY_COLUMNS)
            )
            return Acceptance(raw=candidate.reset_index(drop=True), refused=refusals, tables=tables)
        body = fetched[["meet_code", "race_number", "operation", "sha256"]].add_prefix("body_")
        refused.append(blamed.merge(body, left_on="body", right_index=True))
        fetched = fetched.drop(index=blamed["body"].unique())


def first_candidates_judged(
    answers: Mapping[Cell, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]],
) -> dict[Cell, tuple[CellTables, pd.DataFrame]]:
    """Each cell's first candidate (stored bodies replaced by all fetched ones) parsed and its contracts
    judged in one pandera pass per table for all cells (pandera's cost is mostly per call).

    `answers`: per cell, (its meetings, its stored raw bodies, its fetched raw bodies). A cell whose
    candidate the parser cannot read is left out: `accept_answers` refuses body by body as usual.
    """
    parsed = {}
    for cell, (meetings, stored_raw, fetched_raw) in answers.items():
        candidate = latest_per_request(stored_raw, fetched_raw.reset_index(drop=True))
        try:
            parsed[cell] = parse_cell(candidate, meetings)
        except UnreadableBody:
            continue
    found = contract_breaches_by_cell(parsed, CARD_TABLES | RESULT_TABLES)
    return {cell: (tables, found[cell]) for cell, tables in parsed.items()}


def _unreadable(body: pd.DataFrame, exc: UnreadableBody, source: str) -> pd.DataFrame:
    """The refusal row of a body the parser cannot read (`source`: "fetched" or "stored")."""
    return pd.DataFrame(
        {
            "table": "raw_race_cards",
            "rule": READABLE[0],
            "field": exc.field or "",
            "meet_code": body["meet_code"].to_numpy(),
            "race_number": body["race_number"].astype("Int64").to_numpy(),
            "race_code": exc.race,
            "detail": str(exc),
            "body_meet_code": body["meet_code"].to_numpy(),
            "body_race_number": body["race_number"].astype("Int64").to_numpy(),
            "body_operation": body["operation"].to_numpy(),
            "body_sha256": body["sha256"].to_numpy(),
            "body_source": source,
        }
    )


def _outranked_contract_breaches(tables: CellTables) -> pd.DataFrame:
    """Contract breaches in the rows of fetched bodies that another body outranks (the chosen rows are
    judged with the cell): a body is stored only if all it says passes, chosen or not."""
    found = []
    for table, rows in tables.answers.items():
        chosen = tables.sources[tables.sources["table"] == table]
        chosen_keys = chosen["race_code"].astype(str) + "|" + chosen["body"].astype(str)
        keys = rows["race_code"].astype(str) + "|" + rows["_body"].astype(str)
        outranked = rows[~keys.isin(chosen_keys) & (rows["_body"].str[0] == "fetched")]
        for body, own in outranked.groupby(outranked["_body"].str[1]):
            breaches = contract_breaches(table, contracts.SCHEMAS[table], own.drop(columns="_body"))
            found.append(breaches.assign(body=body))
    found = [f for f in found if len(f)]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=[*BREACH_COLUMNS, "body"])


def _blame(breaches: pd.DataFrame, sources: pd.DataFrame, candidate: pd.DataFrame) -> pd.DataFrame:
    """Per breach, the fetched bodies it comes from (column `body`: the body's row in the fetched frame)."""
    fetched = candidate[candidate.index.get_level_values(0) == "fetched"]
    if breaches.empty or fetched.empty:
        return breaches.iloc[0:0].assign(body=pd.Series(dtype="int64"))
    bodies = pd.DataFrame(
        {
            "body": fetched.index.get_level_values(1),
            "meet_code": fetched["meet_code"].to_numpy(),
            "body_race": fetched["race_number"].astype("Int64").to_numpy(),
        }
    )
    with_rows = pd.MultiIndex.from_frame(sources[["table", "race_code"]])
    has_rows = breaches["race_code"].notna() & pd.MultiIndex.from_frame(
        breaches[["table", "race_code"]]
    ).isin(with_rows)
    own = sources[sources["body"].str[0] == "fetched"].assign(body=lambda s: s["body"].str[1])
    sourced = breaches[has_rows].merge(own, on=["table", "race_code"])
    absent = breaches[~has_rows & breaches["meet_code"].notna()].merge(bodies, on="meet_code")
    absent = absent[absent["body_race"].isna() | absent["body_race"].eq(absent["race_number"]).fillna(False)]
    whole = breaches[~has_rows & breaches["meet_code"].isna()].merge(bodies[["body"]], how="cross")
    blamed = pd.concat([sourced, absent.drop(columns="body_race"), whole], ignore_index=True)
    return blamed.drop_duplicates(["body", "table", "rule", "field", "race_code"])
