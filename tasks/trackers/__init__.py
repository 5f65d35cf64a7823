"""Issue trackers: the interface (`base`), one module per implementation, and the factory."""

from __future__ import annotations

from log_gardener.tasks.trackers.base import ACTION_MARKER, FINGERPRINT_MARKER, Issue, Tracker, fingerprint_in
from log_gardener.tasks.trackers.github import GitHubTracker
from log_gardener.tasks.trackers.local import LocalTracker
from log_gardener.tasks.warehouses import Warehouse

__all__ = ["ACTION_MARKER", "FINGERPRINT_MARKER", "Issue", "Tracker", "fingerprint_in", "GitHubTracker", "LocalTracker", "open_tracker"]


def open_tracker(spec: str, warehouse: Warehouse) -> Tracker:
    """A tracker from its spec: `local` or `github:OWNER/REPO`."""
    if spec == "local":
        return LocalTracker(warehouse)
    if spec.startswith("github:"):
        return GitHubTracker.from_spec(spec)
    raise ValueError(f"unknown tracker {spec!r}: use local or github:OWNER/REPO")
