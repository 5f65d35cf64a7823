"""Live checks against Google Cloud: run only when credentials and a test dataset are set."""

import os
from datetime import UTC, datetime, timedelta

import pytest

LIVE = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") and os.environ.get("GARDENER_BQ_TEST_DATASET")
pytestmark = pytest.mark.skipif(
    not LIVE, reason="live Google Cloud test: set GOOGLE_APPLICATION_CREDENTIALS and GARDENER_BQ_TEST_DATASET=PROJECT.DATASET"
)


def test_bigquery_warehouse_schema_and_masking_live():
    from log_gardener.tasks.warehouses import open_warehouse

    warehouse = open_warehouse(f"bigquery:{os.environ['GARDENER_BQ_TEST_DATASET']}")
    warehouse.setup()
    start = datetime.now(UTC) - timedelta(hours=1)
    grouped = warehouse.query(
        "masked_messages",
        service="log-gardener-live-test",
        window_start=start,
        window_end=start + timedelta(hours=1),
        severities=["WARNING", "ERROR"],
    )
    assert list(grouped.columns)[:2] == ["masked_message", "entries"]


def test_cloud_logging_source_live():
    from log_gardener.tasks.normalise import Window
    from log_gardener.tasks.sources.cloud_logging import CloudLoggingSource

    project = os.environ["GARDENER_BQ_TEST_DATASET"].split(".")[0]
    end = datetime.now(UTC)
    window = Window(end - timedelta(minutes=10), end)
    for entry in CloudLoggingSource(project).entries(os.environ.get("GARDENER_LIVE_SERVICE", "default"), window, "WARNING"):
        assert "timestamp" in entry
        break
