"""Tracker actions: one per pattern and window, logged in `issue_actions` before and after.

An action key is derived from (service, window, fingerprint, action), so a
rerun of a window finds its actions already applied and posts nothing. An
action planned but not applied (a run that died) is completed on the next run
after asking the tracker whether it already happened.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from log_gardener.tasks import issue_text
from log_gardener.tasks.measure import PatternMeasure, per_minute
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.rules import Rules
from log_gardener.tasks.trackers import ACTION_MARKER, Tracker
from log_gardener.tasks.trackers.base import MUTE_LABEL
from log_gardener.tasks.vocabulary import Action, ActionState, IssueRef, Priority, Status
from log_gardener.tasks.warehouses import Warehouse


@dataclass
class PlannedAction:
    key: str
    fingerprint: str
    action: Action
    issue_number: int | None
    reason: str


def action_key(service: str, window: Window, fingerprint: str, action: str) -> str:
    raw = f"{service}|{window.start.isoformat()}|{window.end.isoformat()}|{fingerprint}|{action}"
    return hashlib.sha1(raw.encode()).hexdigest()[:20]


def plan(
    measures: list[PatternMeasure],
    issues: dict[str, int],
    rules: Rules,
    service: str,
    window: Window,
    matches: dict[str, tuple[int, float]] | None = None,
    last_touched: dict[str, object] | None = None,
    applied: dict[str, tuple[str, int | None, str]] | None = None,
    held: dict[str, str] | None = None,
) -> list[PlannedAction]:
    """Decide at most one action per pattern from its status and whether it has an issue.

    matches: fingerprint -> (number, similarity) of a person's issue that describes the pattern.
    last_touched: fingerprint -> start of the last window whose action touched its issue.
    applied: fingerprint -> (action, issue number, reason) an earlier run of this window already applied: a rerun
        plans the same action again (apply finds it done), so it reports what the window did.
    held: fingerprint -> why its issue takes no action in this window (closed after an older window).
    """
    held = held or {}
    planned = []
    creations = 0
    matches = matches or {}
    last_touched = last_touched or {}
    update_every = rules.tracker.update_every_hours * 3600
    applied = applied or {}
    for m in measures:
        number = issues.get(m.fingerprint)
        if m.fingerprint in applied:
            done, done_number, done_reason = applied[m.fingerprint]
            key = action_key(service, window, m.fingerprint, done)
            planned.append(PlannedAction(key, m.fingerprint, Action(done), done_number if done_number is not None else number, done_reason))
            creations += done == Action.CREATE
            continue
        action, reason = Action.NONE, ""
        if m.fingerprint in held:
            planned.append(
                PlannedAction(action_key(service, window, m.fingerprint, action), m.fingerprint, action, number, held[m.fingerprint])
            )
            continue
        if m.mute:
            planned.append(PlannedAction(action_key(service, window, m.fingerprint, action), m.fingerprint, action, number, m.mute))
            continue
        # any active pattern at the threshold wants an issue: new ones, and ones first seen by a backfill
        wants_issue = m.count > 0 and m.status != Status.QUIET and rules.should_create(m.priority)
        if number is None and wants_issue and m.fingerprint in matches:
            number, score = matches[m.fingerprint]
            action, reason = Action.LINK, f"an existing issue describes this pattern (similarity {score:.2f})"
        elif number is None and wants_issue:
            if creations < rules.tracker.max_new_issues:
                action, reason, creations = Action.CREATE, f"{m.status} pattern at {m.priority} without an issue", creations + 1
            else:
                reason = f"over the limit of {rules.tracker.max_new_issues} new issues per run; next run"
        elif number is not None and m.status == Status.ESCALATED:
            action, reason = Action.ESCALATE, m.reason
        elif number is not None and m.status == Status.REGRESSED:
            action, reason = Action.REOPEN, m.reason
        elif number is not None and m.status == Status.ONGOING and m.previous_priority and m.priority.rank > m.previous_priority.rank:
            action, reason = Action.DEESCALATE, m.reason
        elif number is not None and m.status == Status.QUIET:
            action, reason = Action.QUIET, f"silent for {rules.tracker.quiet_after_windows} window(s)"
        elif number is not None and m.status == Status.ONGOING and m.count:
            last = last_touched.get(m.fingerprint)
            if last is not None and (window.start - last).total_seconds() >= update_every:
                action, reason = (
                    Action.UPDATE,
                    f"no update for {rules.tracker.update_every_hours:g} hours; still {per_minute(m.rate_per_min)}",
                )
        planned.append(PlannedAction(action_key(service, window, m.fingerprint, action), m.fingerprint, action, number, reason))
    return planned


def _record(warehouse: Warehouse, run_id: str, service: str, window: Window, p: PlannedAction, m: PatternMeasure) -> None:
    row = {
        "action_key": p.key,
        "run_id": run_id,
        "service": service,
        "window_start": window.start,
        "fingerprint": p.fingerprint,
        "action": p.action,
        "issue_number": p.issue_number,
        "priority_before": m.previous_priority,
        "priority_after": m.priority,
        "reason": p.reason,
        "state": ActionState.PLANNED,
        "planned_at": datetime.now(UTC),
        "applied_at": None,
    }
    warehouse.append("issue_actions", pd.DataFrame([row]))


def _is_priority_label(label: str) -> bool:
    return len(label) == 2 and label[0] == "P" and label[1] in "01234"


def kept_priority(labels: list[str], gardener_set: str | None, wanted: str) -> str:
    """The priority an issue's label should say: `wanted`, unless a person labelled the issue with another
    priority than the one the gardener last wrote (`gardener_set`); a person's choice stays unless `wanted` is
    more urgent."""
    person = persons_priority(labels, gardener_set)
    return wanted if _overrides(wanted, person) else person


def persons_priority(labels: list[str], gardener_set: str | None) -> Priority | None:
    """The most urgent priority label on the issue that the gardener did not write."""
    return Priority.most_urgent(*[label for label in labels if _is_priority_label(label) and label != gardener_set])


def _overrides(wanted: str, person: Priority | None) -> bool:
    """Whether the gardener's priority replaces a person's label: there is none, or `wanted` is more urgent."""
    return person is None or Priority(wanted).rank < person.rank


def _swap_priority(labels: list[str], priority: str) -> list[str]:
    return sorted({label for label in labels if not _is_priority_label(label)} | {priority})


def apply(
    warehouse: Warehouse,
    tracker: Tracker,
    run_id: str,
    service: str,
    window: Window,
    measures: list[PatternMeasure],
    planned: list[PlannedAction],
    context: dict,
    samples: dict[str, list[str]],
    rules: Rules,
    project: str | None,
    related: dict[str, set[int]] | None = None,
) -> None:
    """Apply the planned actions once each; fills `m.issue`.

    related: module -> issue numbers of its patterns; grows as this run creates or links issues.
    """
    related = related if related is not None else {}
    done = warehouse.query("actions_for_window", service=service, window_start=window.start, window_end=window.end)
    written = warehouse.query("labels_written", service=service)
    labels_written = dict(zip(written.fingerprint, written.label_written))
    state = dict(zip(done.action_key, done.state))
    applied_number = dict(zip(done.action_key, done.issue_number))
    by_fp = {m.fingerprint: m for m in measures}
    for p in planned:
        m = by_fp[p.fingerprint]
        if p.action == Action.NONE:
            m.issue = IssueRef(p.issue_number, url=tracker.issue_url(p.issue_number) if p.issue_number else "")
            continue
        if state.get(p.key) == ActionState.APPLIED:
            number = applied_number.get(p.key)
            number = int(number) if pd.notna(number) else p.issue_number
            m.issue = IssueRef(number, p.action, tracker.issue_url(number) if number else "", already_applied=True)
            continue
        if p.key not in state:
            _record(warehouse, run_id, service, window, p, m)
        siblings = sorted(related.get(m.module, set())) if m.module else []
        gardener_set = labels_written.get(m.fingerprint)  # else the pattern's last priority (see _apply_one)
        number, url, label = _apply_one(
            tracker, p, m, service, window, context, samples.get(m.fingerprint, []), rules, project, siblings, gardener_set
        )
        if m.module:
            related.setdefault(m.module, set()).add(number)
        warehouse.execute("mark_action_applied", action_key=p.key, issue_number=number, applied_at=datetime.now(UTC), label_written=label)
        m.issue = IssueRef(number, p.action, url)


def _apply_one(
    tracker: Tracker,
    p: PlannedAction,
    m: PatternMeasure,
    service: str,
    window: Window,
    context: dict,
    samples: list[str],
    rules: Rules,
    project: str | None,
    related: list[int],
    gardener_set: str | None = None,
) -> tuple[int, str, str | None]:
    """Apply one action; returns the issue's number and URL, and the priority label it wrote (None: none, or a
    person's label left in place). `gardener_set`: the priority label the gardener last wrote on the issue."""
    if p.action == Action.CREATE:
        existing = tracker.find_by_fingerprint(m.fingerprint)  # a crashed run may have created it
        if existing:
            return existing.number, existing.url, m.priority
        body = issue_text.issue_body(m, service, context, window, samples, project, related)
        assignees = list(m.owner.assignees) if m.owner else []  # on create only: never over a person's choice later
        created = tracker.create(issue_text.title(rules.tracker.title_prefix, m), body, issue_text.labels(m, service), assignees)
        return created.number, created.url, m.priority
    number = int(p.issue_number)
    marker = ACTION_MARKER.format(key=p.key)
    issue = tracker.get(number)
    labels = set(issue.labels)
    # a person who set the issue's priority label keeps it, unless the gardener escalates above it
    own = None if p.action == Action.LINK else gardener_set or m.previous_priority
    person = persons_priority(issue.labels, own)
    overrides = _overrides(m.priority, person)
    shown = m.priority if overrides else person
    if not tracker.has_comment_with(number, marker):
        headline = issue_text.action_headline(p.action, m, p.reason, rules.tracker.quiet_after_windows, rules.tracker.close_quiet)
        if shown != m.priority and p.action in (Action.ESCALATE, Action.REOPEN, Action.DEESCALATE):
            headline += f" The priority label {shown}, set by a person, stays."
        tracker.comment(number, issue_text.comment_body(m, service, context, window, samples, p.key, headline))
    label = None
    if p.action in (Action.ESCALATE, Action.REOPEN, Action.LINK, Action.DEESCALATE):
        labels = set(_swap_priority(sorted(labels), shown))
        # a person's label that stays (even one equal to the gardener's priority) is still the person's
        label = m.priority if overrides else None
    if p.action == Action.LINK:
        # a linked issue is the gardener's to follow: its service's listing then reads its state
        labels |= {"log-gardener", f"service:{service}"}
    if p.action == Action.REOPEN:
        labels.discard("quiet")
    if m.unmuted:
        labels.discard(MUTE_LABEL)  # the escalation ended the mute a person set
    if p.action == Action.QUIET:
        labels.add("quiet")
    if labels != set(issue.labels):
        tracker.set_labels(number, sorted(labels))  # one write: priority and quiet together
    new_title = issue_text.retitled(issue.title, rules.tracker.title_prefix, shown)
    if new_title and p.action in (Action.ESCALATE, Action.REOPEN, Action.DEESCALATE):
        tracker.retitle(number, new_title)
    if p.action in (Action.REOPEN, Action.ESCALATE) and issue.state != "open":
        tracker.reopen(number)  # a regression, or an escalation that ends a "not planned" mute
    if p.action == Action.QUIET:
        if rules.tracker.close_quiet and issue.state == "open":
            tracker.close(number)
    return number, issue.url, label
