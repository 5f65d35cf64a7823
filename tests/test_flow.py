"""The gardener flow end to end on the sample logs, through the CLI and a real Prefect flow run."""

import json
import re

import duckdb
import pytest
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.sample import DEPLOYED_REVISION, SERVICE
from tests.cli_args import run_args
from tests.logging_query import compile_query, link_query

HOURS = [
    ("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z"),
    ("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z"),
    ("2025-09-15T02:00:00Z", "2025-09-15T03:00:00Z"),
]


def run_cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


@pytest.fixture(scope="module")
def three_hours(prefect_harness, sample_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("flow")
    db = folder / "g.duckdb"
    outputs = []
    for start, end in HOURS:
        result = run_cli(
            *run_args(str(sample_file), start, end, f"duckdb:///{db}"),
            "--worklogs",
            str(folder / "worklogs"),
            "--json",
        )
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return folder, db, outputs


def by_template(summary, text):
    found = [c for c in summary["clusters"] if text in c["template"]]
    assert len(found) == 1, [c["template"] for c in summary["clusters"]]
    return found[0]


def test_hour_one_creates_issues_for_new_patterns(three_hours):
    _, _, (first, _, _) = three_hours
    assert first["entries"] > 0 and first["rejected"] == 2
    assert first["entries"] + sum(first["skipped"].values()) + first["rejected"] == first["read"]
    session = by_template(first, "Session access failed")
    assert session["status"] == "new" and session["priority"] == "P2"
    assert session["rate_per_min"] == pytest.approx(5.1)
    assert session["issue"]["action"] == "create"
    beacon = by_template(first, "POST /ws/beacon 405")
    assert beacon["priority"] == "P3"
    assert {c["status"] for c in first["clusters"]} == {"new"}


def test_hour_two_escalates_session_middleware_p2_to_p1(three_hours):
    _, _, (first, second, _) = three_hours
    session = by_template(second, "Session access failed")
    assert session["fingerprint"] == by_template(first, "Session access failed")["fingerprint"]
    assert (session["status"], session["previous_priority"], session["priority"]) == ("escalated", "P2", "P1")
    assert session["rate_per_min"] == pytest.approx(15.3)
    assert session["baseline_rate_per_min"] == pytest.approx(5.1)
    assert session["ratio"] == pytest.approx(3.0)
    assert session["issue"]["action"] == "escalate"
    assert session["issue"]["number"] == by_template(first, "Session access failed")["issue"]["number"]
    ssot = by_template(second, "Multiple manager instances")
    assert ssot["status"] == "ongoing" and ssot["issue"]["action"] == "none"


def test_after_an_escalation_title_label_and_comment_agree_on_the_priority(three_hours):
    _, db, (_, second, _) = three_hours
    number = by_template(second, "Session access failed")["issue"]["number"]
    con = duckdb.connect(str(db), read_only=True)
    title, labels = con.execute("select title, labels from tracker_issues where number = ?", [number]).fetchone()
    (comment,) = con.execute("select body from tracker_comments where issue_number = ? and body like '%Escalated%'", [number]).fetchone()
    assert title.startswith("GCP-logs | P1 | ") and "P1" in json.loads(labels) and "P2" not in json.loads(labels)
    assert "**Escalated**: 5.1/min to 15.3/min, x3.0 over a 1-hour baseline: P2 to P1." in comment
    assert comment.splitlines()[0].count("P2") == 1  # the sentence names the priority before once


def test_hour_three_has_the_new_redis_pattern(three_hours):
    _, _, (_, second, third) = three_hours
    redis = by_template(third, "redis.exceptions.ConnectionError")
    assert redis["status"] == "new" and redis["count"] == 45 and redis["issue"]["action"] == "create"
    session = by_template(third, "Session access failed")
    assert session["status"] == "ongoing" and session["priority"] == "P1"
    old = {c["fingerprint"] for c in second["clusters"]}
    assert {c["fingerprint"] for c in third["clusters"]} - old == {redis["fingerprint"]}


def test_worklog_carries_what_the_reference_carries(three_hours):
    _, _, (_, second, _) = three_hours
    text = open(second["worklog"], encoding="utf-8").read()
    for expected in (
        "Session access failed",
        "P2 → P1",
        "15.3/min",
        "netra-backend-staging-00645-l8x",
        "us-central1",
        '"jsonPayload"',
        "POST /ws/beacon 405",
        "## Technical context",
        "Escalated issue #",
        "## Summary",
    ):
        assert expected in text, expected


def test_a_broken_line_every_run_reads_is_listed_by_the_first_and_named_by_the_others(three_hours, sample_file):
    folder, db, outputs = three_hours
    first, *later = [open(o["worklog"], encoding="utf-8").read() for o in outputs]
    assert all(o["rejected"] == 2 for o in outputs)  # each run read the two lines and accounts for them
    assert "## Rejected input" in first and "No rejected input (2 rejected, see below)" in first
    for text in later:
        assert "## Rejected input" not in text
        assert (
            "- [x] No new rejected input; 2 rejected lines listed before, in the worklog of netra-backend-staging for 2025-09-15 00:00 to 01:00 UTC"
            in text
        )
    # a rerun of the first hour lists them again: what the first run of a window wrote does not change
    start, end = HOURS[0]
    result = run_cli(*run_args(str(sample_file), start, end, f"duckdb:///{db}"), "--worklogs", str(folder / "worklogs"), "--json")
    assert result.exit_code == 0, result.output
    assert "## Rejected input" in open(json.loads(result.stdout.strip().splitlines()[-1])["worklog"], encoding="utf-8").read()


def test_rerun_of_a_window_changes_nothing(three_hours, sample_file):
    folder, db, (_, second, _) = three_hours
    tables = ("log_entries", "cluster_keys", "cluster_counts", "issue_actions", "tracker_issues", "tracker_comments", "rejected_entries")

    def counts():
        con = duckdb.connect(str(db))
        try:
            return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
        finally:
            con.close()

    before = counts()
    start, end = HOURS[1]
    result = run_cli(
        *run_args(str(sample_file), start, end, f"duckdb:///{db}"),
        "--worklogs",
        str(folder / "worklogs"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    rerun = json.loads(result.stdout.strip().splitlines()[-1])
    assert [(c["fingerprint"], c["status"], c["priority"], c["count"]) for c in rerun["clusters"]] == [
        (c["fingerprint"], c["status"], c["priority"], c["count"]) for c in second["clusters"]
    ]
    assert by_template(rerun, "Session access failed")["issue"]["action"] == "escalate"
    assert [(c["fingerprint"], c["issue"]) for c in rerun["clusters"]] == [(c["fingerprint"], c["issue"]) for c in second["clusters"]]
    assert counts() == before


def test_rerun_of_the_first_hour_still_reports_the_issues_it_created(three_hours, sample_file):
    folder, db, (first, _, _) = three_hours
    start, end = HOURS[0]
    result = run_cli(*run_args(str(sample_file), start, end, f"duckdb:///{db}"), "--worklogs", str(folder / "worklogs"), "--json")
    assert result.exit_code == 0, result.output
    rerun = json.loads(result.stdout.strip().splitlines()[-1])
    created = {c["fingerprint"]: c["issue"] for c in first["clusters"] if c["issue"]["action"] == "create"}
    assert created and {c["fingerprint"]: c["issue"] for c in rerun["clusters"] if c["fingerprint"] in created} == created


def test_bad_settings_are_one_line_errors_before_anything_runs(sample_file, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GARDENER_GITHUB_SECRET_BLOCK", raising=False)
    db = f"duckdb:///{tmp_path / 'g.duckdb'}"
    window = ["--start", "2025-09-15T00:00:00Z", "--end", "2025-09-15T01:00:00Z"]
    cases = {
        "cannot be read": ["--rules", str(tmp_path), "--warehouse", db],
        "unknown warehouse": ["--warehouse", "sqlite:///x.db"],
        "is a folder": ["--warehouse", f"duckdb:///{tmp_path}"],
        "takes no options": ["--warehouse", f"duckdb:///{tmp_path / 'g.duckdb'}?threads=1"],
        "must be bigquery:PROJECT.DATASET": ["--warehouse", "bigquery:my-project"],
        "applies to cloud-logging: sources only": ["--filter", "severity>=ERROR", "--warehouse", db],  # a file holds what it holds
        "unknown tracker": ["--tracker", "jira:x", "--warehouse", db],
        "no GitHub token": ["--tracker", "github:acme/shop", "--warehouse", db],
        "cannot be written": ["--worklogs", str(sample_file / "x"), "--warehouse", db],
        "GARDENER_GITHUB_RETRIES": ["--tracker", "github:acme/shop", "--warehouse", db],
        # an empty severity would read as the lowest, DEFAULT: every entry
        "min_severity": ["--min-severity", "", "--warehouse", db],
    }
    for message, extra in cases.items():
        if message == "GARDENER_GITHUB_RETRIES":  # a token, and a malformed setting beside it
            monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
            monkeypatch.setenv("GARDENER_GITHUB_RETRIES", "abc")
        result = run_cli("run", "--source", str(sample_file), "--service", SERVICE, *window, *extra)
        assert result.exit_code == 2 and message in result.output, (message, result.output)
        assert "Traceback" not in result.output
    # nothing ran or was made: no warehouse file, no worklog folder
    assert not any(tmp_path.iterdir())


def test_files_in_the_wrong_place_are_one_line_errors(sample_file, tmp_path):
    window = ["--start", "2025-09-15T00:00:00Z", "--end", "2025-09-15T01:00:00Z"]
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("garbage")
    cases = {
        "not a valid DuckDB database file": ["run", "--source", str(sample_file), "--service", SERVICE, *window]
        + ["--warehouse", f"duckdb:///{not_duckdb}", "--worklogs", str(tmp_path / "w")],
        "Is a directory": ["sample", "-o", str(tmp_path)],
        "No such file or directory": ["sample", "-o", str(tmp_path / "missing" / "x.json")],
        "is a file": ["demo", "--folder", str(not_duckdb)],
    }
    for message, args in cases.items():
        result = run_cli(*args)
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, (message, result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.duckdb"]  # nothing made


def test_the_version_and_an_empty_rules_path_that_means_the_bundled_rules(tmp_path):
    result = run_cli("--version")
    assert result.exit_code == 0 and re.fullmatch(r"log-gardener \d+\.\d+\.\d+\S*\n", result.stdout)
    result = run_cli(
        "explain", "Connection to db-7 timed out", "--service", SERVICE, "--rules", "", "--warehouse", f"duckdb:///{tmp_path / 'g.duckdb'}"
    )
    assert result.exit_code == 0, result.output


def test_bad_window_and_missing_source_are_clear_errors(sample_file, tmp_path):
    result = run_cli(
        "run", "--source", str(sample_file), "--service", SERVICE, "--start", "2025-09-15T02:00:00Z", "--end", "2025-09-15T01:00:00Z"
    )
    assert result.exit_code == 2 and "not after its start" in result.output
    # a window that is not over yet would stand as complete with part of its entries
    for command in (["run", "--service", SERVICE], ["fleet"], ["backfill", "--service", SERVICE]):
        future = ["--start", "2099-01-01T00:00:00Z", "--end", "2099-01-01T01:00:00Z", "--worklogs", str(tmp_path / "w")]
        result = run_cli(*command, "--source", str(sample_file), *future, "--warehouse", f"duckdb:///{tmp_path / 'g.duckdb'}")
        assert result.exit_code == 2 and "is in the future" in result.output, (command, result.output)
    assert not any(tmp_path.iterdir())  # refused before anything was made
    result = run_cli(
        "run", "--source", "/nope.json", "--service", SERVICE, "--start", "2025-09-15T00:00:00Z", "--end", "2025-09-15T01:00:00Z"
    )
    assert result.exit_code == 2 and "not found" in result.output
    result = run_cli(
        "run", "--source", str(sample_file.parent), "--service", SERVICE, "--start", "2025-09-15T00:00:00Z", "--end", "2025-09-15T01:00:00Z"
    )
    assert result.exit_code == 2 and "is not a regular file" in result.output


def test_broken_lines_are_asked_of_ndjson_samples_only(tmp_path):
    result = run_cli("sample", "--output", str(tmp_path / "s.json"), "--corrupt", "3")
    assert result.exit_code == 2 and "--format ndjson" in result.output and not (tmp_path / "s.json").exists()
    result = run_cli("sample", "--output", str(tmp_path / "s.ndjson"), "--format", "ndjson", "--corrupt", "3", "--hours", "1")
    assert (
        result.exit_code == 0
        and sum(not line.startswith("{") or not line.endswith("}") for line in (tmp_path / "s.ndjson").read_text().splitlines()) >= 3
    )


@pytest.mark.parametrize("command", sorted(c.name or c.callback.__name__ for c in app.registered_commands))
def test_every_command_has_help(command):
    result = run_cli(command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output
    summary = result.output.split("Usage", 1)[1].split("Options", 1)[0]
    assert len(summary.split()) > 8, summary  # a sentence that says what the command does, not just its usage line


def test_runs_of_a_service_hold_a_concurrency_limit_of_one(three_hours, sample_file, tmp_path):
    """A run waits while another run of the same service holds the service's slot."""
    import threading
    from datetime import UTC, datetime

    from prefect.client.orchestration import get_client
    from prefect.concurrency.sync import concurrency

    from log_gardener.flows.gardener import ensure_service_lock

    name = ensure_service_lock(SERVICE)
    held, released = threading.Event(), {}

    def other_run():
        with concurrency(name, occupy=1):
            held.set()
            threading.Event().wait(3)
            released["at"] = datetime.now(UTC)

    holder = threading.Thread(target=other_run)
    holder.start()
    assert held.wait(60)
    db = tmp_path / "lock.duckdb"
    result = run_cli(
        *run_args(str(sample_file), HOURS[0][0], HOURS[0][1], f"duckdb:///{db}"),
        "--worklogs",
        str(tmp_path / "w"),
        "--no-publish",
        "--json",
    )
    holder.join()
    assert result.exit_code == 0, result.output
    (started,) = duckdb.connect(str(db)).execute("select started_at from runs").fetchone()
    assert started >= released["at"]  # the run began only after the other run released the slot
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(name)
    assert limit.limit == 1 and limit.active_slots == 0


def test_runs_are_named_and_tagged_by_service_and_window_and_log_their_actions(three_hours):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags, LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["manual", f"service:{SERVICE}"])))
        names = {run.name for run in runs}
        assert {f"{SERVICE} 2025-09-15 00:00Z", f"{SERVICE} 2025-09-15 02:00Z"} <= names
        # other tests run this hour too: one of the runs of that name is the escalation in this module's warehouse
        seconds = [run.id for run in runs if run.name == f"{SERVICE} 2025-09-15 01:00Z"]
        logs = [
            entry.message
            for run_id in seconds
            for entry in client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])), limit=200)
        ]
    assert any("entries kept of" in line for line in logs)
    assert "5 patterns: 4 ongoing, 1 escalated" in logs
    assert any(line.startswith("escalate #") and "Session access failed" in line for line in logs)


def test_task_runs_carry_no_tags_so_none_waits_for_tag_concurrency_slots(three_hours):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["manual", f"service:{SERVICE}"])))
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id={"any_": [run.id for run in runs]}))
    assert {task.name.split("-")[0] for task in tasks} >= {"extract", "load", "measure"}
    assert all(not task.tags for task in tasks)


def test_console_links_find_the_sample_entries_of_their_pattern_and_few_others(three_hours, sample_file):
    """Each created issue's link, evaluated on the entries of its window, matches the pattern's samples and not much more."""
    _, db, outputs = three_hours
    with duckdb.connect(str(db), read_only=True) as con:
        bodies = dict(con.execute("select number, body from tracker_issues").fetchall())
    entries = []
    for line in sample_file.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the sample's two broken lines
    checked = 0
    for (start, end), output in zip(HOURS, outputs):
        in_window = [e for e in entries if isinstance(e, dict) and start <= e.get("timestamp", "") < end]
        for cluster in output["clusters"]:
            if cluster["issue"]["action"] != "create":
                continue
            link = re.search(r"\((https://console\.cloud\.google\.com/logs/query[^)]*)\)", bodies[cluster["issue"]["number"]]).group(1)
            matches = compile_query(link_query(link))
            found = {e["insertId"] for e in in_window if matches(e)}
            assert set(cluster["sample_insert_ids"]) <= found, (cluster["template"], link_query(link))
            assert len(found) <= cluster["count"] * 1.1 + 2, (cluster["template"], len(found), cluster["count"])
            checked += 1
    assert checked >= 5


def test_a_traceback_pattern_names_its_source_frame_and_reads_as_a_sentence(three_hours):
    """The redis traceback has no source labels: its frames give the source, its exception the title."""
    _, db, outputs = three_hours
    redis = by_template(outputs[2], "redis.exceptions.ConnectionError")
    assert redis["source"] == "cache.py:212 in refresh"
    assert redis["headline"] == "ConnectionError in refresh: Error … connecting to …. Connection refused."
    with duckdb.connect(str(db), read_only=True) as con:
        title, body, labels = con.execute(
            "select title, body, labels from tracker_issues where number = ?", [redis["issue"]["number"]]
        ).fetchone()
    assert title == f"GCP-logs | {redis['priority']} | {redis['headline']}"
    assert "| Source | cache.py:212 in refresh |" in body
    assert "component:cache" in json.loads(labels)


def test_the_redis_pattern_appeared_with_the_deploy_of_the_third_hour(three_hours):
    _, _, outputs = three_hours
    redis = by_template(outputs[2], "redis.exceptions.ConnectionError")
    assert redis["status"] == "new"
    assert redis["revision"]["name"] == DEPLOYED_REVISION and redis["revision"]["new_in_window"] is True
    assert redis["revision"]["first_seen"].startswith("2025-09-15T02:00")
    session = by_template(outputs[1], "Session access failed")
    assert session["status"] == "escalated" and session["revision"]["new_in_window"] is False  # the revision of the start


def test_impact_counts_distinct_requests_and_clients(three_hours):
    _, _, outputs = three_hours
    beacon = by_template(outputs[2], "POST /ws/beacon")
    assert beacon["affected"]["traces"] == beacon["count"]  # one entry per request
    assert 0 < beacon["affected"]["clients"] <= beacon["count"]
    session = by_template(outputs[2], "Session access failed")
    assert session["affected"]["clients"] == 0  # no request address on these entries


def test_a_pattern_below_warning_is_named_by_the_highest_severity_it_was_logged_at(prefect_harness, tmp_path):
    def entry(i, severity, text):
        return json.dumps(
            {
                "insertId": f"s{i}",
                "timestamp": f"2025-09-15T00:{10 + i:02d}:00Z",
                "severity": severity,
                "textPayload": text,
                "resource": {"type": "cloud_run_revision", "labels": {"service_name": SERVICE}},
            }
        )

    logs = tmp_path / "levels.ndjson"
    lines = [entry(i, "INFO", f"Cache warm-up took {100 + i} ms") for i in range(3)]
    lines += [entry(3, "NOTICE", "Config reloaded from /etc/app/a.yaml"), entry(4, "INFO", "Config reloaded from /etc/app/b.yaml")]
    lines += [entry(5, "WARNING", "Disk 91% full on /data")]
    logs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli(*run_args(str(logs), *HOURS[0], f"duckdb:///{tmp_path / 'g.duckdb'}"), "--min-severity", "INFO", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert by_template(summary, "Cache warm-up")["severity"] == "INFO"  # DEFAULT before: no WARNING, ERROR or CRITICAL
    assert by_template(summary, "Config reloaded")["severity"] == "NOTICE"
    assert by_template(summary, "Disk")["severity"] == "WARNING"


@pytest.mark.parametrize(
    "source, warehouse, what",
    [("cloud-logging:acme-prod", "duckdb:///{db}", "Cloud Logging"), ("{sample}", "bigquery:acme-prod.gardener", "BigQuery")],
)
def test_missing_google_credentials_are_one_actionable_line(prefect_harness, sample_file, tmp_path, monkeypatch, source, warehouse, what):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    monkeypatch.delenv("GARDENER_BIGQUERY_API_ENDPOINT", raising=False)
    monkeypatch.delenv("GARDENER_LOGGING_API_ENDPOINT", raising=False)
    start, end = HOURS[0]
    args = run_args(source.format(sample=sample_file), start, end, warehouse.format(db=tmp_path / "g.duckdb"))
    result = run_cli(*args)
    assert result.exit_code != 0
    message = result.output.strip().splitlines()
    assert len(message) == 1 and f"no Google credentials for {what}" in message[0] and "gcloud auth application-default login" in message[0]
    assert "Traceback" not in result.output


def test_json_and_worklog_say_how_long_each_stage_took(three_hours):
    folder, _, outputs = three_hours
    timings = outputs[2]["timings"]
    stages = ["setup", "extract", "load", "mask_and_group", "cluster_and_identify", "measure", "publish", "report", "total"]
    assert list(timings) == stages and all(value >= 0 for value in timings.values())
    assert timings["total"] >= sum(v for k, v in timings.items() if k != "total") - 0.01
    worklog = open(outputs[2]["worklog"], encoding="utf-8").read()
    assert "*Stage timings (before writing this worklog): setup " in worklog and "cluster and identify" in worklog


def test_explain_shows_masking_pattern_and_fingerprint_of_a_message(three_hours):
    _, db, outputs = three_hours
    race = by_template(outputs[0], "RACE CONDITION DETECTED")
    message = (
        "[🔴] RACE CONDITION DETECTED: Startup phase 'services' did not reach 'websocket' within 0.7s - "
        "this would cause WebSocket 1011 errors"
    )
    result = run_cli("explain", message, "--service", SERVICE, "--warehouse", f"duckdb:///{db}", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["fingerprint"] == race["fingerprint"] and found["issue_number"] == race["issue"]["number"]
    assert found["masking_rules"] == ["quoted", "number"] and "<STR>" in found["masked"]
    assert found["how"].startswith(("known", "similar"))
    text = run_cli("explain", "Payment provider timed out after 30s", "--service", SERVICE, "--warehouse", f"duckdb:///{db}")
    assert text.exit_code == 0 and "how: new" in text.output and "masked: Payment provider timed out after <NUM>s" in text.output
    assert "[🔴]" in run_cli("explain", message, "--service", SERVICE, "--warehouse", f"duckdb:///{db}").output  # printed as written
