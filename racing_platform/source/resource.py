"""racing.com as a Dagster resource: the endpoint and key come from the profile (EnvVar), never code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from racing_platform.source.client import RacingComClient
from racing_platform.source.config import ClientConfig
from racing_platform.source.errors import RacingComError, TransientError


class RacingComResource(dg.ConfigurableResource):
    """racing.com's GraphQL API, or the local simulator when no endpoint is configured.

    Rate limit and request budget are enforced by the client in a state file shared by every process
    (see docs/source_client.md), so concurrent runs share one limit instead of multiplying it.
    """

    graphql_url: str | None = None
    api_key: str | None = None

    @contextmanager
    def session(self, run_id: str) -> Iterator[RacingComClient]:
        """A client whose non-transient failures end the step without a Dagster retry.

        Transient faults the client could not ride out stay retryable by the step's RetryPolicy; a
        rejected key, an exhausted budget or a wrong answer would fail the same way again.
        """
        env = dict(os.environ)
        if self.graphql_url:
            env["RACING_COM_GRAPHQL_URL"] = self.graphql_url
        if self.api_key:
            env["RACING_COM_API_KEY"] = self.api_key
        with RacingComClient(ClientConfig.from_env(env), run_id=run_id) as client:
            try:
                yield client
            except TransientError:
                raise
            except RacingComError as exc:
                raise dg.Failure(
                    description=f"racing.com: {exc}",
                    metadata={"error": type(exc).__name__},
                    allow_retries=False,
                ) from exc
