"""A racing.com-compatible GraphQL endpoint for tests that answers from recorded responses.

Each request's document is read with graphql-core; every root field is looked up in `Recordings` by its
name and arguments, and the recorded value is projected onto the request's selection set the way a
GraphQL server shapes an answer: a selected field the recording lacks is null, a recorded field nobody
selected is dropped, aliases name the keys, fragments are expanded and lists are mapped element-wise.
A leaf that holds an object or a list in a (mutated) recording is passed through as is, so wrong types
reach the client unchanged. An unrecorded request is answered like AppSync's NotFound.

Tests can also queue raw HTTP answers (status, bytes, content type) for an operation, served before the
recorded one (outages, HTML pages, cut-off JSON, oversized bodies), and edit an operation's projected
answer (a selected key left out, which a GraphQL server never does but a drifted schema can).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    value_from_ast_untyped,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from racing_platform.simulator.testing import serve_in_thread
from racing_platform_tests.replay.recordings import NotRecorded, Recordings


@dataclass(frozen=True)
class RawAnswer:
    """An HTTP answer served verbatim instead of the recorded one."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"


@dataclass
class _Queued:
    answer: RawAnswer
    times: int


@dataclass
class ReplayEndpoint:
    """The endpoint's state: recordings (with mutations), queued raw answers and the request log."""

    recordings: Recordings = field(default_factory=Recordings)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _queued: dict[str, deque[_Queued]] = field(default_factory=dict)
    _answer_edits: dict[str, Callable[[dict], dict]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.recordings.reset()
            self.requests.clear()
            self._queued.clear()
            self._answer_edits.clear()

    def edit_answers(self, operation: str, edit: Callable[[dict], dict]) -> None:
        """Serve `edit(projected answer)` for `operation`: answers no projection can give (a missing key)."""
        self._answer_edits[operation] = edit

    def queue(self, operation: str, answer: RawAnswer, *, times: int = 1) -> None:
        """Serve `answer` to the next `times` requests naming `operation`, then the recorded answer again."""
        with self._lock:
            self._queued.setdefault(operation, deque()).append(_Queued(answer, times))

    def requests_for(self, operation: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["operation"] == operation]

    def _take_queued(self, operation: str | None) -> RawAnswer | None:
        with self._lock:
            waiting = self._queued.get(operation or "")
            if not waiting:
                return None
            head = waiting[0]
            head.times -= 1
            if head.times <= 0:
                waiting.popleft()
            return head.answer

    # ------------------------------------------------------------------------------------------ GraphQL

    async def graphql(self, request: Request) -> Response:
        if request.method == "GET":
            params = request.query_params
            body = {
                "query": params.get("query"),
                "variables": json.loads(params.get("variables") or "{}"),
                "operationName": params.get("operationName"),
            }
        else:
            body = json.loads(await request.body())
        variables = body.get("variables") or {}
        self.requests.append({"operation": body.get("operationName"), "variables": variables})
        queued = self._take_queued(body.get("operationName"))
        if queued is not None:
            return Response(queued.body, status_code=queued.status, media_type=queued.content_type)
        answer = self.execute(body.get("query") or "", variables, body.get("operationName"))
        edit = self._answer_edits.get(body.get("operationName") or "")
        return JSONResponse(edit(answer) if edit else answer)

    def execute(self, query: str, variables: dict[str, Any], operation_name: str | None) -> dict[str, Any]:
        """The answer to one GraphQL request, built from the recordings."""
        try:
            document = parse(query)
        except GraphQLError as err:
            return {"data": None, "errors": [{"errorType": "ValidationError", "message": err.message}]}
        operation = _operation(document, operation_name)
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        data: dict[str, Any] = {}
        errors: list[dict] = []
        for key, nodes in _collect(operation.selection_set, fragments).items():
            root = nodes[0]
            arguments = {a.name.value: value_from_ast_untyped(a.value, variables) for a in root.arguments}
            try:
                value, recorded_errors = self.recordings.answer(root.name.value, arguments)
            except NotRecorded as err:
                data[key] = None
                errors.append({"path": [key], "errorType": "NotFound", "message": str(err)})
                continue
            data[key] = _project(value, _merged(nodes), fragments)
            errors.extend(recorded_errors)
        return {"data": data, "errors": errors} if errors else {"data": data}


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for operation in operations:
        if name is None or (operation.name is not None and operation.name.value == name):
            return operation
    raise ValueError(f"no operation {name!r} in the document")


def _collect(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> dict[str, list[FieldNode]]:
    """Response key -> the field nodes answering it, fragments expanded (GraphQL's CollectFields)."""
    fields: dict[str, list[FieldNode]] = {}
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields.setdefault((selection.alias or selection.name).value, []).append(selection)
        else:
            inner = (
                fragments[selection.name.value].selection_set
                if isinstance(selection, FragmentSpreadNode)
                else selection.selection_set
            )
            assert isinstance(selection, FragmentSpreadNode | InlineFragmentNode)
            for key, nodes in _collect(inner, fragments).items():
                fields.setdefault(key, []).extend(nodes)
    return fields


def _merged(nodes: list[FieldNode]) -> SelectionSetNode | None:
    """One selection set for a key selected several times (`weight` twice, `comment` in a fragment)."""
    sets = [n.selection_set for n in nodes if n.selection_set is not None]
    if not sets:
        return None
    return SelectionSetNode(selections=tuple(s for selection_set in sets for s in selection_set.selections))


def _project(value: Any, selection_set: SelectionSetNode | None, fragments: dict) -> Any:
    if selection_set is None or value is None:
        return value
    if isinstance(value, list):
        return [_project(item, selection_set, fragments) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: _project(value.get(nodes[0].name.value), _merged(nodes), fragments)
        for key, nodes in _collect(selection_set, fragments).items()
    }


# ------------------------------------------------------------------------------------------------ serving


@dataclass(frozen=True)
class RunningReplay:
    url: str
    endpoint: ReplayEndpoint


@contextlib.contextmanager
def running_replay(endpoint: ReplayEndpoint | None = None) -> Iterator[RunningReplay]:
    """Serve the endpoint with uvicorn on 127.0.0.1 (an ephemeral port) in a background thread."""
    endpoint = endpoint or ReplayEndpoint()
    app = Starlette(routes=[Route("/", endpoint.graphql, methods=["GET", "POST"])])
    with serve_in_thread(app, "replay endpoint") as base:
        yield RunningReplay(url=f"{base}/", endpoint=endpoint)
