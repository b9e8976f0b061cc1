"""The racing.com-compatible ASGI server: GraphQL at `/` (GET and POST) plus `/_sim/*` control endpoints.

GraphQL answers come from a World rendered at the clock's instant (`render.py`, rules in `clock.py`);
`faults.py` wraps the GraphQL endpoint to log requests and inject faults. Control endpoints:

* `GET /_sim/health`; `GET|POST /_sim/clock` (`{"now": iso, "frozen": true}`, `{"advance_seconds": n}`,
  `{"wall": true}`); `GET|POST|DELETE /_sim/faults`; `GET|DELETE /_sim/requests`;
* `GET /_sim/truth?meetCode=...|raceCode=...`: true win probabilities, simulator-only (never in GraphQL).

Errors look like AppSync's: `{"data": {"getRaceForm": null}, "errors": [{"errorType": "NotFound", ...}]}`.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import date
from pathlib import Path

import anyio
import pandas as pd
from ariadne import QueryType, load_schema_from_path, make_executable_schema
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from racing_platform.simulator.clock import SimClock
from racing_platform.simulator.execute import FastExecutor
from racing_platform.simulator.faults import FaultInjector, FaultPlan, FaultSpecError, RequestLog
from racing_platform.simulator.render import Renderer, WorldIndex, missing
from racing_platform.simulator.world.model import World

log = logging.getLogger(__name__)
# ariadne logs every GraphQL error with a traceback; expected ones (NotFound, validation) are answers, not
# failures, so they go to a silent logger and `appsync_error` logs only unexpected resolver exceptions.
answered_errors = logging.getLogger(f"{__name__}.answered_errors")
answered_errors.propagate = False
answered_errors.addHandler(logging.NullHandler())

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
WORLD_WAIT_SECONDS = 120.0


class BadArgument(ValueError):
    error_type = "BadRequestException"


def parse_meeting_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as err:
        raise BadArgument(f"GetMeetingByDate: date must be YYYY-MM-DD, got {value!r}") from err


def _renderer(info) -> Renderer:
    return info.context["renderer"]


query = QueryType()


@query.field("GetMeetingByDate")
def resolve_meetings_by_date(_, info, date: str):  # noqa: A002 - the real argument name
    return _renderer(info).meetings_on(parse_meeting_date(date))


@query.field("getMeeting")
def resolve_meeting(_, info, id: str):  # noqa: A002 - the real argument name
    renderer = _renderer(info)
    return renderer.meet(renderer.index.meeting(id, renderer.now))


@query.field("getNoCacheRacesForMeet")
def resolve_no_cache_races(_, info, meetCode: str):  # noqa: N803 - GraphQL argument name
    return _renderer(info).races_for_meet(meetCode, unsorted=True)


@query.field("getRacesForMeet")
def resolve_races(_, info, meetCode: str):  # noqa: N803
    return _renderer(info).races_for_meet(meetCode, unsorted=False)


@query.field("getRaceForm")
def resolve_race_form(_, info, meetCode: str, raceNumber: int):  # noqa: N803
    return _renderer(info).race_form(meetCode, raceNumber)


@query.field("GetBettingData")
def resolve_betting_data(_, info, meetCode: str, raceNumber: int):  # noqa: N803
    return _renderer(info).betting_data(meetCode, raceNumber)


@query.field("GetRaceEntryItemByHorsePaged")
def resolve_horse_history(
    _,
    info,
    horseCode: str,
    limit: int | None = None,
    lastEvaluatedKey: str | None = None,  # noqa: N803
):
    return _renderer(info).horse_history(horseCode, limit, lastEvaluatedKey)


def appsync_error(error: GraphQLError, debug: bool = False) -> dict:
    """AppSync's error shape: errorType/errorInfo/data beside message, locations and path."""
    formatted = dict(error.formatted)
    original = error.original_error
    formatted["errorType"] = getattr(original, "error_type", None) or (
        "InternalFailure" if original is not None else "ValidationError"
    )
    formatted["errorInfo"] = None
    formatted["data"] = None
    if original is not None and not hasattr(original, "error_type"):
        log.error("resolver failed: %s", error.message, exc_info=original)
    return formatted


class WorldHolder:
    """The indexed world, available immediately or after a background load (the server binds first)."""

    def __init__(
        self, world: World | None, seed: int, market_noise: float | None = None, flb_beta: float | None = None
    ) -> None:
        self.seed = seed
        self.market_noise = market_noise
        self.flb_beta = flb_beta
        self.index: WorldIndex | None = None
        self.error: str | None = None
        self._ready = threading.Event()
        if world is not None:
            self.index = WorldIndex(world)
            self._ready.set()
        else:
            threading.Thread(target=self._load, name=f"load-world-{seed}", daemon=True).start()

    def _load(self) -> None:
        try:
            from racing_platform.simulator.world.generator import load_world

            self.index = WorldIndex(load_world(self.seed, self.market_noise, self.flb_beta))
        except Exception as err:  # reported through /_sim/health and every GraphQL answer
            log.exception("loading world for seed %s failed", self.seed)
            self.error = f"loading the world for seed {self.seed} failed: {type(err).__name__}: {err}"
        finally:
            self._ready.set()

    @property
    def status(self) -> str:
        if not self._ready.is_set():
            return "loading"
        return "ok" if self.index is not None else "failed"

    async def wait(self) -> WorldIndex | None:
        if not self._ready.is_set():
            await anyio.to_thread.run_sync(self._ready.wait, WORLD_WAIT_SECONDS)
        return self.index


class SimulatorHTTPHandler(GraphQLHTTPHandler):
    """GET reads `?query=&variables=&operationName=` even when a content-type header is sent (the
    racing.com browser client sends `content-type: application/json` on GET). Answers come from the
    FastExecutor when it can vouch for them, else from ariadne and graphql-core (errors, odd documents)."""

    _fast: FastExecutor | None = None

    async def extract_data_from_request(self, request: Request):
        if request.method == "GET" and request.query_params.get("query"):
            return self.extract_data_from_get_request(request)
        return await super().extract_data_from_request(request)

    async def execute_graphql_query(self, request, data, *, context_value=None, query_document=None):
        if context_value is None:
            context_value = await self.get_context_for_request(request, data)
        if query_document is None and self.schema is not None:
            if self._fast is None:
                self._fast = FastExecutor(self.schema)
            answer = self._fast.execute(data, context_value)
            if answer is not None:
                return True, answer
        return await super().execute_graphql_query(
            request, data, context_value=context_value, query_document=query_document
        )


class GraphQLEndpoint:
    """Waits for the world, then hands the request to ariadne with a per-request Renderer."""

    def __init__(self, holder: WorldHolder, clock: SimClock) -> None:
        self.holder = holder
        self.clock = clock
        schema = make_executable_schema(load_schema_from_path(str(SCHEMA_PATH)), query)
        self.graphql = GraphQL(
            schema,
            context_value=self._context,
            http_handler=SimulatorHTTPHandler(),
            execute_get_queries=True,
            error_formatter=appsync_error,
            logger=answered_errors,
        )

    def _context(self, request: Request, _data) -> dict:
        return {"request": request, "renderer": Renderer(self.holder.index, self.clock.now())}

    async def __call__(self, scope, receive, send) -> None:
        if await self.holder.wait() is None:
            message = self.holder.error or "the simulator's world is still loading"
            response = JSONResponse(
                {"errors": [{"errorType": "ServiceUnavailable", "message": message}]}, 503
            )
            await response(scope, receive, send)
            return
        await self.graphql(scope, receive, send)


def _market_meta(holder: WorldHolder) -> dict:
    """The world's market parameters (once loaded; the requested ones while loading)."""
    if holder.index is not None:
        meta = holder.index.world.meta
        return {"market_noise": meta.get("market_noise"), "flb_beta": meta.get("flb_beta")}
    return {"market_noise": holder.market_noise, "flb_beta": holder.flb_beta}


def _json_rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for row in frame.to_dict("records"):
        rows.append(
            {
                k: (None if missing(v) else v.isoformat() if isinstance(v, pd.Timestamp | date) else v)
                for k, v in row.items()
                if not isinstance(v, list | dict)
            }
        )
    return rows


def truth_rows(index: WorldIndex, meet_code: str | None, race_code: str | None) -> list[dict]:
    """True win probabilities of the final fields (scratchings left out), from the world's truth_frame."""
    from racing_platform.simulator.world.truth import truth_frame

    if race_code:
        race_codes = [race_code] if index.has_race(race_code) else []
    else:
        race_codes = [r["race_code"] for r in index.races_of(str(meet_code))]
    if not race_codes:
        return []
    return _json_rows(truth_frame(index.world, race_codes))


def create_app(
    world: World | None = None,
    *,
    seed: int = 0,
    now=None,
    frozen: bool = True,
    clock: SimClock | None = None,
    fault_rate: float = 0.0,
    fault_seed: int = 0,
    api_key: str | None = None,
    market_noise: float | None = None,
    flb_beta: float | None = None,
) -> Starlette:
    """The whole simulator as one ASGI app. With no `world`, `load_world(seed, market_noise, flb_beta)`
    runs in the background (None = the default market; the knobs are ignored when `world` is given).

    With `api_key`, GraphQL requests must send it as `x-api-key` (else AppSync's 401); without, any key.
    """
    if world is None:
        from racing_platform.simulator.world.generator import market_parameters

        market_parameters(market_noise, flb_beta)  # a bad knob fails here, not in the loading thread
    sim_clock = clock or SimClock(now, frozen=frozen)
    holder = WorldHolder(world, seed, market_noise, flb_beta)
    plan = FaultPlan(fault_rate=fault_rate, seed=fault_seed)
    request_log = RequestLog()
    endpoint = FaultInjector(GraphQLEndpoint(holder, sim_clock), plan, request_log, api_key=api_key)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": holder.status,
                "seed": holder.seed,
                "market": _market_meta(holder),
                "error": holder.error,
                "clock": sim_clock.state(),
            },
            status_code=200 if holder.status != "failed" else 500,
        )

    async def clock_endpoint(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                body = await request.json()
                if body.get("wall"):
                    sim_clock.reset_to_wall()
                elif "now" in body:
                    sim_clock.set(body["now"], frozen=bool(body.get("frozen", True)))
                elif "advance_seconds" in body:
                    sim_clock.advance(float(body["advance_seconds"]))
                else:
                    raise ValueError("expected one of 'now', 'advance_seconds' or 'wall'")
            except (ValueError, TypeError, AttributeError) as err:
                return JSONResponse({"error": f"/_sim/clock: {err}"}, status_code=400)
        return JSONResponse(sim_clock.state())

    async def faults_endpoint(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            plan.clear()
        elif request.method == "POST":
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise FaultSpecError("body must be an object with 'faults' and optional 'match'")
                plan.queue(body.get("faults"), body.get("match"))
            except (FaultSpecError, json.JSONDecodeError) as err:
                return JSONResponse({"error": f"/_sim/faults: {err}"}, status_code=400)
        return JSONResponse({"pending": plan.pending(), "fault_rate": plan.fault_rate})

    async def requests_endpoint(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            request_log.clear()
        return JSONResponse({"requests": request_log.entries()})

    async def truth_endpoint(request: Request) -> JSONResponse:
        meet_code, race_code = request.query_params.get("meetCode"), request.query_params.get("raceCode")
        if not meet_code and not race_code:
            return JSONResponse({"error": "/_sim/truth needs ?meetCode= or ?raceCode="}, status_code=400)
        index = await holder.wait()
        if index is None:
            return JSONResponse({"error": holder.error or "world not loaded"}, status_code=503)
        rows = await anyio.to_thread.run_sync(truth_rows, index, meet_code, race_code)
        return JSONResponse({"meetCode": meet_code, "raceCode": race_code, "rows": rows})

    routes = [
        Route("/_sim/health", health, methods=["GET"]),
        Route("/_sim/clock", clock_endpoint, methods=["GET", "POST"]),
        Route("/_sim/faults", faults_endpoint, methods=["GET", "POST", "DELETE"]),
        Route("/_sim/requests", requests_endpoint, methods=["GET", "DELETE"]),
        Route("/_sim/truth", truth_endpoint, methods=["GET"]),
        Route("/", endpoint, methods=["GET", "POST", "OPTIONS"]),
    ]
    app = Starlette(routes=routes)
    app.state.clock = sim_clock
    app.state.world = holder
    app.state.faults = plan
    app.state.requests = request_log
    return app
