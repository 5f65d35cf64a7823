"""The words the pipeline decides with: pattern statuses, tracker actions, priorities, issue references.

They are string enums: each member equals the literal that the warehouse
stores and that `sql/` compares with (`status = 'regressed'`,
`action = 'reopen'`), so Python and SQL share one vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Where a pattern stands in this window."""

    NEW = "new"  # first seen in this window
    ONGOING = "ongoing"  # seen before, no spike
    ESCALATED = "escalated"  # spiking over its baseline
    REGRESSED = "regressed"  # back after its issue was closed
    QUIET = "quiet"  # silent for the configured number of windows


class Action(StrEnum):
    """What the gardener does on the tracker for one pattern in one window (at most one)."""

    CREATE = "create"
    LINK = "link"  # to an issue a person filed
    ESCALATE = "escalate"  # comment and raise the priority label
    REOPEN = "reopen"
    QUIET = "quiet"  # comment and label quiet
    UPDATE = "update"  # periodic comment
    DEESCALATE = "deescalate"  # comment and lower the priority label: calm for a while
    NONE = "none"


class BaselineKind(StrEnum):
    """Which earlier windows a pattern's expected rate comes from (see tasks.history.choose_baseline)."""

    RECENT = "recent"  # the latest windows
    HOUR_OF_DAY = "hour-of-day"  # the same hour on recent days
    HOUR_OF_WEEK = "hour-of-week"  # the same hour and weekday on recent weeks


class ActionState(StrEnum):
    """An action is logged as planned before it is applied, and as applied after."""

    PLANNED = "planned"
    APPLIED = "applied"


class RunStatus(StrEnum):
    """Where a run of one service and window stands in the `runs` table."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died; the next run of the service marked it
    RETIRED = "retired"  # a person took its window back (`gardener retire`): it counts in no baseline


class Priority(StrEnum):
    """P0 is the most urgent."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        return int(self.value[1])

    def raised(self, levels: int = 1) -> Priority:
        """`levels` steps more urgent, never past P0."""
        return Priority(f"P{max(0, self.rank - levels)}")

    def lowered(self, levels: int = 1) -> Priority:
        """`levels` steps less urgent, never past P4."""
        return Priority(f"P{min(4, self.rank + levels)}")

    @classmethod
    def most_urgent(cls, *priorities: str | None) -> Priority | None:
        """The most urgent of the priorities that are set, or None."""
        present = [cls(p) for p in priorities if p]
        return min(present, key=lambda p: p.rank) if present else None


@dataclass(frozen=True)
class IssueRef:
    """The tracker issue of a pattern in this window and what was done to it."""

    number: int | None = None
    action: Action = Action.NONE
    url: str = ""
    already_applied: bool = False  # the action was applied by an earlier run of this window

    @property
    def ref(self) -> str:
        return f"#{self.number}" if self.number else "-"
