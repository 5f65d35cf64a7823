"""GitHubTracker through the real PyGithub client against a loopback GitHub API."""

import json
import os

import pytest
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.sample import SERVICE
from log_gardener.tasks.rules import DEFAULT_RULES_PATH
from tests.cli_args import run_args
from tests.fake_github import FakeGitHub

REPO = "acme/backend"
HOURS = [
    ("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z"),
    ("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z"),
    ("2025-09-15T02:00:00Z", "2025-09-15T03:00:00Z"),
]
WRITES = ("POST", "PUT", "PATCH")

HUMAN_ISSUES = [
    (
        1127,
        "GCP-staging | P2 | SessionMiddleware not installed - session access failures",
        "Logs show 'Session access failed (middleware not installed?)': request.session is read before SessionMiddleware is added.",
    ),
    (
        889,
        "SSOT violation: multiple WebSocket manager instances per user",
        "ssot_validation_enhancer reports Multiple manager instances for user - potential duplication of the WebSocket manager.",
    ),
    (
        1172,
        "GCP-routing | P3 | POST /ws/beacon returns 405 Method Not Allowed",
        "The beacon endpoint only accepts GET; clients POST to /ws/beacon and get 405.",
    ),
    (1200, "Add dark mode to the settings page", "Users asked for a dark theme in settings."),
    (1201, "Upgrade Python runtime to 3.12", "Move the backend image to Python 3.12 and update dependencies."),
    (1202, "Chat page fails to render on Safari", "Frontend error when opening /chat on Safari 16."),
]


@pytest.fixture
def github(monkeypatch):
    with FakeGitHub(repos=(REPO,), per_page=5) as fake:
        for number, title, body in HUMAN_ISSUES:
            fake.add_issue(REPO, title, body, number=number)
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GARDENER_GITHUB_BACKOFF", "0.01")
        monkeypatch.setenv("GARDENER_GITHUB_SECONDARY_WAIT", "0.05")
        monkeypatch.setenv("GARDENER_GITHUB_WRITE_INTERVAL", "0")
        monkeypatch.setenv("GARDENER_GITHUB_REQUEST_INTERVAL", "0")
        yield fake


def run(sample_file, db, hour, *extra):
    start, end = HOURS[hour]
    result = CliRunner().invoke(
        app,
        [
            *run_args(str(sample_file), start, end, f"duckdb:///{db}"),
            "--tracker",
            f"github:{REPO}",
            "--worklogs",
            str(db.parent / "worklogs"),
            "--json",
            *extra,
        ],
    )
    return result


def summary(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def cluster(s, text):
    return next(c for c in s["clusters"] if text in c["template"])


def writes(fake):
    return [(m, p) for m, p, status in fake.requests if m in WRITES and status < 400]


def test_lifecycle_links_creates_escalates_and_never_duplicates(prefect_harness, github, sample_file, tmp_path):
    db = tmp_path / "g.duckdb"
    first = summary(run(sample_file, db, 0))
    # human-filed issues are linked, not duplicated; unrelated ones are left alone
    assert cluster(first, "Session access failed")["issue"] == {
        "number": 1127,
        "action": "link",
        "url": "https://github.example/acme/backend/issues/1127",
    }
    assert (
        cluster(first, "Multiple manager instances")["issue"]["number"] == 889
        and cluster(first, "Multiple manager instances")["issue"]["action"] == "link"
    )
    assert (
        cluster(first, "POST /ws/beacon 405")["issue"]["number"] == 1172
        and cluster(first, "POST /ws/beacon 405")["issue"]["action"] == "link"
    )
    created = {c["issue"]["number"] for c in first["clusters"] if c["issue"]["action"] == "create"}
    assert len(created) == 2 and not created & {1200, 1201, 1202}
    for number in (1200, 1201, 1202):
        assert github.comments(REPO, number) == []
    assert "log-gardener:fingerprint=" in github.comments(REPO, 1127)[0]

    new_issue = next(i for i in github.issues(REPO) if "RACE CONDITION" in i["title"])
    assert new_issue["title"].startswith("GCP-logs | P1 | ")
    assert {"P1", "error", "log-gardener", f"service:{SERVICE}", "component:gcp_initialization_validator"} <= set(new_issue["labels"])
    body = new_issue["body"]
    for expected in (
        "| Service |",
        "| Revision |",
        "netra-backend-staging-00645-l8x",
        "```json",
        "console.cloud.google.com/logs/query",
        "log-gardener:fingerprint=",
    ):
        assert expected in body, expected
    sibling = next(i for i in github.issues(REPO) if "Cannot wait for startup phase" in i["title"])
    assert f"Related Log Gardener issues** (same component): #{new_issue['number']}" in sibling["body"]

    second = summary(run(sample_file, db, 1))
    session = cluster(second, "Session access failed")
    assert (session["status"], session["priority"], session["issue"]["action"]) == ("escalated", "P1", "escalate")
    issue = {i["number"]: i for i in github.issues(REPO)}[1127]
    assert "P1" in issue["labels"] and "P2" not in issue["labels"]
    assert "5.1/min to 15.3/min, x3.0" in github.comments(REPO, 1127)[-1]

    before = writes(github)
    again = summary(run(sample_file, db, 1))
    assert writes(github) == before, "a rerun posted something"
    assert cluster(again, "Session access failed")["issue"]["action"] == "escalate"

    third = summary(run(sample_file, db, 2))
    redis = cluster(third, "redis.exceptions.ConnectionError")
    assert redis["issue"]["action"] == "create"
    titles = [i["title"] for i in github.issues(REPO)]
    assert len(titles) == len(set(titles)) == len(HUMAN_ISSUES) + 3


def test_closed_issue_that_comes_back_is_reopened(prefect_harness, github, sample_file, tmp_path):
    db = tmp_path / "g.duckdb"
    first = summary(run(sample_file, db, 0))
    number = cluster(first, "Cannot wait for startup phase")["issue"]["number"]
    github.repos[REPO]["issues"][number]["state"] = "closed"  # a person closes it after a fix
    second = summary(run(sample_file, db, 1))
    again = cluster(second, "Cannot wait for startup phase")
    assert (again["status"], again["issue"]["action"]) == ("regressed", "reopen")
    assert github.repos[REPO]["issues"][number]["state"] == "open"
    assert "Regressed" in github.comments(REPO, number)[-1]


def test_what_people_do_on_github_issues_is_respected_across_runs_and_reruns(prefect_harness, github, sample_file, tmp_path):
    db = tmp_path / "g.duckdb"
    first = summary(run(sample_file, db, 0))
    race = cluster(first, "RACE CONDITION")["issue"]["number"]
    issues = github.repos[REPO]["issues"]
    with github._lock:  # what people do in GitHub's UI between two runs
        issues[race].update(state="closed", state_reason="not_planned")  # "we live with it"
        issues[1127]["labels"] = [label for label in issues[1127]["labels"] if label != "P2"] + ["P0"]  # "this is urgent"
        issues[1127]["title"] = "Session middleware missing on staging (our words)"
        issues[1172]["labels"] = issues[1172]["labels"] + ["gardener:mute"]
        for name in ("P0", "gardener:mute"):
            github._ensure_label(REPO, name)
    beacon_comments = len(github.comments(REPO, 1172))

    second = summary(run(sample_file, db, 1))
    session = cluster(second, "Session access failed")
    assert (session["status"], session["issue"]["action"]) == ("escalated", "escalate")
    assert "P0" in issues[1127]["labels"] and "P1" not in issues[1127]["labels"]  # the escalation to P1 is not above P0
    assert issues[1127]["title"] == "Session middleware missing on staging (our words)"
    assert cluster(second, "POST /ws/beacon")["muted"] and len(github.comments(REPO, 1172)) == beacon_comments
    assert issues[race]["state"] == "closed" and issues[race]["state_reason"] == "not_planned"
    before = writes(github)
    summary(run(sample_file, db, 1))
    assert writes(github) == before, "a rerun changed what people decided"


def test_faults_are_retried_and_every_action_lands_once(prefect_harness, github, sample_file, tmp_path, capsys):
    github.inject("POST", r"/issues$", "502", times=2)
    github.inject("POST", r"/comments$", "secondary")
    github.inject("PUT", r"/labels$", "primary")
    github.inject("GET", r"/issues/\d+$", "502", times=3)
    github.inject("POST", r"/labels$", "502")
    db = tmp_path / "g.duckdb"
    for hour in range(3):
        summary(run(sample_file, db, hour))
    summary(run(sample_file, db, 1))  # a rerun on top
    issues = github.issues(REPO)
    markers = [i["body"].split("log-gardener:fingerprint=")[1][:16] for i in issues if "log-gardener:fingerprint=" in i["body"]]
    assert len(markers) == len(set(markers)) == 3  # race, startup wait, redis
    action_comments = [c for i in issues for c in github.comments(REPO, i["number"]) if "log-gardener:action=" in c]
    keys = [c.split("log-gardener:action=")[1][:20] for c in action_comments]
    assert len(keys) == len(set(keys))
    failed = github.failed
    assert failed >= 8 and not github.faults
    with capsys.disabled():
        print(
            f"\nfault injection: {failed} calls failed, {len(markers)} issues created, {len(keys)} comments posted, "
            f"{len(markers) + len(keys)} actions applied, duplicates 0"
        )


def _tracker_state(fake):
    """Issues (title, labels, state) and the action keys of their comments, in order."""
    state = []
    for issue in sorted(fake.issues(REPO), key=lambda i: i["number"]):
        keys = [c.split("log-gardener:action=")[1][:20] for c in fake.comments(REPO, issue["number"]) if "log-gardener:action=" in c]
        state.append((issue["title"], sorted(issue["labels"]), issue["state"], keys))
    return state


def test_writes_that_landed_without_an_answer_are_never_repeated(prefect_harness, sample_file, tmp_path, monkeypatch):
    """A share of writes is applied and then answered with a 502 or a dropped connection: the tracker ends exactly as
    after a clean run, because each ambiguous write is looked for before it is retried."""
    states = []
    for faulty in (False, True):
        with FakeGitHub(repos=(REPO,), per_page=5) as fake:
            for number, title, body in HUMAN_ISSUES:
                fake.add_issue(REPO, title, body, number=number)
            for name, value in {
                "GITHUB_TOKEN": fake.token,
                "GITHUB_API_URL": fake.url,
                "GARDENER_GITHUB_BACKOFF": "0.01",
                "GARDENER_GITHUB_SECONDARY_WAIT": "0.05",
                "GARDENER_GITHUB_WRITE_INTERVAL": "0",
                "GARDENER_GITHUB_REQUEST_INTERVAL": "0",
            }.items():
                monkeypatch.setenv(name, value)
            if faulty:
                fake.inject("POST", r"/issues$", "ghost", times=2)
                fake.inject("POST", r"/comments$", "ghost", times=2)
                fake.inject("POST", r"/comments$", "drop")
                fake.inject("POST", r"/issues$", "drop")
            db = tmp_path / f"g{int(faulty)}.duckdb"
            for hour in range(3):
                summary(run(sample_file, db, hour))
            if faulty:
                assert not fake.faults and fake.failed >= 6
            states.append(_tracker_state(fake))
    clean, faulty_state = states
    assert faulty_state == clean
    assert sum(len(keys) for *_, keys in clean) >= 1  # comments were part of the comparison


def test_action_planned_but_not_recorded_is_completed_without_duplicate(prefect_harness, github, sample_file, tmp_path, monkeypatch):
    from log_gardener.tasks.warehouses import DuckDBWarehouse

    real = DuckDBWarehouse.execute
    calls = {"n": 0}

    def die_after_first_create(self, name, **params):
        if name == "mark_action_applied":
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("worker lost")
        return real(self, name, **params)

    monkeypatch.setattr(DuckDBWarehouse, "execute", die_after_first_create)
    db = tmp_path / "g.duckdb"
    result = run(sample_file, db, 0)
    assert result.exit_code != 0
    monkeypatch.setattr(DuckDBWarehouse, "execute", real)
    first = summary(run(sample_file, db, 0))
    gardener_issues = [i for i in github.issues(REPO) if "log-gardener:fingerprint=" in i["body"]]
    assert len(gardener_issues) == 2
    assert {c["issue"]["action"] for c in first["clusters"]} == {"link", "create"}


def test_bad_token_and_missing_repo_fail_at_start(prefect_harness, github, sample_file, tmp_path, monkeypatch):
    db = tmp_path / "g.duckdb"
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    result = run(sample_file, db, 0)
    assert result.exit_code == 2 and "Bad credentials" in result.output
    monkeypatch.setenv("GITHUB_TOKEN", github.token)
    start, end = HOURS[0]
    result = CliRunner().invoke(
        app,
        [
            *run_args(str(sample_file), start, end, f"duckdb:///{db}"),
            "--tracker",
            "github:acme/nope",
        ],
    )
    assert result.exit_code == 2 and "not found" in result.output
    monkeypatch.delenv("GITHUB_TOKEN")
    result = run(sample_file, db, 0)
    assert result.exit_code == 2 and "GITHUB_TOKEN" in result.output
    assert writes(github) == []


@pytest.mark.skipif(
    not (os.environ.get("GARDENER_GITHUB_TEST_REPO") and os.environ.get("GITHUB_TOKEN")),
    reason="live GitHub test: set GARDENER_GITHUB_TEST_REPO and GITHUB_TOKEN",
)
def test_live_repository_round_trip():
    from log_gardener.tasks.trackers.github import GitHubTracker

    tracker = GitHubTracker.from_spec(f"github:{os.environ['GARDENER_GITHUB_TEST_REPO']}")
    issue = tracker.create("Log Gardener live test", "<!-- log-gardener:fingerprint=0000000000000000 -->", ["log-gardener"])
    try:
        tracker.comment(issue.number, "<!-- log-gardener:action=live-test -->")
        assert tracker.has_comment_with(issue.number, "log-gardener:action=live-test")
    finally:
        tracker.close(issue.number)


def _entries(path, hour, message, n, severity="ERROR"):
    with open(path, "a", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(
                json.dumps(
                    {
                        "insertId": f"h{hour}-{abs(hash(message)) % 10**6}-{i}",
                        "timestamp": f"2025-09-15T0{hour}:{10 + i:02d}:00Z",
                        "severity": severity,
                        "jsonPayload": {"message": message},
                        "resource": {"type": "cloud_run_revision", "labels": {"service_name": SERVICE}},
                    }
                )
                + "\n"
            )


def test_secrets_mentions_and_refs_never_reach_github_and_quiet_patterns_are_labelled(prefect_harness, github, tmp_path):
    source = tmp_path / "logs.ndjson"
    secret = "Login callback failed for jane.doe@example.com with token=abcd1234secretvalue Authorization: Bearer abcdefghijklmnop ping @oncall see #12"
    _entries(source, 0, secret, 5)
    _entries(source, 0, "Payment provider timeout after 30s", 3)
    _entries(source, 1, "Payment provider timeout after 31s", 3)
    rules = tmp_path / "rules.toml"
    rules.write_text(open(DEFAULT_RULES_PATH).read().replace("quiet_after_windows = 3", "quiet_after_windows = 1"))
    db = tmp_path / "g.duckdb"
    first = summary(run(source, db, 0, "--rules", str(rules)))
    number = cluster(first, "Login callback failed")["issue"]["number"]
    issue = {i["number"]: i for i in github.issues(REPO)}[number]
    published = issue["title"] + issue["body"]
    for leaked in ("jane.doe@example.com", "abcd1234secretvalue", "abcdefghijklmnop", "@oncall", "#12"):
        assert leaked not in published, leaked
    second = summary(run(source, db, 1, "--rules", str(rules)))
    quiet = cluster(second, "Login callback failed")
    assert (quiet["status"], quiet["count"], quiet["issue"]["action"]) == ("quiet", 0, "quiet")
    assert "quiet" in {i["number"]: i for i in github.issues(REPO)}[number]["labels"]
    assert "Quiet" in github.comments(REPO, number)[-1]


def test_a_rerun_that_changes_nothing_makes_a_few_reads_whatever_the_pattern_count(prefect_harness, github, sample_file, tmp_path):
    db = tmp_path / "g.duckdb"
    first = summary(run(sample_file, db, 0))
    assert sum(c["issue"]["action"] in ("create", "link") for c in first["clusters"]) == len(first["clusters"]) >= 5
    before = len(github.requests)
    again = summary(run(sample_file, db, 0))
    rerun = github.requests[before:]
    print("\nrerun requests:", rerun)
    assert all(method == "GET" for method, _, _ in rerun)
    assert len(rerun) <= 2, rerun  # the repository, and one listing of the service's issues (100 a page)
    assert again["tracker_budget"] == {"remaining": 4999, "limit": 5000}


def test_an_owner_login_github_cannot_assign_does_not_keep_the_issue_from_being_filed(github):
    from log_gardener.tasks.trackers import GitHubTracker

    github.assignable = {"alice"}
    tracker = GitHubTracker.from_spec(f"github:{REPO}")
    kept = tracker.create("GCP-logs | P1 | a", "body <!-- log-gardener:fingerprint=aa11 -->", ["P1"], ["alice"])
    assert kept.assignees == ["alice"]
    filed = tracker.create("GCP-logs | P1 | b", "body <!-- log-gardener:fingerprint=bb22 -->", ["P1"], ["alice", "left-the-company"])
    assert filed.assignees == [] and github.issues(REPO)[-1]["title"] == "GCP-logs | P1 | b"
    assert sum(1 for i in github.issues(REPO) if i["title"] == "GCP-logs | P1 | b") == 1
