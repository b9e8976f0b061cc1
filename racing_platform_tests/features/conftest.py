import pytest

from racing_platform_tests.features.generated_history import History, session_history


@pytest.fixture(scope="session")
def history(tmp_path_factory) -> History:
    """Six months of a generated world's history and a win model (built once, shared by every package)."""
    return session_history(tmp_path_factory)
