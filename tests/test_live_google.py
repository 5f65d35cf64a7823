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


def test_rows_bigquery_keeps_are_the_rows_python_makes_of_them_live():
    """The judging query on real BigQuery (the emulator runs on DuckDB): every kept row as normalise() makes it."""
    import json
    import uuid

    from google.cloud import bigquery

    from log_gardener.sample import SERVICE
    from log_gardener.tasks.bigquery_extract import judged_statement
    from log_gardener.tasks.normalise import Window, normalise
    from log_gardener.tasks.sources.sink_table import SinkTableSource
    from tests.test_bigquery_warehouse import COMPARED_COLUMNS, HOURS, SINK_ROWS

    project, dataset = os.environ["GARDENER_BQ_TEST_DATASET"].split(".")
    table = f"live_sink_{uuid.uuid4().hex[:8]}"
    client = bigquery.Client(project=project)
    config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON, autodetect=True)
    client.load_table_from_json(SINK_ROWS, f"{project}.{dataset}.{table}", job_config=config).result()
    try:
        window = Window.parse(*HOURS[1])
        entries, params = SinkTableSource(project, dataset, table).entries_query(SERVICE, window, "WARNING")
        statement = judged_statement(f"select entry, cast(null as int64) as position from ({entries})")
        judged = list(client.query_and_wait(statement, job_config=bigquery.QueryJobConfig(query_parameters=params)))
        as_json = {
            json.loads(e)["insertId"]: json.loads(e)
            for (e,) in client.query_and_wait(entries, job_config=bigquery.QueryJobConfig(query_parameters=params))
        }
        kept = [row for row in judged if row["verdict"] == "kept"]
        assert len(kept) >= 8
        for row in kept:
            expected = normalise(as_json[row["insert_id"]])
            columns = [c for c in COMPARED_COLUMNS if c in row.keys() and c not in ("insert_id", "module", "function", "line")]
            if "\n" not in row["message"]:  # a stack trace's frame is joined in later, per distinct message
                columns += ["module", "function", "line"]
            assert {c: row[c] for c in columns} == {c: expected[c] for c in columns}, row["insert_id"]
    finally:
        client.delete_table(f"{project}.{dataset}.{table}", not_found_ok=True)
