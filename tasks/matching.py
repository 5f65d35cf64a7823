"""Matching a pattern with issues a person already filed, so the gardener links instead of duplicating."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from log_gardener.tasks.measure import PatternMeasure
from log_gardener.tasks.trackers import Issue, Tracker
from log_gardener.tasks.vectors import cosine, tfidf
from log_gardener.tasks.vocabulary import Status

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+|\d{3}")
_STOP = frozenset("the a an to of in for on and or is are be was with not no this that from at by it as".split())


def words(text: str) -> list[str]:
    """Lower-case words, camelCase and snake_case split, placeholders and stop words dropped."""
    text = re.sub(r"<[A-Z*]+>", " ", text or "")
    text = _CAMEL.sub(" ", text).replace("_", " ")
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP]


def pattern_text(template: str, module: str | None, function: str | None) -> str:
    return " ".join(filter(None, [template, module, function]))


def best_matches(patterns: Sequence[str], issues: Sequence[Issue], threshold: float) -> list[tuple[Issue, float] | None]:
    """For each pattern text, the most similar issue (title weighs double) if its cosine is at least `threshold`."""
    if not patterns or not issues:
        return [None] * len(patterns)
    issue_texts = [f"{i.title} {i.title} {i.body}" for i in issues]
    vectors = tfidf([words(text) for text in issue_texts + list(patterns)], sublinear_tf=True)
    similarity = cosine(vectors[len(issues) :], vectors[: len(issues)])
    result: list[tuple[Issue, float] | None] = []
    for row in similarity:
        best = int(row.argmax())
        result.append((issues[best], float(row[best])) if row[best] >= threshold else None)
    return result


def issues_describing(
    tracker: Tracker,
    measures: Sequence[PatternMeasure],
    issues: Mapping[str, int],
    min_similarity: float,
    wants_issue: Callable[[PatternMeasure], bool] = lambda m: True,
) -> dict[str, tuple[int, float]]:
    """Issues filed by people that describe an active pattern which has no issue yet: link instead of duplicate.

    Returns fingerprint -> (issue number, similarity); an issue already tied to a pattern is never offered.
    wants_issue: whether a pattern would get an issue at all (below the create threshold it would not, and the
        tracker is not asked for candidates on its account).
    """
    wanting = [m for m in measures if m.fingerprint not in issues and m.count and m.status != Status.QUIET and wants_issue(m)]
    if not wanting:
        return {}
    taken = set(issues.values())
    candidates = [i for i in tracker.candidates() if i.number not in taken]
    texts = [pattern_text(m.template, m.module, m.function) for m in wanting]
    found = best_matches(texts, candidates, min_similarity)
    return {m.fingerprint: (hit[0].number, hit[1]) for m, hit in zip(wanting, found) if hit}
