"""The Dagster UI over the demo's instance, in real headless Chromium: what an analyst opens first.

Debian's `chromium` package driven by Playwright (`executable_path`, no browser download; .ci/run
installs it). Dagster's production bundle drops most of its `data-testid` attributes (its test-id helper
only renders them in its own test builds: the live DOM holds a few such as `sort-0`), so the selectors
are roles, visible text and the graph's `data-svg-viewport` attribute. Screenshots go to
$RACING_TEST_ARTIFACTS/ui, default artifacts/ui at the repository root (gitignored).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from racing_platform.paths import REPO_ROOT
from racing_platform.warehouse.resource import Warehouse
from racing_platform_tests.demo_platform import DemoPlatform, free_loopback_port

CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT_S = 120.0
TIMEOUT_MS = 60_000  # a cold page load compiles and runs several MB of JS on a small CI machine
LOCATIONS_QUERY = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def artifacts_dir() -> Path:
    root = Path(os.environ.get("RACING_TEST_ARTIFACTS") or REPO_ROOT / "artifacts")
    directory = root / "ui"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def webserver(demo_platform: DemoPlatform, tmp_path_factory) -> Iterator[str]:
    """dagster-webserver on a free loopback port over the demo's DAGSTER_HOME; yields its base URL."""
    port = free_loopback_port()
    log = tmp_path_factory.mktemp("webserver") / "webserver.log"
    command = [str(Path(sys.executable).parent / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port)]
    command += ["-w", str(REPO_ROOT / "workspace.yaml")]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=demo_platform.env(),
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_loaded(base, process, log)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_loaded(base: str, process: subprocess.Popen, log: Path) -> None:
    """Until the webserver answers and its code location is loaded."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            entries = requests.post(f"{base}/graphql", json={"query": LOCATIONS_QUERY}, timeout=10).json()
            statuses = [e["loadStatus"] for e in entries["data"]["workspaceOrError"]["locationEntries"]]
            if statuses == ["LOADED"]:
                return
        except (requests.RequestException, KeyError, TypeError, ValueError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"dagster-webserver not up in {START_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(1)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser test needs Debian's chromium package "
            "(`apt-get install -y chromium`; .ci/run installs it)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, webserver):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=webserver)
    # Dagster asks a user on localhost to join its community once; a stored dismissal skips the modal.
    context.add_init_script("window.localStorage.setItem('communityNux', '\"1\"')")
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    path = artifacts_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000, f"{path}: not a real screenshot"
    return path


def _defs():
    from racing_platform.definitions import defs

    return defs


def test_lineage_shows_every_asset(page):
    assets = sorted(key.to_user_string() for key in _defs().resolve_all_asset_keys())
    page.goto("/asset-groups")
    graph = page.locator("[data-svg-viewport]")
    expect(graph).to_be_visible()
    # Groups start collapsed into one box each; ⌥E ("Expand all groups") opens every group.
    expect(graph.get_by_text("predictions", exact=True).first).to_be_visible()
    graph.focus()
    page.keyboard.press("Alt+e")
    for asset in assets:
        expect(graph.get_by_text(asset, exact=True).last, asset).to_be_visible()
    screenshot(page, "lineage")


def test_a_predictions_partition_shows_its_priced_card(page, demo_platform: DemoPlatform):
    # The cell's race 1 favourite, as stored by the demo: its name, fair odds and market price.
    warehouse = Warehouse(database=str(demo_platform.duckdb_path))
    runner = warehouse.query(
        "SELECT venue_slug, horse_name, fair_odds, market_price FROM predictions "
        "WHERE meeting_date = ? AND race_number = 1 AND market_price IS NOT NULL "
        "ORDER BY venue_slug, win_probability DESC LIMIT 1",
        [demo_platform.today],
    ).iloc[0]
    cell = f"{demo_platform.today.isoformat()}|{runner['venue_slug']}"

    page.goto(f"/assets/predictions?view=partitions&partition={cell}")
    expect(page.get_by_text(cell, exact=True).first).to_be_visible()
    # The cell's latest materialization with its metadata: the preview entry opens the card.
    preview = page.get_by_role("row").filter(has=page.get_by_text("preview", exact=True))
    expect(preview).to_be_visible()
    screenshot(page, "predictions_partition")
    preview.get_by_text(re.compile(r"^\[Show ")).click()
    card = page.get_by_role("dialog")
    expect(card).to_be_visible()
    expect(card).to_contain_text(runner["horse_name"])
    # The runner's line of the card (a table row, whatever its columns) shows its prices to the cent.
    line = card.get_by_role("row").filter(has=page.get_by_role("cell", name=runner["horse_name"], exact=True))
    expect(line).to_have_count(1)
    for price in (runner["fair_odds"], runner["market_price"]):
        to_the_cent = re.compile(r"^\$?" + re.escape(f"{price:.2f}") + "$")
        expect(line.get_by_role("cell", name=to_the_cent).first).to_be_visible()
    screenshot(page, "predictions_card")


def test_the_predictions_contract_check_is_shown(page, demo_platform: DemoPlatform):
    page.goto("/assets/predictions?view=checks")
    expect(page.get_by_text("predictions_contract").first).to_be_visible()
    expect(page.get_by_text("Latest execution")).to_be_visible()
    expect(page.get_by_text("Passed").first).to_be_visible()
    # The evaluation names the cell it checked.
    cell_of_today = re.compile(re.escape(demo_platform.today.isoformat()) + r"\|")
    expect(page.get_by_text(cell_of_today).first).to_be_visible()
    screenshot(page, "predictions_checks")


def test_every_sensor_is_listed_on_the_automation_page(page):
    sensors = sorted(sensor.name for sensor in _defs().sensors or [])
    assert sensors, "the definitions hold no sensor"
    page.goto("/automation")
    for sensor in sensors:  # each row links to the sensor's page
        link = page.locator(f'a[href$="/sensors/{sensor}"]')
        expect(link.get_by_text(sensor, exact=True), sensor).to_be_visible()
    screenshot(page, "automation")
