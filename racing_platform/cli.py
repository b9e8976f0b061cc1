"""`racing-platform`: the project's command line. Each stage contributes its own commands."""

from __future__ import annotations

import logging

import click

from racing_platform.simulator.cli import simulator
from racing_platform.source.cli import parse


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
def main(verbose: bool) -> None:
    """racing_platform: racing.com -> DuckDB -> features -> prices."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


main.add_command(parse)
main.add_command(simulator)
