"""Stable pattern identity across runs.

A masked message seen before keeps its fingerprint (`cluster_keys`). A cluster
of this run whose members are partly known joins the best-known fingerprint
among them; a wholly new cluster joins the most similar known pattern above
`min_similarity`, or starts a new fingerprint. Known fingerprints are never
merged or renamed, so an issue never loses its pattern.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from log_gardener.tasks.clustering import WILDCARD, merge_template, render_template, tokenize
from log_gardener.tasks.vectors import cosine, tfidf


def new_fingerprint(service: str, template: str) -> str:
    return hashlib.sha1(f"{service}\x1f{template}".encode()).hexdigest()[:16]


@dataclass
class Identities:
    """The outcome of identification for one run."""

    fingerprint_of: dict[str, str]  # masked message -> fingerprint
    template_of: dict[str, str]  # fingerprint -> template
    new_fingerprints: set[str] = field(default_factory=set)
    new_keys: dict[str, str] = field(default_factory=dict)  # masked messages seen for the first time
    regrouped_from: dict[str, str] = field(default_factory=dict)  # new fingerprint -> the one grouping rules split it from


def _template_tokens(template: str) -> list[str]:
    return [t for t in tokenize(template) if t != WILDCARD]


def nearest_known(templates: Sequence[str], known: Mapping[str, str], min_similarity: float) -> list[str | None]:
    """For each template, the fingerprint of the most similar known template, if similar enough."""
    if not templates or not known:
        return [None] * len(templates)
    fingerprints = list(known)
    corpus = [_template_tokens(known[fp]) for fp in fingerprints] + [_template_tokens(t) for t in templates]
    vectors = tfidf(corpus)
    known_vectors, new_vectors = vectors[: len(fingerprints)], vectors[len(fingerprints) :]
    similarity = cosine(new_vectors, known_vectors)
    result: list[str | None] = []
    for row in similarity:
        best = int(row.argmax())
        result.append(fingerprints[best] if row[best] >= min_similarity else None)
    return result


def identify(
    service: str,
    messages: Sequence[str],
    counts: Sequence[int],
    labels: Sequence[int],
    templates: Mapping[int, str],
    known_keys: Mapping[str, str],
    known_templates: Mapping[str, str],
    min_similarity: float = 0.75,
    aliases: Mapping[str, Mapping[str, int]] | None = None,
) -> Identities:
    """Give every masked message of this run a fingerprint.

    aliases: key -> {former key: entries} where the rules file's grouping rules changed what messages are grouped
    by. A pattern of such keys inherits the fingerprint its former keys had (most entries first), so a merge keeps
    the issue of its largest part. A fingerprint goes to one pattern only: the other parts of a split are new
    patterns, `regrouped_from` it, never joined back to it by similarity.
    """
    fingerprint_of: dict[str, str] = {}
    template_of = dict(known_templates)
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        members[int(label)].append(i)

    unresolved: list[int] = []
    for label, idx in members.items():
        votes: Counter[str] = Counter()
        for i in idx:
            fp = known_keys.get(messages[i])
            if fp:
                fingerprint_of[messages[i]] = fp
                votes[fp] += counts[i]
        if votes:
            winner = votes.most_common(1)[0][0]
            for i in idx:
                fingerprint_of.setdefault(messages[i], winner)
            for fp in votes:
                # a key stored by a run that died before it stored its cluster
                template_of.setdefault(fp, templates[label])
        else:
            unresolved.append(label)

    unresolved, inherited, regrouped_from = _inherit(unresolved, members, messages, aliases or {}, known_keys, fingerprint_of)
    nearest = nearest_known([templates[label] for label in unresolved], known_templates, min_similarity)
    new: set[str] = set()
    for label, match in zip(unresolved, nearest):
        if label in regrouped_from:
            match = None  # split off a known pattern on purpose: not joined back to it
        fp = match or new_fingerprint(service, templates[label])
        if not match and fp not in template_of:
            template_of[fp] = templates[label]
            new.add(fp)
        for i in members[label]:
            fingerprint_of[messages[i]] = fp
    new_keys = {m: fp for m, fp in fingerprint_of.items() if m not in known_keys}
    _generalise_known_templates(template_of, new_keys, known_templates)
    for fp, label in inherited.items():
        template_of[fp] = templates[label]  # the pattern now reads as the rules group it
    split = {fingerprint_of[messages[members[label][0]]]: old for label, old in regrouped_from.items()}
    return Identities(fingerprint_of, template_of, new, new_keys, {fp: old for fp, old in split.items() if fp != old})


def _inherit(
    unresolved: list[int],
    members: Mapping[int, list[int]],
    messages: Sequence[str],
    aliases: Mapping[str, Mapping[str, int]],
    known_keys: Mapping[str, str],
    fingerprint_of: dict[str, str],
) -> tuple[list[int], dict[str, int], dict[int, str]]:
    """Patterns whose keys grouping rules made inherit the fingerprint of their former keys, one pattern per
    fingerprint, most entries first. Returns the labels still unresolved, the fingerprints inherited (by which
    label), and for the labels that lost a fingerprint to another part, the fingerprint they were split from."""
    claims: list[tuple[int, int, str]] = []
    for label in unresolved:
        votes: Counter[str] = Counter()
        for i in members[label]:
            for former, entries in aliases.get(messages[i], {}).items():
                if former in known_keys:
                    votes[known_keys[former]] += entries
        claims += [(entries, label, fp) for fp, entries in votes.items()]
    # a fingerprint a known key holds in this run is taken: a new part of a split never joins it
    held = set(fingerprint_of.values())
    taken: dict[str, int] = {}
    resolved: set[int] = set()
    regrouped_from: dict[int, str] = {}
    for _entries, label, fp in sorted(claims, key=lambda c: (-c[0], c[1], c[2])):
        if label in resolved:
            continue
        if fp in taken or fp in held:
            regrouped_from.setdefault(label, fp)
            continue
        taken[fp] = label
        resolved.add(label)
        regrouped_from.pop(label, None)
        for i in members[label]:
            fingerprint_of[messages[i]] = fp
    return [label for label in unresolved if label not in resolved], taken, regrouped_from


def _generalise_known_templates(template_of: dict[str, str], new_keys: Mapping[str, str], known_templates: Mapping[str, str]) -> None:
    """A known pattern's template changes only when new variants really differ from it (position by position)."""
    joined: dict[str, list[str]] = defaultdict(list)
    for message, fp in new_keys.items():
        if fp in known_templates:
            joined[fp].append(message)
    for fp, messages in joined.items():
        stored = known_templates[fp]
        token_lists = [tokenize(stored)] + [tokenize(m) for m in messages]
        if len({len(tokens) for tokens in token_lists}) == 1:
            template_of[fp] = render_template(stored, merge_template(token_lists))
