"""What earlier windows and the tracker say about a service's patterns: baseline, priorities, issues."""

from __future__ import annotations

import pandas as pd

from log_gardener.tasks.measure import History
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.trackers import Tracker
from log_gardener.tasks.vocabulary import Action, ActionState
from log_gardener.tasks.warehouses import Warehouse


def load_history(
    warehouse: Warehouse,
    service: str,
    window: Window,
    baseline_windows: int,
    quiet_after_windows: int = 1,
    closed_issues: dict[str, int] | None = None,
) -> History:
    """Read the baseline (up to `baseline_windows` completed earlier windows) and pattern history.

    A pattern goes quiet when it was counted `quiet_after_windows` windows ago
    and in none of the windows since (this one included). `closed_issues`
    (see `closed_issues`) are the patterns that regress if they show up.
    """
    depth = max(baseline_windows, quiet_after_windows)
    prior = warehouse.query("prior_windows", service=service, window_start=window.start, max_windows=depth)
    minutes = 0.0
    baseline: dict[str, int] = {}
    quiet: set[str] = set()
    if not prior.empty:
        counts = warehouse.query("prior_counts", service=service, since=prior.window_start.min(), window_start=window.start)
        counts = counts[counts.entries > 0]
        present = {start: set(group.fingerprint) for start, group in counts.groupby("window_start")}
        starts = list(prior.window_start)  # newest first
        chosen = prior.iloc[:baseline_windows]
        minutes = float(sum((r.window_end - r.window_start).total_seconds() / 60.0 for r in chosen.itertuples()))
        in_baseline = counts[counts.window_start.isin(set(chosen.window_start))]
        baseline = in_baseline.groupby("fingerprint").entries.sum().astype(int).to_dict()
        if len(starts) >= quiet_after_windows:
            since = set().union(*(present.get(s, set()) for s in starts[: quiet_after_windows - 1]))
            quiet = present.get(starts[quiet_after_windows - 1], set()) - since
    priorities = warehouse.query("latest_priorities", service=service, window_start=window.start)
    seen = warehouse.query("fingerprints_seen_before", service=service, window_start=window.start)
    clusters = warehouse.query("clusters_for_service", service=service)
    return History(
        baseline_minutes=minutes,
        window_minutes=window.minutes,
        baseline_counts=baseline,
        previous_priority=dict(zip(priorities.fingerprint, priorities.priority)),
        seen_before=set(seen.fingerprint),
        going_quiet=quiet,
        closed_issue=dict(closed_issues or {}),
        templates=dict(zip(clusters.fingerprint, clusters.template)),
        severities=dict(zip(clusters.fingerprint, clusters.severity_max)),
    )


def known_issues(warehouse: Warehouse, service: str) -> tuple[dict[str, int], dict[str, set[int]]]:
    """From one read of `clusters`: issue number per fingerprint, and issue numbers per module (cross-references)."""
    clusters = warehouse.query("clusters_for_service", service=service)
    known = clusters[clusters.issue_number.notna()]
    by_fingerprint = {fp: int(n) for fp, n in zip(known.fingerprint, known.issue_number)}
    by_module: dict[str, set[int]] = {}
    for module, number in zip(known.module, known.issue_number):
        if isinstance(module, str):
            by_module.setdefault(module, set()).add(int(number))
    return by_fingerprint, by_module


def applied_actions(warehouse: Warehouse, service: str, window: Window) -> dict[str, tuple[str, int | None, str]]:
    """The tracker actions an earlier run of this window applied: fingerprint -> (action, issue number, reason)."""
    done = warehouse.query("actions_for_window", service=service, window_start=window.start)
    done = done[(done.state == ActionState.APPLIED) & (done.action != Action.NONE)]
    return {
        fp: (action, None if pd.isna(number) else int(number), reason)
        for fp, action, number, reason in zip(done.fingerprint, done.action, done.issue_number, done.reason)
    }


def closed_issues(
    tracker: Tracker, issues: dict[str, int], present: set[str], applied: dict[str, tuple[str, int | None, str]]
) -> dict[str, int]:
    """The patterns of this window whose issue is closed: they came back, so they regress.

    An issue that an earlier run of this same window reopened (`applied`, see `applied_actions`) counts as
    closed too, so a rerun reaches the same status (the tracker's state is read once per pattern present).
    """
    reopened = {fp for fp, (action, _, _) in applied.items() if action == Action.REOPEN}
    # one light read per pattern present: its issue's state (an issue gone from the tracker is no issue)
    return {fp: number for fp, number in issues.items() if fp in present and (fp in reopened or tracker.state_of(number) == "closed")}
