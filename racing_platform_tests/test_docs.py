"""Documents generated from or pinned to the code stay true."""

from __future__ import annotations

import re

from racing_platform.lib.contracts_doc import DOC_PATH, render
from racing_platform_tests.paths import REPO


def test_data_contracts_doc_is_generated_from_the_pandera_models():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), "run `racing-platform docs contracts`"


def test_every_runner_feature_column_is_documented():
    schema = (REPO / "racing_platform" / "warehouse" / "sql" / "schema.sql").read_text()
    ddl = schema[schema.index("CREATE TABLE IF NOT EXISTS runner_features") :]
    columns = re.findall(r"^\s+(\w+) [A-Z]", ddl[: ddl.index(");")], flags=re.M)
    documented = set(re.findall(r"`(\w+)`", (REPO / "docs" / "features.md").read_text()))
    assert len(columns) > 40
    assert sorted(set(columns) - documented) == []
