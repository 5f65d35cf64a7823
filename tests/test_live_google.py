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


def test_cloud_logging_source_reads_back_an_entry_it_wrote_live():
    """Write one WARNING entry as a Cloud Run service would, then find it through the source (needs Logs Writer too)."""
    import time
    import uuid

    from google.cloud import logging as cloud_logging
    from google.cloud.logging import Resource

    from log_gardener.tasks.normalise import Window
    from log_gardener.tasks.sources.cloud_logging import CloudLoggingSource

    project = os.environ["GARDENER_BQ_TEST_DATASET"].split(".")[0]
    service = os.environ.get("GARDENER_LIVE_SERVICE", "log-gardener-live-test")
    marker = f"log-gardener live test {uuid.uuid4()}"
    resource = Resource(
        type="cloud_run_revision", labels={"service_name": service, "revision_name": f"{service}-00001", "location": "us-central1"}
    )
    written_at = datetime.now(UTC)
    cloud_logging.Client(project=project).logger("log-gardener-live-test").log_text(marker, severity="WARNING", resource=resource)
    window = Window(written_at - timedelta(minutes=1), written_at + timedelta(minutes=5))
    source = CloudLoggingSource(project, extra_filter=f'textPayload="{marker}"')
    found = []
    for _ in range(18):  # ingestion takes seconds to a minute
        found = [e for e in source.entries(service, window, "WARNING") if isinstance(e, dict) and e.get("textPayload") == marker]
        if found:
            break
        time.sleep(5)
    assert len(found) == 1 and found[0]["severity"] == "WARNING"
