"""What a run writes to the warehouse besides entries: its `runs` row, per-pattern counts, the `clusters` rows.

Every write is idempotent for a window: counts are replaced, clusters merged
(`sql/merge_clusters.sql`), so re-running a window changes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from log_gardener.tasks.measure import PatternMeasure
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.vocabulary import RunStatus
from log_gardener.tasks.warehouses.base import Warehouse


def start_run(warehouse: Warehouse, run_id: str, service: str, window: Window, source: str, parameters: dict) -> None:
    row = {
        "run_id": run_id,
        "service": service,
        "window_start": window.start,
        "window_end": window.end,
        "started_at": datetime.now(UTC),
        "finished_at": None,
        "status": RunStatus.RUNNING,
        "source": source,
        "parameters": json.dumps(parameters, default=str),
    }
    warehouse.append("runs", pd.DataFrame([row]))


def interrupt_stale_runs(warehouse: Warehouse, service: str) -> int:
    """Mark the service's runs still `running` as `interrupted`: called by a run that holds the service's slot, so
    no other run of the service is alive and those runs died without finishing (their window is simply run again)."""
    return warehouse.execute("interrupt_stale_runs", service=service, finished_at=datetime.now(UTC))


def finish_run(warehouse: Warehouse, run_id: str, status: str, stats: dict | None = None, clusters: int | None = None) -> None:
    warehouse.execute(
        "finish_run",
        run_id=run_id,
        status=status,
        finished_at=datetime.now(UTC),
        entries=stats["kept"] if stats else None,
        rejected=stats["rejected"] if stats else None,
        clusters=clusters,
        counts=json.dumps(stats) if stats else None,
    )


def save_measures(warehouse: Warehouse, run_id: str, service: str, window: Window, measures: list[PatternMeasure]) -> None:
    """Replace this window's per-pattern counts, then merge the patterns into `clusters`."""
    warehouse.execute("delete_cluster_counts", service=service, window_start=window.start, window_end=window.end)
    counts = [
        {
            "run_id": run_id,
            "service": service,
            "window_start": window.start,
            "window_end": window.end,
            "fingerprint": m.fingerprint,
            "entries": m.count,
            "rate_per_min": m.rate_per_min,
            "baseline_rate_per_min": m.baseline_rate_per_min,
            "ratio": m.ratio,
            "warning_count": m.warning_count,
            "error_count": m.error_count,
            "critical_count": m.critical_count,
            "severity_max": m.severity,
            "first_seen": m.first_seen,
            "last_seen": m.last_seen,
            "status": m.status,
            "priority": m.priority,
            "previous_priority": m.previous_priority,
            "sample_insert_ids": json.dumps(m.sample_insert_ids),
        }
        for m in measures
    ]
    warehouse.append("cluster_counts", pd.DataFrame(counts))
    now = datetime.now(UTC)
    clusters = [
        {
            "fingerprint": m.fingerprint,
            "service": service,
            "template": m.template,
            "module": m.module,
            "function": m.function,
            "first_seen": m.first_seen,
            "last_seen": m.last_seen,
            "severity_max": m.severity,
            "issue_number": m.issue.number,
            "issue_url": m.issue.url or None,
            "current_priority": m.priority,
            "updated_at": now,
            "regrouped_from": m.regrouped_from,
        }
        for m in measures
    ]
    warehouse.merge("merge_clusters", "clusters", pd.DataFrame(clusters))


def sample_payloads(warehouse: Warehouse, service: str, window: Window, measures: list[PatternMeasure]) -> dict[str, list[str]]:
    """The stored JSON payloads of each pattern's sample entries."""
    ids = [i for m in measures for i in m.sample_insert_ids]
    if not ids:
        return {}
    rows = warehouse.query("entries_by_id", service=service, window_start=window.start, window_end=window.end, insert_ids=ids)
    payload = dict(zip(rows.insert_id, rows.payload))
    return {m.fingerprint: [payload[i] for i in m.sample_insert_ids if i in payload] for m in measures}


def check_no_overlap(warehouse: Warehouse, service: str, windows: list[Window]) -> None:
    """Raise unless each of `windows` is a completed window of the service or shares no time with one.

    A pattern's baseline and status are read from the service's earlier windows: a window that overlaps one
    would count its entries twice (a half-hour inside a completed hour, an hour started half a second late).
    The very same window may run again (a rerun changes nothing).
    """
    if not windows:
        return
    completed = _completed_within(warehouse, service, min(w.start for w in windows), max(w.end for w in windows))
    for window in windows:
        clashes = [(s, e) for s, e in completed if s < window.end and e > window.start and (s, e) != (window.start, window.end)]
        if clashes:
            shown = ", ".join(_span(s, e) for s, e in clashes[:3]) + (" and more" if len(clashes) > 3 else "")
            raise ValueError(
                f"window {_span(window.start, window.end)} of {service} overlaps its completed window {shown}: its entries would count"
                " twice in the baselines. Run the completed windows again as they are, or windows that do not overlap them"
                " (or take one back with `gardener retire`)"
            )


def retire_window(warehouse: Warehouse, service: str, window: Window) -> int:
    """Retire the service's completed runs of exactly `window`: how many were; a ValueError when none is.

    A retired window counts in no baseline (its per-pattern counts are deleted) and blocks no other window, so
    the windows it overlapped can run. Its entries stay loaded: a window that covers them finds them there and
    adds none twice. The counts go first, so a retirement cut short is finished by running it again.
    """
    completed = _completed_within(warehouse, service, window.start, window.end)
    if (window.start, window.end) not in completed:
        near = ", ".join(_span(s, e) for s, e in completed[:3]) or "none"
        raise ValueError(f"{service} has no completed window {_span(window.start, window.end)}; completed windows that overlap it: {near}")
    warehouse.execute("delete_cluster_counts", service=service, window_start=window.start, window_end=window.end)
    return warehouse.execute("retire_window", service=service, window_start=window.start, window_end=window.end)


def _completed_within(warehouse: Warehouse, service: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The service's completed windows that share time with [start, end), as UTC (start, end) pairs."""
    done = warehouse.query("overlapping_windows", service=service, period_start=start, period_end=end)
    return [(as_utc(s), as_utc(e)) for s, e in zip(done.window_start, done.window_end)]


def _span(start: datetime, end: datetime) -> str:
    """A window as a person reads it, to the microsecond when it has one: `2025-09-15T00:00:00Z–2025-09-15T01:00:00Z`."""
    return "–".join(t.astimezone(UTC).isoformat().replace("+00:00", "Z") for t in (start, end))


def as_utc(value) -> datetime:
    """A warehouse's timestamp (pandas' or Python's, with a zone or in UTC without one) as an aware datetime."""
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)).to_pydatetime()
