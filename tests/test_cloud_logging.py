"""CloudLoggingSource through the real google-cloud-logging client against a loopback entries:list."""

import json

import pytest
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.sample import PROJECT, SERVICE, SampleLogs
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources.cloud_logging import CloudLoggingSource, build_filter
from tests.cli_args import run_args
from tests.fake_logging import FakeCloudLogging, matches

WINDOW = ("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z")


@pytest.fixture
def logging_api(monkeypatch):
    entries = list(SampleLogs(hours=2).entries())
    with FakeCloudLogging(entries) as fake:
        monkeypatch.setenv("GARDENER_LOGGING_API_ENDPOINT", fake.url)
        yield fake


def test_filter_selects_service_window_and_severity():
    window = Window.parse(*WINDOW)
    query = build_filter(SERVICE, window, "WARNING", extra='jsonPayload.message:"Session"')
    assert 'resource.labels.service_name="netra-backend-staging"' in query
    assert "severity>=WARNING" in query
    assert 'timestamp>="2025-09-15T01:00:00.000000Z"' in query and 'timestamp<"2025-09-15T02:00:00.000000Z"' in query
    entry = {
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": SERVICE}},
        "severity": "ERROR",
        "timestamp": "2025-09-15T01:30:00Z",
        "jsonPayload": {"message": "Session access failed"},
    }
    assert matches(entry, query)
    assert not matches(entry | {"severity": "INFO"}, query)
    assert not matches(entry | {"timestamp": "2025-09-15T02:00:00Z"}, query)


def test_source_pages_and_retries_through_the_real_client(logging_api):
    logging_api.faults = [503, 429]
    source = CloudLoggingSource(PROJECT, page_size=100, initial_backoff=0.01)
    entries = list(source.entries(SERVICE, Window.parse(*WINDOW), "WARNING"))
    expected = [
        e
        for e in logging_api.entries
        if e["resource"]["labels"]["service_name"] == SERVICE
        and e["severity"] in ("WARNING", "ERROR")
        and e["timestamp"].startswith("2025-09-15T01")
    ]
    assert sorted(e["insertId"] for e in entries) == sorted(e["insertId"] for e in expected)
    assert len(logging_api.requests) >= 2 + len(expected) // 100  # two faults, then every page
    sent = logging_api.requests[-1]["body"]
    assert sent["resourceNames"] == [f"projects/{PROJECT}"] and sent["orderBy"] == "timestamp asc"
    # every payload shape survives the client's round trip
    kinds = {k for e in entries for k in ("jsonPayload", "httpRequest", "textPayload") if k in e}
    assert kinds == {"jsonPayload", "httpRequest"}
    assert all("receiveTimestamp" in e and "insertId" in e for e in entries)


def test_gardener_run_from_cloud_logging_matches_the_file_source(prefect_harness, logging_api, tmp_path):
    source_file = tmp_path / "logs.json"
    source_file.write_text(json.dumps(logging_api.entries))
    results = []
    for index, source in enumerate((f"cloud-logging:{PROJECT}", str(source_file))):
        result = CliRunner().invoke(
            app,
            [
                *run_args(source, WINDOW[0], WINDOW[1], f"duckdb:///{tmp_path / f'g{index}.duckdb'}"),
                "--worklogs",
                str(tmp_path / "w"),
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        results.append(json.loads(result.stdout.strip().splitlines()[-1]))
    api, file = results
    assert api["entries"] == file["entries"] > 0
    assert [(c["template"], c["count"], c["fingerprint"]) for c in api["clusters"]] == [
        (c["template"], c["count"], c["fingerprint"]) for c in file["clusters"]
    ]
    assert api["skipped"]["other_service"] == 0  # the API filtered server-side


def test_services_of_a_window_come_from_one_listing(logging_api):
    from log_gardener.sample import OTHER_SERVICE, WORKER_SERVICE

    source = CloudLoggingSource(PROJECT, page_size=1000)
    before = len(logging_api.requests)
    found = source.services(Window.parse(*WINDOW), "WARNING")
    assert set(found) == {SERVICE, OTHER_SERVICE, WORKER_SERVICE}
    listing = logging_api.requests[before:]
    assert len(listing) == 1 + sum(found.values()) // 1000  # pages of one listing, not one per service
    assert "service_name" not in listing[0]["body"]["filter"]
