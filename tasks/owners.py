"""Ownership routing: which team a pattern belongs to, from the rules file's `[[owners]]` and `[default_owner]`.

A rule's `match` is tried against the pattern's module (or source file), its function (the logger's qualified
name when there is no module) and, for a request log, its path; the first rule that matches wins.
"""

from __future__ import annotations

import re

from log_gardener.tasks import re2
from log_gardener.tasks.measure import PatternMeasure
from log_gardener.tasks.rules import Owner, Rules

_REQUEST = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/\S*)")


def request_path(template: str) -> str | None:
    """The path of a request-log pattern (`POST /ws/beacon <NUM>` -> `/ws/beacon`), else None."""
    match = _REQUEST.match(template)
    return match.group(1) if match else None


def assign_owners(measures: list[PatternMeasure], rules: Rules) -> None:
    """Set each pattern's `owner` (None when no rule matches and there is no default owner)."""
    texts = [(m.module, m.function, request_path(m.template)) for m in measures]
    re2.prime((rule.match for rule in rules.owners), (text for three in texts for text in three))
    for m, three in zip(measures, texts):
        m.owner = rules.owner_of(*three)


def owner_labels(owner: Owner | None) -> list[str]:
    """The labels an owner puts on an issue: `team:NAME` and the rule's extra labels."""
    if owner is None:
        return []
    return ([f"team:{owner.team}"] if owner.team else []) + list(owner.labels)


def owner_json(owner: Owner | None) -> dict | None:
    return {"team": owner.team, "assignees": list(owner.assignees)} if owner else None
