"""A deterministic error in any asset ends its step at once, naming asset and partition, never retried.

Each case builds the minimal upstream state on a real instance, DuckDB file and simulator, then makes
the plain function the asset body calls raise the `TypeError` a null `isTrial` once caused (retried for
~14 min before issue 8). The run must fail in under 10 s with one attempt of the step.
"""

from __future__ import annotations

import time

import dagster as dg
import pytest

from racing_platform.cards.assets import race_cards_and_results, raw_race_cards
from racing_platform.features.assets import form_book, form_lines, runner_features
from racing_platform.model.assets import win_model
from racing_platform.predictions.assets import predictions
from racing_platform.source.assets import meetings
from racing_platform.source.resource import RacingComResource
from racing_platform_tests.source.test_failure_classes import answering, html_page, json_cut_off
from racing_platform_tests.worlds import AFTER_MEETING, RACE_DAY

DAY = RACE_DAY.isoformat()
CELL = f"{DAY}|flemington"
BUG = "boolean value of NA is ambiguous"

CASES = [
    # asset, the function its body calls (module attribute), upstream to materialize, partition
    pytest.param(meetings, "racing_platform.source.assets.list_meetings", [], DAY, id="meetings"),
    pytest.param(raw_race_cards, "racing_platform.cards.assets.fetch_cell", [], CELL, id="raw_race_cards"),
    pytest.param(
        race_cards_and_results,
        "racing_platform.cards.assets.parse_cell",
        [raw_race_cards],
        CELL,
        id="race_cards_and_results",
    ),
    pytest.param(form_lines, "racing_platform.features.assets.form_lines_of", [], DAY, id="form_lines"),
    pytest.param(form_book, "racing_platform.features.assets.contract_breaches", [], DAY, id="form_book"),
    pytest.param(
        runner_features,
        "racing_platform.features.assets.runner_features_of_cells",
        [raw_race_cards, race_cards_and_results],
        CELL,
        id="runner_features",
    ),
    pytest.param(win_model, "racing_platform.model.walk_forward.training_rows", [], None, id="win_model"),
    pytest.param(predictions, "racing_platform.predictions.assets.price_cells", [], CELL, id="predictions"),
]


def _raise_the_bug(*args, **kwargs):
    raise TypeError(BUG)


def _assert_failed_once_at_once(result: dg.ExecuteInProcessResult, elapsed: float, step: str) -> str:
    """The step failed once, without a retry, in under 10 s; returns its failure message."""
    assert not result.success
    assert elapsed < 10, f"{step} took {elapsed:.1f} s to fail"
    kinds = [(e.event_type_value, e.step_key) for e in result.all_events]
    assert ("STEP_UP_FOR_RETRY", step) not in kinds
    assert kinds.count(("STEP_START", step)) == 1 and kinds.count(("STEP_FAILURE", step)) == 1
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return failure.event_specific_data.error.message


@pytest.mark.parametrize(("asset", "target", "upstream", "partition"), CASES)
def test_a_deterministic_error_ends_the_step_at_once(
    platform_for, tiny_world, monkeypatch, asset, target, upstream, partition
):
    platform = platform_for(tiny_world, AFTER_MEETING)
    assert platform.materialize([meetings], DAY).success
    if upstream:
        assert platform.materialize(upstream, CELL).success
    monkeypatch.setattr(target, _raise_the_bug)
    run_config = {"ops": {"win_model": {"config": {"cutoff": DAY}}}} if asset is win_model else None

    started = time.monotonic()
    result = platform.materialize([asset], partition, run_config=run_config)
    message = _assert_failed_once_at_once(result, time.monotonic() - started, asset.node_def.name)

    assert f"TypeError: {BUG}" in message
    assert all(key.to_user_string() in message for key in asset.keys)
    if partition is not None:
        assert partition in message


@pytest.mark.parametrize("answer", [html_page, json_cut_off], ids=["html-with-200", "json-cut-off-with-200"])
def test_a_wrong_answer_from_the_source_ends_the_step_at_once(platform_for, tiny_world, answer):
    platform = platform_for(tiny_world, AFTER_MEETING)
    with answering(answer) as url:
        started = time.monotonic()
        result = dg.materialize(
            [meetings],
            partition_key=DAY,
            instance=platform.instance,
            resources={"racing_com": RacingComResource(graphql_url=url), "warehouse": platform.warehouse},
            raise_on_error=False,
        )
        elapsed = time.monotonic() - started
    message = _assert_failed_once_at_once(result, elapsed, "meetings")
    assert f"meetings [{DAY}]: ResponseShapeError: GetMeetingByDate_CD(" in message
    assert "is not complete JSON" in message
    assert platform.rows("meetings").empty
