"""The simulator's truth captured for resulted races; the real API (no truth channel) stores nothing."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import numpy as np
import pytest

from racing_platform.cards.assets import race_cards, race_results, raw_race_cards
from racing_platform.evaluation.assets import simulator_truth
from racing_platform.evaluation.truth import NO_TRUTH, capture_truth, fetch_truth, truth_base_url
from racing_platform.partitions import Cell
from racing_platform.simulator.world.truth import truth_frame
from racing_platform.source.assets import meetings
from racing_platform_tests.evaluation.conftest import DAY, VENUE
from racing_platform_tests.worlds import AFTER_MEETING, MEET, RACE_DAY, RACE_MORNING


def test_the_truth_channel_lives_beside_the_simulator_s_graphql_url():
    assert truth_base_url("http://127.0.0.1:8642/") == "http://127.0.0.1:8642"
    assert truth_base_url("http://sim.internal:9000/graphql") == "http://sim.internal:9000"
    assert truth_base_url("https://graphql.rmdprod.racing.com/") is None
    assert truth_base_url(None) is None


def test_the_truth_of_a_resulted_cell_is_stored(platform_for, tiny_world):
    platform = platform_for(tiny_world, AFTER_MEETING)
    assert platform.materialize([meetings], RACE_DAY.isoformat()).success
    cell = f"{RACE_DAY.isoformat()}|flemington"
    result = platform.materialize([raw_race_cards, race_cards, race_results, simulator_truth], cell)
    assert result.success
    stored = platform.rows("simulator_truth", "race_code, saddlecloth")
    races = sorted(tiny_world.races.loc[tiny_world.races["meet_code"] == MEET, "race_code"])
    expected = truth_frame(tiny_world, races)
    assert list(stored["race_code"]) == list(expected["race_code"])
    assert list(stored["horse_code"]) == list(expected["horse_code"])
    np.testing.assert_allclose(stored["true_win_prob"], expected["true_win_prob"])
    np.testing.assert_allclose(stored.groupby("race_code")["true_win_prob"].sum(), 1.0)
    assert set(stored["venue_slug"]) == {"flemington"} and set(stored["meeting_date"].dt.date) == {RACE_DAY}
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["simulator_truth_sums_to_one"] is True


def test_no_truth_before_the_races_are_run(platform_for, tiny_world):
    platform = platform_for(tiny_world, RACE_MORNING)
    assert platform.materialize([meetings], RACE_DAY.isoformat()).success
    cell = f"{RACE_DAY.isoformat()}|flemington"
    result = platform.materialize([raw_race_cards, race_cards, race_results, simulator_truth], cell)
    assert result.success
    assert platform.rows("simulator_truth").empty
    (materialization,) = result.asset_materializations_for_node("simulator_truth")
    assert materialization.metadata["truth"].value.startswith("none: no resulted race")


def test_racing_com_has_no_truth_channel_and_nothing_is_stored_or_requested(filled, monkeypatch):
    def no_request(*args, **kwargs):
        raise AssertionError("no request may go to racing.com for the truth")

    monkeypatch.setattr("racing_platform.evaluation.truth.requests.get", no_request)
    filled_truth = len(filled.query("SELECT * FROM simulator_truth"))
    outcomes = capture_truth(filled, [Cell(DAY, VENUE)], "https://graphql.rmdprod.racing.com/")
    (outcome,) = outcomes.values()
    assert outcome.metadata["truth"].startswith(f"none: {NO_TRUTH}")
    assert outcome.metadata["dagster/row_count"] == 0 and not outcome.verdicts
    assert len(filled.query("SELECT * FROM simulator_truth")) == filled_truth  # kept, not wiped


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>Not Found</html>")

    def log_message(self, *args):
        pass


@pytest.fixture
def not_found_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_an_endpoint_without_the_channel_says_so_instead_of_failing(filled, not_found_server):
    assert fetch_truth(truth_base_url(not_found_server), "9001") is None
    (outcome,) = capture_truth(filled, [Cell(DAY, VENUE)], not_found_server).values()
    assert outcome.metadata["truth"] == f"none: {NO_TRUTH} at {not_found_server}"


def test_the_asset_against_racing_com_materializes_with_no_truth(filled):
    from racing_platform.source.resource import RacingComResource

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("venue", [VENUE])
        result = dg.materialize(
            [simulator_truth],
            partition_key=f"{DAY.isoformat()}|{VENUE}",
            instance=instance,
            resources={
                "warehouse": filled,
                "racing_com": RacingComResource(graphql_url="https://graphql.rmdprod.racing.com/"),
            },
        )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("simulator_truth")
    assert NO_TRUTH in materialization.metadata["truth"].value
