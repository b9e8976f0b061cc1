"""Where the racing.com client points, with which key, and how politely: one immutable config from env.

- RACING_COM_GRAPHQL_URL: GraphQL endpoint (default http://127.0.0.1:8642/, the local simulator);
- RACING_COM_API_KEY: sent as `x-api-key` (default unset or "": no header); never logged. Surrounding
  whitespace is stripped (a CRLF env file leaves a trailing carriage return); a key blank after that
  or holding spaces or control characters is a `ConfigurationError` naming the variable, never the
  value, raised before any request;
- RACING_COM_CONFIG_JS_URL: discover URL and key from racing.com's config.js (default unset);
- RACING_COM_MAX_RPS: requests/s per host (default 1 remote, unlimited local; "none" = no limit);
- RACING_COM_RUN_BUDGET: attempts allowed per Dagster run (default 2000 remote; 20000 for a local
  simulator, where a venue's season of careers, horse by horse, costs a few thousand pages);
- RACING_COM_CONCURRENCY: requests a step may have in flight at once (default 1 remote, 4 local); the
  rate limit and budget hold whatever the concurrency;
- RACING_COM_DAILY_BUDGET: attempts per UTC day across all runs (default unset: no cap);
- RACING_COM_TIMEOUT_S: per-request connect/read timeout (default 10);
- RACING_COM_POLITENESS_DB: shared limiter and budget state (default data_dir()/source/politeness.sqlite);
- RACING_COM_ARCHIVE_PATH: response archive (default data_dir()/archive/responses.sqlite).

Explicit variables win over discovered values, so a pinned key is never replaced by a scraped one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from racing_platform.paths import data_dir

SIMULATOR_URL = "http://127.0.0.1:8642/"
RACING_COM_URL = "https://graphql.rmdprod.racing.com/"
FORM_CONFIG_URL = "https://www.racing.com/form/config.js"
REMOTE_DEFAULT_MAX_RPS = 1.0
DEFAULT_RUN_BUDGET = 2000
LOCAL_DEFAULT_RUN_BUDGET = 20_000
DEFAULT_CONCURRENCY = 1
LOCAL_DEFAULT_CONCURRENCY = 4
DEFAULT_TIMEOUT_S = 10.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


class ConfigurationError(ValueError):
    """A setting that cannot work; raised at load, before any request, never quoting a secret."""


def checked_api_key(raw: str | None, source: str = "RACING_COM_API_KEY") -> SecretStr | None:
    """The key from `source` stripped of surrounding whitespace, or None when unset or "".

    AppSync keys are printable ASCII (`da2-` and 26 letters or digits); anything else in the middle of
    one is a copy-paste accident that would fail every request, so it is refused here, by position only.
    """
    if not raw:
        return None
    key = raw.strip()
    if not key:
        raise ConfigurationError(f"{source} is set but blank (only whitespace): set the key or unset it")
    bad = [i for i, c in enumerate(key, start=1) if not 33 <= ord(c) <= 126]
    if bad:
        raise ConfigurationError(
            f"{source} holds whitespace, control or non-ASCII characters inside the key (position "
            f"{', '.join(map(str, bad[:3]))} of {len(key)}); an API key is printable ASCII. Value not shown."
        )
    return SecretStr(key)


class SecretStr:
    """A string that shows itself as asterisks everywhere except `get_secret_value()`.

    Keeps the API key out of reprs, f-strings, logs, exception messages and run metadata by construction,
    instead of relying on every caller to remember.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __getstate__(self) -> str:
        return self._value

    def __setstate__(self, state: str) -> None:
        self._value = state


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_local(url: str) -> bool:
    return host_of(url) in LOCAL_HOSTS


def default_politeness_db(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    raw = env.get("RACING_COM_POLITENESS_DB")
    return Path(raw) if raw else data_dir() / "source" / "politeness.sqlite"


def default_archive_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    raw = env.get("RACING_COM_ARCHIVE_PATH")
    return Path(raw) if raw else data_dir() / "archive" / "responses.sqlite"


def _optional_float(name: str, raw: str | None) -> float | None:
    if raw is None or raw.strip().lower() in {"", "none", "unlimited", "0"}:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number of requests per second or 'none', got {raw!r}") from exc
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {raw!r}")
    return value


def _optional_int(name: str, raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number of requests, got {raw!r}") from exc
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {raw!r}")
    return value


@dataclass(frozen=True)
class ClientConfig:
    url: str = SIMULATOR_URL
    api_key: SecretStr | None = None
    max_rps: float | None = None
    run_budget: int = DEFAULT_RUN_BUDGET
    concurrency: int = DEFAULT_CONCURRENCY
    daily_budget: int | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    politeness_db: Path = field(default_factory=lambda: default_politeness_db())
    archive_path: Path = field(default_factory=lambda: default_archive_path())

    def __post_init__(self) -> None:
        if self.api_key is None:
            return
        value = self.api_key.get_secret_value()
        if checked_api_key(value, "api_key") is None or value != value.strip():
            raise ConfigurationError(
                "api_key is blank or has surrounding whitespace: strip it (from_env does). Value not shown."
            )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, discover: bool | None = None
    ) -> ClientConfig:
        """Build the config from `environ`; `discover` (default: RACING_COM_CONFIG_JS_URL is set) fills
        the URL and key from racing.com's config.js where they are not set explicitly."""
        env = os.environ if environ is None else environ
        url = env.get("RACING_COM_GRAPHQL_URL") or None
        key = checked_api_key(env.get("RACING_COM_API_KEY"))
        config_js_url = env.get("RACING_COM_CONFIG_JS_URL") or None
        if discover is None:
            discover = config_js_url is not None
        if discover and (url is None or key is None):
            from racing_platform.source.discovery import discover_endpoint

            found = discover_endpoint(config_js_url or FORM_CONFIG_URL)
            url = url or found.url
            key = key or checked_api_key(
                found.api_key.get_secret_value(),
                f"the API key discovered at {config_js_url or FORM_CONFIG_URL} ({found.source})",
            )
        url = url or SIMULATOR_URL
        local = is_local(url)
        max_rps_raw = env.get("RACING_COM_MAX_RPS")
        if max_rps_raw is None:
            max_rps = None if local else REMOTE_DEFAULT_MAX_RPS
        else:
            max_rps = _optional_float("RACING_COM_MAX_RPS", max_rps_raw)
        return cls(
            url=url,
            api_key=key,
            max_rps=max_rps,
            run_budget=_optional_int("RACING_COM_RUN_BUDGET", env.get("RACING_COM_RUN_BUDGET"))
            or (LOCAL_DEFAULT_RUN_BUDGET if local else DEFAULT_RUN_BUDGET),
            concurrency=_optional_int("RACING_COM_CONCURRENCY", env.get("RACING_COM_CONCURRENCY"))
            or (LOCAL_DEFAULT_CONCURRENCY if local else DEFAULT_CONCURRENCY),
            daily_budget=_optional_int("RACING_COM_DAILY_BUDGET", env.get("RACING_COM_DAILY_BUDGET")),
            timeout_s=_optional_float("RACING_COM_TIMEOUT_S", env.get("RACING_COM_TIMEOUT_S"))
            or DEFAULT_TIMEOUT_S,
            politeness_db=default_politeness_db(env),
            archive_path=default_archive_path(env),
        )

    def with_overrides(self, **changes: Any) -> ClientConfig:
        return replace(self, **changes)

    @property
    def host(self) -> str:
        return host_of(self.url)

    def describe(self) -> dict[str, Any]:
        """Safe for logs and Dagster run metadata: says whether a key is set, never what it is."""
        return {
            "url": self.url,
            "api_key_configured": self.api_key is not None,
            "max_rps": self.max_rps,
            "run_budget": self.run_budget,
            "concurrency": self.concurrency,
            "daily_budget": self.daily_budget,
            "timeout_s": self.timeout_s,
            "politeness_db": str(self.politeness_db),
            "archive_path": str(self.archive_path),
        }
