"""The `LogSource` interface: where LogEntry objects come from.

A source yields raw LogEntry dicts, or `Unparseable` records for text that is
not JSON; filtering and normalising are shared (see `tasks.extract`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from log_gardener.tasks.normalise import Window

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

    def describe(self) -> str: ...
