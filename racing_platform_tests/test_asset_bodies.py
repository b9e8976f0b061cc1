"""One function per asset body, and the benchmark's direct path calls exactly those functions.

If an asset body stops calling its function, or `benchmarks/backfill.py` re-implements a body from
its building blocks (parsing, fetching, writing, the features query, training, pricing), the B1 ratio
would compare different work: these tests fail first.
"""

from __future__ import annotations

import ast
import inspect

import pytest

from racing_platform.benchmarks import backfill as bench
from racing_platform.cards import assets as cards
from racing_platform.careers import fetch as careers
from racing_platform.definitions import ASSETS
from racing_platform.evaluation import assets as evaluation
from racing_platform.evaluation import truth
from racing_platform.features import assets as features
from racing_platform.model import assets as model
from racing_platform.predictions import assets as predictions
from racing_platform.source import assets as source

# Each asset (or multi-asset) and the one plain function its body calls.
BODIES = {
    "meetings": source.store_meetings,
    "raw_race_cards": cards.fetch_raw_cards,
    "race_cards": cards.build_cards_and_results,
    "race_results": cards.build_cards_and_results,
    "horse_careers": careers.fetch_careers,
    "form_lines": features.build_form_lines,
    "form_book": features.judge_form_book,
    "runner_features": features.build_runner_features,
    "win_model": model.train_win_model,
    "predictions": predictions.price_cells,
    "simulator_truth": truth.capture_truth,
    "daily_evaluation": evaluation.evaluate_days,
    "evaluation_summary": evaluation.evaluate_range,
}
# Evaluation scores prices after the fact: not part of the backfill benchmark's direct path.
EVALUATION = {"simulator_truth", "daily_evaluation", "evaluation_summary"}
# What only the body functions may call: a benchmark calling these is re-implementing a body.
BUILDING_BLOCKS = {
    "parse_cell",
    "parse_response",
    "fetch_cell",
    "fetch_career",
    "parse_career_page",
    "list_meetings",
    "accept_answers",
    "validate_cell_answer",
    "replace_slices",
    "runner_features_of",
    "form_lines_of",
    "training_rows",
    "fit",
    "save_version",
    "price_card",
    "contract_failures",
}


def _asset_named(name: str):
    for assets_def in ASSETS:
        if any(key.to_user_string() == name for key in assets_def.keys):
            return assets_def
    raise AssertionError(f"no asset {name} in the code location")


def _called_names(source_text: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source_text)):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


@pytest.mark.parametrize("asset", sorted(BODIES))
def test_the_asset_body_calls_its_function(asset):
    compute = _asset_named(asset).op.compute_fn.decorated_fn
    body = inspect.getsource(compute)
    assert BODIES[asset].__name__ in _called_names(inspect.cleandoc("\n" + body)), (
        f"{asset}'s body no longer calls {BODIES[asset].__name__}"
    )


def test_every_asset_of_the_code_location_has_a_body_function():
    names = {key.to_user_string() for assets_def in ASSETS for key in assets_def.keys}
    assert names == set(BODIES)


@pytest.mark.parametrize(
    "function", sorted({f.__name__ for asset, f in BODIES.items() if asset not in EVALUATION})
)
def test_the_benchmark_direct_path_calls_the_same_function_object(function):
    expected = next(f for f in BODIES.values() if f.__name__ == function)
    assert getattr(bench, function) is expected
    assert function in _called_names(inspect.getsource(bench.direct_path)), function


def test_the_benchmark_does_not_reimplement_a_body():
    used = _called_names(inspect.getsource(bench)) & BUILDING_BLOCKS
    assert not used, f"benchmarks/backfill.py calls body internals: {sorted(used)}"
