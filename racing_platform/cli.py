"""`racing-platform`: the project's command line. Each stage contributes its own commands."""

from __future__ import annotations

import logging
import os
import warnings

import click
import dagster as dg

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
    from racing_platform.demo import format_card, run_demo
    from racing_platform.settings import load_settings

    result = run_demo(seed=seed, history_days=history_days, say=click.echo)
    click.echo("")
    click.echo(format_card(result.card, load_settings().odds_provider))
    click.echo("")
    click.echo(
        f"{result.history_cells} history cells + {result.today_cells} today, {result.runs} Dagster runs, "
        f"{result.seconds:.0f} s. Browse it: DAGSTER_HOME={os.environ['DAGSTER_HOME']} "
        ".venv/bin/dagster dev  (then open http://127.0.0.1:3000)"
    )


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
