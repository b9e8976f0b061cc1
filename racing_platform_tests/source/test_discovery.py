"""Endpoint and key discovery from racing.com's published config, served over real HTTP from a local copy."""

from __future__ import annotations

import functools
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from racing_platform.lib.failures import is_transient
from racing_platform.source.config import ClientConfig, SecretStr
from racing_platform.source.discovery import (
    DiscoveryError,
    DiscoveryUnreachableError,
    discover_endpoint,
    parse_endpoint,
)
from racing_platform_tests.source.fixtures_client import DATA_DIR

FIXTURE_KEY = "da2-fixturechampiondatakey000000"

NEXT_JS_CHUNK = """
, st = new kc.GraphQLClient("https://graphql.api.racing.com/",{
    method: "GET",
    headers: { "x-api-key": "da2-calendar-chunk-key", "content-type": "application/json" } })
, lt = new kc.GraphQLClient("https://graphql.rmdprod.racing.com/",{
    method: "GET",
    headers: { "x-api-key": "da2-champion-chunk-key", "content-type": "application/json" } })
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        """Keep the test output free of access-log lines."""


@pytest.fixture(scope="module")
def site():
    """racing.com's /form/config.js stand-in, served from the test data folder."""
    handler = functools.partial(_QuietHandler, directory=str(DATA_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_config_js_over_http_gives_the_champion_data_endpoint_and_key(site):
    found = discover_endpoint(f"{site}/form_config.js")

    assert found.url == "https://graphql.rmdprod.racing.com/"
    assert found.api_key.get_secret_value() == FIXTURE_KEY
    assert found.source == "siteConfig"
    assert FIXTURE_KEY not in repr(found)


def test_from_env_discovers_what_is_not_set_and_keeps_what_is(site, tmp_path):
    discovered = ClientConfig.from_env({"RACING_COM_CONFIG_JS_URL": f"{site}/form_config.js"})
    pinned = ClientConfig.from_env(
        {"RACING_COM_CONFIG_JS_URL": f"{site}/form_config.js", "RACING_COM_API_KEY": "pinned-key"}
    )

    assert discovered.url == "https://graphql.rmdprod.racing.com/"
    assert discovered.api_key == SecretStr(FIXTURE_KEY)
    assert discovered.max_rps == 1.0, "a remote host gets the polite default"
    assert pinned.api_key == SecretStr("pinned-key") and pinned.url == discovered.url


def test_next_js_graphql_client_pattern_prefers_the_champion_data_host():
    found = parse_endpoint(NEXT_JS_CHUNK)

    assert (found.url, found.api_key.get_secret_value(), found.source) == (
        "https://graphql.rmdprod.racing.com/",
        "da2-champion-chunk-key",
        "GraphQLClient",
    )


def test_custom_site_config_pattern():
    text = """x=window.CUSTOM_SITE_CONFIG || '{"appSyncGraphQLHost":"https://graphql.rmdprod.racing.com/","appSyncGraphQLAPIKey":"da2-custom"}'"""

    found = parse_endpoint(text)

    assert (found.url, found.api_key.get_secret_value()) == (
        "https://graphql.rmdprod.racing.com/",
        "da2-custom",
    )


def test_missing_config_fails_with_the_url_and_what_was_looked_for(site):
    with pytest.raises(DiscoveryError, match=r"/nope\.js: could not fetch site config \(HTTPError"):
        discover_endpoint(f"{site}/nope.js")
    with pytest.raises(DiscoveryError, match="no endpoint and key found.*ChampionDataEndpointKey"):
        parse_endpoint("window.siteConfig={GraphqlEndpoint:'https://graphql.rmdprod.racing.com/'};")


def test_an_unreachable_config_page_is_transient_and_a_missing_one_is_not(site):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(DiscoveryUnreachableError, match="ConnectionError") as unreachable:
        discover_endpoint(f"http://127.0.0.1:{closed_port}/form/config.js", timeout_s=2)
    assert is_transient(unreachable.value)
    with pytest.raises(DiscoveryError) as missing:
        discover_endpoint(f"{site}/nope.js")
    assert not is_transient(missing.value)
