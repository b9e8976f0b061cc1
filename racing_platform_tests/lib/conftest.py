import dagster as dg
import pytest

from racing_platform.lib.dagster_home import ensure_dagster_home


@pytest.fixture
def project_instance(tmp_path, monkeypatch):
    """A persistent instance in a temporary DAGSTER_HOME holding the project's dagster.yaml."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        yield instance
