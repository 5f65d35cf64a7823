"""Mask + group in SQL, then cluster and identify the distinct masked messages in Python."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from log_gardener.tasks.clustering import PatternClusterer
from log_gardener.tasks.identity import Identities, identify
from log_gardener.tasks.normalise import SEVERITY_RANK, Window
from log_gardener.tasks.warehouses import Warehouse


def severities_from(min_severity: str) -> list[str]:
    floor = SEVERITY_RANK[min_severity]
    return [name for name, rank in SEVERITY_RANK.items() if rank >= floor]


def grouped_messages(warehouse: Warehouse, service: str, window: Window, min_severity: str) -> pd.DataFrame:
    """The distinct masked messages of the window with their counts (computed by the warehouse)."""
    return warehouse.query(
        "masked_messages",
        service=service,
        window_start=window.start,
        window_end=window.end,
        severities=severities_from(min_severity),
    )


def cluster_and_identify(warehouse: Warehouse, service: str, grouped: pd.DataFrame, min_similarity: float, seen_at: datetime) -> Identities:
    """Cluster this window's masked messages and give each a stable fingerprint; stores new keys."""
    known = warehouse.query("cluster_keys_for_service", service=service)
    clusters = warehouse.query("clusters_for_service", service=service)
    messages = list(grouped.masked_message)
    counts = [int(c) for c in grouped.entries]
    clusterer = PatternClusterer().fit(messages, counts)
    identities = identify(
        service,
        messages,
        counts,
        clusterer.labels_,
        clusterer.templates_,
        dict(zip(known.masked_message, known.fingerprint)),
        dict(zip(clusters.fingerprint, clusters.template)),
        min_similarity,
    )
    if identities.new_keys:
        warehouse.append(
            "cluster_keys",
            pd.DataFrame(
                [
                    {"service": service, "masked_message": m, "fingerprint": fp, "first_seen": seen_at}
                    for m, fp in identities.new_keys.items()
                ]
            ),
        )
    return identities
