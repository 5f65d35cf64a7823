"""Grouping accuracy on the labelled loghub samples beside the repository (skipped when absent)."""

from pathlib import Path

import pytest

from bench.grouping_quality import DEFAULT_DIR, drain3_labels, grouping_scores, prefixed, read_dataset
from log_gardener.tasks.cluster_lines import cluster_lines

DATASETS = sorted(Path(DEFAULT_DIR).glob("*.csv"))


@pytest.mark.skipif(not DATASETS, reason=f"no loghub samples in {DEFAULT_DIR}")
def test_mean_grouping_accuracy_and_drain3_per_dataset():
    scores = []
    for path in DATASETS:
        messages, truth = read_dataset(path)
        labels, _ = cluster_lines(messages)
        ga, _ = grouping_scores(labels, truth)
        scores.append(ga)
        drain = drain3_labels(messages)
        if drain is not None:
            assert ga >= grouping_scores(drain, truth)[0] - 1e-9, path.stem
    assert sum(scores) / len(scores) >= 0.90


def _prefixed_score(system: str, prefix: str) -> float:
    """GA of one loghub sample's lines behind one prefix of the bench's fourth table."""
    messages, truth = read_dataset(next(path for path in DATASETS if path.stem.startswith(system)))
    labels, _ = cluster_lines(prefixed(messages, truth)[prefix])
    return grouping_scores(labels, truth)[0]


@pytest.mark.skipif(not DATASETS, reason=f"no loghub samples in {DEFAULT_DIR}")
def test_a_threads_name_in_brackets_before_each_line_is_known_as_a_value_before_it_anchors_statements():
    # "[main] [instance: <*>] Creating image" / "... Claim successful": read as words, "main" and "instance" would be
    # two words in common of the statements they open, which join before the thread's name is known as a value
    assert _prefixed_score("OpenStack", "[thread]") >= 0.9


@pytest.mark.skipif(not DATASETS, reason=f"no loghub samples in {DEFAULT_DIR}")
def test_the_message_of_logfmt_lines_groups_as_the_bare_message_does():
    # `msg="Received block ..."`: the word after `msg=` is the statement's, not a value, when it is quoted
    assert _prefixed_score("HDFS", "logfmt") >= 0.95


def test_scores_of_a_perfect_and_a_merged_grouping():
    assert grouping_scores([1, 1, 2], ["a", "a", "b"]) == (1.0, 1.0)
    ga, fga = grouping_scores([1, 1, 1], ["a", "a", "b"])
    assert ga == 0.0 and fga == 0.0
