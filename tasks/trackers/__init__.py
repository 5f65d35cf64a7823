"""Issue trackers: the interface (`base`), one module per implementation, and the factory."""

from __future__ import annotations

from log_gardener.tasks.trackers.base import ACTION_MARKER, FINGERPRINT_MARKER, Issue, Tracker, fingerprint_in
from log_gardener.tasks.trackers.github import GitHubTracker
from log_gardener.tasks.trackers.local import LocalTracker
from log_gardener.tasks.warehouses import Warehouse

__all__ = [
    "ACTION_MARKER",
    "FINGERPRINT_MARKER",
    "Issue",
    "Tracker",
    "fingerprint_in",
    "GitHubTracker",
    "LocalTracker",
    "check_tracker_spec",
    "open_tracker",
]


def check_tracker_spec(spec: str) -> None:
    """Raise unless `spec` names a kind of tracker: `local` or `github:OWNER/REPO`."""
    if spec != "local" and not spec.startswith("github:"):
        raise ValueError(f"unknown tracker {spec!r}: use local or github:OWNER/REPO")


def open_tracker(spec: str, warehouse: Warehouse) -> Tracker:
    """A tracker from its spec: `local` or `github:OWNER/REPO`."""
    check_tracker_spec(spec)
    if spec == "local":
        return LocalTracker(warehouse)
    return GitHubTracker.from_spec(spec)
