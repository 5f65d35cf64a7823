import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")  # runs log to the API at INFO, as in production
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from log_gardener.sample import write_sample  # noqa: E402
from log_gardener.tasks.warehouses import DuckDBWarehouse  # noqa: E402


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (flows run for real against it)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def fresh_db():
    """An in-memory DuckDB warehouse with the real sql/ schema applied."""
    warehouse = DuckDBWarehouse(":memory:")
    warehouse.setup()
    yield warehouse
    warehouse.close()


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory) -> Path:
    """Three hours of the bundled sample logs, with two broken lines."""
    path = tmp_path_factory.mktemp("sample") / "sample.ndjson"
    write_sample(path, hours=3, fmt="ndjson", corrupt=2)
    return path
