"""`LocalTracker`, the embedded default: issues and comments kept in the warehouse."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pandas as pd

from log_gardener.tasks.trackers.base import Issue, IssueStatus
from log_gardener.tasks.warehouses import Warehouse


def _now() -> datetime:
    return datetime.now(UTC)


class LocalTracker:
    """An issue tracker kept in the warehouse (`tracker_issues`, `tracker_comments`)."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        # what this tracker read, until it writes: one run asks about the same issues many times, and a
        # warehouse read is a query job on BigQuery (a service's runs never overlap: it holds its slot)
        self._read: list[Issue] | None = None
        self._comments: dict[int, list[str]] = {}

    def describe(self) -> str:
        return f"local tracker in {self.warehouse.url}"

    def _issues(self) -> list[Issue]:
        if self._read is None:
            self._read = self._read_issues()
        return [copy.deepcopy(issue) for issue in self._read]

    def _written(self) -> None:
        self._read = None
        self._comments.clear()

    def _read_issues(self) -> list[Issue]:
        frame = self.warehouse.query("tracker/all_issues")
        return [
            Issue(
                int(r.number),
                r.title,
                r.body or "",
                json.loads(r.labels or "[]"),
                r.state,
                f"local#{int(r.number)}",
                assignees=json.loads(r.assignees) if isinstance(r.assignees, str) else [],
                state_reason=r.state_reason if isinstance(r.state_reason, str) else None,
            )
            for r in frame.itertuples()
        ]

    def all_issues(self) -> list[Issue]:
        return self._issues()

    def candidates(self) -> list[Issue]:
        """Issues not opened by the gardener (filed by a person), open or closed."""
        return [issue for issue in self._issues() if not issue.fingerprint]

    def find_by_fingerprint(self, fingerprint: str) -> Issue | None:
        matches = [issue for issue in self._issues() if issue.fingerprint == fingerprint]
        return min(matches, key=lambda issue: issue.number) if matches else None

    def get(self, number: int) -> Issue:
        for issue in self._issues():
            if issue.number == number:
                if number not in self._comments:
                    self._comments[number] = list(self.warehouse.query("tracker/comments", number=number).body)
                issue.comments = list(self._comments[number])
                return issue
        raise KeyError(f"no issue #{number} in the local tracker")

    def issue_url(self, number: int) -> str:
        return f"local#{number}"

    def states(self, numbers, service: str | None = None) -> dict[int, IssueStatus | None]:
        known = {issue.number: IssueStatus(issue.state, issue.state_reason, tuple(issue.labels)) for issue in self._issues()}
        return {number: known.get(number) for number in numbers}

    def usage(self) -> dict:
        return {}

    def create(self, title: str, body: str, labels: list[str], assignees: list[str] = ()) -> Issue:
        number = int(self.warehouse.query("tracker/next_issue_number").number.iloc[0])
        now = _now()
        row = {
            "number": number,
            "title": title,
            "body": body,
            "labels": json.dumps(sorted(set(labels))),
            "assignees": json.dumps(list(dict.fromkeys(assignees))),
            "state": "open",
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
        }
        self.warehouse.append("tracker_issues", pd.DataFrame([row]))
        self._written()
        return Issue(number, title, body, sorted(set(labels)), "open", f"local#{number}", assignees=list(dict.fromkeys(assignees)))

    def comment(self, number: int, body: str) -> None:
        self.get(number)
        self.warehouse.append("tracker_comments", pd.DataFrame([{"issue_number": number, "body": body, "created_at": _now()}]))
        self._written()

    def has_comment_with(self, number: int, marker: str) -> bool:
        return any(marker in body for body in self.get(number).comments)

    def _update(self, issue: Issue, **changes) -> None:
        labels = changes.get("labels", issue.labels)
        state = changes.get("state", issue.state)
        self.warehouse.execute(
            "tracker/update_issue",
            number=issue.number,
            title=changes.get("title", issue.title),
            labels=json.dumps(sorted(set(labels))),
            state=state,
            state_reason=changes.get("state_reason", issue.state_reason if state == issue.state else None),
            body=changes.get("body", issue.body),
            updated_at=_now(),
            closed_at=_now() if state == "closed" else None,
        )
        self._written()

    def set_labels(self, number: int, labels: list[str]) -> None:
        self._update(self.get(number), labels=labels)

    def retitle(self, number: int, title: str) -> None:
        self._update(self.get(number), title=title)

    def reopen(self, number: int) -> None:
        self._update(self.get(number), state="open", state_reason="reopened")

    def close(self, number: int, reason: str = "completed") -> None:
        """Close an issue: completed (a fix shipped) or not_planned (a person decided to live with it)."""
        self._update(self.get(number), state="closed", state_reason=reason)
