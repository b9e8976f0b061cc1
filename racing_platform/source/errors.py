"""Typed failures of the racing.com client, classified by cause so callers know whether to retry.

Only `TransientError` is retried (by the client, then by Dagster's RetryPolicy): it is a
`lib.failures.TransientFault`. Every other error means retrying the same request cannot help: a rejected
key, a refused host, a query the server refuses, or an answer that is not the answer to the query. Those
end the step at once (`failures_by_class`). Messages always name the operation and its variables, never
the API key.
"""

from __future__ import annotations

import json
from typing import Any

from racing_platform.lib.failures import TransientFault


def describe_request(operation: str, variables: dict[str, Any] | None) -> str:
    return f"{operation}({json.dumps(variables or {}, sort_keys=True)})"


class RacingComError(Exception):
    """Base class: a racing.com request for `operation` with `variables` failed."""

    def __init__(self, operation: str, variables: dict[str, Any] | None, reason: str) -> None:
        self.operation = operation
        self.variables = dict(variables or {})
        self.reason = reason
        super().__init__(f"{describe_request(operation, variables)}: {reason}")


class TransientError(RacingComError, TransientFault):
    """Timeout, connection failure, HTTP 408/429/5xx or a connection cut mid-body: may succeed later."""

    def __init__(
        self,
        operation: str,
        variables: dict[str, Any] | None,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(operation, variables, reason)


class AuthError(RacingComError):
    """The server rejected the API key (HTTP 401 or AppSync `UnauthorizedException`): rediscover the key."""


class ForbiddenError(RacingComError):
    """HTTP 403: the host refused this client, which no retry within minutes cures.

    Decision (issue 8): not transient. On AppSync a wrong or expired key answers 401; a 403 comes from the
    WAF or CloudFront in front of it: a cloud or foreign IP refused, a bot rule, or a rate-based block
    after hammering, which lasts until the request rate over the WAF's trailing 5-minute window falls,
    longer than the client's retry window. Retrying only feeds the block. Runbook: check where the run
    executes (racing.com refuses many cloud hosts), lower RACING_COM_MAX_RPS, wait, then re-run.
    """


class GraphQLResponseError(RacingComError):
    """The server answered with GraphQL `errors` (bad field, bad argument, resolver failure)."""

    def __init__(self, operation: str, variables: dict[str, Any] | None, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(operation, variables, "GraphQL errors: " + "; ".join(messages))


class ResponseShapeError(RacingComError):
    """A complete answer (all its bytes arrived) that is not the answer to the query.

    Not JSON (an HTML page from a proxy or WAF with HTTP 200), JSON that stops early although every
    declared byte arrived, not a JSON object, no `data`, or a selected field missing. The same request
    gets the same answer, so it is never retried; a connection cut mid-body is a `TransientError` instead.
    """


class ResponseTooLargeError(ResponseShapeError):
    """An answer above `client.MAX_ANSWER_BYTES`: refused before it is parsed (parsing is the slow part)."""


class UnexpectedStatusError(RacingComError):
    """An HTTP status the fault policy has no rule for (e.g. 400, 404): surfaced, never retried."""

    def __init__(self, operation: str, variables: dict[str, Any] | None, status: int, detail: str) -> None:
        self.status = status
        super().__init__(operation, variables, f"HTTP {status}: {detail}")


class BudgetExhaustedError(RacingComError):
    """The run (or the day) has used its request budget; more attempts would not be polite."""
