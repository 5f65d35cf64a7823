"""`GitHubTracker`: the Tracker interface on GitHub issues, through PyGithub.

Selected with `--tracker github:OWNER/REPO`. The token comes from
`GITHUB_TOKEN` (or the Prefect Secret block named by
`GARDENER_GITHUB_SECRET_BLOCK`), the API root from `GITHUB_API_URL` (GitHub
Enterprise: `https://HOST/api/v3`). The repository is checked when the tracker
is opened, so a bad token or a missing repository stops a run before anything
is published. 5xx answers and primary/secondary rate limits are retried with
backoff by PyGithub's `GithubRetry`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import BadCredentialsException, RateLimitExceededException, UnknownObjectException
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from log_gardener.tasks.trackers.base import FINGERPRINT_MARKER, Issue, IssueStatus, fingerprint_in

T = TypeVar("T")
_ACTION_RE = re.compile(r"<!-- log-gardener:action=[0-9a-f]+ -->")
DEFAULT_API_URL = "https://api.github.com"
LABEL_COLORS = {"P0": "b60205", "P1": "d93f0b", "P2": "fbca04", "P3": "0e8a16", "P4": "c5def5", "log-gardener": "5319e7", "quiet": "bfdadc"}


class GitHubSettings(BaseSettings):
    """GitHub connection settings, from the environment."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    github_token: str | None = None
    github_api_url: str = DEFAULT_API_URL
    gardener_github_secret_block: str | None = None
    gardener_github_retries: int = Field(5, ge=0)
    gardener_github_backoff: float = Field(1.0, ge=0)
    gardener_github_secondary_wait: float = Field(60.0, ge=0)
    gardener_github_write_interval: float = Field(1.0, ge=0)  # GitHub asks for a pause between writes
    gardener_github_request_interval: float = Field(0.25, ge=0)


NO_TOKEN = (
    "no GitHub token: set GITHUB_TOKEN (a fine-grained token with Issues read/write on the repository) "
    "or GARDENER_GITHUB_SECRET_BLOCK (the name of a Prefect Secret block holding it)"
)


def token_configured() -> bool:
    """Whether a token is set, or the Secret block that holds one is named (which is read when a run needs it).

    Raises ValueError when a GitHub setting of the environment is malformed."""
    from pydantic import ValidationError

    from log_gardener.tasks.problems import one_line

    try:
        settings = GitHubSettings()
    except ValidationError as exc:  # named as the environment variables they come from
        raise ValueError(one_line(exc, lambda loc: str(loc[0]).upper())) from None
    return bool(settings.github_token or settings.gardener_github_secret_block)


def _token(settings: GitHubSettings) -> str:
    if settings.github_token:
        return settings.github_token
    if settings.gardener_github_secret_block:
        from prefect.blocks.system import Secret

        return Secret.load(settings.gardener_github_secret_block).get()
    raise ValueError(NO_TOKEN)


def _status(issue) -> IssueStatus:
    return IssueStatus(issue.state, issue.state_reason, tuple(label.name for label in issue.labels))


def _to_issue(issue) -> Issue:
    return Issue(
        issue.number,
        issue.title,
        issue.body or "",
        [label.name for label in issue.labels],
        issue.state,
        issue.html_url,
        assignees=[user.login for user in issue.assignees],
        state_reason=issue.state_reason,
    )


class GitHubTracker:
    """Issues of one GitHub repository."""

    def __init__(
        self,
        repo: str,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        retries: int = 5,
        backoff: float = 1.0,
        secondary_wait: float = 60.0,
        write_interval: float = 1.0,
        request_interval: float = 0.25,
    ):
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise ValueError(f"GitHub repository must be OWNER/REPO, not {repo!r}")
        # PyGithub retries only requests that are safe to repeat. A POST (new issue, new comment) whose
        # answer was lost may have landed: `write_once` asks GitHub before it writes again.
        retry = GithubRetry(
            total=retries,
            backoff_factor=backoff,
            secondary_rate_wait=secondary_wait,
            allowed_methods=frozenset({"GET", "PUT", "PATCH", "DELETE"}),
        )
        self.retries, self.backoff, self.secondary_wait = retries, backoff, secondary_wait
        self.client = Github(
            auth=Auth.Token(token),
            base_url=api_url.rstrip("/"),
            retry=retry,
            seconds_between_writes=write_interval,
            seconds_between_requests=request_interval,
            timeout=30,
            per_page=100,  # listings in as few requests as GitHub allows
        )
        self.repo_name = repo
        try:
            self.repo = self.client.get_repo(repo)
        except BadCredentialsException:
            raise ValueError(f"GitHub rejected the token (401 Bad credentials) at {api_url}") from None
        except UnknownObjectException:
            raise ValueError(f"GitHub repository {repo} not found at {api_url}, or the token cannot see it") from None
        except GithubException as exc:
            raise ValueError(f"GitHub answered {exc.status} for repository {repo}: {exc.data}") from None
        self._labels: set[str] | None = None

    @classmethod
    def from_spec(cls, spec: str) -> GitHubTracker:
        settings = GitHubSettings()
        return cls(
            spec.removeprefix("github:"),
            _token(settings),
            settings.github_api_url,
            retries=settings.gardener_github_retries,
            backoff=settings.gardener_github_backoff,
            secondary_wait=settings.gardener_github_secondary_wait,
            write_interval=settings.gardener_github_write_interval,
            request_interval=settings.gardener_github_request_interval,
        )

    def describe(self) -> str:
        return f"GitHub {self.repo_name}"

    def _ensure_labels(self, labels: list[str]) -> None:
        if self._labels is None:
            self._labels = {label.name for label in self.repo.get_labels()}
        for name in labels:
            if name not in self._labels:
                color = LABEL_COLORS.get(name, "ededed")
                try:
                    self.write_once(lambda n=name, c=color: self.repo.create_label(n, c), lambda n=name: self._label(n))
                except GithubException as exc:
                    if exc.status != 422:  # 422: created meanwhile
                        raise
                self._labels.add(name)

    def _label(self, name: str):
        try:
            return self.repo.get_label(name)
        except UnknownObjectException:
            return None

    def find_by_fingerprint(self, fingerprint: str) -> Issue | None:
        """The issue carrying this fingerprint's marker: search first, then the labelled issues."""
        marker = FINGERPRINT_MARKER.format(fingerprint=fingerprint)
        query = f'"log-gardener:fingerprint={fingerprint}" repo:{self.repo_name} is:issue'
        try:
            for found in self.client.search_issues(query):
                if marker in (found.body or ""):
                    return _to_issue(found)
        except GithubException:
            pass  # search is best effort (indexing lag, rate limits): the listing below is authoritative
        for issue in self.repo.get_issues(state="all", labels=["log-gardener"]):
            if fingerprint_in(issue.body) == fingerprint:
                return _to_issue(issue)
        return None

    def candidates(self, closed_within_days: int = 30) -> list[Issue]:
        """Open issues and issues closed recently, not opened by the gardener (to link rather than duplicate)."""
        since = datetime.now(UTC) - timedelta(days=closed_within_days)
        result = []
        for issue in self.repo.get_issues(state="all", sort="updated", direction="desc"):
            if issue.pull_request is not None or fingerprint_in(issue.body):
                continue
            if issue.state == "closed" and issue.closed_at and issue.closed_at < since:
                continue
            result.append(_to_issue(issue))
            if len(result) >= 500:
                break
        return result

    def get(self, number: int) -> Issue:
        issue = self.repo.get_issue(number)
        converted = _to_issue(issue)
        converted.comments = [c.body for c in issue.get_comments()]
        return converted

    def write_once(self, write: Callable[[], T], landed: Callable[[], T | None]) -> T:
        """Run a write that must not happen twice: after an answer that may hide a landed write (5xx, a
        timeout, a dropped connection), look for its result first and write again only when it is absent."""
        for attempt in range(self.retries + 1):
            try:
                return write()
            except RateLimitExceededException as exc:  # refused before it was applied: wait, then write again
                if attempt == self.retries:
                    raise
                reset = (exc.headers or {}).get("retry-after") or (exc.headers or {}).get("Retry-After")
                time.sleep(min(float(reset), self.secondary_wait) if reset else self.secondary_wait)
            except (GithubException, requests.RequestException) as exc:
                if isinstance(exc, GithubException) and exc.status is not None and exc.status < 500:
                    raise
                if attempt == self.retries:
                    raise
                time.sleep(self.backoff * 2**attempt)
                found = landed()
                if found is not None:
                    return found
        raise AssertionError("unreachable")

    def states(self, numbers, service: str | None = None) -> dict[int, IssueStatus | None]:
        """State, close reason and labels of each issue: one listing of the gardener's issues of the service
        (labels log-gardener and service:NAME, 100 a page), then one read per issue not in it (a person's issue
        linked before it got those labels)."""
        wanted = set(numbers)
        if not wanted:
            return {}
        labels = ["log-gardener"] + ([f"service:{service}"] if service else [])
        found = {issue.number: _status(issue) for issue in self.repo.get_issues(state="all", labels=labels)}
        return {number: found[number] if number in found else self._status_of(number) for number in wanted}

    def usage(self) -> dict:
        """Requests left in this token's hour and its limit, from the last answer's headers (no request of its own)."""
        remaining, limit = self.client.rate_limiting
        return {"remaining": remaining, "limit": limit}

    def _status_of(self, number: int) -> IssueStatus | None:
        """One issue's status; None for an issue deleted, transferred or out of the token's sight."""
        try:
            return _status(self.repo.get_issue(number))
        except GithubException as exc:
            if exc.status in (404, 410):
                return None
            raise

    def issue_url(self, number: int) -> str:
        return f"{self.repo.html_url}/issues/{number}"

    def create(self, title: str, body: str, labels: list[str], assignees: list[str] = ()) -> Issue:
        self._ensure_labels(labels)
        fingerprint = fingerprint_in(body)
        try:
            return self.write_once(
                lambda: _to_issue(self.repo.create_issue(title=title, body=body, labels=labels, assignees=list(assignees))),
                lambda: self.find_by_fingerprint(fingerprint) if fingerprint else None,
            )
        except GithubException as exc:
            # a login that cannot be assigned (someone who left) must not keep the issue from being filed
            if not assignees or exc.status != 422 or "assignee" not in json.dumps(exc.data or {}).lower():
                raise
            logging.getLogger(__name__).warning("GitHub refused assignees %s (%s): filing the issue unassigned", list(assignees), exc.data)
            return self.create(title, body, labels, ())

    def comment(self, number: int, body: str) -> None:
        match = _ACTION_RE.search(body)
        self.write_once(
            lambda: self.repo.get_issue(number).create_comment(body),
            lambda: True if match and self.has_comment_with(number, match.group(0)) else None,
        )

    def has_comment_with(self, number: int, marker: str) -> bool:
        return any(marker in (c.body or "") for c in self.repo.get_issue(number).get_comments())

    def set_labels(self, number: int, labels: list[str]) -> None:
        self._ensure_labels(labels)
        self.repo.get_issue(number).set_labels(*labels)

    def retitle(self, number: int, title: str) -> None:
        self.repo.get_issue(number).edit(title=title)

    def reopen(self, number: int) -> None:
        self.repo.get_issue(number).edit(state="open")

    def close(self, number: int, reason: str = "completed") -> None:
        self.repo.get_issue(number).edit(state="closed", state_reason=reason)
