"""Load: entries into `log_entries` (idempotent on insert_id), rejections into `rejected_entries`."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from log_gardener.tasks.extract import Extracted
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.warehouses import Warehouse


def load(warehouse: Warehouse, extracted: Extracted, run_id: str, service: str, window: Window, source: str) -> dict[str, int]:
    """Store the window's rows (those extract did not hand to the warehouse already) and rejections; returns how
    many of each were new."""
    new_rows = extracted.new_entries + warehouse.merge_entries(extracted.rows, window_start=window.start, window_end=window.end)
    new_rejections = 0
    if extracted.rejections:
        ids = [r.rejection_id for r in extracted.rejections]
        known = set(warehouse.query("rejected_ids", rejection_ids=ids).rejection_id)
        fresh = [r for r in extracted.rejections if r.rejection_id not in known]
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
    return {"new_entries": new_rows, "new_rejections": new_rejections}
