"""`gardener cluster`: the flow's masking, clustering and templates applied to plain lines.

Lines are deduplicated before anything else, so the cost follows the distinct
lines and the distinct masked messages, never the number of lines. Many
distinct lines are masked by DuckDB with the masking the warehouses run (the
same RE2 rules as `tasks.masking.mask`), on every core: 200,000 lines in
about 0.8 s instead of 3.7 s one by one.
"""

from __future__ import annotations

from collections import Counter

from log_gardener.tasks.clustering import PatternClusterer
from log_gardener.tasks.masking import mask, mask_function_sql
from log_gardener.tasks.stacktrace import pattern_text

SQL_MASK_AT = 20_000  # distinct lines from which masking in DuckDB pays for starting it


def mask_all(texts: list[str], sql_from: int = SQL_MASK_AT) -> list[str]:
    """`mask` of each text, in order; in DuckDB when there are at least `sql_from` of them."""
    if len(texts) >= sql_from:
        try:
            return _mask_in_duckdb(texts)
        except Exception:  # noqa: BLE001 - any text DuckDB cannot take (a NUL, say) is masked here instead
            pass
    return [mask(text) for text in texts]


def _mask_in_duckdb(texts: list[str]) -> list[str]:
    import duckdb
    import numpy as np

    con = duckdb.connect()
    try:
        con.execute(mask_function_sql("duckdb"))
        con.register("texts", {"position": np.arange(len(texts)), "text": np.array(texts, dtype=object)})
        masked = [row[0] for row in con.execute("select mask_message(text) from texts order by position").fetchall()]
    finally:
        con.close()
    if len(masked) != len(texts):
        raise ValueError("DuckDB masked another number of texts")
    return masked


def cluster_lines(
    lines: list[str] | list[bytes], progress=None, clusterer: PatternClusterer | None = None
) -> tuple[list[int], dict[int, str]]:
    """Cluster id per line (in order) and the template of each cluster id.

    Lines given as bytes are read as UTF-8 (a bad byte becomes U+FFFD), each distinct line once.
    """
    line_counts = Counter(lines)
    texts = (line.decode("utf-8", "replace") if isinstance(line, bytes) else line for line in line_counts)
    pattern_texts = [pattern_text(text) for text in texts]
    masked_of = dict(zip(line_counts, mask_all(pattern_texts)))
    distinct: dict[str, int] = {}
    # the different texts each masked message stands for, as the warehouse counts them (masked_messages.sql)
    variants: dict[str, set[str]] = {}
    for (line, count), text in zip(line_counts.items(), pattern_texts):
        m = masked_of[line]
        distinct[m] = distinct.get(m, 0) + count
        variants.setdefault(m, set()).add(text)
    if progress is not None:
        progress.print(f"{len(lines)} lines, {len(line_counts)} distinct, {len(distinct)} distinct masked messages; clustering…")
    messages = list(distinct)
    clusterer = (clusterer or PatternClusterer()).fit(messages, [distinct[m] for m in messages], [len(variants[m]) for m in messages])
    label_of = dict(zip(messages, (int(label) for label in clusterer.labels_)))
    label_of_line = {line: label_of[masked] for line, masked in masked_of.items()}
    return list(map(label_of_line.__getitem__, lines)), {int(k): v for k, v in clusterer.templates_.items()}
