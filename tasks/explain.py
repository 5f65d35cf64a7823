"""`gardener explain`: how one message would be grouped, so a person can check it before relying on it.

It shows the text the message is grouped by (a stack trace's signature), the masked text and the masking
rules that changed it, and the pattern it belongs to in a warehouse: the known pattern of the same masked
text, else the most similar known pattern (the identity rule of every run), else a new pattern.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from log_gardener.tasks.grouping_rules import GroupingRules, warehouse_key
from log_gardener.tasks.identity import nearest_known, new_fingerprint
from log_gardener.tasks.normalise import clean_text
from log_gardener.tasks.redact import redact, redact_template
from log_gardener.tasks.stacktrace import pattern_text
from log_gardener.tasks.warehouses import Warehouse


@dataclass
class Explanation:
    grouped_text: str  # what the message is grouped by (a trace's signature, else the message on one line)
    masked: str
    masking_rules: list[str]  # the grouping and masking rules that changed the text, in the order they ran
    how: str  # known key | similar to a known pattern | new pattern
    fingerprint: str
    template: str
    issue_number: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


def explain(
    message: str, service: str, warehouse: Warehouse | None, min_similarity: float = 0.75, grouping: GroupingRules | None = None
) -> Explanation:
    """How `message` of `service` is grouped, against the patterns `warehouse` knows (None: no history), with the
    rules file's `[grouping]` rules."""
    grouped = pattern_text(clean_text(message))
    grouping = grouping or GroupingRules()
    masked, used = grouping.explain(grouped)  # which rules changed the text, in Python's reading
    if not grouping.empty:
        masked = warehouse_key(grouped, grouping)  # the key itself as the warehouse computes it
    former = GroupingRules().key(grouped)
    keys, templates, issues = {}, {}, {}
    if warehouse is not None:
        known = warehouse.query("cluster_keys_for_service", service=service)
        clusters = warehouse.query("clusters_for_service", service=service)
        keys = dict(zip(known.masked_message, known.fingerprint))
        templates = dict(zip(clusters.fingerprint, clusters.template))
        issues = {fp: int(n) for fp, n in zip(clusters.fingerprint, clusters.issue_number) if n == n and n is not None}
    if masked in keys:
        fp, how = keys[masked], "known: this masked text was seen before"
    elif masked != former and former in keys:
        fp = keys[former]
        how = "regrouped by the grouping rules: takes over the pattern its messages had, unless another part of a split holds it"
    elif (near := nearest_known([masked], templates, min_similarity)[0]) is not None:
        fp, how = near, f"similar to a known pattern (cosine similarity at least {min_similarity:g})"
    else:
        fp, how = new_fingerprint(service, masked), "new: no known pattern is similar (its run may still group it with others)"
    return Explanation(redact(grouped), redact_template(masked), used, how, fp, redact_template(templates.get(fp, masked)), issues.get(fp))
