"""What a Prefect user sees of real flow runs: the newest window as the latest artifact, status tags, events."""

import json

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterName
from prefect.client.schemas.sorting import ArtifactSort, FlowRunSort
from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.sample import OTHER_SERVICE
from tests.cli_args import run_args

HOURS = {1: ("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z"), 2: ("2025-09-15T02:00:00Z", "2025-09-15T03:00:00Z")}


@pytest.fixture
def asserting_events(monkeypatch):
    """Prefect's own recording events client in place of the one that sends to the server."""
    worker = EventsWorker.instance(AssertingEventsClient)
    monkeypatch.setattr(EventsWorker, "instance", lambda *_: worker)
    yield worker
    worker.drain()


SERVICE = "prefect-ui-test-service"  # artifacts and runs of this service come from these tests only


@pytest.fixture(scope="module")
def own_sample(sample_file, tmp_path_factory):
    """The sample logs with the frontend service renamed, so other tests' runs share no artifact key with these."""
    path = tmp_path_factory.mktemp("ui") / "logs.ndjson"
    path.write_text(sample_file.read_text(encoding="utf-8").replace(f'"{OTHER_SERVICE}"', f'"{SERVICE}"'), encoding="utf-8")
    return path


def _run(sample_file, hour: int, db) -> dict:
    start, end = HOURS[hour]
    result = CliRunner().invoke(
        app, [*run_args(sample_file, start, end, f"duckdb:///{db}", SERVICE), "--worklogs", str(db.parent), "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_latest_artifacts_are_the_newest_window_even_after_an_older_one_runs(prefect_harness, own_sample, tmp_path):
    _run(own_sample, 2, tmp_path / "g.duckdb")
    _run(own_sample, 1, tmp_path / "g.duckdb")  # a backfill of an older hour, afterwards
    with get_client(sync_client=True) as client:
        versions = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"worklog-{SERVICE}"])), sort=ArtifactSort.CREATED_DESC
        )
    assert versions and versions[0].description.startswith("2025-09-15 02:00")
    assert all(not v.description.startswith("2025-09-15 01:00") for v in versions)  # the older hour took no key


def test_new_patterns_emit_events_and_tag_the_run(prefect_harness, own_sample, tmp_path, asserting_events):
    summary = _run(own_sample, 1, tmp_path / "g.duckdb")
    asserting_events.drain()
    events = [e for client in AssertingEventsClient.all for e in client.events if e.event.startswith("gardener.pattern.")]
    new = [c for c in summary["clusters"] if c["status"] == "new"]
    assert new and sorted(e.resource["fingerprint"] for e in events) == sorted(c["fingerprint"] for c in new)
    event = events[0]
    assert event.event == "gardener.pattern.new" and event.resource["service"] == SERVICE
    assert event.payload["priority"] == new[0]["priority"] and event.payload["issue_number"] == new[0]["issue"]["number"]
    with get_client(sync_client=True) as client:
        run = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"{SERVICE} 2025-09-15 01:00Z"])),
            sort=FlowRunSort.START_TIME_DESC,
        )[0]
    assert "new" in run.tags and f"service:{SERVICE}" in run.tags
