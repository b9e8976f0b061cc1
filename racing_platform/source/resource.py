"""racing.com as a Dagster resource: the endpoint and key come from the profile (EnvVar), never code."""

from __future__ import annotations

import os

import dagster as dg

from racing_platform.source.client import RacingComClient
from racing_platform.source.config import ClientConfig


class RacingComResource(dg.ConfigurableResource):
    """racing.com's GraphQL API, or the local simulator when no endpoint is configured.

    Rate limit and request budget are enforced by the client in a state file shared by every process
    (see docs/source_client.md), so concurrent runs share one limit instead of multiplying it.
    """

    graphql_url: str | None = None
    api_key: str | None = None

    def open_client(self, run_id: str) -> RacingComClient:
        env = dict(os.environ)
        if self.graphql_url:
            env["RACING_COM_GRAPHQL_URL"] = self.graphql_url
        if self.api_key:
            env["RACING_COM_API_KEY"] = self.api_key
        return RacingComClient(ClientConfig.from_env(env), run_id=run_id)
