"""The client end to end over real HTTP against the simulator: each fault kind, retries, budget, the key."""

from __future__ import annotations

import json
import logging
import socket
import traceback

import pytest

from racing_platform.source.archive import iter_archive
from racing_platform.source.client import BACKOFF_INITIAL_S, BACKOFF_JITTER_S, BACKOFF_MAX_S, MAX_ATTEMPTS
from racing_platform.source.errors import (
    AuthError,
    BudgetExhaustedError,
    ForbiddenError,
    GraphQLResponseError,
    RacingComError,
    ResponseShapeError,
    TransientError,
)
from racing_platform_tests.source.fixtures_client import (  # noqa: F401 - fixtures register by import
    TEST_API_KEY,
    RecordingSleep,
    make_client_fixture,
    sim_fixture,
    simulator_module_fixture,
)

RESULTS = {"operation": "getRaceResults_CD"}


def _race(sim) -> dict:
    return {"meet_code": sim.meeting.meet_code, "race_number": sim.meeting.race_numbers[0]}


def _request_prefix(sim) -> str:
    variables = {"meetCode": sim.meeting.meet_code, "raceNumber": sim.meeting.race_numbers[0]}
    return f"getRaceResults_CD({json.dumps(variables, sort_keys=True)}): "


def test_every_operation_answers_in_full_and_carries_the_key(sim, make_client):
    client = make_client()
    meeting = sim.meeting
    fetched = [
        client.meetings_by_date(meeting.date),
        client.meetings_by_date(meeting.date, with_races=True),
        client.races_for_meet(meeting.meet_code),
        client.races_for_meet(meeting.meet_code, full_field=True),
        client.race_field(meeting.meet_code, meeting.race_numbers[0]),
        client.race_results(meeting.meet_code, meeting.race_numbers[0]),
    ]

    assert meeting.meet_code in {m["id"] for m in fetched[0].data["GetMeetingByDate"]}
    with_races = next(m for m in fetched[1].data["GetMeetingByDate"] if m["id"] == meeting.meet_code)
    assert sorted(r["raceNumber"] for r in with_races["races"]) == list(meeting.race_numbers)
    assert sorted(r["raceNumber"] for r in fetched[2].data["getNoCacheRacesForMeet"]) == list(
        meeting.race_numbers
    )
    assert all(r["formRaceEntries"] for r in fetched[3].data["getRacesForMeet"])
    assert fetched[4].data["getRaceForm"]["formRaceEntries"]
    assert 1 in {e["finish"] for e in fetched[5].data["getRaceForm"]["formRaceEntries"]}
    assert all(f.attempts == 1 and len(f.sha256) == 64 for f in fetched)
    log = sim.control.requests_log()
    assert [r["operationName"] for r in log] == [f.operation for f in fetched]
    assert all(r["apiKeyPresent"] for r in log), "x-api-key must reach the server"
    assert client.metrics.as_metadata() | {"rate_limit_wait_s": 0} == {
        "requests": 6,
        "attempts": 6,
        "retries": 0,
        "rate_limit_wait_s": 0,
        "retry_wait_s": 0.0,
        "outcomes": {"ok": 6},
    }


def test_an_answer_is_decoded_once_and_handed_back_as_archived(sim, make_client, monkeypatch):
    """A whole meeting is ~220 kB: gql does not decode it a second time, and the caller gets the
    archive's own text and fetch times instead of reading the record back."""
    answers = []
    decode = json.decoder.JSONDecoder.raw_decode

    def counting_decode(self, text, idx=0):
        value, end = decode(self, text, idx)
        if isinstance(value, dict) and "data" in value:
            answers.append(value)
        return value, end

    client = make_client()
    monkeypatch.setattr(json.decoder.JSONDecoder, "raw_decode", counting_decode)
    fetched = client.races_for_meet(sim.meeting.meet_code, full_field=True)
    monkeypatch.undo()

    assert len(answers) == 1
    assert fetched.body_text == json.dumps(
        fetched.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    [record] = iter_archive(client.config.archive_path)
    assert (record.sha256, record.body) == (fetched.sha256, fetched.payload)
    assert fetched.first_fetched_at == fetched.last_fetched_at == record.last_fetched_at


@pytest.mark.parametrize(
    ("fault", "retry_after"),
    [
        pytest.param({"kind": "status", "status": 502}, None, id="502"),
        pytest.param({"kind": "status", "status": 503, "retry_after": 2}, 2, id="503+Retry-After"),
        pytest.param({"kind": "status", "status": 504}, None, id="504"),
        pytest.param({"kind": "status", "status": 429, "retry_after": 7}, 7, id="429+Retry-After"),
        pytest.param({"kind": "truncate"}, None, id="truncated-body"),
    ],
)
def test_transient_faults_are_retried_with_backoff_and_then_succeed(sim, make_client, fault, retry_after):
    sleep = RecordingSleep()
    client = make_client(sleep=sleep)
    sim.control.queue_faults([fault], match=RESULTS)

    fetched = client.race_results(**_race(sim))

    assert fetched.attempts == 2 and fetched.data["getRaceForm"]["formRaceEntries"]
    assert [r["fault"] for r in sim.control.requests_log()] == [fault["kind"], None]
    assert len(sleep.calls) == 1 and client.metrics.retries == 1
    if retry_after is not None:
        assert sleep.calls[0] >= retry_after
    else:
        assert BACKOFF_INITIAL_S <= sleep.calls[0] <= BACKOFF_INITIAL_S + BACKOFF_JITTER_S


def test_a_slow_answer_times_out_and_is_retried(sim, make_client):
    sleep = RecordingSleep()
    client = make_client(sleep=sleep, timeout_s=0.3)
    sim.control.queue_faults([{"kind": "latency", "seconds": 1.5}], match=RESULTS)

    fetched = client.race_results(**_race(sim))

    assert fetched.attempts == 2 and len(sleep.calls) == 1
    assert [r["fault"] for r in sim.control.requests_log()] == ["latency", None]


def test_retry_after_beyond_the_deadline_gives_up_at_once(sim, make_client):
    sleep = RecordingSleep()
    client = make_client(sleep=sleep)
    sim.control.queue_faults([{"kind": "status", "status": 503, "retry_after": 120}], match=RESULTS)

    with pytest.raises(TransientError, match="HTTP 503, Retry-After 120s") as caught:
        client.race_results(**_race(sim))

    assert str(caught.value).startswith(_request_prefix(sim))
    assert sleep.calls == [] and len(sim.control.requests_log()) == 1


def test_persistent_server_errors_stop_after_the_attempt_cap(sim, make_client):
    sleep = RecordingSleep()
    client = make_client(sleep=sleep)
    sim.control.queue_faults([{"kind": "status", "status": 500}] * MAX_ATTEMPTS, match=RESULTS)

    with pytest.raises(TransientError, match="HTTP 500"):
        client.race_results(**_race(sim))

    assert len(sim.control.requests_log()) == MAX_ATTEMPTS
    assert len(sleep.calls) == MAX_ATTEMPTS - 1
    assert all(wait <= BACKOFF_MAX_S + BACKOFF_JITTER_S for wait in sleep.calls)
    assert sleep.calls[3] > sleep.calls[0], "waits grow exponentially"
    assert client.metrics.outcomes == {"TransientError": 1}


def test_no_server_at_all_is_transient(make_client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = make_client(url=f"http://127.0.0.1:{closed_port}/")

    with pytest.raises(TransientError, match=r"no response \(ConnectionError"):
        client.meetings_by_date("2026-03-07")
    assert client.metrics.attempts == MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("fault", "error", "detail", "outcome"),
    [
        pytest.param(
            {"kind": "graphql_error", "message": "Validation error of type FieldUndefined"},
            GraphQLResponseError,
            "GraphQL errors: InternalFailure: Validation error of type FieldUndefined",
            "graphql_error",
            id="graphql-error",
        ),
        pytest.param({"kind": "status", "status": 401}, AuthError, "HTTP 401", None, id="401"),
        pytest.param(
            {"kind": "status", "status": 403, "retry_after": 3},
            ForbiddenError,
            "HTTP 403: the host refused this client",
            None,
            id="403-waf-block",
        ),
        pytest.param(
            {"kind": "graphql_error", "message": "Not authorized", "error_type": "UnauthorizedException"},
            AuthError,
            "UnauthorizedException: Not authorized",
            "auth_error",
            id="appsync-unauthorized-body",
        ),
        pytest.param(
            {"kind": "drop_field", "field": "barrierNumber"},
            ResponseShapeError,
            "selected fields missing from the answer: data.getRaceForm.formRaceEntries[0].barrierNumber",
            "shape_error",
            id="field-dropped",
        ),
        pytest.param(
            {"kind": "drop_field", "field": "GetBettingData"},
            ResponseShapeError,
            "selected fields missing from the answer: data.GetBettingData",
            "shape_error",
            id="root-field-missing",
        ),
        pytest.param(
            {"kind": "drop_field", "field": "data"},
            ResponseShapeError,
            "answer has no `data` object",
            "shape_error",
            id="no-data",
        ),
    ],
)
def test_permanent_faults_fail_at_once_with_a_typed_error_naming_the_request(
    sim, make_client, fault, error, detail, outcome
):
    sleep = RecordingSleep()
    client = make_client(sleep=sleep)
    sim.control.queue_faults([fault], match=RESULTS)

    with pytest.raises(error) as caught:
        client.race_results(**_race(sim))

    assert str(caught.value).startswith(_request_prefix(sim)) and detail in str(caught.value)
    assert caught.value.operation == "getRaceResults_CD"
    assert sleep.calls == [] and len(sim.control.requests_log()) == 1
    archived = [r.outcome for r in iter_archive(client.config.archive_path, outcome=None)]
    assert archived == ([outcome] if outcome else [])


def test_a_duplicated_saddlecloth_is_data_for_the_parsers_not_a_fault(sim, make_client):
    client = make_client()
    sim.control.queue_faults([{"kind": "duplicate_saddlecloth"}], match=RESULTS)

    fetched = client.race_results(**_race(sim))

    numbers = [e["raceEntryNumber"] for e in fetched.data["getRaceForm"]["formRaceEntries"]]
    assert len(numbers) == len(set(numbers)) + 1
    assert fetched.attempts == 1


def test_budget_counts_every_attempt_and_the_next_one_raises(sim, make_client):
    client = make_client(run_budget=3, run_id="budget-run")
    day = sim.meeting.date
    sim.control.queue_faults([{"kind": "status", "status": 503}], match={"operation": "GetMeetingByDate"})

    assert client.meetings_by_date(day).attempts == 2
    assert client.meetings_by_date(day).attempts == 1
    with pytest.raises(
        BudgetExhaustedError, match=rf"GetMeetingByDate_CD\({{\"date\": \"{day}\"}}\).*'budget-run'"
    ):
        client.meetings_by_date(day)

    assert len(sim.control.requests_log()) == 3
    assert client.politeness.attempts_used("budget-run") == 3


def test_budget_stops_a_retry_loop(sim, make_client):
    client = make_client(run_budget=2, run_id="retrying-run")
    sim.control.queue_faults([{"kind": "status", "status": 503}] * 3, match=RESULTS)

    with pytest.raises(BudgetExhaustedError):
        client.race_results(**_race(sim))
    assert len(sim.control.requests_log()) == 2


def test_variables_that_do_not_fit_the_document_fail_before_sending(sim, make_client):
    client = make_client()

    with pytest.raises(
        ValueError, match=r"getRaceResults_CD: .*missing: \['raceNumber'\].*undeclared: \['race'\]"
    ):
        client.execute("getRaceResults_CD", {"meetCode": "1", "race": 2})
    assert sim.control.requests_log() == []


def test_the_key_never_appears_in_logs_errors_archive_or_metadata(sim, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(run_budget=40)
    provocations = [
        [{"kind": "status", "status": 401}],
        [{"kind": "graphql_error", "message": "boom"}],
        [{"kind": "drop_field", "field": "barrierNumber"}],
        [{"kind": "truncate"}],
        [{"kind": "status", "status": 503, "retry_after": 1}] * MAX_ATTEMPTS,
    ]
    errors: list[RacingComError] = []
    for faults in provocations:
        sim.control.queue_faults(faults, match=RESULTS)
        try:
            client.race_results(**_race(sim))
        except RacingComError as exc:
            errors.append(exc)
    spent = make_client(run_budget=1, run_id="spent")
    spent.meetings_by_date(sim.meeting.date)
    with pytest.raises(BudgetExhaustedError) as budget_error:
        spent.meetings_by_date(sim.meeting.date)
    errors.append(budget_error.value)
    texts = [
        text for exc in errors for text in (str(exc), repr(exc), "".join(traceback.format_exception(exc)))
    ]
    texts += [caplog.text, repr(client), repr(client.config), str(client.config), repr(client.politeness)]
    texts += [json.dumps(client.metrics.as_metadata()), json.dumps(client.config.describe())]
    state_files = sorted(client.config.archive_path.parent.glob("*.sqlite*"))

    assert [type(e) for e in errors] == [
        AuthError,
        GraphQLResponseError,
        ResponseShapeError,
        TransientError,
        BudgetExhaustedError,
    ]
    assert "retrying" in caplog.text and "x-api-key" not in caplog.text.lower()
    assert len(state_files) >= 2, "the archive and the politeness state were written"
    assert all(r["apiKeyPresent"] for r in sim.control.requests_log())
    for text in texts:
        assert TEST_API_KEY not in text
    for path in state_files:
        assert TEST_API_KEY.encode() not in path.read_bytes(), path.name
