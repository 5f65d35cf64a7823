"""Deploy correlation: did a pattern arrive with a revision that itself just appeared?

Cloud Run names the revision on every entry. A pattern's first revision (of its earliest entry in the
window) is *new* when that revision's first kept entry of the service falls in this window or the one
before, and another revision was logging just before it (within two windows): one revision took over from
another, so the pattern most likely came with that deploy. A revision that logged nothing kept for days
before its first warning is not called new. Read from stored entries only, so a rerun or a
backfill says the same.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from log_gardener.tasks.measure import PatternMeasure
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.vocabulary import Status
from log_gardener.tasks.warehouses import Warehouse

LOOKBACK = timedelta(days=7)  # a revision older than this counts as first seen at the lookback's start


def mark_new_revisions(warehouse: Warehouse, service: str, window: Window, measures: list[PatternMeasure]) -> None:
    """Set each measure's `revision_first_seen` and `revision_is_new`; a new, escalated or regressed pattern
    that came with a new revision says so in its reason (see `deploy_sentence`)."""
    revisions = sorted({m.first_revision for m in measures if m.first_revision})
    if not revisions:
        return
    since = window.start - LOOKBACK
    seen = warehouse.query("revisions_first_seen", service=service, revisions=revisions, since=since, window_end=window.end)
    first_seen = {r: pd.Timestamp(t).to_pydatetime() for r, t in zip(seen.revision, seen.first_seen)}
    other_last = {r: pd.Timestamp(t).to_pydatetime() for r, t in zip(seen.revision, seen.other_last_seen) if pd.notna(t)}
    length = window.end - window.start
    for m in measures:
        when = first_seen.get(m.first_revision) if m.first_revision else None
        m.revision_first_seen = when
        before = other_last.get(m.first_revision)
        # new: first seen lately, taking over from a revision that was logging just before it
        m.revision_is_new = when is not None and when >= window.start - length and before is not None and when - before <= 2 * length
        sentence = deploy_sentence(m)
        if sentence:
            m.reason = f"{m.reason}; {sentence}" if m.reason else sentence


def deploy_sentence(m: PatternMeasure) -> str | None:
    """`appeared with revision svc-00646-abc, first seen 10:02 UTC`, for a new, escalated or regressed pattern."""
    if not m.revision_is_new or m.status not in (Status.NEW, Status.ESCALATED, Status.REGRESSED) or not m.count:
        return None
    return f"appeared with revision {m.first_revision}, first seen {m.revision_first_seen:%H:%M} UTC"


def revision_json(m: PatternMeasure) -> dict | None:
    """The `revision` object of `--json`: name, first_seen, new_in_window, seen_in."""
    if not m.first_revision:
        return None
    first = m.revision_first_seen
    return {
        "name": m.first_revision,
        "first_seen": first.isoformat() if hasattr(first, "isoformat") else None,
        "new_in_window": m.revision_is_new,
        "seen_in": m.revisions,
    }
