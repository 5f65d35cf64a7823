"""Backfill: run the gardener over consecutive windows of a past period, in time order."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from prefect import flow, get_run_logger, tags

from log_gardener.flows.gardener import gardener
from log_gardener.flows.parameters import RunParameters
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.warehouses import open_warehouse, records

# Set by the CLI to draw a progress bar: called as (done, total, window, summary or None when skipped).
progress_hook: Callable[[int, int, Window, dict | None], None] | None = None


def parse_step(step: str) -> timedelta:
    """`30m`, `1h`, `1d` (a number and a unit) as a timedelta."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhd])\s*", step or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"step must look like 30m, 1h or 1d, not {step!r}")
    unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def whole_steps(period: Window, step: timedelta) -> list[Window]:
    """`split_windows`, for a period of whole steps only: a shorter last window would be a completed window that
    the next run of a whole step overlaps, refused for good (its entries would count twice in the baselines)."""
    if (period.end - period.start) % step:
        later = period.start + step * ((period.end - period.start) // step + 1)
        raise ValueError(
            f"the period is not a whole number of {_steps(step)} steps: its last window would be shorter, and the next"
            f" {_steps(step)} window would overlap it. End it at {period.end - (period.end - period.start) % step:%Y-%m-%dT%H:%M}Z"
            f" or {later:%Y-%m-%dT%H:%M}Z"
        )
    return split_windows(period, step)


def _steps(step: timedelta) -> str:
    minutes = int(step.total_seconds() // 60)
    return f"{minutes // 1440}d" if minutes % 1440 == 0 else f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def split_windows(period: Window, step: timedelta) -> list[Window]:
    """Consecutive half-open windows covering `period`; the last one may be shorter."""
    windows, start = [], period.start
    while start < period.end:
        end = min(start + step, period.end)
        windows.append(Window(start, end))
        start = end
    return windows


def completed_windows(warehouse_url: str, service: str, period: Window, windows: list[Window] = ()) -> set[tuple]:
    """The service's completed windows within `period`; raises when one of `windows` still to run overlaps one."""
    warehouse = open_warehouse(warehouse_url)
    try:
        warehouse.setup()
        done = warehouse.query("completed_windows", service=service, period_start=period.start, period_end=period.end)
        done = {(records.as_utc(s), records.as_utc(e)) for s, e in zip(done.window_start, done.window_end)}
        # checked before the first window runs: a backfill that would stop half way is refused whole
        records.check_no_overlap(warehouse, service, [w for w in windows if (w.start, w.end) not in done])
        return done
    finally:
        warehouse.close()


@flow(name="backfill", log_prints=True)
def backfill(params: RunParameters, start: str, end: str, step: str = "1h") -> dict:
    """Run the gardener for every `step` window of [start, end), oldest first (baselines depend on order).

    Windows that already have a completed run are skipped, so an interrupted
    backfill resumes where it stopped. Set params.publish_issues to false to
    build a baseline without touching the tracker (the CLI's default).

    Args:
        params: The service, its source, the warehouse, the tracker and the rules.
        start: First instant of the period, ISO 8601 (e.g. 2025-09-14T00:00:00Z); inclusive.
        end: End of the period, ISO 8601; exclusive.
        step: Length of each window: a number and a unit, 30m, 1h or 1d.
    """
    service = params.service
    logger = get_run_logger()
    period = Window.parse(start, end).check_over()
    windows = whole_steps(period, parse_step(step))
    done = completed_windows(params.warehouse, service, period, windows)
    ran, skipped = [], 0
    for index, window in enumerate(windows, 1):
        if (window.start, window.end) in done:
            skipped += 1
            logger.info("window %s/%s %s: already done, skipped", index, len(windows), window.label())
            if progress_hook:
                progress_hook(index, len(windows), window, None)
            continue
        with tags("log-gardener", "backfill", f"service:{service}"):
            summary = gardener(params, window.start.isoformat(), window.end.isoformat())
        ran.append(
            {
                "window": summary["window"],
                "entries": summary["entries"],
                "clusters": len(summary["clusters"]),
                "worklog": summary["worklog"],
            }
        )
        logger.info(
            "window %s/%s %s: %s entries, %s patterns", index, len(windows), window.label(), summary["entries"], len(summary["clusters"])
        )
        if progress_hook:
            progress_hook(index, len(windows), window, summary)
    return {"service": service, "windows": len(windows), "ran": len(ran), "skipped": skipped, "runs": ran}
