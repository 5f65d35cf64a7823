"""`gardener cluster`: the flow's masking, clustering and templates applied to plain lines."""

from __future__ import annotations

from log_gardener.tasks.clustering import PatternClusterer
from log_gardener.tasks.masking import mask
from log_gardener.tasks.stacktrace import pattern_text


def cluster_lines(lines: list[str], progress=None) -> tuple[list[int], dict[int, str]]:
    """Cluster id per line (in order) and the template of each cluster id."""
    masked = [mask(pattern_text(line)) for line in lines]
    distinct: dict[str, int] = {}
    for m in masked:
        distinct[m] = distinct.get(m, 0) + 1
    if progress is not None:
        progress.print(f"{len(lines)} lines, {len(distinct)} distinct masked messages; clustering…")
    messages = list(distinct)
    clusterer = PatternClusterer().fit(messages, [distinct[m] for m in messages])
    label_of = dict(zip(messages, (int(label) for label in clusterer.labels_)))
    return [label_of[m] for m in masked], {int(k): v for k, v in clusterer.templates_.items()}
