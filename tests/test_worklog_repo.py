"""Worklogs committed to a GitHub repository through PyGithub's contents API, against the loopback GitHub API:
one file per window, nothing committed twice, a commit whose answer was lost looked for before it is made again."""

import json

import pytest
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.flows.parameters import RunParameters
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.worklog_repo import WorklogRepository, WorklogTarget
from tests.cli_args import run_args
from tests.fake_github import FakeGitHub
from tests.test_flow import HOURS

ISSUES, OPS = "acme/backend", "acme/ops"
WINDOW = Window.parse("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z")
TEXT = "# Worklog\n\nbody\n\n---\n\n*Stage timings (before writing this worklog): total 0.80 s.*\n"


@pytest.fixture
def github(monkeypatch):
    with FakeGitHub(repos=(ISSUES, OPS)) as fake:
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        for name, value in (("BACKOFF", "0.01"), ("WRITE_INTERVAL", "0"), ("REQUEST_INTERVAL", "0"), ("RETRIES", "3")):
            monkeypatch.setenv(f"GARDENER_GITHUB_{name}", value)
        yield fake


@pytest.mark.parametrize(
    "spec, target",
    [
        ("acme/ops", WorklogTarget("acme/ops", "worklogs", None)),
        ("acme/ops:gardener/logs@release-1", WorklogTarget("acme/ops", "gardener/logs", "release-1")),
        ("acme/ops@main", WorklogTarget("acme/ops", "worklogs", "main")),
    ],
)
def test_a_worklog_repository_names_its_folder_and_branch(spec, target):
    assert WorklogTarget.parse(spec) == target


@pytest.mark.parametrize("spec", ["acme", "acme/ops:../etc", "https://github.com/acme/ops", "acme/ops:a b", "acme/ops:/", "acme/ops:."])
def test_a_bad_worklog_repository_is_a_clear_error_of_the_parameters(spec):
    with pytest.raises(ValueError, match="OWNER/REPO"):
        RunParameters(source="x.json", service="svc", worklog_repo=spec)


def test_a_branch_that_is_not_there_is_a_clear_error_before_anything_is_committed(github):
    with pytest.raises(ValueError, match="branch 'release' not found"):
        WorklogRepository.from_spec("acme/ops@release")


def test_a_rerun_commits_nothing_when_only_the_timings_changed(github):
    github.branches.add("release")
    assert WorklogRepository.from_spec("acme/ops@release").branch == "release"
    repo = WorklogRepository.from_spec("acme/ops:gardener@main")
    assert repo.commit("svc", WINDOW, TEXT) == "created"
    assert repo.commit("svc", WINDOW, TEXT.replace("0.80", "0.95")) == "unchanged"
    assert repo.commit("svc", WINDOW, TEXT.replace("body", "more")) == "updated"
    assert [c["path"] for c in github.commits(OPS)] == ["gardener/svc/2025-09-15T0000Z_2025-09-15T0100Z.md"] * 2
    assert github.file(OPS, "gardener/svc/2025-09-15T0000Z_2025-09-15T0100Z.md") == TEXT.replace("body", "more")


@pytest.mark.parametrize("fault", ["ghost", "drop", "502"])
def test_a_commit_whose_answer_was_lost_is_looked_for_before_it_is_made_again(github, fault):
    repo = WorklogRepository.from_spec("acme/ops")
    github.inject("PUT", r"/contents/", fault)
    assert repo.commit("svc", WINDOW, TEXT) == "created"
    assert len(github.commits(OPS)) == 1  # applied once, whatever the answer was
    github.inject("PUT", r"/contents/", fault)
    assert repo.commit("svc", WINDOW, TEXT.replace("body", "more")) == "updated"
    assert len(github.commits(OPS)) == 2 and github.file(OPS, "worklogs/svc/2025-09-15T0000Z_2025-09-15T0100Z.md").endswith(
        TEXT.replace("body", "more")[-60:]
    )


def test_runs_commit_their_worklogs_once_per_window_next_to_the_issues(prefect_harness, github, sample_file, tmp_path, monkeypatch):
    monkeypatch.setenv("GARDENER_WORKLOG_REPO", "acme/ops:gardener")
    db = tmp_path / "g.duckdb"

    def run(hour):
        start, end = HOURS[hour]
        args = [
            *run_args(sample_file, start, end, f"duckdb:///{db}"),
            "--tracker",
            f"github:{ISSUES}",
            "--worklogs",
            str(tmp_path),
            "--json",
        ]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout.strip().splitlines()[-1])

    assert run(0)["worklog_commit"] == "created"
    assert run(0)["worklog_commit"] == "unchanged"  # a rerun: nothing new to say
    second = run(1)
    assert second["worklog_commit"] == "created"
    paths = [c["path"] for c in github.commits(OPS)]
    assert paths == [
        "gardener/netra-backend-staging/2025-09-15T0000Z_2025-09-15T0100Z.md",
        "gardener/netra-backend-staging/2025-09-15T0100Z_2025-09-15T0200Z.md",
    ]
    local = open(second["worklog"], encoding="utf-8").read()
    assert github.file(OPS, paths[1]) == local
    assert not github.repos[ISSUES]["commits"]  # the issues' repository gets issues, not files
