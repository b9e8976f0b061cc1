"""racing.com as a Dagster resource: the endpoint and key come from the profile (EnvVar), never code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field

from racing_platform.lib.failures import failures_by_class
from racing_platform.source.client import RacingComClient
from racing_platform.source.config import ClientConfig


class RacingComResource(dg.ConfigurableResource):
    """racing.com's GraphQL API, or the local simulator when no endpoint is configured.

    Rate limit and request budget are enforced by the client in a state file shared by every process
    (see docs/source_client.md), so concurrent runs share one limit instead of multiplying it.
    """

    graphql_url: str | None = None
    api_key: str | None = Field(
        default=None,
        repr=False,
        description="Sent as x-api-key. Pass dg.EnvVar('RACING_COM_API_KEY'), so the UI shows the variable's "
        "name, not its value; kept out of repr.",
    )

    @contextmanager
    def session(self, run_id: str, where: str | None = None) -> Iterator[RacingComClient]:
        """A client for one step; anything but a transient fault ends the step without a Dagster retry.

        Transient faults the client could not ride out stay retryable by the step's RetryPolicy; a bad
        key setting, a rejected key, an exhausted budget, a wrong answer or a bug would fail the same way
        again, so they become `Failure(allow_retries=False)` prefixed by `where` (pass
        `step_location(context)`; default: the run id). The key is checked before any request.
        """
        env = dict(os.environ)
        if self.graphql_url:
            env["RACING_COM_GRAPHQL_URL"] = self.graphql_url
        if self.api_key:
            env["RACING_COM_API_KEY"] = self.api_key
        with (
            failures_by_class(where or run_id),
            RacingComClient(ClientConfig.from_env(env), run_id=run_id) as client,
        ):
            yield client
