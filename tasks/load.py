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

    Returns how many of each were new, and `reported_before`: the rejections a run of another service or window
    recorded first (a broken line of a file is rejected by every run that reads the file), each with that
    run's service and window (None when that run is not on record). A rerun's own rejections are not among them.
    """
    new_rows = extracted.new_entries + warehouse.merge_entries(extracted.rows, window_start=window.start, window_end=window.end)
    new_rejections, reported_before = 0, {}
    if extracted.rejections:
        ids = [r.rejection_id for r in extracted.rejections]
        known = warehouse.query("rejected_ids", rejection_ids=ids)
        recorded_by = {
            rid: (svc, as_utc(start), as_utc(end)) if isinstance(svc, str) else (None, None, None)
            for rid, svc, start, end in zip(known.rejection_id, known.service, known.window_start, known.window_end)
        }
        reported_before = {rid: by for rid, by in recorded_by.items() if by != (service, window.start, window.end)}
        fresh = [r for r in extracted.rejections if r.rejection_id not in recorded_by]
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
