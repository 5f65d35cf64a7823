"""Mutes: patterns a person chose to live with are still counted and shown, but take no tracker action.

A pattern is muted by its issue (closed as not planned, or labelled `gardener:mute`: until it escalates)
or by the rules file's `[[mutes]]` (until a time, until it escalates, or for good). An escalation ends a
mute that waits for one: the pattern acts again, and its issue is reopened and unmuted.
"""

from __future__ import annotations

from log_gardener.tasks.measure import PatternMeasure
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.rules import Rules
from log_gardener.tasks.vocabulary import Status

TRACKER_MUTE = "muted on the tracker (closed as not planned, or labelled gardener:mute) until it escalates"


def apply_mutes(measures: list[PatternMeasure], rules: Rules, window: Window, tracker_muted: set[str]) -> None:
    """Set `mute` (why the pattern is muted) on the patterns that stay muted in this window."""
    for m in measures:
        reason, wakes = None, True
        if m.fingerprint in tracker_muted:
            reason = TRACKER_MUTE
        else:
            rule = next((mute for mute in rules.mutes if mute.applies(m.fingerprint, m.template, window.start)), None)
            if rule is not None:
                reason, wakes = rule.describe(), rule.until_escalating
        if reason is None:
            continue
        if m.status == Status.ESCALATED and wakes:
            m.reason = f"{m.reason}; the escalation ends its mute"
            m.unmuted = True
        else:
            m.mute = reason
