"""Find racing.com's GraphQL endpoint and its public API key the way the site's own pages ship them.

AppSync keys expire and rotate, so a hard-coded key goes stale; racing.com publishes the current one to every
browser (reference §1.2). Three shapes are recognised, in order of preference:

1. `/form/config.js`: `window.siteConfig={... ChampionDataEndpoint:"...", ChampionDataEndpointKey:"..."}`
   (`GraphqlEndpoint` stands in when `ChampionDataEndpoint` is absent);
2. Next.js chunks: `new X.GraphQLClient("https://graphql....",{... headers:{"x-api-key":"..."}})`, preferring
   the Champion Data host (`rmdprod`) over the DXP calendar host;
3. `CUSTOM_SITE_CONFIG || '{"appSyncGraphQLHost": ..., "appSyncGraphQLAPIKey": ...}'`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import requests

from racing_platform.lib.failures import TransientFault
from racing_platform.source.config import FORM_CONFIG_URL, SecretStr

_QUOTED = r"""["']([^"']+)["']"""
_SITE_CONFIG_ENDPOINT = re.compile(r"""["']?ChampionDataEndpoint["']?\s*:\s*""" + _QUOTED)
_SITE_CONFIG_KEY = re.compile(r"""["']?ChampionDataEndpointKey["']?\s*:\s*""" + _QUOTED)
_SITE_CONFIG_FALLBACK_ENDPOINT = re.compile(r"""["']?GraphqlEndpoint["']?\s*:\s*""" + _QUOTED)
_GRAPHQL_CLIENT = re.compile(
    r'GraphQLClient\("(?P<host>https://graphql\.[^"]+)",\s*\{.*?headers:\s*\{.*?"x-api-key":\s*"(?P<api_key>[^"]+)"',
    re.DOTALL,
)
_CUSTOM_SITE_CONFIG = re.compile(r"CUSTOM_SITE_CONFIG\s*\|\|\s*'(?P<json>\{.*?\})'", re.DOTALL)
_CHAMPION_DATA_HOST_HINT = "rmdprod"


class DiscoveryError(ValueError):
    """racing.com's published config was refused (4xx) or did not contain an endpoint and key."""


class DiscoveryUnreachableError(DiscoveryError, TransientFault):
    """The config page could not be reached (connection error, timeout, 5xx, 429): may work later."""


@dataclass(frozen=True)
class DiscoveredEndpoint:
    url: str
    api_key: SecretStr
    source: str


def parse_endpoint(text: str, *, origin: str = "config text") -> DiscoveredEndpoint:
    """The Champion Data endpoint and key published in `text` (config.js or a Next.js chunk)."""
    key = _SITE_CONFIG_KEY.search(text)
    endpoint = _SITE_CONFIG_ENDPOINT.search(text) or _SITE_CONFIG_FALLBACK_ENDPOINT.search(text)
    if key and endpoint:
        return DiscoveredEndpoint(endpoint.group(1), SecretStr(key.group(1)), "siteConfig")
    clients = [(m.group("host"), m.group("api_key")) for m in _GRAPHQL_CLIENT.finditer(text)]
    if clients:
        host, api_key = next((c for c in clients if _CHAMPION_DATA_HOST_HINT in c[0]), clients[0])
        return DiscoveredEndpoint(host, SecretStr(api_key), "GraphQLClient")
    custom = _CUSTOM_SITE_CONFIG.search(text)
    if custom:
        try:
            values = json.loads(custom.group("json"))
        except json.JSONDecodeError as exc:
            raise DiscoveryError(f"{origin}: CUSTOM_SITE_CONFIG is not valid JSON ({exc.msg})") from None
        if values.get("appSyncGraphQLHost") and values.get("appSyncGraphQLAPIKey"):
            return DiscoveredEndpoint(
                values["appSyncGraphQLHost"], SecretStr(values["appSyncGraphQLAPIKey"]), "CUSTOM_SITE_CONFIG"
            )
    raise DiscoveryError(
        f"{origin}: no endpoint and key found (looked for siteConfig "
        "ChampionDataEndpoint/ChampionDataEndpointKey, GraphQLClient(...x-api-key...) "
        "and CUSTOM_SITE_CONFIG appSyncGraphQLHost/appSyncGraphQLAPIKey)"
    )


def discover_endpoint(config_js_url: str = FORM_CONFIG_URL, *, timeout_s: float = 10.0) -> DiscoveredEndpoint:
    """Fetch racing.com's config.js (or any page carrying one of the shapes) and parse it."""
    try:
        response = requests.get(config_js_url, timeout=timeout_s, headers={"Accept": "*/*"})
        response.raise_for_status()
    except requests.RequestException as exc:
        status = exc.response.status_code if exc.response is not None else None
        unreachable = isinstance(exc, requests.ConnectionError | requests.Timeout) or (
            status is not None and (status == 429 or status >= 500)
        )
        error = DiscoveryUnreachableError if unreachable else DiscoveryError
        raise error(f"{config_js_url}: could not fetch site config ({type(exc).__name__}: {exc})") from None
    return parse_endpoint(response.text, origin=config_js_url)
