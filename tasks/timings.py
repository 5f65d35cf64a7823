"""Seconds per stage of a run, for `--json` and the worklog's footer."""

from __future__ import annotations

import time


class StageClock:
    """Laps of a run: `lap(stage)` records the seconds since the previous lap (or the start)."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(self.laps.get(stage, 0.0) + now - self.last, 3)
        self.last = now

    def report(self) -> dict[str, float]:
        """The laps and the total so far."""
        return {**self.laps, "total": round(time.perf_counter() - self.started, 3)}
