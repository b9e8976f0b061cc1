"""Fault injection and the request log, as an ASGI wrapper around the GraphQL endpoint.

Faults come from two sources:

* scripted: `POST /_sim/faults {"faults": [...], "match": {...}}` queues faults; each GraphQL request
  that matches takes the oldest queued fault whose match fits (one fault per request, in order).
  `match` is optional: `{"operation": <operationName or a root field such as "getRaceForm">,
  "variables": {<subset the request's variables must contain>}}`.
* random: `fault_rate` (CLI `--fault-rate`) gives each unscripted request that probability of a
  transient fault (502/503/504, 429 with Retry-After, or a truncated body), from a seeded RNG.

Kinds: status (5xx/401/403/429, optional retry_after), latency (seconds), truncate, graphql_error
(message), drop_field (field), duplicate_saddlecloth. Faults act on the HTTP exchange, never on the world.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import parse_qs

from graphql import FieldNode, OperationDefinitionNode, parse
from graphql.error import GraphQLSyntaxError

Scope = dict
Message = dict
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KINDS = {"status", "latency", "truncate", "graphql_error", "drop_field", "duplicate_saddlecloth"}
ALLOWED_STATUSES = {401, 403, 429} | set(range(500, 600))
TRANSIENT_FAULTS = (
    {"kind": "status", "status": 502},
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 504},
    {"kind": "status", "status": 429, "retry_after": 1},
    {"kind": "truncate"},
)
UNAUTHORIZED = {"kind": "status", "status": 401}
APPSYNC_ERROR_BODIES = {
    401: ("UnauthorizedException", "You are not authorized to make this call."),
    403: ("ForbiddenException", "Forbidden"),
    429: ("TooManyRequestsException", "Rate exceeded"),
}


class FaultSpecError(ValueError):
    """A scripted fault or match that the simulator cannot apply."""


def validate_fault(spec: dict) -> dict:
    if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
        raise FaultSpecError(f"fault {spec!r}: 'kind' must be one of {sorted(KINDS)}")
    kind = spec["kind"]
    if kind == "status":
        status = spec.get("status")
        if not isinstance(status, int) or status not in ALLOWED_STATUSES:
            raise FaultSpecError(f"fault {spec!r}: 'status' must be 401, 403, 429 or 5xx")
        if "retry_after" in spec and not isinstance(spec["retry_after"], int | float):
            raise FaultSpecError(f"fault {spec!r}: 'retry_after' must be a number of seconds")
    elif kind == "latency":
        if not isinstance(spec.get("seconds"), int | float) or spec["seconds"] < 0:
            raise FaultSpecError(f"fault {spec!r}: 'seconds' must be a non-negative number")
    elif kind == "drop_field" and not isinstance(spec.get("field"), str):
        raise FaultSpecError(f"fault {spec!r}: 'field' must name the response key to drop")
    elif kind == "graphql_error" and not isinstance(spec.get("message", ""), str):
        raise FaultSpecError(f"fault {spec!r}: 'message' must be a string")
    return dict(spec)


def validate_match(match: dict | None) -> dict:
    if match is None:
        return {}
    if not isinstance(match, dict) or set(match) - {"operation", "variables"}:
        raise FaultSpecError(f"match {match!r}: only 'operation' and 'variables' are supported")
    if "variables" in match and not isinstance(match["variables"], dict):
        raise FaultSpecError(f"match {match!r}: 'variables' must be an object")
    return dict(match)


@dataclass
class GraphQLRequestInfo:
    method: str
    operation_name: str | None
    root_fields: list[str]
    variables: dict
    api_key_present: bool

    def matches(self, match: dict) -> bool:
        operation = match.get("operation")
        if operation is not None and operation != self.operation_name and operation not in self.root_fields:
            return False
        return all(self.variables.get(k) == v for k, v in match.get("variables", {}).items())


@dataclass
class FaultPlan:
    """Scripted faults (FIFO) plus an optional random transient-fault rate."""

    fault_rate: float = 0.0
    seed: int = 0
    _queue: list[tuple[dict, dict]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise FaultSpecError(f"fault rate must be within [0, 1], got {self.fault_rate}")
        self._rng = random.Random(self.seed)

    def queue(self, faults: list[dict], match: dict | None = None) -> int:
        if not isinstance(faults, list) or not faults:
            raise FaultSpecError("'faults' must be a non-empty list of fault objects")
        checked = [validate_fault(f) for f in faults]
        clean_match = validate_match(match)
        with self._lock:
            self._queue.extend((f, clean_match) for f in checked)
            return len(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [{"fault": f, "match": m} for f, m in self._queue]

    def take(self, request: GraphQLRequestInfo) -> dict | None:
        with self._lock:
            for i, (fault, match) in enumerate(self._queue):
                if request.matches(match):
                    del self._queue[i]
                    return fault
            if self.fault_rate and self._rng.random() < self.fault_rate:
                return dict(self._rng.choice(TRANSIENT_FAULTS))
        return None


class RequestLog:
    """Every GraphQL request received, with timestamps; the x-api-key value itself is never kept."""

    def __init__(self) -> None:
        self._entries: list[dict] = []
        self._lock = threading.Lock()

    def add(self, request: GraphQLRequestInfo, fault: dict | None) -> None:
        with self._lock:
            self._entries.append(
                {
                    "seq": len(self._entries) + 1,
                    "monotonic": time.monotonic(),
                    "wall": datetime.now(UTC).isoformat(),
                    "method": request.method,
                    "operationName": request.operation_name,
                    "rootFields": request.root_fields,
                    "variables": request.variables,
                    "apiKeyPresent": request.api_key_present,
                    "fault": fault["kind"] if fault else None,
                }
            )

    def entries(self) -> list[dict]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def describe_request(scope: Scope, body: bytes) -> GraphQLRequestInfo:
    headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
    method = scope.get("method", "GET")
    payload: dict = {}
    if method == "GET":
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        payload = {k: v[0] for k, v in params.items()}
        try:
            payload["variables"] = json.loads(payload.get("variables") or "null")
        except ValueError:
            payload["variables"] = None
    else:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = {}
    if not isinstance(payload, dict):
        payload = {}
    variables = payload.get("variables") if isinstance(payload.get("variables"), dict) else {}
    operation_name, fields = selected_operation(
        payload.get("query") or "", payload.get("operationName") or None
    )
    return GraphQLRequestInfo(
        method=method,
        operation_name=operation_name,
        root_fields=fields,
        variables=variables,
        api_key_present=bool(headers.get("x-api-key")),
    )


def selected_operation(query: str, operation_name: str | None) -> tuple[str | None, list[str]]:
    """The operation a request runs (from the document when operationName is absent) and its root fields."""
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return operation_name, []
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [d for d in operations if d.name and d.name.value == operation_name]
    if len(operations) != 1:
        return operation_name, []
    operation = operations[0]
    fields = [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    return operation_name or (operation.name.value if operation.name else None), fields


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the already-read body to the wrapped app once, then defer to the real channel (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _capture(
    app: ASGIApp, scope: Scope, receive: Receive
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status, headers, chunks = 500, [], []

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, headers, b"".join(chunks)


async def _send_json(
    send: Send, status: int, payload, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode()
    await _send_bytes(send, status, body, [(b"content-type", b"application/json")] + (headers or []))


async def _send_bytes(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": kept + [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def drop_key(node, key: str):
    if isinstance(node, dict):
        return {k: drop_key(v, key) for k, v in node.items() if k != key}
    if isinstance(node, list):
        return [drop_key(v, key) for v in node]
    return node


def duplicate_saddlecloths(node):
    """Give every race object one extra, scratched emergency on an already used saddlecloth."""
    if isinstance(node, list):
        return [duplicate_saddlecloths(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: duplicate_saddlecloths(v) for k, v in node.items()}
    entries = out.get("formRaceEntries")
    if (
        isinstance(entries, list)
        and entries
        and all(isinstance(e, dict) and "raceEntryNumber" in e for e in entries)
    ):
        out["formRaceEntries"] = entries + [_scratched_emergency_twin(entries[0])]
    return out


def _scratched_emergency_twin(entry: dict) -> dict:
    twin = copy.deepcopy(entry)
    resulted = entry.get("finish") is not None or entry.get("position") is not None
    overrides = {
        "id": f"9{entry.get('id') or ''}",
        "horseCode": f"9{entry.get('horseCode') or ''}",
        "horseName": "Late Emergency",
        "scratched": True,
        "emergency": True,
        "emergencyNumber": 1,
        "barrierNumber": 0,
        "startingPrice": None,
        "margin": None,
        "winningTime": None,
        "prizeMoney": None,
        "odds": [],
        "position": 109 if resulted else None,
        "finish": 109 if resulted else None,
        "finishAbv": "SCR" if resulted else None,
    }
    twin.update({k: v for k, v in overrides.items() if k in twin})
    return twin


class FaultInjector:
    """ASGI wrapper: logs each GraphQL request, then applies at most one fault to its response.

    With `api_key`, a request whose `x-api-key` is not exactly that key gets AppSync's 401, as racing.com
    answers a wrong key.
    """

    def __init__(
        self,
        app: ASGIApp,
        plan: FaultPlan,
        log: RequestLog,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        api_key: str | None = None,
    ) -> None:
        self.app = app
        self.plan = plan
        self.log = log
        self.sleep = sleep
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        request = describe_request(scope, body)
        fault = UNAUTHORIZED if self._wrong_key(scope) else self.plan.take(request)
        self.log.add(request, fault)
        await self.respond(fault, scope, _replay(body, receive), send)

    def _wrong_key(self, scope: Scope) -> bool:
        if self.api_key is None:
            return False
        sent = dict(scope.get("headers") or []).get(b"x-api-key", b"")
        return sent.decode("latin-1") != self.api_key

    async def respond(self, fault: dict | None, scope: Scope, receive: Receive, send: Send) -> None:
        kind = fault["kind"] if fault else None
        if kind is None:
            await self.app(scope, receive, send)
        elif kind == "latency":
            await self.sleep(float(fault["seconds"]))
            await self.app(scope, receive, send)
        elif kind == "status":
            await self._status(fault, send)
        elif kind == "graphql_error":
            message = fault.get("message") or "An internal failure occurred."
            await _send_json(
                send,
                200,
                {
                    "data": None,
                    "errors": [
                        {
                            "path": None,
                            "data": None,
                            "errorType": fault.get("error_type", "InternalFailure"),
                            "errorInfo": None,
                            "locations": [],
                            "message": message,
                        }
                    ],
                },
            )
        elif kind == "truncate":
            status, headers, body = await _capture(self.app, scope, receive)
            kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": kept + [(b"content-length", str(len(body) + 1).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            # Returning without finishing the body makes the server close the connection mid-body.
        else:
            status, headers, body = await _capture(self.app, scope, receive)
            try:
                payload = json.loads(body)
            except ValueError:
                await _send_bytes(send, status, body, headers)
                return
            payload = (
                drop_key(payload, fault["field"]) if kind == "drop_field" else duplicate_saddlecloths(payload)
            )
            await _send_bytes(send, status, json.dumps(payload).encode(), headers)

    async def _status(self, fault: dict, send: Send) -> None:
        status = int(fault["status"])
        headers = []
        if "retry_after" in fault:
            headers.append((b"retry-after", str(fault["retry_after"]).encode()))
        if status in APPSYNC_ERROR_BODIES:
            error_type, message = APPSYNC_ERROR_BODIES[status]
            await _send_json(
                send, status, {"errors": [{"errorType": error_type, "message": message}]}, headers
            )
            return
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Server Error"
        await _send_bytes(
            send,
            status,
            f"{status} {phrase}".encode(),
            [(b"content-type", b"text/plain; charset=utf-8")] + headers,
        )
