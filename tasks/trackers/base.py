"""The `Tracker` interface, the issue type and the hidden markers every tracker uses.

Every issue the gardener opens carries a hidden fingerprint marker, and every
comment a hidden action marker, so a tracker can always be asked "is this
already there?" before anything is posted: nothing is posted twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

FINGERPRINT_MARKER = "<!-- log-gardener:fingerprint={fingerprint} -->"
ACTION_MARKER = "<!-- log-gardener:action={key} -->"
_FINGERPRINT_RE = re.compile(r"<!-- log-gardener:fingerprint=([0-9a-f]+) -->")


def fingerprint_in(text: str | None) -> str | None:
    match = _FINGERPRINT_RE.search(text or "")
    return match.group(1) if match else None


@dataclass
class Issue:
    number: int
    title: str
    body: str
    labels: list[str]
    state: str  # open | closed
    url: str = ""
    comments: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    state_reason: str | None = None  # completed | not_planned | reopened (GitHub's words)

    @property
    def fingerprint(self) -> str | None:
        return fingerprint_in(self.body)


MUTE_LABEL = "gardener:mute"


@dataclass(frozen=True)
class IssueStatus:
    """What a person may have decided about an issue: open or closed, why, and its labels."""

    state: str
    reason: str | None = None
    labels: tuple[str, ...] = ()

    @property
    def closed_as_completed(self) -> bool:
        return self.state == "closed" and self.reason in (None, "completed")

    @property
    def mutes(self) -> bool:
        """Closed as not planned or as a duplicate (tracked elsewhere), or labelled gardener:mute: its pattern is
        muted until it escalates."""
        return (self.state == "closed" and self.reason in ("not_planned", "duplicate")) or MUTE_LABEL in self.labels


class Tracker(Protocol):
    """What publishing needs from an issue tracker."""

    def describe(self) -> str: ...

    def find_by_fingerprint(self, fingerprint: str) -> Issue | None: ...

    def get(self, number: int) -> Issue: ...

    def states(self, numbers, service: str | None = None) -> dict[int, IssueStatus | None]:
        """State, close reason and labels of many issues (of `service`, when given), in as few requests as the
        tracker allows (None: gone)."""
        ...

    def usage(self) -> dict:
        """What the run has left of the tracker's request budget (`remaining`, `limit`), when it has one."""
        ...

    def issue_url(self, number: int) -> str:
        """Where a person opens issue `number`, known without asking the tracker."""
        ...

    def create(self, title: str, body: str, labels: list[str], assignees: list[str] = ()) -> Issue: ...

    def comment(self, number: int, body: str) -> None: ...

    def has_comment_with(self, number: int, marker: str) -> bool: ...

    def set_labels(self, number: int, labels: list[str]) -> None: ...

    def retitle(self, number: int, title: str) -> None: ...

    def reopen(self, number: int) -> None: ...

    def close(self, number: int, reason: str = "completed") -> None: ...

    def candidates(self) -> list[Issue]: ...
