"""Scripted and random faults, as a client sees them over real HTTP."""

from __future__ import annotations

import pytest
import requests

from racing_platform.simulator.testing import running_simulator
from racing_platform_tests.paths import REFERENCE_DOCUMENTS as DOCUMENTS
from racing_platform_tests.worlds import AFTER_MEETING, MEET, RACE_MORNING

FIELD = (DOCUMENTS / "getRaceEntriesForField_CD.graphql").read_text()
RESULTS = (DOCUMENTS / "getRaceResults_CD.graphql").read_text()
MEETINGS = (DOCUMENTS / "GetMeetingByDate.graphql").read_text()


def ask(sim, race_number: int = 1, document: str = FIELD, timeout: float = 10) -> requests.Response:
    variables = {"meetCode": MEET, "raceNumber": race_number}
    return requests.post(sim.url, json={"query": document, "variables": variables}, timeout=timeout)


def meetings(sim) -> requests.Response:
    return requests.post(sim.url, json={"query": MEETINGS, "variables": {"date": "2026-03-07"}}, timeout=10)


def all_keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | set().union(*(all_keys(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(all_keys(v) for v in node)) if node else set()
    return set()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 403, 429])
def test_status_faults_carry_the_status_and_optional_retry_after(sim, status):
    sim.control.queue_faults([{"kind": "status", "status": status, "retry_after": 7}])
    response = ask(sim)
    assert response.status_code == status
    assert response.headers["retry-after"] == "7"
    assert ask(sim).status_code == 200, "a fault applies to one request only"


def test_401_looks_like_appsync(sim):
    sim.control.queue_faults([{"kind": "status", "status": 401}])
    response = ask(sim)
    assert response.status_code == 401 and "retry-after" not in response.headers
    assert response.json() == {
        "errors": [
            {"errorType": "UnauthorizedException", "message": "You are not authorized to make this call."}
        ]
    }


def test_with_a_key_configured_only_that_exact_key_gets_an_answer(small_world):
    with running_simulator(small_world, now=RACE_MORNING, api_key="da2-right") as sim:

        def status(key: str | None) -> int:
            headers = {"x-api-key": key} if key is not None else {}
            body = {"query": MEETINGS, "variables": {"date": "2026-03-07"}}
            return requests.post(sim.url, json=body, headers=headers, timeout=10).status_code

        assert [status(k) for k in ("da2-right", "da2-wrong", "DA2-RIGHT", None)] == [200, 401, 401, 401]
        assert [r["fault"] for r in sim.control.requests_log()] == [None, "status", "status", "status"]


def test_latency_delays_the_answer_past_a_client_timeout(sim):
    sim.control.queue_faults([{"kind": "latency", "seconds": 0.6}])
    with pytest.raises(requests.exceptions.ReadTimeout):
        ask(sim, timeout=0.15)
    assert ask(sim).status_code == 200


def test_truncate_closes_the_connection_mid_body(sim):
    sim.control.queue_faults([{"kind": "truncate"}])
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        ask(sim).json()
    assert ask(sim).json()["data"]["getRaceForm"]["id"] == "6100021"


def test_graphql_error_is_a_200_with_errors_and_null_data(sim):
    sim.control.queue_faults([{"kind": "graphql_error", "message": "Request failed: upstream timeout"}])
    response = ask(sim)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None and body["errors"][0]["message"] == "Request failed: upstream timeout"


def test_drop_field_removes_the_key_everywhere(sim):
    assert "barrierNumber" in all_keys(ask(sim).json())
    sim.control.queue_faults([{"kind": "drop_field", "field": "barrierNumber"}])
    body = ask(sim).json()
    assert "barrierNumber" not in all_keys(body)
    assert "liveBarrierNumber" in all_keys(body) and len(body["data"]["getRaceForm"]["formRaceEntries"]) == 7


@pytest.mark.parametrize("now", [RACE_MORNING, AFTER_MEETING])
def test_duplicate_saddlecloth_adds_a_scratched_emergency_twin(sim, now):
    sim.control.set_clock(now)
    sim.control.queue_faults([{"kind": "duplicate_saddlecloth"}])
    entries = ask(sim, document=RESULTS).json()["data"]["getRaceForm"]["formRaceEntries"]
    numbers = [e["raceEntryNumber"] for e in entries]
    duplicated = [n for n in set(numbers) if numbers.count(n) > 1]
    assert len(entries) == 8 and len(duplicated) == 1
    twins = [e for e in entries if e["raceEntryNumber"] == duplicated[0]]
    assert sorted(e["scratched"] for e in twins) == [False, True]
    twin = next(e for e in twins if e["scratched"])
    assert twin["barrierNumber"] == 0 and twin["id"] not in {e["id"] for e in entries if e is not twin}
    assert twin["finish"] == (109 if now == AFTER_MEETING else None)


def test_match_by_operation_and_variables_and_faults_apply_in_order(sim):
    sim.control.queue_faults(
        [{"kind": "status", "status": 503}, {"kind": "status", "status": 429}],
        match={"operation": "getRaceForm", "variables": {"raceNumber": 3}},
    )
    assert meetings(sim).status_code == 200
    assert ask(sim, race_number=1).status_code == 200
    assert ask(sim, race_number=3).status_code == 503
    assert ask(sim, race_number=3).status_code == 429
    assert ask(sim, race_number=3).status_code == 200
    log = sim.control.requests_log()
    assert [r["fault"] for r in log] == [None, None, "status", "status", None]


def test_match_by_operation_name_and_clearing(sim):
    sim.control.queue_faults(
        [{"kind": "status", "status": 503}] * 3, match={"operation": "getRaceEntriesForField_CD"}
    )
    assert len(requests.get(sim.url + "_sim/faults", timeout=10).json()["pending"]) == 3
    assert ask(sim, document=RESULTS).status_code == 200
    assert ask(sim).status_code == 503
    sim.control.clear_faults()
    assert ask(sim).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"faults": [{"kind": "meltdown"}]},
        {"faults": [{"kind": "status", "status": 404}]},
        {"faults": [{"kind": "latency"}]},
        {"faults": []},
        {"faults": [{"kind": "status", "status": 503}], "match": {"operationName": "x"}},
    ],
)
def test_bad_fault_scripts_are_refused_with_a_reason(sim, body):
    response = requests.post(sim.url + "_sim/faults", json=body, timeout=10)
    assert response.status_code == 400 and response.json()["error"].startswith("/_sim/faults:")
    assert requests.get(sim.url + "_sim/faults", timeout=10).json()["pending"] == []


def test_random_faults_follow_the_rate_and_seed(small_world):
    def kinds(seed: int) -> list[str | None]:
        with running_simulator(small_world, now=RACE_MORNING, fault_rate=0.5, fault_seed=seed) as sim:
            statuses = []
            for _ in range(12):
                try:
                    statuses.append(meetings(sim).status_code)
                except requests.exceptions.RequestException:
                    statuses.append("broken")
            return [r["fault"] for r in sim.control.requests_log()], statuses

    faults, statuses = kinds(7)
    assert (faults, statuses) == kinds(7), "the same seed gives the same faults"
    assert 0 < sum(f is not None for f in faults) < 12
    assert {s for s, f in zip(statuses, faults, strict=True) if f is None} == {200}
    assert all(s in (502, 503, 504, 429, "broken") for s, f in zip(statuses, faults, strict=True) if f)


def test_control_endpoints_are_never_faulted(sim):
    sim.control.queue_faults([{"kind": "status", "status": 503}])
    assert sim.control.health()["status"] == "ok"
    assert sim.control.clock()["mode"] == "frozen"
    assert ask(sim).status_code == 503
