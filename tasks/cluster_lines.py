"""`gardener cluster`: the flow's masking, clustering and templates applied to plain lines.

Lines are deduplicated before anything else, so the cost follows the distinct
lines and the distinct masked messages, never the number of lines.
"""

from __future__ import annotations

from collections import Counter

from log_gardener.tasks.clustering import PatternClusterer
from log_gardener.tasks.masking import mask
from log_gardener.tasks.stacktrace import pattern_text


def cluster_lines(lines: list[str], progress=None, clusterer: PatternClusterer | None = None) -> tuple[list[int], dict[int, str]]:
    """Cluster id per line (in order) and the template of each cluster id."""
    line_counts = Counter(lines)
    masked_of = {line: mask(pattern_text(line)) for line in line_counts}
    distinct: dict[str, int] = {}
    for line, count in line_counts.items():
        m = masked_of[line]
        distinct[m] = distinct.get(m, 0) + count
    if progress is not None:
        progress.print(f"{len(lines)} lines, {len(line_counts)} distinct, {len(distinct)} distinct masked messages; clustering…")
    messages = list(distinct)
    clusterer = (clusterer or PatternClusterer()).fit(messages, [distinct[m] for m in messages])
    label_of = dict(zip(messages, (int(label) for label in clusterer.labels_)))
    label_of_line = {line: label_of[masked] for line, masked in masked_of.items()}
    return list(map(label_of_line.__getitem__, lines)), {int(k): v for k, v in clusterer.templates_.items()}
