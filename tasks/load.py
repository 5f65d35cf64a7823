"""Load: entries into `log_entries` (idempotent on insert_id), rejections into `rejected_entries`."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from log_gardener.tasks.extract import Extracted
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.warehouses import Warehouse
from log_gardener.tasks.warehouses.records import as_utc


def load(warehouse: Warehouse, extracted: Extracted, run_id: str, service: str, window: Window, source: str) -> dict:
    """Store the window's rows (those extract did not hand to the warehouse already) and rejections.

    Returns how many of each were new, and `reported_before`: the rejections that a run of another service or
    window recorded and listed in its worklog (a broken line of a file is rejected by every run that reads it),
    each with the service and window of the earliest such run. A rejection this window recorded (a rerun), or
    whose recording run never wrote its worklog (it failed, or is still running), is this run's to list.
    """
    new_rows = extracted.new_entries + warehouse.merge_entries(extracted.rows, window_start=window.start, window_end=window.end)
    new_rejections, reported_before = 0, {}
    if extracted.rejections:
        ids = [r.rejection_id for r in extracted.rejections]
        known = warehouse.query("rejected_ids", rejection_ids=ids)
        reported_before = _listed_elsewhere(known, service, window)
        recorded = set(known.rejection_id)
        fresh = [r for r in extracted.rejections if r.rejection_id not in recorded]
        now = datetime.now(UTC)
        frame = pd.DataFrame(
            [
                {
                    "rejection_id": r.rejection_id,
                    "run_id": run_id,
                    "service": service,
                    "source": source,
                    "location": r.location,
                    "reason": r.reason,
                    "raw_text": r.raw_text,
                    "rejected_at": now,
                }
                for r in {r.rejection_id: r for r in fresh}.values()
            ]
        )
        new_rejections = warehouse.append("rejected_entries", frame)
    return {"new_entries": new_rows, "new_rejections": new_rejections, "reported_before": reported_before}


def _listed_elsewhere(known: pd.DataFrame, service: str, window: Window) -> dict[str, tuple]:
    """Of the recorded rejections `known` (rejected_ids.sql: one row per recording run), those a finished run of
    another service or window listed: id -> (service, window start, window end) of the earliest such window."""
    listed: dict[str, tuple] = {}
    ours: set[str] = set()
    rows = known.sort_values("started_at", na_position="last")
    for rid, svc, start, end, done in zip(rows.rejection_id, rows.service, rows.window_start, rows.window_end, rows.listed):
        if not isinstance(svc, str):
            continue
        if (svc, as_utc(start), as_utc(end)) == (service, window.start, window.end):
            ours.add(rid)  # a rerun lists what its window listed
        elif done is True or done == 1:
            listed.setdefault(rid, (svc, as_utc(start), as_utc(end)))
    return {rid: where for rid, where in listed.items() if rid not in ours}
