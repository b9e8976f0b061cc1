"""The racing.com GraphQL client: gql for the wire, tenacity for retries, politeness and an archive around it.

Failures are classified by cause, not by gql's exception class: gql raises the same `TransportProtocolError`
for a body cut short and for a wrong-shaped answer, and an AppSync 401 arrives as a `TransportQueryError`
without a status code. So the transport keeps the raw `requests.Response` of the last attempt (one
response hook, `_ResponseCapturingTransport`) and `_classify` decides from status, headers, bytes received
and a JSON parse of its own:

| cause                                                       | error                  | retried |
|-------------------------------------------------------------|------------------------|---------|
| timeout, connection error, connection cut mid-body          | TransientError         | yes     |
| HTTP 408, 429, 5xx (Retry-After honoured)                   | TransientError         | yes     |
| HTTP 401, AppSync UnauthorizedException                     | AuthError              | no      |
| HTTP 403 (WAF/CloudFront block: see ForbiddenError)         | ForbiddenError         | no      |
| GraphQL `errors` in the answer                              | GraphQLResponseError   | no      |
| complete answer that is not JSON (HTML), JSON cut off,      | ResponseShapeError     | no      |
| not an object, no `data`, selected field missing            |                        |         |
| answer above MAX_ANSWER_BYTES                               | ResponseTooLargeError  | no      |
| other 4xx, a request that cannot be sent                    | UnexpectedStatusError, | no      |
|                                                             | RacingComError         |         |
| run or daily budget spent                                   | BudgetExhaustedError   | no      |

Only `TransientError` is a `lib.failures.TransientFault`: everything else ends the step at once.

Retries use exponential backoff with jitter; a Retry-After header sets a floor on the wait. They stop before
`CLIENT_RETRY_DEADLINE_S` would be passed, so the client always gives up before the asset layer's Dagster
`RetryPolicy(delay=DAGSTER_RETRY_DELAY_S)` fires, and never stacks its own retries under Dagster's.
One client is meant for one thread (the captured response belongs to the attempt in flight).

The answer is decoded once, by `_classify` from the raw bytes: gql's own decode is replaced by a placeholder
(`_skip_gql_decode`), since the classification never reads gql's result and a whole meeting is ~220 kB.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import requests
import urllib3
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportConnectionFailed
from gql.transport.requests import RequestsHTTPTransport
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
)
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay
from tenacity.wait import wait_exponential_jitter

from racing_platform.source.archive import ResponseArchive
from racing_platform.source.config import ClientConfig, SecretStr
from racing_platform.source.errors import (
    AuthError,
    ForbiddenError,
    GraphQLResponseError,
    RacingComError,
    ResponseShapeError,
    ResponseTooLargeError,
    TransientError,
    UnexpectedStatusError,
)
from racing_platform.source.politeness import Politeness

log = logging.getLogger(__name__)

CLIENT_RETRY_DEADLINE_S = 45.0
"""Tenacity gives up before the next wait would cross this many seconds since the first attempt."""
DAGSTER_RETRY_DELAY_S = 60.0
"""For the asset layer's `RetryPolicy(delay=...)`: longer than the client's whole retry window."""
MAX_ATTEMPTS = 8
"""Attempts per call, also a bound when waits are injected and the deadline never elapses."""
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 20.0
BACKOFF_JITTER_S = 1.0

MAX_ANSWER_BYTES = 20 * 1024 * 1024
"""Largest answer accepted (the biggest real one, a meeting with every runner nested, is well under 1 MB).
A larger declared Content-Length is refused before the body is read; a larger body without one is
refused before it is parsed."""
_LIMIT = f"the limit is MAX_ANSWER_BYTES = {MAX_ANSWER_BYTES} bytes (docs/source_client.md)"

HORSE_CAREER = "getRaceEntryItemByHorsePaged_CD"
MAX_CAREER_PAGES = 60
"""600 starts: far beyond any career (a busy horse runs ~15 times a season), so a cursor past it is a loop."""

_TRANSIENT_STATUSES = frozenset({408, 429})
# Failures of the network itself (no answer, or the connection cut while the body was arriving).
_NETWORK_FAULTS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.TimeoutError,
    urllib3.exceptions.DecodeError,
    http.client.IncompleteRead,
    ConnectionError,
    TimeoutError,
)
_BROWSER_HEADERS = {
    "Origin": "https://www.racing.com",
    "Referer": "https://www.racing.com/",
    "Accept": "application/json",
}
_UNAUTHORIZED_ERROR_TYPES = frozenset({"UnauthorizedException", "UnauthorizedError"})
_MAX_PATHS_IN_MESSAGE = 5


# --------------------------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Operation:
    """One query document from `queries/<name>.graphql`, with what the client checks answers against."""

    name: str
    text: str
    document: DocumentNode
    definition: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    required_variables: frozenset[str]
    declared_variables: frozenset[str]
    shape: _Shape
    """The selection set as `(key, sub-shape or None)` pairs with fragments spread in place."""
    printed: str
    """The document as gql sends it (`print_ast`), printed once instead of for every request."""

    @property
    def root_fields(self) -> tuple[str, ...]:
        return tuple(
            (s.alias or s.name).value
            for s in self.definition.selection_set.selections
            if isinstance(s, FieldNode)
        )


def available_operations() -> list[str]:
    folder = resources.files("racing_platform.source") / "queries"
    return sorted(p.name.removesuffix(".graphql") for p in folder.iterdir() if p.name.endswith(".graphql"))


@lru_cache
def load_operation(name: str) -> Operation:
    resource = resources.files("racing_platform.source") / "queries" / f"{name}.graphql"
    if not resource.is_file():
        raise ValueError(f"unknown racing.com operation {name!r}; known: {', '.join(available_operations())}")
    text = resource.read_text(encoding="utf-8")
    document = parse(text)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None or operations[0].name.value != name:
        raise ValueError(f"queries/{name}.graphql must hold exactly one operation named {name!r}")
    definition = operations[0]
    variables = definition.variable_definitions or ()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return Operation(
        name=name,
        text=text,
        document=document,
        definition=definition,
        fragments=fragments,
        required_variables=frozenset(
            v.variable.name.value
            for v in variables
            if isinstance(v.type, NonNullTypeNode) and v.default_value is None
        ),
        declared_variables=frozenset(v.variable.name.value for v in variables),
        shape=_shape(definition.selection_set, fragments),
        printed=print_ast(document),
    )


_Shape = tuple[tuple[str, "_Shape | None"], ...]


def _shape(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]) -> _Shape:
    """The keys an answer must hold at this level, in document order, each with the shape below it."""
    keys: list[tuple[str, _Shape | None]] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            below = selection.selection_set
            keys.append(
                (
                    (selection.alias or selection.name).value,
                    _shape(below, fragments) if below is not None else None,
                )
            )
        elif isinstance(selection, FragmentSpreadNode):
            keys.extend(_shape(fragments[selection.name.value].selection_set, fragments))
        else:
            keys.extend(_shape(selection.selection_set, fragments))
    return tuple(keys)


def missing_selections(operation: Operation, data: Any) -> list[str]:
    """Paths of selected fields absent from `data`.

    The GraphQL spec puts every selected field in the answer (null when unresolved), so a missing key means
    the server is not answering this query. Fragment fields are required too: our documents only spread
    fragments on the type they are defined on. The common complete answer is checked without building paths.
    """
    if _complete(operation.shape, data):
        return []
    return _missing(operation.shape, data, "data")


def _complete(shape: _Shape, value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list):
        return all(_complete(shape, item) for item in value)
    if not isinstance(value, dict):
        return False
    for key, below in shape:
        if key not in value:
            return False
        if below is not None and not _complete(below, value[key]):
            return False
    return True


def _missing(shape: _Shape, value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [m for i, item in enumerate(value) for m in _missing(shape, item, f"{path}[{i}]")]
    if not isinstance(value, dict):
        return [f"{path} (an object was selected, got {type(value).__name__})"]
    found: list[str] = []
    for key, below in shape:
        if key not in value:
            found.append(f"{path}.{key}")
        elif below is not None:
            found.extend(_missing(below, value[key], f"{path}.{key}"))
    return found


# --------------------------------------------------------------------------------------------- transport


class _ApiKeyAuth(requests.auth.AuthBase):
    """Adds `x-api-key` only as a request leaves, so the key never sits in a headers dict that gets logged."""

    def __init__(self, api_key: SecretStr) -> None:
        self._api_key = api_key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["x-api-key"] = self._api_key.get_secret_value()
        return request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(api_key=SecretStr('**********'))"


class _ResponseCapturingTransport(RequestsHTTPTransport):
    """gql's requests transport plus a session response hook that keeps the last raw response.

    The hook runs before the body is read, so even when reading the body fails the status and headers of the
    attempt are known.
    """

    last_response: requests.Response | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(json_deserialize=_skip_gql_decode, **kwargs)

    def connect(self) -> None:
        super().connect()
        assert self.session is not None
        self.session.hooks["response"].append(self._keep_response)

    def _keep_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.last_response = response
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            response.close()
            raise _AnswerTooLarge(int(declared))
        return response


class _PrintedRequest(GraphQLRequest):
    """gql's request, but its payload carries the operation's document printed once, not on every call."""

    def __init__(self, operation: Operation, variables: dict[str, Any]) -> None:
        super().__init__(operation.document, variable_values=variables, operation_name=operation.name)
        self._printed = operation.printed

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"query": self._printed, "operationName": self.operation_name}
        if self.variable_values:
            payload["variables"] = self.variable_values
        return payload


def _skip_gql_decode(text: str) -> dict[str, Any]:
    """gql's JSON decoder, replaced: `_classify` decodes the raw bytes itself and never reads gql's result,
    so gql gets an empty answer of the form it expects instead of a second decode of the body."""
    return {"data": {}}


class _AnswerTooLarge(Exception):
    """Raised from the response hook, before the body is read, for a declared size above the limit."""

    def __init__(self, declared: int) -> None:
        self.declared = declared
        super().__init__(f"Content-Length {declared} bytes")


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FetchedResponse:
    operation: str
    variables: dict[str, Any]
    payload: dict[str, Any]
    """The whole JSON body, as `parsers.parse_response` expects it."""
    fetched_at: datetime
    sha256: str
    """Key of the archived record holding this body."""
    attempts: int
    body_text: str
    """The body as archived: canonical JSON (sorted keys, compact, UTF-8 unescaped)."""
    first_fetched_at: datetime
    """When the archive first saw this content (earlier than `fetched_at` for an unchanged answer)."""
    last_fetched_at: datetime
    """Until when the archive has seen this content served, this fetch included."""

    @property
    def data(self) -> dict[str, Any]:
        return self.payload["data"]


@dataclass
class ClientMetrics:
    """Counters for Dagster metadata: what the source cost and how it behaved."""

    requests: int = 0
    attempts: int = 0
    retries: int = 0
    rate_limit_wait_s: float = 0.0
    retry_wait_s: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "attempts": self.attempts,
            "retries": self.retries,
            "rate_limit_wait_s": round(self.rate_limit_wait_s, 3),
            "retry_wait_s": round(self.retry_wait_s, 3),
            "outcomes": dict(sorted(self.outcomes.items())),
        }


# --------------------------------------------------------------------------------------------- client


class RacingComClient:
    def __init__(
        self,
        config: ClientConfig,
        *,
        archive: ResponseArchive | None = None,
        politeness: Politeness | None = None,
        run_id: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`archive`/`politeness` default to the ones `config` points at (both always on);
        `run_id` keys the request budget (default: a fresh id, i.e. a budget for this client alone);
        `sleep` is used for retry waits and, when politeness is built here, rate-limit waits."""
        self.config = config
        self.archive = archive if archive is not None else ResponseArchive.from_config(config)
        self.politeness = (
            politeness if politeness is not None else Politeness.from_config(config, sleep=sleep)
        )
        self.run_id = run_id or f"adhoc-{uuid.uuid4().hex[:12]}"
        self.metrics = ClientMetrics()
        self._sleep = sleep
        self._now = now
        self._transport = _ResponseCapturingTransport(
            url=config.url,
            headers={**_BROWSER_HEADERS, "User-Agent": "racing_platform/0.1 (+polite research client)"},
            auth=_ApiKeyAuth(config.api_key) if config.api_key is not None else None,
            timeout=config.timeout_s,
            retries=0,
        )
        self._gql = Client(transport=self._transport, fetch_schema_from_transport=False)
        self._session = self._gql.connect_sync()

    def __repr__(self) -> str:
        return f"RacingComClient(url={self.config.url!r}, run_id={self.run_id!r})"

    def close(self) -> None:
        self._gql.close_sync()

    def __enter__(self) -> RacingComClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------------- operations

    def meetings_by_date(self, date: str, *, with_races: bool = False) -> FetchedResponse:
        """Meetings on a `YYYY-MM-DD` date; `with_races` nests races and runners (history, one call a day)."""
        name = "GetMeetingByDateWithRaces_CD" if with_races else "GetMeetingByDate_CD"
        return self.execute(name, {"date": date})

    def races_for_meet(self, meet_code: str, *, full_field: bool = False) -> FetchedResponse:
        """The uncached race list of a meeting, or (`full_field`) `getRacesForMeet` with every runner."""
        if full_field:
            return self.execute("Races", {"meetCode": str(meet_code)})
        return self.execute("getRaceNumberList_CD", {"meetCode": str(meet_code)})

    def race_field(self, meet_code: str, race_number: int) -> FetchedResponse:
        return self.execute(
            "getRaceEntriesForField_CD", {"meetCode": str(meet_code), "raceNumber": int(race_number)}
        )

    def race_results(self, meet_code: str, race_number: int) -> FetchedResponse:
        return self.execute("getRaceResults_CD", {"meetCode": str(meet_code), "raceNumber": int(race_number)})

    def horse_career(
        self, horse_code: str, *, stop: Callable[[FetchedResponse], bool] | None = None
    ) -> list[FetchedResponse]:
        """A horse's past starts, newest first, page by page (`GetRaceEntryItemByHorsePaged`, 10 a page).

        Pages follow the cursor (the last item's `LastEvaluatedKey`) until it ends, or until `stop(page)`
        says the rest is already known (it is called on every page as it arrives and may raise). Every
        page is one `execute`: rate limit, budget, retries and archive as for any request. A cursor that
        repeats or runs past `MAX_CAREER_PAGES` is a `ResponseShapeError` (the paging would never end).
        """
        pages: list[FetchedResponse] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            variables = {"horseCode": str(horse_code), "lastEvaluatedKey": cursor}
            page = self.execute(HORSE_CAREER, variables)
            pages.append(page)
            if stop is not None and stop(page):
                return pages
            cursor = _career_cursor(page)
            if cursor is None:
                return pages
            if cursor in seen or len(pages) >= MAX_CAREER_PAGES:
                reason = "repeats" if cursor in seen else f"runs past {MAX_CAREER_PAGES} pages"
                raise ResponseShapeError(HORSE_CAREER, variables, f"the LastEvaluatedKey cursor {reason}")
            seen.add(cursor)

    def sibling(self) -> RacingComClient:
        """A client for another thread (one client serves one thread): same endpoint, run budget, rate
        limiter and archive file; its own connection and metrics."""
        return RacingComClient(
            self.config,
            archive=self.archive,
            politeness=self.politeness,
            run_id=self.run_id,
            sleep=self._sleep,
            now=self._now,
        )

    def execute(self, operation_name: str, variables: dict[str, Any]) -> FetchedResponse:
        """Run one operation with retries; return the validated, archived answer or raise a RacingComError."""
        operation = load_operation(operation_name)
        _check_variables(operation, variables)
        self.metrics.requests += 1
        attempts = 0

        def attempt() -> FetchedResponse:
            nonlocal attempts
            attempts += 1
            return self._attempt(operation, variables, attempts)

        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_before_delay(CLIENT_RETRY_DEADLINE_S) | stop_after_attempt(MAX_ATTEMPTS),
            wait=_wait_with_retry_after,
            sleep=self._retry_sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except RacingComError as exc:
            self.metrics.outcomes[type(exc).__name__] += 1
            raise

    # ----------------------------------------------------------------------------------- one attempt

    def _attempt(
        self, operation: Operation, variables: dict[str, Any], attempt_number: int
    ) -> FetchedResponse:
        self.metrics.rate_limit_wait_s += self.politeness.acquire(
            self.config.host, self.run_id, operation=operation.name, variables=variables
        )
        self.metrics.attempts += 1
        self._transport.last_response = None
        request = _PrintedRequest(operation, variables)
        log.debug("racing.com %s attempt %d", operation.name, attempt_number)
        try:
            self._session.execute(request, get_execution_result=True)
            failure: BaseException | None = None
        except Exception as exc:  # classified below from the raw response, not from gql's exception type
            failure = exc
        fetched_at = self._now()
        secret = self.config.api_key.get_secret_value() if self.config.api_key else None
        body, error = _classify(operation, variables, self._transport.last_response, failure, secret=secret)
        if body is None:
            assert error is not None
            raise error
        outcome = "ok" if error is None else _OUTCOME_BY_ERROR[type(error)]
        archived = self.archive.record_answer(
            operation.name, variables, body, fetched_at=fetched_at, outcome=outcome
        )
        if error is not None:
            raise error
        self.metrics.outcomes["ok"] += 1
        return FetchedResponse(
            operation=operation.name,
            variables=dict(variables),
            payload=body,
            fetched_at=fetched_at,
            sha256=archived.sha256,
            attempts=attempt_number,
            body_text=archived.body_text,
            first_fetched_at=archived.first_fetched_at,
            last_fetched_at=archived.last_fetched_at,
        )

    def _retry_sleep(self, seconds: float) -> None:
        self.metrics.retry_wait_s += seconds
        self._sleep(seconds)

    def _log_retry(self, state: RetryCallState) -> None:
        self.metrics.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "racing.com attempt %d failed, retrying in %.1fs: %s",
            state.attempt_number,
            state.upcoming_sleep,
            exc,
        )


_OUTCOME_BY_ERROR: dict[type, str] = {
    GraphQLResponseError: "graphql_error",
    AuthError: "auth_error",
    ResponseShapeError: "shape_error",
    UnexpectedStatusError: "unexpected_status",
    ForbiddenError: "forbidden",
}


def _career_cursor(page: FetchedResponse) -> str | None:
    """The next page's `lastEvaluatedKey`: the last item's `LastEvaluatedKey`; none (null, "", no items)
    ends the career. Anything but text is a wrong answer."""
    items = page.data.get("GetRaceEntryItemByHorsePaged")
    if not items:
        return None
    last = items[-1]
    cursor = last.get("LastEvaluatedKey") if isinstance(last, dict) else None
    if cursor is not None and not isinstance(cursor, str):
        raise ResponseShapeError(page.operation, page.variables, f"LastEvaluatedKey {cursor!r} is not text")
    return cursor or None


def _check_variables(operation: Operation, variables: dict[str, Any]) -> None:
    missing = sorted(operation.required_variables - variables.keys())
    unknown = sorted(variables.keys() - operation.declared_variables)
    if missing or unknown:
        raise ValueError(
            f"{operation.name}: variables {json.dumps(variables, sort_keys=True)} do not fit the document"
            f" (missing: {missing or 'none'}, undeclared: {unknown or 'none'})"
        )


def _wait_with_retry_after(state: RetryCallState) -> float:
    """Exponential backoff with jitter, but never shorter than the server's Retry-After."""
    backoff = wait_exponential_jitter(initial=BACKOFF_INITIAL_S, max=BACKOFF_MAX_S, jitter=BACKOFF_JITTER_S)(
        state
    )
    exc = state.outcome.exception() if state.outcome else None
    retry_after = getattr(exc, "retry_after", None) or 0.0
    return max(backoff, retry_after)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _classify(
    operation: Operation,
    variables: dict[str, Any],
    response: requests.Response | None,
    failure: BaseException | None,
    *,
    secret: str | None = None,
) -> tuple[dict[str, Any] | None, RacingComError | None]:
    """(body, error) of one attempt; `body` is the complete JSON answer when there is one (to archive).

    `secret` (the API key) is blanked out of any library message quoted in an error.
    """
    name = operation.name
    cause = (failure.__cause__ or failure) if isinstance(failure, TransportConnectionFailed) else failure
    if response is None:
        if isinstance(cause, _NETWORK_FAULTS):
            return None, TransientError(name, variables, f"no response ({_quote(cause, secret)})")
        return None, RacingComError(name, variables, f"request not sent ({_quote(cause, secret)})")
    status = response.status_code
    if isinstance(cause, _AnswerTooLarge):
        return None, ResponseTooLargeError(
            name, variables, f"HTTP {status} answer of {cause.declared} bytes refused unread: {_LIMIT}"
        )
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if status == 401:
        return None, AuthError(name, variables, "HTTP 401: the API key was rejected")
    if status == 403:
        return None, ForbiddenError(
            name, variables, "HTTP 403: the host refused this client (WAF/CloudFront block); not retried"
        )
    if status in _TRANSIENT_STATUSES or status >= 500:
        hint = f", Retry-After {retry_after:g}s" if retry_after is not None else ""
        return None, TransientError(
            name, variables, f"HTTP {status}{hint}", status=status, retry_after=retry_after
        )
    if isinstance(failure, TransportConnectionFailed):
        # The response hook ran, then reading the body failed.
        if isinstance(cause, _NETWORK_FAULTS):
            return None, TransientError(
                name, variables, f"HTTP {status} body cut short ({_quote(cause, secret)})", status=status
            )
        return None, RacingComError(
            name, variables, f"HTTP {status} body unreadable ({_quote(cause, secret)})"
        )
    received = len(response.content)
    declared = response.headers.get("Content-Length")
    if (
        declared
        and declared.isdigit()
        and "Content-Encoding" not in response.headers
        and int(declared) != received
    ):
        reason = f"HTTP {status} body cut short: {received} of {declared} bytes"
        return None, TransientError(name, variables, reason, status=status)
    if received > MAX_ANSWER_BYTES:
        return None, ResponseTooLargeError(
            name, variables, f"HTTP {status} answer of {received} bytes refused unparsed: {_LIMIT}"
        )
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        if status >= 400:
            return None, UnexpectedStatusError(name, variables, status, "non-JSON body")
        kind = response.headers.get("Content-Type", "no Content-Type")
        detail = (
            f"{exc.msg} at byte {exc.pos}" if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        )
        return None, ResponseShapeError(
            name,
            variables,
            f"HTTP {status} answer of {received} bytes ({kind}) is not complete JSON ({detail});"
            " every byte arrived, so the same request would get the same answer",
        )
    if not isinstance(body, dict):
        return None, ResponseShapeError(
            name, variables, f"answer is a JSON {type(body).__name__}, not an object"
        )
    errors = body.get("errors")
    if errors:
        if any(isinstance(e, dict) and e.get("errorType") in _UNAUTHORIZED_ERROR_TYPES for e in errors):
            return body, AuthError(name, variables, f"HTTP {status}: {_error_messages(errors)[0]}")
        return body, GraphQLResponseError(name, variables, _error_messages(errors))
    if status >= 400:
        return body, UnexpectedStatusError(name, variables, status, "no GraphQL errors in the body")
    data = body.get("data")
    if not isinstance(data, dict):
        return body, ResponseShapeError(name, variables, "answer has no `data` object")
    missing = missing_selections(operation, data)
    if missing:
        shown = ", ".join(missing[:_MAX_PATHS_IN_MESSAGE])
        more = (
            f" and {len(missing) - _MAX_PATHS_IN_MESSAGE} more"
            if len(missing) > _MAX_PATHS_IN_MESSAGE
            else ""
        )
        return body, ResponseShapeError(
            name, variables, f"selected fields missing from the answer: {shown}{more}"
        )
    return body, None


def _quote(exc: BaseException, secret: str | None) -> str:
    """`Type: message` of a library exception, with the API key blanked out should it quote one."""
    text = f"{type(exc).__name__}: {exc}"
    return text.replace(secret, "**********") if secret else text


def _error_messages(errors: list[Any]) -> list[str]:
    messages = []
    for error in errors:
        if isinstance(error, dict):
            kind = error.get("errorType")
            message = str(error.get("message", error))
            messages.append(f"{kind}: {message}" if kind else message)
        else:
            messages.append(str(error))
    return messages
