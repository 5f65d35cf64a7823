"""What earlier windows of a service say: baseline counts, last priorities, who was seen."""

from __future__ import annotations

from tasks.measure import History
from tasks.normalise import Window
from tasks.warehouse import Warehouse


def load_history(warehouse: Warehouse, service: str, window: Window, baseline_windows: int) -> History:
    """Read the baseline (up to `baseline_windows` completed earlier windows) and pattern history."""
    prior = warehouse.query("prior_windows", service=service, window_start=window.start, max_windows=baseline_windows)
    minutes = 0.0
    baseline: dict[str, int] = {}
    previous_window: set[str] = set()
    if not prior.empty:
        minutes = float(sum((r.window_end - r.window_start).total_seconds() / 60.0 for r in prior.itertuples()))
        counts = warehouse.query("prior_counts", service=service, since=prior.window_start.min(), window_start=window.start)
        chosen = set(zip(prior.window_start, prior.window_end))
        counts = counts[[pair in chosen for pair in zip(counts.window_start, counts.window_end)]]
        baseline = counts.groupby("fingerprint").entries.sum().astype(int).to_dict()
        latest = prior.iloc[0]
        last = counts[(counts.window_start == latest.window_start) & (counts.entries > 0)]
        previous_window = set(last.fingerprint)
    priorities = warehouse.query("latest_priorities", service=service, window_start=window.start)
    seen = warehouse.query("fingerprints_seen_before", service=service, window_start=window.start)
    clusters = warehouse.query("clusters_for_service", service=service)
    return History(
        baseline_minutes=minutes,
        baseline_counts=baseline,
        previous_priority=dict(zip(priorities.fingerprint, priorities.priority)),
        seen_before=set(seen.fingerprint),
        in_previous_window=previous_window,
        closed_issue=set(),
        templates=dict(zip(clusters.fingerprint, clusters.template)),
        severities=dict(zip(clusters.fingerprint, clusters.severity_max)),
    )
