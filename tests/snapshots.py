"""What a run leaves in the warehouse, without ids and clocks: two runs with the same outcome compare equal."""

from collections.abc import Callable

RUN_OUTCOME = {
    "entries": "select insert_id from log_entries",
    "rejected": "select rejection_id, reason from rejected_entries",
    "keys": "select masked_message, fingerprint from cluster_keys",
    "counts": "select fingerprint, entries, status, priority from cluster_counts",
    "clusters": "select fingerprint, template, issue_number, current_priority from clusters",
    "issues": "select number, title, labels, state from tracker_issues",
    "comments": "select issue_number, body from tracker_comments",
    "actions": "select action_key, action, state from issue_actions",
}


def run_outcome(rows: Callable[[str], list[tuple]]) -> dict:
    """Each table's rows (sorted) through `rows`, a query runner of the warehouse under test."""
    return {name: sorted(rows(sql)) for name, sql in RUN_OUTCOME.items()}
