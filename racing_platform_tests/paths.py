"""Paths the tests read: the shared real racing.com responses and the project's query documents."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
RACING_COM_FIXTURES = REPO / ".." / "shared" / "fixtures" / "racing_com"
CLIENT_QUERIES = REPO / "racing_platform" / "source" / "queries"
REFERENCE_DOCUMENTS = TESTS / "simulator" / "documents"
