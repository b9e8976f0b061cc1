"""The end-to-end racing day's platform: a short demo built once per session, copied for each test.

The demo (racing_platform_tests/demo_platform.py, built with the platform's scope narrowed to the
demo's: racing_platform/benchmarks/racing_day.py `build_scoped_demo`) leaves history, a model trained
before its day and that day's prices in a directory; each test runs `dagster-daemon` and the simulator
over its own copy, so the daemon's runs and cursors never reach another test's files.
"""

from __future__ import annotations

import pytest

from racing_platform.benchmarks.racing_day import Platform, build_scoped_demo, copy_platform


@pytest.fixture(scope="session")
def e2e_demo(tmp_path_factory) -> Platform:
    return build_scoped_demo(tmp_path_factory.mktemp("e2e_demo"))


@pytest.fixture
def racing_day_platform(e2e_demo, tmp_path) -> Platform:
    return copy_platform(e2e_demo, tmp_path / "platform")
