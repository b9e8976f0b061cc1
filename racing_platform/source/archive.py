"""Append-only archive of every complete racing.com answer, so parsers can be re-run without the network.

Design: one SQLite table, one row per distinct content. A row's identity is the sha256 of the canonical
JSON (sorted keys, no whitespace) of `{"operation", "variables", "body"}`; its body is stored
gzip-compressed and is immutable, enforced by triggers. Fetching identical content again inserts nothing
new; it only moves `last_fetched_at` forward and counts the fetch. Rows are never deleted.
`first_fetched_at` says when the content was first seen and `last_fetched_at` until when it was still
served, which is what a point-in-time re-parse needs. Only server bodies go in: no headers, no URL, no key.

`outcome` records how the client classified the answer ("ok", "graphql_error", "auth_error",
"shape_error"), so failed answers stay inspectable while re-parsing reads only the "ok" ones by default.

Cost per answer matters for season backfills (a whole meeting is ~220 kB of JSON): the body is serialised
once and that text serves the hash, the stored blob and the caller's raw row; gzip runs at level 3 (any
level reads back the same, and the hash is of the text, not of the blob); and each process keeps one
SQLite connection per thread, so a write is one autocommit statement instead of an open, insert, read-back
and the WAL checkpoint SQLite runs when the last connection to a database closes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from racing_platform.source.config import ClientConfig, default_archive_path
from racing_platform.source.state_files import prepare

_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_GZIP_LEVEL = 3
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    sha256 TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    variables TEXT NOT NULL,
    body BLOB NOT NULL,
    outcome TEXT NOT NULL,
    first_fetched_at TEXT NOT NULL,
    last_fetched_at TEXT NOT NULL,
    fetch_count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_by_operation ON responses (operation, first_fetched_at);
CREATE TRIGGER IF NOT EXISTS responses_content_immutable
BEFORE UPDATE OF sha256, operation, variables, body, outcome, first_fetched_at ON responses
BEGIN SELECT RAISE(ABORT, 'archived responses are immutable: only last_fetched_at and fetch_count move'); END;
CREATE TRIGGER IF NOT EXISTS responses_never_deleted
BEFORE DELETE ON responses
BEGIN SELECT RAISE(ABORT, 'the response archive is append-only'); END;
"""


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_sha256(operation: str, variables: dict[str, Any], body: Any) -> str:
    return _document_sha256(operation, canonical_json(variables), canonical_json(body).encode("utf-8"))


def _document_sha256(operation: str, variables_text: str, body_utf8: bytes) -> str:
    """sha256 of `canonical_json({"operation", "variables", "body"})`, built from texts already serialised.

    Sorted keys put "body" first, then "operation", then "variables"; nested values serialise the same
    inside the document as alone, so this is byte for byte the document the archive has always hashed.
    """
    digest = hashlib.sha256(b'{"body":')
    digest.update(body_utf8)
    digest.update(f',"operation":{canonical_json(operation)},"variables":{variables_text}}}'.encode())
    return digest.hexdigest()


def _format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"fetched_at must be timezone-aware UTC, got naive {moment!r}")
    return moment.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True)
class ArchivedAnswer:
    """What `ResponseArchive.record_answer` stored or found: the key, the canonical body text and the
    content's first and last fetch times as the archive holds them after this fetch."""

    sha256: str
    body_text: str
    first_fetched_at: datetime
    last_fetched_at: datetime


@dataclass(frozen=True)
class ArchiveRecord:
    sha256: str
    operation: str
    variables: dict[str, Any]
    body: Any
    outcome: str
    first_fetched_at: datetime
    last_fetched_at: datetime
    fetch_count: int


class ResponseArchive:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        db = self._connection()
        prepare(db, _SCHEMA)

    @classmethod
    def from_config(cls, config: ClientConfig) -> ResponseArchive:
        return cls(config.archive_path)

    def __repr__(self) -> str:
        return f"ResponseArchive({str(self.path)!r})"

    def record(
        self,
        operation: str,
        variables: dict[str, Any],
        body: Any,
        *,
        fetched_at: datetime,
        outcome: str = "ok",
    ) -> str:
        """Store `body` (or just note that it was seen again) and return its sha256."""
        return self.record_answer(operation, variables, body, fetched_at=fetched_at, outcome=outcome).sha256

    def record_answer(
        self,
        operation: str,
        variables: dict[str, Any],
        body: Any,
        *,
        fetched_at: datetime,
        outcome: str = "ok",
    ) -> ArchivedAnswer:
        """`record`, also returning the canonical body text and the content's fetch times (one statement)."""
        stamp = _format_time(fetched_at)
        body_text = canonical_json(body)
        body_utf8 = body_text.encode("utf-8")
        variables_text = canonical_json(variables)
        sha = _document_sha256(operation, variables_text, body_utf8)
        compressed = gzip.compress(body_utf8, compresslevel=_GZIP_LEVEL, mtime=0)
        [(first, last)] = (
            self._connection()
            .execute(
                "INSERT INTO responses (sha256, operation, variables, body, outcome,"
                " first_fetched_at, last_fetched_at, fetch_count) VALUES (?, ?, ?, ?, ?, ?, ?, 1)"
                " ON CONFLICT(sha256) DO UPDATE SET"
                " last_fetched_at = max(last_fetched_at, excluded.last_fetched_at),"
                " fetch_count = fetch_count + 1"
                " RETURNING first_fetched_at, last_fetched_at",
                (sha, operation, variables_text, compressed, outcome, stamp, stamp),
            )
            .fetchall()
        )
        return ArchivedAnswer(sha, body_text, _parse_time(first), _parse_time(last))

    def get(self, sha256: str) -> ArchiveRecord | None:
        row = (
            self._connection()
            .execute(f"SELECT {_COLUMNS} FROM responses WHERE sha256 = ?", (sha256,))
            .fetchone()
        )
        return _to_record(row) if row else None

    def iter_records(
        self, *, operation: str | None = None, outcome: str | None = "ok"
    ) -> Iterator[ArchiveRecord]:
        """Records in the order their content was first fetched; `outcome=None` includes failed answers."""
        clauses, params = [], []
        if operation is not None:
            clauses.append("operation = ?")
            params.append(operation)
        if outcome is not None:
            clauses.append("outcome = ?")
            params.append(outcome)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        query = f"SELECT {_COLUMNS} FROM responses{where} ORDER BY first_fetched_at, rowid"
        with closing(self._connect()) as db:
            for row in db.execute(query, params):
                yield _to_record(row)

    def __len__(self) -> int:
        return self._connection().execute("SELECT count(*) FROM responses").fetchone()[0]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled or copied without this process's connections; the copy opens its own."""
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _local=threading.local())

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30.0, isolation_level=None)

    def _connection(self) -> sqlite3.Connection:
        """This thread's autocommit connection, opened again in a forked child (a connection must not cross
        a fork)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.db, local.pid = self._connect(), os.getpid()
        return local.db


_COLUMNS = "sha256, operation, variables, body, outcome, first_fetched_at, last_fetched_at, fetch_count"


def _to_record(row: tuple) -> ArchiveRecord:
    sha, operation, variables, body, outcome, first, last, count = row
    return ArchiveRecord(
        sha256=sha,
        operation=operation,
        variables=json.loads(variables),
        body=json.loads(gzip.decompress(body).decode("utf-8")),
        outcome=outcome,
        first_fetched_at=_parse_time(first),
        last_fetched_at=_parse_time(last),
        fetch_count=count,
    )


def iter_archive(
    path: Path | None = None, *, operation: str | None = None, outcome: str | None = "ok"
) -> Iterator[ArchiveRecord]:
    """Every archived answer (by default the configured archive, "ok" answers only), oldest content first."""
    path = path if path is not None else default_archive_path()
    if not Path(path).is_file():
        raise FileNotFoundError(f"no response archive at {path} (set RACING_COM_ARCHIVE_PATH or fetch first)")
    yield from ResponseArchive(path).iter_records(operation=operation, outcome=outcome)
