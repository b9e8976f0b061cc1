"""Failures by class at the source: what is transient, what ends the step at once, and the key's safety.

A tiny local HTTP server answers what the simulator cannot (an HTML page or JSON cut off with HTTP 200,
a gigantic answer); the simulator answers the rest over real HTTP. The last tests run `meetings` in a
real Dagster instance and search every place the API key could leak to.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest

from racing_platform.lib.failures import is_transient
from racing_platform.source.assets import meetings
from racing_platform.source.client import MAX_ANSWER_BYTES, MAX_ATTEMPTS, RacingComClient
from racing_platform.source.config import ClientConfig, ConfigurationError, SecretStr
from racing_platform.source.errors import (
    AuthError,
    ForbiddenError,
    RacingComError,
    ResponseShapeError,
    ResponseTooLargeError,
    TransientError,
)
from racing_platform.source.resource import RacingComResource
from racing_platform_tests.source.fixtures_client import (  # noqa: F401 - fixtures register by import
    TEST_API_KEY,
    RecordingSleep,
    make_client_fixture,
    sim_fixture,
    simulator_module_fixture,
)
from racing_platform_tests.worlds import AFTER_MEETING, RACE_DAY

Answer = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def answering(answer: Answer) -> Iterator[str]:
    """A local HTTP endpoint where every POST gets `answer(handler)`; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer(self)

        def log_message(self, *args) -> None:
            """Quiet: the tests read the answers, not the server's log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _send(handler: BaseHTTPRequestHandler, body: bytes, content_type: str, length: int | None = None) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    handler.end_headers()
    handler.wfile.write(body)


def html_page(handler: BaseHTTPRequestHandler) -> None:
    _send(handler, b"<!DOCTYPE html><html><body>Request blocked</body></html>", "text/html")


def json_cut_off(handler: BaseHTTPRequestHandler) -> None:
    """Every declared byte arrives, but the JSON itself stops early (a proxy truncated it upstream)."""
    _send(handler, b'{"data": {"GetMeetingByDate": [{"id": "51', "application/json")


def connection_cut_mid_body(handler: BaseHTTPRequestHandler) -> None:
    _send(handler, b'{"data": {"GetMee', "application/json", length=4000)
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_RDWR)


def gigantic_declared(handler: BaseHTTPRequestHandler) -> None:
    """Declares 30 MB, sends 1 KB and then stalls: reading the body would hang until the timeout."""
    _send(handler, b" " * 1024, "application/json", length=30 * 1024 * 1024)
    handler.wfile.flush()
    time.sleep(8)


def gigantic_undeclared(handler: BaseHTTPRequestHandler) -> None:
    """A valid JSON answer just above the limit, without Content-Length (read until the close)."""
    handler.close_connection = True
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(b'{"data": {"GetMeetingByDate": [], "pad": "')
    handler.wfile.write(b"x" * MAX_ANSWER_BYTES)
    handler.wfile.write(b'"}}')


def _client(url: str, tmp_path: Path, sleep: RecordingSleep, **overrides) -> RacingComClient:
    config = ClientConfig(
        url=url,
        api_key=SecretStr(TEST_API_KEY),
        politeness_db=tmp_path / "politeness.sqlite",
        archive_path=tmp_path / "archive.sqlite",
    ).with_overrides(**overrides)
    return RacingComClient(config, run_id="failure-classes", sleep=sleep)


@pytest.mark.parametrize(
    ("answer", "error", "detail"),
    [
        pytest.param(html_page, ResponseShapeError, "(text/html) is not complete JSON", id="html-with-200"),
        pytest.param(
            json_cut_off, ResponseShapeError, "is not complete JSON (Unterminated string", id="json-cut-off"
        ),
        pytest.param(
            gigantic_declared,
            ResponseTooLargeError,
            "answer of 31457280 bytes refused unread",
            id="huge-declared",
        ),
        pytest.param(
            gigantic_undeclared, ResponseTooLargeError, "bytes refused unparsed", id="huge-undeclared"
        ),
    ],
)
def test_a_complete_wrong_answer_fails_at_once_and_is_not_transient(tmp_path, answer, error, detail):
    sleep = RecordingSleep()
    with answering(answer) as url, _client(url, tmp_path, sleep, timeout_s=5.0) as client:
        started = time.monotonic()
        with pytest.raises(error) as caught:
            client.meetings_by_date("2026-03-07")
        elapsed = time.monotonic() - started
    assert elapsed < 5 and sleep.calls == [] and client.metrics.attempts == 1
    assert detail in str(caught.value) and str(caught.value).startswith("GetMeetingByDate_CD(")
    assert not is_transient(caught.value)


def test_a_connection_cut_mid_body_is_transient_and_retried(tmp_path):
    sleep = RecordingSleep()
    with (
        answering(connection_cut_mid_body) as url,
        _client(url, tmp_path, sleep) as client,
        pytest.raises(TransientError, match="body cut short") as caught,
    ):
        client.meetings_by_date("2026-03-07")
    assert client.metrics.attempts == MAX_ATTEMPTS and len(sleep.calls) == MAX_ATTEMPTS - 1
    assert is_transient(caught.value)


def test_only_transient_errors_are_transient_faults():
    assert is_transient(TransientError("op", {}, "HTTP 503", status=503))
    for permanent in (AuthError, ForbiddenError, ResponseShapeError, ResponseTooLargeError, RacingComError):
        assert not is_transient(permanent("op", {}, "reason"))


# ------------------------------------------------------------------------------------------ the API key


def test_a_crlf_key_is_stripped_at_load_and_works_first_time(sim, tmp_path):
    config = ClientConfig.from_env(
        {
            "RACING_COM_GRAPHQL_URL": sim.url,
            "RACING_COM_API_KEY": f"  {TEST_API_KEY}\r\n",
            "RACING_COM_ARCHIVE_PATH": str(tmp_path / "archive.sqlite"),
            "RACING_COM_POLITENESS_DB": str(tmp_path / "politeness.sqlite"),
        }
    )
    assert config.api_key == SecretStr(TEST_API_KEY)
    with RacingComClient(config, sleep=RecordingSleep()) as client:
        assert client.meetings_by_date(sim.meeting.date).attempts == 1
    assert [r["apiKeyPresent"] for r in sim.control.requests_log()] == [True]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(f"{TEST_API_KEY[:10]} {TEST_API_KEY[10:]}", id="inner-space"),
        pytest.param(f"{TEST_API_KEY[:10]}\r{TEST_API_KEY[10:]}", id="inner-cr"),
        pytest.param(f"{TEST_API_KEY[:10]}\x00{TEST_API_KEY[10:]}", id="nul"),
        pytest.param(f"{TEST_API_KEY[:10]}\u2028{TEST_API_KEY[10:]}", id="line-separator"),
        pytest.param(" \r\n", id="blank"),
    ],
)
def test_a_malformed_key_is_a_configuration_error_naming_the_variable_not_the_value(raw):
    with pytest.raises(ConfigurationError, match="RACING_COM_API_KEY") as caught:
        ClientConfig.from_env({"RACING_COM_API_KEY": raw})
    assert TEST_API_KEY[:10] not in str(caught.value) and TEST_API_KEY[10:] not in str(caught.value)


def test_a_key_with_surrounding_whitespace_is_refused_when_passed_directly():
    with pytest.raises(ConfigurationError, match="api_key") as caught:
        ClientConfig(api_key=SecretStr(TEST_API_KEY + "\r"))
    assert TEST_API_KEY not in str(caught.value)


# ------------------------------------------------------------------------------------------ the resource


def test_session_ends_the_step_on_a_permanent_error_and_lets_a_transient_one_through(
    sim, monkeypatch, tmp_path
):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path))
    resource = RacingComResource(graphql_url=sim.url)
    sim.control.queue_faults(
        [{"kind": "drop_field", "field": "data"}], match={"operation": "GetMeetingByDate"}
    )
    with (
        pytest.raises(dg.Failure) as caught,
        resource.session("run-1", where="meetings [2026-03-07]") as client,
    ):
        client.meetings_by_date(sim.meeting.date)
    assert caught.value.allow_retries is False
    assert caught.value.description.startswith(
        "meetings [2026-03-07]: ResponseShapeError: GetMeetingByDate_CD("
    )

    with pytest.raises(TransientError), resource.session("run-2") as client:
        raise TransientError("GetMeetingByDate_CD", {}, "HTTP 503", status=503)

    with (
        pytest.raises(dg.Failure, match="^run-3: TypeError: boolean value of NA is ambiguous"),
        resource.session("run-3"),
    ):
        raise TypeError("boolean value of NA is ambiguous")


def test_the_resource_never_shows_its_key():
    resource = RacingComResource(graphql_url="http://127.0.0.1:1/", api_key=TEST_API_KEY)
    assert TEST_API_KEY not in repr(resource) and TEST_API_KEY not in str(resource)


def test_session_refuses_a_malformed_key_before_any_request(sim, monkeypatch, tmp_path):
    monkeypatch.setenv("RACING_DATA_DIR", str(tmp_path))
    resource = RacingComResource(graphql_url=sim.url, api_key=f"{TEST_API_KEY[:8]} {TEST_API_KEY[8:]}")
    with pytest.raises(dg.Failure) as caught, resource.session("run-1", where="meetings [2026-03-07]"):
        pytest.fail("the session must not open")
    assert "ConfigurationError: RACING_COM_API_KEY" in caught.value.description
    assert caught.value.allow_retries is False and sim.control.requests_log() == []


# ------------------------------------------------------------------------------------------ a real run


def _key_carriers(platform, result, capfd, roots: list[Path]) -> dict[str, str]:
    """Every text the key could leak into: output, each event (metadata included), every file written."""
    captured = capfd.readouterr()
    texts = {"stdout": captured.out, "stderr": captured.err}
    for i, record in enumerate(platform.instance.all_logs(result.run_id)):
        texts[f"event {i} {record.dagster_event_type}"] = str(record)
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                texts[str(path)] = path.read_bytes().decode("latin-1")
    return texts


def test_a_real_run_with_a_crlf_key_succeeds_and_a_rejected_key_fails_at_once_neither_leaking_it(
    platform_for, tiny_world, monkeypatch, capfd, tmp_path
):
    # The simulator checks the key as racing.com does: only the stripped key gets through.
    platform = platform_for(tiny_world, AFTER_MEETING, api_key=TEST_API_KEY)
    monkeypatch.setenv("RACING_COM_API_KEY", TEST_API_KEY + "\r")
    resources = {
        "racing_com": RacingComResource(
            graphql_url=platform.sim.url, api_key=dg.EnvVar("RACING_COM_API_KEY")
        ),
        "warehouse": platform.warehouse,
    }
    day = RACE_DAY.isoformat()
    roots = [tmp_path, Path(platform.instance.root_directory)]

    def run() -> tuple[dg.ExecuteInProcessResult, float]:
        started = time.monotonic()
        result = dg.materialize(
            [meetings],
            partition_key=day,
            instance=platform.instance,
            resources=resources,
            raise_on_error=False,
        )
        return result, time.monotonic() - started

    stripped, elapsed = run()
    assert stripped.success and elapsed < 10
    log = platform.sim.control.requests_log()
    assert len(log) == 1 and log[0]["apiKeyPresent"]
    for where, text in _key_carriers(platform, stripped, capfd, roots).items():
        assert TEST_API_KEY not in text, where

    monkeypatch.setenv("RACING_COM_API_KEY", TEST_API_KEY[::-1])  # a key racing.com does not know
    rejected, elapsed = run()
    assert not rejected.success and elapsed < 10
    events = [e.event_type_value for e in rejected.all_events]
    assert "STEP_UP_FOR_RETRY" not in events
    failure = next(e for e in rejected.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"meetings [{day}]: AuthError" in failure.event_specific_data.error.message
    carriers = _key_carriers(platform, rejected, capfd, roots)
    assert any("AuthError" in text for text in carriers.values())
    for where, text in carriers.items():
        assert TEST_API_KEY not in text and TEST_API_KEY[::-1] not in text, where
