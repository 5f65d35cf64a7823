"""Worklogs committed to a GitHub repository, so their history lives next to the issues.

`worklog_repo` (or `GARDENER_WORKLOG_REPO`) is `OWNER/REPO`, optionally with a folder and a branch:
`acme/ops:gardener/worklogs@main` (default folder `worklogs`, default branch the repository's). Each window is one
file, `<folder>/<service>/<window>.md`, the path the local worklog has under its folder. A rerun of a window
commits nothing when its worklog says the same of the window (when and by which run it was written aside), and a
commit whose answer was lost is looked for before it is made again. The token and API root are the GitHub tracker's (`GITHUB_TOKEN`,
`GITHUB_API_URL`); the token needs Contents read/write on that repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from log_gardener.tasks.normalise import Window

if TYPE_CHECKING:  # PyGithub is imported only by a run that commits: the parameters model checks specs without it
    from log_gardener.tasks.trackers.github import GitHubTracker

_SPEC = re.compile(r"(?P<repo>[\w.\-]+/[\w.\-]+)(?::(?P<folder>[\w.\-/]+?))?(?:@(?P<branch>[\w.\-/]+))?")


@dataclass(frozen=True)
class WorklogTarget:
    repo: str
    folder: str = "worklogs"
    branch: str | None = None

    @classmethod
    def parse(cls, spec: str) -> WorklogTarget:
        match = _SPEC.fullmatch(spec.strip())
        folder = (match["folder"] or "worklogs").strip("/") if match else ""
        if not match or ".." in spec or folder in ("", "."):
            raise ValueError(f"worklog repository must be OWNER/REPO[:FOLDER][@BRANCH], not {spec!r}")
        return cls(match["repo"], folder, match["branch"])

    def path(self, service: str, window: Window) -> str:
        from log_gardener.tasks.worklog import service_folder

        return f"{self.folder}/{service_folder(service)}/{window.label()}.md"


def _same(a: str, b: str) -> bool:
    """Whether two renderings of a worklog say the same of their window (see worklog.facts)."""
    from log_gardener.tasks.worklog import facts

    return facts(a) == facts(b)


class WorklogRepository:
    """Commits each window's worklog to a folder and branch of a GitHub repository (PyGithub's contents API)."""

    def __init__(self, target: WorklogTarget, connection: GitHubTracker):
        from github import GithubException

        self.target, self.github = target, connection
        self.branch = target.branch or connection.repo.default_branch
        try:  # a branch that is not there stops the run before anything is published
            connection.repo.get_branch(self.branch)
        except GithubException as exc:
            raise ValueError(f"worklog branch {self.branch!r} not found in {target.repo} ({exc.status})") from None

    @classmethod
    def from_spec(cls, spec: str) -> WorklogRepository:
        from log_gardener.tasks.trackers.github import GitHubTracker

        target = WorklogTarget.parse(spec)
        return cls(target, GitHubTracker.from_spec(f"github:{target.repo}"))

    def _read(self, path: str):
        from github import UnknownObjectException

        try:
            return self.github.repo.get_contents(path, ref=self.branch)
        except UnknownObjectException:
            return None

    def commit(self, service: str, window: Window, markdown: str) -> str:
        """Commit the worklog of `window`; returns what happened: created, updated or unchanged."""
        from github import GithubException

        path = self.target.path(service, window)

        def says_it(file) -> bool:
            return file is not None and _same(file.decoded_content.decode("utf-8"), markdown)

        current = [self._read(path)]  # the file's present version: a PUT must name it
        if says_it(current[0]):
            return "unchanged"
        outcome = "created" if current[0] is None else "updated"
        message = f"Worklog of {service}, {window.start:%Y-%m-%d %H:%M}Z to {window.end:%H:%M}Z"

        def landed() -> str | None:
            current[0] = self._read(path)
            return outcome if says_it(current[0]) else None

        def write() -> str:
            try:
                if current[0] is None:
                    self.github.repo.create_file(path, message, markdown, branch=self.branch)
                else:
                    self.github.repo.update_file(path, message, markdown, current[0].sha, branch=self.branch)
            except GithubException as exc:
                # 409/422: the file changed under us (e.g. an earlier attempt of this write landed)
                if exc.status in (409, 422) and landed() is not None:
                    return outcome
                raise
            return outcome

        return self.github.write_once(write, landed)
