"""What earlier windows and the tracker say about a service's patterns: baseline, priorities, issues."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from log_gardener.tasks.measure import History
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.trackers import Tracker
from log_gardener.tasks.vocabulary import Action, ActionState, BaselineKind
from log_gardener.tasks.warehouses import Warehouse


def choose_baseline(
    prior: list[tuple[datetime, datetime]],
    window: Window,
    baseline_windows: int,
    seasonal_days: int = 0,
    seasonal_weeks: int = 0,
    min_seasonal_windows: int = 3,
) -> tuple[BaselineKind, list[tuple[datetime, datetime]]]:
    """Which earlier windows (`prior`, newest first) make this window's baseline, and what kind of baseline that is.

    A service that follows its traffic has a daily (and weekly) cycle, so the windows that say what to expect
    now are the same hour of the week over the last `seasonal_weeks` weeks when at least
    `min_seasonal_windows` of them exist, else the same hour of the day over the last `seasonal_days` days
    (as many), else the latest `baseline_windows` windows (the recent mean, while history is short).
    """
    length = window.end - window.start

    def same(period: timedelta, periods: int) -> list[tuple[datetime, datetime]]:
        return [
            (start, end)
            for start, end in prior
            if end - start == length and (window.start - start) % period == timedelta(0) and (window.start - start) <= periods * period
        ]

    weekly = same(timedelta(days=7), seasonal_weeks) if seasonal_weeks else []
    if len(weekly) >= min_seasonal_windows:
        return BaselineKind.HOUR_OF_WEEK, weekly
    daily = same(timedelta(days=1), seasonal_days) if seasonal_days else []
    if len(daily) >= min_seasonal_windows:
        return BaselineKind.HOUR_OF_DAY, daily
    return BaselineKind.RECENT, prior[:baseline_windows]


def load_history(
    warehouse: Warehouse,
    service: str,
    window: Window,
    baseline_windows: int,
    quiet_after_windows: int = 1,
    closed_issues: dict[str, int] | None = None,
    seasonal_days: int = 0,
    seasonal_weeks: int = 0,
    min_seasonal_windows: int = 3,
    deescalate_after_windows: int = 0,
    clusters: pd.DataFrame | None = None,
) -> History:
    """Read the baseline (see `choose_baseline`) and pattern history from completed earlier windows.

    A pattern goes quiet when it was counted `quiet_after_windows` windows ago
    and in none of the windows since (this one included). `closed_issues`
    (see `closed_issues`) are the patterns that regress if they show up. A pattern is calm when in each of
    the last `deescalate_after_windows - 1` windows it was absent or ongoing at the priority it has now
    (0: never calm; see `prioritise`).
    """
    lookback = max(
        baseline_windows,
        quiet_after_windows,
        deescalate_after_windows,
        seasonal_days * 24 if seasonal_days else 0,
        seasonal_weeks * 7 * 24 if seasonal_weeks else 0,
    )
    prior = warehouse.query("prior_windows", service=service, window_start=window.start, max_windows=lookback)
    minutes = 0.0
    baseline: dict[str, int] = {}
    quiet: set[str] = set()
    calm: set[str] = set()
    recent_counts: dict[str, int] = {}
    recent_minutes = 0.0
    kind, chosen = BaselineKind.RECENT, []
    if not prior.empty:
        starts = [pd.Timestamp(s).to_pydatetime() for s in prior.window_start]  # newest first
        spans = list(zip(starts, (pd.Timestamp(e).to_pydatetime() for e in prior.window_end)))
        kind, chosen = choose_baseline(spans, window, baseline_windows, seasonal_days, seasonal_weeks, min_seasonal_windows)
        counts = warehouse.query("prior_counts", service=service, since=min(starts), window_start=window.start)
        counts["window_start"] = [pd.Timestamp(s).to_pydatetime() for s in counts.window_start]
        active = counts[counts.entries > 0]
        present = {start: set(group.fingerprint) for start, group in active.groupby("window_start")}
        minutes = float(sum((end - start).total_seconds() / 60.0 for start, end in chosen))
        in_baseline = active[active.window_start.isin({start for start, _ in chosen})]
        baseline = in_baseline.groupby("fingerprint").entries.sum().astype(int).to_dict()
        latest = spans[:baseline_windows]
        recent_minutes = float(sum((end - start).total_seconds() / 60.0 for start, end in latest))
        in_recent = active[active.window_start.isin({start for start, _ in latest})]
        recent_counts = in_recent.groupby("fingerprint").entries.sum().astype(int).to_dict()
        if len(starts) >= quiet_after_windows:
            since = set().union(*(present.get(s, set()) for s in starts[: quiet_after_windows - 1]))
            quiet = present.get(starts[quiet_after_windows - 1], set()) - since
        if deescalate_after_windows > 1 and len(starts) >= deescalate_after_windows - 1:
            recent = set(starts[: deescalate_after_windows - 1])
            streak = active[active.window_start.isin(recent)]
            if not streak.empty:
                by_pattern = streak.groupby("fingerprint")
                ongoing = by_pattern.status.agg(lambda s: bool((s == "ongoing").all()))
                one_priority = by_pattern.priority.nunique() == 1
                calm = {str(fp) for fp in ongoing.index if ongoing[fp] and one_priority[fp]}
    priorities = warehouse.query("latest_priorities", service=service, window_start=window.start)
    seen = warehouse.query("fingerprints_seen_before", service=service, window_start=window.start)
    if clusters is None:
        clusters = warehouse.query("clusters_for_service", service=service)
    return History(
        baseline_minutes=minutes,
        baseline_kind=kind,
        baseline_windows=len(chosen),
        recent_counts=recent_counts,
        recent_minutes=recent_minutes,
        recent_windows=min(baseline_windows, len(prior)),
        calm=calm,
        window_minutes=window.minutes,
        baseline_counts=baseline,
        previous_priority=dict(zip(priorities.fingerprint, priorities.priority)),
        seen_before=set(seen.fingerprint),
        going_quiet=quiet,
        closed_issue=dict(closed_issues or {}),
        templates=dict(zip(clusters.fingerprint, clusters.template)),
        severities=dict(zip(clusters.fingerprint, clusters.severity_max)),
    )


def known_issues(warehouse: Warehouse, service: str, clusters: pd.DataFrame | None = None) -> tuple[dict[str, int], dict[str, set[int]]]:
    """From one read of `clusters`: issue number per fingerprint, and issue numbers per module (cross-references)."""
    if clusters is None:
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
    done = warehouse.query("actions_for_window", service=service, window_start=window.start, window_end=window.end)
    done = done[(done.state == ActionState.APPLIED) & (done.action != Action.NONE)]
    return {
        fp: (action, None if pd.isna(number) else int(number), reason)
        for fp, action, number, reason in zip(done.fingerprint, done.action, done.issue_number, done.reason)
    }


def closed_issues(
    tracker: Tracker,
    issues: dict[str, int],
    present: set[str],
    applied: dict[str, tuple[str, int | None, str]],
    service: str | None = None,
) -> tuple[dict[str, int], set[str]]:
    """What people decided on the issues of this window's patterns, read together in one go.

    Returns the patterns whose issue was closed as completed (they came back, so they regress) and the
    patterns a person muted (issue closed as not planned, or labelled gardener:mute). An issue that an
    earlier run of this same window reopened (`applied`, see `applied_actions`) counts as closed too, so a
    rerun reaches the same status. An issue gone from the tracker is no issue.
    """
    reopened = {fp for fp, (action, _, _) in applied.items() if action == Action.REOPEN}
    mine = {fp: number for fp, number in issues.items() if fp in present}
    states = tracker.states(mine.values(), service)
    closed, muted = {}, set()
    for fp, number in mine.items():
        status = states.get(number)
        if status is not None and status.mutes and fp not in reopened:
            muted.add(fp)
        elif fp in reopened or (status is not None and status.closed_as_completed):
            closed[fp] = number
    return closed, muted
