"""The `LogSource` interface: where LogEntry objects come from.

A source yields raw LogEntry dicts, or `Unparseable` records for text that is
not JSON; filtering and normalising are shared (see `tasks.extract`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from log_gardener.tasks.normalise import SEVERITY_RANK, Window, parse_time, service_of, severity_name

CHUNK_CHARS = 1 << 20
MAX_ENTRY_CHARS = 8 << 20  # one LogEntry is at most 256 KB in Cloud Logging; leave room
RAW_KEEP_CHARS = 4_096


@dataclass(frozen=True)
class Unparseable:
    """Text of the source that is not a JSON value, with where it was and why."""

    raw: str
    reason: str
    where: str


class LogSource(Protocol):
    """Anything that yields the LogEntry objects of a service and window."""

    def entries(self, service: str, window: Window, min_severity: str) -> Iterator[dict | Unparseable]: ...

    def services(self, window: Window, min_severity: str) -> dict[str, int]:
        """Every service with entries in `window` at `min_severity` or above, with how many, read in one pass."""
        ...

    def describe(self) -> str: ...


def count_services(entries: Iterable[dict | Unparseable], window: Window, min_severity: str) -> dict[str, int]:
    """Entries per service name among `entries` in `window` at `min_severity` or above; unreadable ones are left out
    (each service's own run records them)."""
    floor = SEVERITY_RANK[severity_name(min_severity)]
    counts: Counter[str] = Counter()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        try:
            name = service_of(entry)
            stamp = entry.get("timestamp") or entry.get("receiveTimestamp")
            if name is None or not stamp or not window.contains(parse_time(stamp, "timestamp")):
                continue
            if SEVERITY_RANK[severity_name(entry.get("severity"))] >= floor:
                counts[name] += 1
        except (ValueError, TypeError, AttributeError, KeyError):
            continue
    return dict(counts.most_common())
