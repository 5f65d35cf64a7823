"""The fleet: every service of a source in one window, owners routed, per-service overrides, one digest."""

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.flows.fleet import NOT_SEEN
from log_gardener.sample import OTHER_SERVICE, SERVICE, WORKER_SERVICE
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources import open_source

START, END = "2025-09-15T02:00:00Z", "2025-09-15T03:00:00Z"
RULES = """
[[base]]
severity = "ERROR"
priority = "P1"

[[base]]
severity = "WARNING"
priority = "P3"

[[owners]]
match = "^netra_worker\\\\."
team = "billing"
assignees = ["alice"]
labels = ["golden-path"]

[default_owner]
team = "platform"

[services."netra-frontend-staging".tracker]
title_prefix = "FE-logs"
"""


def fleet(sample_file, folder, *extra):
    result = CliRunner().invoke(
        app,
        [
            "fleet",
            "--source",
            str(sample_file),
            "--start",
            START,
            "--end",
            END,
            "--warehouse",
            f"duckdb:///{folder / 'g.duckdb'}",
            "--worklogs",
            str(folder / "worklogs"),
            "--json",
            *extra,
        ],
    )
    return result, (json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None)


@pytest.fixture(scope="module")
def fleet_run(prefect_harness, sample_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fleet")
    (folder / "rules.toml").write_text(RULES, encoding="utf-8")
    result, summary = fleet(sample_file, folder, "--rules", str(folder / "rules.toml"))
    assert result.exit_code == 0, result.output
    return folder, summary


def test_every_service_with_entries_runs_once_and_reports_like_run_json(fleet_run):
    _, summary = fleet_run
    assert sorted(r["service"] for r in summary["runs"]) == sorted([SERVICE, OTHER_SERVICE, WORKER_SERVICE])
    assert summary["failed"] == []
    for run in summary["runs"]:
        assert {"run_id", "service", "window", "entries", "rejected", "worklog", "clusters"} <= set(run)


def test_owners_route_labels_assignees_and_the_default(fleet_run):
    folder, summary = fleet_run
    worker = next(r for r in summary["runs"] if r["service"] == WORKER_SERVICE)
    failure = next(c for c in worker["clusters"] if "gave up" in c["template"])
    assert failure["owner"] == {"team": "billing", "assignees": ["alice"]}
    backend = next(r for r in summary["runs"] if r["service"] == SERVICE)
    assert all(c["owner"] == {"team": "platform", "assignees": []} for c in backend["clusters"])
    with duckdb.connect(str(folder / "g.duckdb"), read_only=True) as con:
        labels, assignees = con.execute(
            "select labels, assignees from tracker_issues where number = ?", [failure["issue"]["number"]]
        ).fetchone()
    assert {"team:billing", "golden-path"} <= set(json.loads(labels)) and json.loads(assignees) == ["alice"]


def test_a_service_override_changes_only_that_service(fleet_run):
    folder, summary = fleet_run
    with duckdb.connect(str(folder / "g.duckdb"), read_only=True) as con:
        titles = dict(con.execute("select number, title from tracker_issues").fetchall())
    for run in summary["runs"]:
        prefix = "FE-logs | " if run["service"] == OTHER_SERVICE else "GCP-logs | "
        created = [c["issue"]["number"] for c in run["clusters"] if c["issue"]["action"] == "create"]
        assert created and all(titles[n].startswith(prefix) for n in created), run["service"]


def test_the_digest_lists_services_and_what_needs_a_look_most_urgent_first(fleet_run):
    _, summary = fleet_run
    digest = open(summary["digest"], encoding="utf-8").read()
    for name in (SERVICE, OTHER_SERVICE, WORKER_SERVICE):
        assert f"| {name} |" in digest
    table = digest.split("## What needs a look", 1)[1]
    priorities = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| P") and not line.startswith("| Priority")]
    assert priorities and priorities == sorted(priorities)
    assert "](../netra-worker-staging/2025-09-15T0200Z_2025-09-15T0300Z.md)" in digest


def test_a_rerun_of_the_fleet_window_posts_nothing_twice(fleet_run, sample_file):
    folder, _ = fleet_run
    with duckdb.connect(str(folder / "g.duckdb"), read_only=True) as con:
        before = con.execute("select (select count(*) from tracker_issues), (select count(*) from tracker_comments)").fetchone()
    result, summary = fleet(sample_file, folder, "--rules", str(folder / "rules.toml"))
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(folder / "g.duckdb"), read_only=True) as con:
        after = con.execute("select (select count(*) from tracker_issues), (select count(*) from tracker_comments)").fetchone()
    assert after == before


def test_one_failing_service_does_not_stop_the_others(prefect_harness, sample_file, tmp_path):
    (tmp_path / "worklogs").mkdir()
    (tmp_path / "worklogs" / OTHER_SERVICE).write_text("a file where the service's worklog folder should be")
    result, summary = fleet(sample_file, tmp_path)
    assert result.exit_code == 1
    assert [f["service"] for f in summary["failed"]] == [OTHER_SERVICE]
    assert sorted(r["service"] for r in summary["runs"]) == sorted([SERVICE, WORKER_SERVICE])
    assert f"| {OTHER_SERVICE} | failed:" in open(summary["digest"], encoding="utf-8").read()


def test_a_listed_service_never_seen_is_reported_not_run_and_a_partial_fleet_keeps_the_whole_fleets_digest(
    prefect_harness, sample_file, tmp_path
):
    whole, _ = fleet(sample_file, tmp_path)
    assert whole.exit_code == 0, whole.output
    # a name with no entries in the window and no run in the week before is most likely misspelt: run, it would
    # be a service of its own, run every hour of the week after
    result, summary = fleet(sample_file, tmp_path, "--services", f"{WORKER_SERVICE}, netra-wroker-staging ,{WORKER_SERVICE}")
    assert result.exit_code == 0 and not summary["failed"]  # not a failure: a listed service may have logged nothing yet
    assert summary["not_run"] == [{"service": "netra-wroker-staging", "reason": NOT_SEEN}]
    assert f"| netra-wroker-staging | {NOT_SEEN} |" in Path(summary["digest"]).read_text()
    assert [r["service"] for r in summary["runs"]] == [WORKER_SERVICE]
    digests = sorted(p.name for p in (tmp_path / "worklogs" / "_fleet").iterdir())
    assert len(digests) == 2 and Path(summary["digest"]).name != "2025-09-15T0200Z_2025-09-15T0300Z.md"
    assert "| netra-backend-staging |" in (tmp_path / "worklogs" / "_fleet" / "2025-09-15T0200Z_2025-09-15T0300Z.md").read_text()
    # a service run before runs though it logged nothing (its silent hour counts), and `ALL` is `all`
    quiet = tmp_path / "quiet.ndjson"
    quiet.write_text("")
    result, summary = fleet(quiet, tmp_path, "--services", WORKER_SERVICE)
    assert result.exit_code == 0 and {r["service"]: r["entries"] for r in summary["runs"]} == {WORKER_SERVICE: 0}
    result, summary = fleet(quiet, tmp_path, "--services", "ALL")
    assert result.exit_code == 0 and sorted(r["service"] for r in summary["runs"]) == sorted([SERVICE, OTHER_SERVICE, WORKER_SERVICE])


def test_a_service_that_falls_silent_still_runs_so_its_silent_hours_count(prefect_harness, tmp_path):
    from log_gardener.sample import write_sample

    logs = tmp_path / "logs.ndjson"
    write_sample(logs, hours=3, fmt="ndjson")
    early = tmp_path / "early.ndjson"  # the same logs without the worker's entries of the last hour
    early.write_text(
        "".join(line + "\n" for line in logs.read_text().splitlines() if not (WORKER_SERVICE in line and '"2025-09-15T02:' in line))
    )
    db = f"duckdb:///{tmp_path / 'g.duckdb'}"
    for start, end in (("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z"), (START, END)):
        result = CliRunner().invoke(
            app, ["fleet", "--source", str(early), "--start", start, "--end", end, "--warehouse", db, "--worklogs", str(tmp_path), "--json"]
        )
        assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    worker = next(r for r in last["runs"] if r["service"] == WORKER_SERVICE)
    assert worker["entries"] == 0  # run although it logged nothing: its hour is a completed window of its history
    with duckdb.connect(str(tmp_path / "g.duckdb"), read_only=True) as con:
        windows = con.execute("select count(*) from runs where service = ? and status = 'completed'", [WORKER_SERVICE]).fetchone()[0]
    assert windows == 2  # so its baseline counts the silent hour and its patterns can go quiet


def test_services_are_found_in_one_pass_over_a_file(sample_file):
    found = open_source(str(sample_file)).services(Window.parse(START, END), "WARNING")
    assert set(found) == {SERVICE, OTHER_SERVICE, WORKER_SERVICE} and found[WORKER_SERVICE] == 22 + 12
    assert open_source(str(sample_file)).services(Window.parse(START, END), "ERROR")[WORKER_SERVICE] == 12


def test_a_service_named_like_a_path_keeps_its_worklog_inside_the_worklogs_folder(prefect_harness, tmp_path):
    # service names come from log content: one that climbs out, one that is absolute, one that is the digests' folder
    names = ["../../escaped", "/tmp/elsewhere", "_fleet"]
    entry = {"timestamp": "2025-09-15T02:10:00Z", "severity": "ERROR", "textPayload": "payment failed for order 42"}
    logs = tmp_path / "logs.ndjson"
    logs.write_text(
        "".join(
            json.dumps(entry | {"insertId": f"{i}", "resource": {"type": "cloud_run_revision", "labels": {"service_name": name}}}) + "\n"
            for i, name in enumerate(names)
        )
    )
    folder = tmp_path / "a" / "b"
    result, out = fleet(logs, folder)
    assert result.exit_code == 0, result.output
    assert sorted(r["service"] for r in out["runs"]) == sorted(names)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.md"))
    assert all(p.parts[:3] == ("a", "b", "worklogs") for p in written), written
    # three service worklogs and the digest, none in the place of another
    assert len(written) == 4 and len({p.parent for p in written}) == 4


def test_a_plain_service_name_is_its_worklog_folder():
    from log_gardener.tasks.worklog import service_folder

    assert service_folder("netra-backend-staging") == "netra-backend-staging"
    assert service_folder("../../escaped").startswith("_escaped-") and "/" not in service_folder("/tmp/x")
    assert service_folder("a/b") != service_folder("a_b") and service_folder("_fleet") != "_fleet"
    # a plain name crafted like another's hashed folder is still its own
    assert service_folder(service_folder("a/b")[1:]) != service_folder("a/b")
