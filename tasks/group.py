"""Mask + group in SQL, then cluster and identify the distinct masked messages in Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from log_gardener.tasks.clustering import PatternClusterer
from log_gardener.tasks.grouping_rules import GroupingRules, is_merged, marks
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


def regrouped_keys(
    warehouse: Warehouse, service: str, window: Window, min_severity: str, grouping: GroupingRules
) -> dict[str, dict[str, int]]:
    """For each key the `[grouping]` rules make in this window, the keys of the built-in masking it replaces, with
    entries (nothing without rules)."""
    if grouping.empty:
        return {}
    rows = warehouse.query(
        "regrouped_keys", service=service, window_start=window.start, window_end=window.end, severities=severities_from(min_severity)
    )
    aliases: dict[str, dict[str, int]] = defaultdict(dict)
    for key, plain, entries in rows[["masked_message", "plain_message", "entries"]].itertuples(index=False):
        aliases[key][plain] = int(entries)
    return dict(aliases)


def cluster_messages(messages: Sequence[str], counts: Sequence[int], variants: Sequence[int]) -> tuple[np.ndarray, dict[int, str]]:
    """Cluster labels and templates of the masked messages (`variants`: the different texts each masks). Messages
    with different grouping-rule marks never share a pattern; the messages of one merge rule are one pattern, named
    by the rule."""
    parts: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, message in enumerate(messages):
        parts[marks(message)].append(i)
    labels = np.zeros(len(messages), dtype=int)
    templates: dict[int, str] = {}
    offset = 0
    for mark, members in parts.items():
        texts = [messages[i] for i in members]
        if mark and is_merged(texts[0]):
            part_labels, part_templates = np.zeros(len(members), dtype=int), {0: texts[0] if len(set(texts)) == 1 else mark[0]}
        else:
            clusterer = PatternClusterer().fit(texts, [counts[i] for i in members], [variants[i] for i in members])
            part_labels, part_templates = np.asarray(clusterer.labels_), clusterer.templates_
        labels[members] = part_labels + offset
        templates.update({label + offset: template for label, template in part_templates.items()})
        offset += int(part_labels.max()) + 1 if len(part_labels) else 0
    return labels, templates


def cluster_and_identify(
    warehouse: Warehouse,
    service: str,
    grouped: pd.DataFrame,
    min_similarity: float,
    seen_at: datetime,
    aliases: dict[str, dict[str, int]] | None = None,
    clusters: pd.DataFrame | None = None,
) -> Identities:
    """Cluster this window's masked messages and give each a stable fingerprint; stores new keys.

    aliases: key -> {key of the built-in masking: entries} where grouping rules changed a message's key: its
    pattern inherits the fingerprint those keys had (see `identify`).
    clusters: the service's `clusters_for_service` rows when the caller has read them already."""
    known = warehouse.query("cluster_keys_for_service", service=service)
    if clusters is None:
        clusters = warehouse.query("clusters_for_service", service=service)
    messages = list(grouped.masked_message)
    counts = [int(c) for c in grouped.entries]
    labels, templates = cluster_messages(messages, counts, [int(v) for v in grouped.variants])
    identities = identify(
        service,
        messages,
        counts,
        labels,
        templates,
        dict(zip(known.masked_message, known.fingerprint)),
        dict(zip(clusters.fingerprint, clusters.template)),
        min_similarity,
        aliases,
    )
    for fp, parent in zip(clusters.fingerprint, clusters.regrouped_from):
        if isinstance(parent, str) and parent:
            identities.regrouped_from.setdefault(fp, parent)  # a split stays a split on every later run
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
