"""Typed failures of the racing.com client, classified by cause so callers know whether to retry.

Only `TransientError` is retried (by the client, then by Dagster's RetryPolicy). Every other error means
retrying the same request cannot help: a rejected key, a query the server refuses, or an answer that does
not match the query. Messages always name the operation and its variables, never the API key.
"""

from __future__ import annotations

import json
from typing import Any


def describe_request(operation: str, variables: dict[str, Any] | None) -> str:
    return f"{operation}({json.dumps(variables or {}, sort_keys=True)})"


class RacingComError(Exception):
    """Base class: a racing.com request for `operation` with `variables` failed."""

    def __init__(self, operation: str, variables: dict[str, Any] | None, reason: str) -> None:
        self.operation = operation
        self.variables = dict(variables or {})
        self.reason = reason
        super().__init__(f"{describe_request(operation, variables)}: {reason}")


class TransientError(RacingComError):
    """Timeout, connection failure, 5xx/429/403 or a body cut short: the same request may succeed later."""

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


class GraphQLResponseError(RacingComError):
    """The server answered with GraphQL `errors` (bad field, bad argument, resolver failure)."""

    def __init__(self, operation: str, variables: dict[str, Any] | None, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(operation, variables, "GraphQL errors: " + "; ".join(messages))


class ResponseShapeError(RacingComError):
    """A complete, valid JSON answer that does not match the query: no `data`, or a selected field missing."""


class UnexpectedStatusError(RacingComError):
    """An HTTP status the fault policy has no rule for (e.g. 400, 404): surfaced, never retried."""

    def __init__(self, operation: str, variables: dict[str, Any] | None, status: int, detail: str) -> None:
        self.status = status
        super().__init__(operation, variables, f"HTTP {status}: {detail}")


class BudgetExhaustedError(RacingComError):
    """The run (or the day) has used its request budget; more attempts would not be polite."""
