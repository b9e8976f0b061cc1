"""`racing-platform`: the project's command line. Each stage contributes its own commands."""

from __future__ import annotations

import logging
import os
import warnings

import click
import dagster as dg

from racing_platform import dev as dev_platform
from racing_platform.simulator.cli import simulator
from racing_platform.source.cli import parse


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
def main(verbose: bool) -> None:
    """racing_platform: racing.com -> DuckDB -> features -> prices."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("racing_platform").setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        # Beta/preview notices about Dagster APIs are for developers, not for someone running the CLI.
        warnings.filterwarnings("ignore", category=dg.BetaWarning)
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)


main.add_command(parse)
main.add_command(simulator)


@main.command()
@click.option("--seed", default=0, show_default=True, help="Simulator world seed.")
@click.option(
    "--history-days", type=int, default=None, help="Days of history to backfill (default: configs)."
)
def demo(seed: int, history_days: int | None) -> None:
    """Run the main job on the embedded defaults and print a priced race card."""
    from racing_platform.demo import format_agreement, format_card, run_demo
    from racing_platform.settings import load_settings

    result = run_demo(seed=seed, history_days=history_days, say=click.echo)
    click.echo("")
    provider = load_settings().odds_provider
    click.echo(format_card(result.card, provider))
    click.echo(format_agreement(result.agreement, provider))
    click.echo("")
    click.echo(
        f"{result.history_cells} history cells + {result.today_cells} today, {result.runs} Dagster runs, "
        f"{result.seconds:.0f} s. Browse it, and let the sensors run the racing day: make dev  (then open "
        f"http://127.0.0.1:3000; instance {os.environ['DAGSTER_HOME']})"
    )


@main.command()
@click.option(
    "--port",
    default=dev_platform.WEBSERVER_PORT,
    show_default=True,
    help="dagster-webserver port on 127.0.0.1.",
)
@click.option(
    "--simulator-port",
    default=dev_platform.SIMULATOR_PORT,
    show_default=True,
    help="Simulator port on 127.0.0.1 (8642 is the source client's default endpoint).",
)
@click.option("--seed", default=0, show_default=True, help="Simulator world seed.")
@click.option(
    "--now", default=None, help="Start the simulator's clock at this ISO instant (default: wall clock)."
)
def dev(port: int, simulator_port: int, seed: int, now: str | None) -> None:
    """Simulator (clock running), dagster-webserver and dagster-daemon on 127.0.0.1 until Ctrl-C."""
    try:
        code = dev_platform.run_dev(
            webserver_port=port, simulator_port=simulator_port, seed=seed, now=now, say=click.echo
        )
    except dev_platform.PortInUse as error:
        raise click.ClickException(str(error)) from None
    raise SystemExit(code)


@main.command()
@click.option("--seed", default=0, show_default=True, help="Simulator world seed.")
@click.option(
    "--market-noise", type=float, default=None, help="The market's error on the truth (world knob)."
)
@click.option("--flb-beta", type=float, default=None, help="Favourite-longshot bias: < 1 overbets longshots.")
@click.option("--seasons", default=2, show_default=True, help="Seasons of history; the last is held out.")
@click.option("--every-days", default=28, show_default=True, help="Days between walk-forward versions.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object keyed by source.")
def evaluate(
    seed: int,
    market_noise: float | None,
    flb_beta: float | None,
    seasons: int,
    every_days: int,
    as_json: bool,
) -> None:
    """Walk-forward out-of-time evaluation on a simulator world: uniform, stage 1, blend, market, truth."""
    import json
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from racing_platform.evaluation.command import World, headline, run_evaluation
    from racing_platform.evaluation.metrics import format_table
    from racing_platform.settings import load_settings

    settings = load_settings()
    result = run_evaluation(
        World(seed, market_noise, flb_beta),
        seasons=seasons,
        every_days=every_days,
        scope=settings.demo_scope,
        today=datetime.now(ZoneInfo(settings.timezone)).date(),
        say=lambda line: click.echo(line, err=as_json),
    )
    metrics = headline(result)
    if as_json:
        click.echo(json.dumps(metrics, sort_keys=True))
    else:
        click.echo(format_table(metrics))


HISTORY_ASSETS = (
    "meetings,raw_race_cards,race_cards,race_results,horse_careers,form_lines,form_book,runner_features"
)


@main.command()
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="First day (inclusive).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (inclusive).")
@click.option("--assets", default=HISTORY_ASSETS, show_default=True, help="Comma-separated asset names.")
@click.option("--states", default=None, help="Comma-separated states of the cells (default: configs scope).")
@click.option(
    "--tiers", default=None, help="Comma-separated venue tiers of the cells (default: configs scope)."
)
@click.option(
    "--drive", "backfill_id", default=None, help="Drive (or follow) an existing backfill, e.g. from the UI."
)
def backfill(start, end, assets: str, states: str | None, tiers: str | None, backfill_id: str | None) -> None:
    """Backfill history as Dagster asset backfills, run in this process (lib/backfill.py).

    With --start/--end: `meetings` first when selected, then the meeting cells in scope and the days.
    With --drive: run a backfill launched elsewhere (the UI's "Materialize" over partitions) without
    the daemon. If a dagster-daemon is running, it runs the backfill and this only follows it.
    """
    from dataclasses import replace

    from racing_platform.lib.backfill import backfill_history, describe, run_backfill
    from racing_platform.lib.dagster_home import ensure_dagster_home
    from racing_platform.resources import duckdb_path
    from racing_platform.settings import load_settings
    from racing_platform.warehouse.resource import Warehouse

    ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        line = _ProgressLine()
        if backfill_id:
            line.say(describe(run_backfill(instance, backfill_id, progress=line.show)))
            return
        if not (start and end):
            raise click.UsageError("give --start and --end, or --drive ID")
        scope = load_settings().scope
        if states:
            scope = replace(scope, states=frozenset(s.strip().upper() for s in states.split(",")))
        if tiers:
            scope = replace(scope, tiers=frozenset(t.strip() for t in tiers.split(",")))
        backfill_history(
            instance,
            Warehouse(database=duckdb_path()),
            [a.strip() for a in assets.split(",") if a.strip()],
            start.date(),
            end.date(),
            scope=scope,
            say=line.say,
            progress=line.show,
        )


class _ProgressLine:
    """One line rewritten in place on a terminal (a line every 25 runs elsewhere); `say` ends it first."""

    def __init__(self) -> None:
        self.tty = click.get_text_stream("stdout").isatty()
        self.open = False

    def show(self, progress) -> None:
        if self.tty:
            click.echo(f"\r  {progress}\033[K", nl=False)
            self.open = True
        elif progress.runs_done % 25 == 0:
            click.echo(f"  {progress}")

    def say(self, text: str) -> None:
        if self.open:
            click.echo("")
            self.open = False
        click.echo(text)


@main.command("reap-dead-runs")
def reap_dead_runs_command() -> None:
    """Fail runs whose worker process died and free their pool slots (lib/crashed_runs.py)."""
    from racing_platform.lib.crashed_runs import describe, reap_dead_runs
    from racing_platform.lib.dagster_home import ensure_dagster_home

    ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        click.echo(describe(reap_dead_runs(instance)))


@main.group()
def docs() -> None:
    """Regenerate documents derived from code."""


@docs.command("contracts")
def docs_contracts() -> None:
    """Write docs/data_contracts.md from the pandera models."""
    from racing_platform.lib.contracts_doc import DOC_PATH, write

    write()
    click.echo(f"wrote {DOC_PATH}")


if __name__ == "__main__":
    main()
