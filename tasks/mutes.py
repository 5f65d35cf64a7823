"""Mutes: patterns a person chose to live with are still counted and shown, but take no tracker action.

A pattern is muted by the rules file's `[[mutes]]` (until a time, until it escalates, or for good; checked
first, so a stricter rule is never loosened by the tracker) or by its issue (closed as not planned or as a
duplicate, or labelled `gardener:mute`: until it escalates). An escalation lifts a mute that waits for one: the
pattern acts again, its issue is reopened and unmuted. A rules-file mute remembers (in `mute_events`) the
window it began in, with the pattern's rate then, and the window an escalation ended it in, so an ended mute
stays ended. A mute that does not wait for an escalation keeps the pattern's priority where it was: a silenced
pattern does not climb to P0 unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from log_gardener.tasks import re2
from log_gardener.tasks.measure import PatternMeasure, per_minute
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.rules import Mute, Rules
from log_gardener.tasks.vocabulary import Priority, Status

TRACKER_MUTE = "muted on the tracker (closed as not planned or as a duplicate, or labelled gardener:mute) until it escalates"


@dataclass(frozen=True)
class MuteState:
    """What `mute_events` says of one rules-file mute of one pattern."""

    started: datetime | None = None
    rate_at_start: float | None = None
    ended: datetime | None = None


@dataclass(frozen=True)
class MuteEvent:
    fingerprint: str
    mute_key: str
    event: str  # start | end
    rate_per_min: float | None = None


def _wakes(rule: Mute, m: PatternMeasure, state: MuteState, rules: Rules) -> str | None:
    """Why this window ends `rule`'s mute of `m`, or None."""
    if rule.until_escalating is True:
        return "the escalation ends its mute" if m.status == Status.ESCALATED else None
    if rule.until_escalating:
        muted_rate = state.rate_at_start if state.rate_at_start is not None else m.rate_per_min
        needed = max(rule.until_escalating * muted_rate, rules.escalation.min_rate_per_min)
        if m.count and m.rate_per_min >= needed:
            return (
                f"{per_minute(m.rate_per_min)} is {rule.until_escalating:g}x its rate when muted ({per_minute(muted_rate)}): the mute ends"
            )
    return None


def apply_mutes(
    measures: list[PatternMeasure],
    rules: Rules,
    window: Window,
    tracker_muted: set[str],
    states: dict[tuple[str, str], MuteState] | None = None,
) -> list[MuteEvent]:
    """Set `mute` (why the pattern is muted) on the patterns that stay muted in this window; `unmuted` on those
    an escalation wakes. Returns the rules-file mutes that begin or end in this window, to record.

    A rules-file mute begins in the first window it applies to with entries (their rate is the factor's base),
    can end only in a later window, and once ended stays ended for the windows after; a window before it began
    (a rerun, a backfill) is muted and changes nothing. A rules-file mute that ended leaves the tracker's say.
    """
    states = states or {}
    events: list[MuteEvent] = []
    re2.prime((mute.match for mute in rules.mutes if mute.match), (m.template for m in measures))
    for m in measures:
        reason = woken = None
        rule = next((mute for mute in rules.mutes if mute.applies(m.fingerprint, m.template, window.start)), None)
        if rule is not None:
            state = states.get((m.fingerprint, rule.key), MuteState())
            ended = state.ended if state.ended is not None and state.started is not None and state.ended > state.started else None
            if ended is not None and ended < window.start:
                rule = None  # an escalation ended this mute in an earlier window
            else:
                reason = rule.describe()
                if ended == window.start:
                    woken = "its mute ended in this window"
                elif state.started is None:
                    if m.count:  # the mute begins: its rate now is what the factor is measured against
                        events.append(MuteEvent(m.fingerprint, rule.key, "start", m.rate_per_min))
                elif window.start > state.started and ended is None:
                    woken = _wakes(rule, m, state, rules)
                    if woken:
                        events.append(MuteEvent(m.fingerprint, rule.key, "end"))
        if rule is None and m.fingerprint in tracker_muted:
            reason = TRACKER_MUTE
            woken = "the escalation ends its mute" if m.status == Status.ESCALATED else None
        if reason is None:
            continue
        if woken:
            m.reason = f"{m.reason}; {woken}" if m.reason else woken
            m.unmuted = True
            continue
        m.mute = reason
        if m.status == Status.ESCALATED:  # silenced: no escalation recorded either
            m.priority = Priority.most_urgent(m.base_priority, m.previous_priority) or m.base_priority
    return events


def mute_states(warehouse, service: str) -> dict[tuple[str, str], MuteState]:
    """The recorded state of every rules-file mute of `service`'s patterns."""
    rows = warehouse.query("mute_states", service=service)
    return {
        (fp, key): MuteState(_time(started), None if pd.isna(rate) else float(rate), _time(ended))
        for fp, key, started, rate, ended in rows[["fingerprint", "mute_key", "started", "rate_at_start", "ended"]].itertuples(index=False)
    }


def record_mute_events(warehouse, service: str, window: Window, events: list[MuteEvent], at: datetime) -> None:
    if events:
        rows = [
            {
                "service": service,
                "fingerprint": e.fingerprint,
                "mute_key": e.mute_key,
                "event": e.event,
                "window_start": window.start,
                "rate_per_min": e.rate_per_min,
                "recorded_at": at,
            }
            for e in events
        ]
        warehouse.append("mute_events", pd.DataFrame(rows))


def _time(value) -> datetime | None:
    return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()
