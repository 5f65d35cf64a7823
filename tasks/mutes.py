"""Mutes: patterns a person chose to live with are still counted and shown, but take no tracker action.

A pattern is muted by the rules file's `[[mutes]]` (until a time, until it escalates, or for good; checked
first, so a stricter rule is never loosened by the tracker) or by its issue (closed as not planned or as a
duplicate, or labelled `gardener:mute`: until it escalates). An escalation lifts a mute that waits for one in
that window: the pattern acts again, its issue is reopened and unmuted. A mute that does not wait for one keeps
the pattern's priority where it was: a silenced pattern does not climb to P0 unseen.
"""

from __future__ import annotations

from log_gardener.tasks.measure import PatternMeasure
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.rules import Rules
from log_gardener.tasks.vocabulary import Priority, Status

TRACKER_MUTE = "muted on the tracker (closed as not planned or as a duplicate, or labelled gardener:mute) until it escalates"


def apply_mutes(measures: list[PatternMeasure], rules: Rules, window: Window, tracker_muted: set[str]) -> None:
    """Set `mute` (why the pattern is muted) on the patterns that stay muted in this window; `unmuted` on those
    an escalation wakes."""
    for m in measures:
        rule = next((mute for mute in rules.mutes if mute.applies(m.fingerprint, m.template, window.start)), None)
        if rule is not None:
            reason, wakes = rule.describe(), rule.until_escalating
        elif m.fingerprint in tracker_muted:
            reason, wakes = TRACKER_MUTE, True
        else:
            continue
        if m.status == Status.ESCALATED and wakes:
            m.reason = f"{m.reason}; the escalation ends its mute"
            m.unmuted = True
            continue
        m.mute = reason
        if m.status == Status.ESCALATED:  # silenced: no escalation recorded either
            m.priority = Priority.most_urgent(m.base_priority, m.previous_priority) or m.base_priority
