"""`racing-platform simulator ...`: serve the racing.com-compatible simulator, drive its clock, report."""

from __future__ import annotations

import json

import click
import requests

DEFAULT_PORT = 8765


@click.group()
def simulator() -> None:
    """The racing.com-compatible simulator (seeded world, settable clock, injectable faults)."""


@simulator.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int, help="World seed (load_world(seed)).")
@click.option("--now", "now", default=None, help="Start the clock at this ISO instant (UTC if naive).")
@click.option(
    "--frozen/--running",
    default=False,
    show_default=True,
    help="With --now: hold the clock still, or let it run on from --now.",
)
@click.option(
    "--fault-rate",
    default=0.0,
    show_default=True,
    type=float,
    help="Probability of a random transient fault per GraphQL request.",
)
@click.option("--fault-seed", default=0, show_default=True, type=int)
@click.option(
    "--market-noise",
    default=None,
    type=click.FloatRange(0.0, 1.5),
    help="World knob: sd of the market's error on each runner's score (default 0.3). A non-default world "
    "is generated (about half a minute) and cached on first use.",
)
@click.option(
    "--flb-beta",
    default=None,
    type=click.FloatRange(0.5, 1.0),
    help="World knob: favourite-longshot factor of every book (default 0.78; 1 = no bias).",
)
@click.option(
    "--api-key",
    envvar="RACING_SIM_API_KEY",
    default=None,
    help="Require this x-api-key (else a 401, as racing.com answers a wrong key). Default: any key.",
)
def serve(
    host: str,
    port: int,
    seed: int,
    now: str | None,
    frozen: bool,
    fault_rate: float,
    fault_seed: int,
    market_noise: float | None,
    flb_beta: float | None,
    api_key: str | None,
) -> None:
    """Serve GraphQL at http://HOST:PORT/ and control endpoints under /_sim/ (binds at once, loads the world
    in the background; GraphQL requests wait for it)."""
    import uvicorn

    from racing_platform.simulator.server import create_app

    app = create_app(
        seed=seed,
        now=now,
        frozen=frozen,
        fault_rate=fault_rate,
        fault_seed=fault_seed,
        api_key=api_key,
        market_noise=market_noise,
        flb_beta=flb_beta,
    )
    market = "".join(
        f" {name}={value:g}"
        for name, value in (("market_noise", market_noise), ("flb_beta", flb_beta))
        if value is not None
    )
    click.echo(
        f"simulator seed={seed}{market} on http://{host}:{port}/ (control: /_sim/health, /_sim/clock, ...)"
    )
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def _control(url: str, method: str, body: dict | None = None) -> dict:
    response = requests.request(method, f"{url.rstrip('/')}/_sim/clock", json=body, timeout=10)
    if response.status_code >= 400:
        raise click.ClickException(f"{method} {url}/_sim/clock -> {response.status_code}: {response.text}")
    return response.json()


@simulator.command()
@click.option(
    "--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", show_default=True, help="The running simulator."
)
@click.option("--set", "set_to", default=None, help="Set the clock to this ISO instant.")
@click.option("--frozen/--running", default=True, show_default=True, help="With --set: hold or let it run.")
@click.option(
    "--advance", "advance_seconds", default=None, type=float, help="Move the clock forward (seconds)."
)
@click.option("--wall", is_flag=True, help="Return to the wall clock.")
def clock(url: str, set_to: str | None, frozen: bool, advance_seconds: float | None, wall: bool) -> None:
    """Show, set or advance a running simulator's clock."""
    chosen = [x for x in (set_to is not None, advance_seconds is not None, wall) if x]
    if len(chosen) > 1:
        raise click.UsageError("use only one of --set, --advance, --wall")
    if set_to is not None:
        state = _control(url, "POST", {"now": set_to, "frozen": frozen})
    elif advance_seconds is not None:
        state = _control(url, "POST", {"advance_seconds": advance_seconds})
    elif wall:
        state = _control(url, "POST", {"wall": True})
    else:
        state = _control(url, "GET")
    click.echo(json.dumps(state))


@simulator.command()
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--season", default=None, type=int, help="Season (named by its closing year, e.g. 2026).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--market-noise", default=None, type=click.FloatRange(0.0, 1.5), help="World knob (default 0.3)."
)
@click.option("--flb-beta", default=None, type=click.FloatRange(0.5, 1.0), help="World knob (default 0.78).")
def report(
    seed: int, season: int | None, as_json: bool, market_noise: float | None, flb_beta: float | None
) -> None:
    """Summarise a generated season (the world engineer's report)."""
    from racing_platform.simulator.report import format_report, season_report

    result = season_report(seed, season, market_noise=market_noise, flb_beta=flb_beta)
    click.echo(json.dumps(result, indent=2, default=str) if as_json else format_report(result))
