"""The demo platform the UI tests look at, built once per session (a short `make demo`, ~2 minutes)."""

from __future__ import annotations

import pytest

from racing_platform_tests.demo_platform import DemoPlatform, build_demo_platform


@pytest.fixture(scope="session")
def demo_platform(tmp_path_factory) -> DemoPlatform:
    return build_demo_platform(tmp_path_factory.mktemp("demo_platform"))
