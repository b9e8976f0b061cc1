"""docs/data_contracts.md, generated from the pandera models so the document cannot drift from them.

Regenerate with `racing-platform docs contracts`; a test fails when the committed file differs.
"""

from __future__ import annotations

import pandera.pandas as pa

from racing_platform import contracts
from racing_platform.cards.rules import RULES
from racing_platform.paths import REPO_ROOT

DOC_PATH = REPO_ROOT / "docs" / "data_contracts.md"

# Rules that live in asset code because they span tables or stages (kept here so the doc lists them).
CROSS_TABLE_RULES = [
    (
        "source parsers",
        "a non-runner listed on the saddlecloth of another entry is left out (racing.com lists a scratching"
        " and its emergency replacement on one number); entries that ran are always kept",
    ),
    (
        "source parsers",
        "null, blank and (in measures starting above zero) 0 are stored as null; a wrong JSON type, a"
        " non-finite number or an answer above the `source.formats.MAX_*` sizes is refused naming race and"
        " field; names lose control characters and line separators (rules: `source/formats.py`)",
    ),
    ("runner_features", "one row per runner on the card; rates in [0, 1]; a first starter has no form"),
    (
        "predictions",
        "stage-1 and blended win probabilities in [0, 1] and summing to 1 per race and snapshot over the "
        "final field; every non-scratched runner priced, scratched runners not",
    ),
    (
        "daily_evaluation, evaluation_summary",
        "no race dated before its model version's cutoff (a race the version trained on) is scored; "
        "every source's probabilities sum to 1 per race",
    ),
]


def _rules(column: pa.Column) -> str:
    rules = [check.error or check.name for check in column.checks]
    if column.unique:
        rules.append("unique")
    return "; ".join(f"`{r}`" for r in rules) or ""


def render() -> str:
    lines = [
        "# Data contracts",
        "",
        "Generated from `racing_platform/contracts.py` by `racing-platform docs contracts` (do not edit).",
        "Assets validate every frame with these pandera models *before* writing it; a failure is reported as",
        "a blocking asset check naming the rows and rules, and nothing is written (stored data is kept).",
        "",
    ]
    described = contracts.column_descriptions()  # also the UI's column descriptions (lib/metadata.py)
    for table, model in contracts.DOCUMENTED.items():
        schema = model.to_schema()
        lines += [f"## `{table}` — `{model.__name__}`", ""]
        if model.__doc__:
            lines += [" ".join(model.__doc__.split()), ""]
        lines += ["| column | description | dtype | nullable | rules |", "|---|---|---|---|---|"]
        for name, column in schema.columns.items():
            nullable = "yes" if column.nullable else "no"
            lines.append(
                f"| `{name}` | {described.get(name, '')} | {column.dtype} | {nullable} | {_rules(column)} |"
            )
        table_rules = [f"unique together: {', '.join(schema.unique)}"] if schema.unique else []
        table_rules += [check.error or check.name for check in schema.checks]
        if table_rules:
            lines += ["", "Table rules: " + "; ".join(table_rules) + "."]
        lines.append("")
    lines += ["## Rules across tables and stages", "", "| asset | rule |", "|---|---|"]
    lines += [f"| {asset} | {rule} |" for asset, rule in CROSS_TABLE_RULES]
    lines += [
        "",
        "## Rules an answer must pass against what is stored",
        "",
        "`racing_platform/cards/rules.py`, applied by raw_race_cards before it stores a body and by",
        "race_cards and race_results before they write; a breach is a blocking check naming cell, race,",
        "field and rule, and the refused body goes to `fetch_failures`.",
        "",
        "| rule | text |",
        "|---|---|",
    ]
    lines += [f"| `{rule.name}` | {rule.text} |" for rule in RULES]
    return "\n".join(lines) + "\n"


def write() -> None:
    DOC_PATH.write_text(render(), encoding="utf-8")
