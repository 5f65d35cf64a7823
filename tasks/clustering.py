"""Grouping of masked messages into patterns: TF-IDF vectors, DBSCAN on cosine distance.

The estimator follows scikit-learn's conventions: parameters in `__init__`,
fitted attributes end in `_`, `fit` returns self. Messages are first blocked
by (token count, first constant token), as a log statement rarely changes
either; DBSCAN then runs per block, so memory grows with the largest block,
never with the square of the input.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Sequence

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.feature_extraction.text import TfidfVectorizer

WILDCARD = "<*>"
MAX_TEMPLATE_CHARS = 1_000
_TOKEN = re.compile(r"<[A-Z*]+>|[^\s,;=:()\[\]{}\"'|]+|[=:()\[\]{}|]")
_PLACEHOLDER = re.compile(r"^<[A-Z*]+>$")


def tokenize(message: str, max_tokens: int = 64) -> list[str]:
    """Split a masked message into tokens; placeholders stay whole, at most `max_tokens`."""
    return _TOKEN.findall(message)[:max_tokens]


def is_variable(token: str) -> bool:
    return bool(_PLACEHOLDER.match(token))


def merge_template(token_lists: Sequence[Sequence[str]]) -> list[str]:
    """Position-wise template: a token shared by every member stays, others become <*>."""
    first = list(token_lists[0])
    if any(len(tokens) != len(first) for tokens in token_lists):
        # different lengths only happen when blocks were merged: keep the common prefix
        width = min(len(tokens) for tokens in token_lists)
        first = first[:width]
        token_lists = [tokens[:width] for tokens in token_lists]
    template = []
    for i, token in enumerate(first):
        same = all(tokens[i] == token for tokens in token_lists)
        template.append(token if same else WILDCARD)
    return template


def render_template(message: str, template_tokens: Sequence[str], max_tokens: int = 64) -> str:
    """`message` with the spans of its varying tokens replaced by <*> (keeps its spacing)."""
    out, last = [], 0
    for position, match in enumerate(_TOKEN.finditer(message)):
        if position >= min(max_tokens, len(template_tokens)):
            break
        if template_tokens[position] == WILDCARD:
            out.append(message[last : match.start()] + WILDCARD)
            last = match.end()
    out.append(message[last:])
    return "".join(out)[:MAX_TEMPLATE_CHARS]


class PatternClusterer:
    """TF-IDF + DBSCAN (cosine) over distinct masked messages, weighted by their counts.

    eps: largest cosine distance between neighbours (1 - similarity).
    max_tokens: tokens considered per message (long messages are capped, never rejected).
    max_block: largest block DBSCAN sees at once; larger blocks are split by more tokens.
    max_field_values: a token position with more distinct values than this in a block is a free field;
        one with this many or fewer plain words is part of the statement.
    """

    def __init__(self, eps: float = 0.2, max_tokens: int = 64, max_block: int = 2_000, max_field_values: int = 8):
        self.eps = eps
        self.max_field_values = max_field_values
        self.max_tokens = max_tokens
        self.max_block = max_block

    def _block_key(self, tokens: list[str], depth: int) -> tuple:
        constant = [t for t in tokens if not is_variable(t)]
        return (len(tokens), *constant[:depth])

    def _blocks(self, token_lists: list[list[str]], indices: list[int], depth: int) -> list[list[int]]:
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i in indices:
            groups[self._block_key(token_lists[i], depth)].append(i)
        blocks = []
        for members in groups.values():
            if len(members) > self.max_block and depth < 6:
                blocks.extend(self._blocks(token_lists, members, depth + 1))
            else:
                blocks.append(members)
        return blocks

    def _split_statement_words(self, block: list[int], token_lists: list[list[str]], labels: np.ndarray) -> np.ndarray:
        """Split clusters where members differ by plain words that take few values.

        With few messages TF-IDF cannot tell "VM Paused" from "VM Resumed"; a
        position whose values are all alphabetic words (3+ letters), at most
        `max_field_values` of them, is a word of the statement, so each value is
        its own pattern. Ids, numbers, hosts and paths are masked or carry
        digits and punctuation, so they never split a pattern here.
        """
        width = len(token_lists[block[0]])
        if any(len(token_lists[i]) != width for i in block):
            return labels
        result = labels.copy()
        next_label = int(labels.max()) + 1
        members: dict[int, list[int]] = defaultdict(list)
        for local, label in enumerate(labels):
            members[int(label)].append(local)
        for label, locals_ in members.items():
            if len(locals_) < 2:
                continue
            words = []
            for pos in range(width):
                values = {token_lists[block[m]][pos] for m in locals_}
                if 1 < len(values) <= self.max_field_values and all(v.isalpha() and len(v) >= 3 for v in values):
                    words.append(pos)
            if not words:
                continue
            new_label: dict[tuple, int] = {}
            for m in locals_:
                key = tuple(token_lists[block[m]][pos] for pos in words)
                if key not in new_label:
                    if new_label:  # the first value keeps the label, the others get new ones
                        new_label[key] = next_label
                        next_label += 1
                    else:
                        new_label[key] = label
                result[m] = new_label[key]
        return result

    def _join_free_fields(self, block: list[int], token_lists: list[list[str]], labels: np.ndarray) -> np.ndarray:
        """Join clusters of a block that differ only where the block has many distinct values.

        TF-IDF makes a rare token weigh a lot, so free-text fields (names, hosts)
        split a statement; a position with more than `max_field_values` distinct
        tokens is a field, not a word of the statement. Few values (VM Paused /
        VM Resumed, invalid password / account locked) stay apart.
        """
        width = len(token_lists[block[0]])
        if any(len(token_lists[i]) != width for i in block):
            return labels
        values = [len({token_lists[i][pos] for i in block}) for pos in range(width)]
        free = [v > self.max_field_values for v in values]
        joined: dict[tuple, int] = {}
        result = labels.copy()
        for local, i in enumerate(block):
            key = tuple(WILDCARD if free[pos] else tok for pos, tok in enumerate(token_lists[i]))
            joined.setdefault(key, int(labels[local]))
        # union of the DBSCAN clusters that share a key
        parent = {label: label for label in set(int(x) for x in labels)}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for local, i in enumerate(block):
            key = tuple(WILDCARD if free[pos] else tok for pos, tok in enumerate(token_lists[i]))
            a, b = find(int(labels[local])), find(joined[key])
            if a != b:
                parent[a] = b
        for local in range(len(block)):
            result[local] = find(int(labels[local]))
        return result

    def fit(self, messages: Sequence[str], counts: Sequence[int] | None = None) -> "PatternClusterer":
        """Group `messages` (distinct masked messages); `counts` weight them."""
        n = len(messages)
        weights = np.asarray(counts if counts is not None else [1] * n, dtype=float)
        token_lists = [tokenize(m, self.max_tokens) for m in messages]
        labels = np.full(n, -1, dtype=int)
        next_label = 0
        if n:
            vectorizer = TfidfVectorizer(
                analyzer=lambda i: [f"{pos}:{tok}" for pos, tok in enumerate(token_lists[i])] + token_lists[i],
                lowercase=False,
                sublinear_tf=True,
            )
            vectors = vectorizer.fit_transform(range(n))
            for block in self._blocks(token_lists, list(range(n)), depth=1):
                if len(block) == 1:
                    labels[block[0]] = next_label
                    next_label += 1
                    continue
                model = DBSCAN(eps=self.eps, min_samples=1, metric="cosine", algorithm="brute")
                block_labels = model.fit_predict(vectors[block], sample_weight=weights[block])
                block_labels = self._split_statement_words(block, token_lists, block_labels)
                block_labels = self._join_free_fields(block, token_lists, block_labels)
                for local in np.unique(block_labels):
                    labels[np.asarray(block)[block_labels == local]] = next_label
                    next_label += 1
        self.labels_ = labels
        self.n_clusters_ = next_label
        members: dict[int, list[int]] = defaultdict(list)
        for i, label in enumerate(labels):
            members[int(label)].append(i)
        self.templates_ = {}
        for label, idx in members.items():
            representative = max(idx, key=lambda i: (weights[i], -i))
            tokens = merge_template([token_lists[i] for i in idx])
            self.templates_[label] = render_template(messages[representative], tokens, self.max_tokens)
        self.token_lists_ = token_lists
        return self

    def fit_predict(self, messages: Sequence[str], counts: Sequence[int] | None = None) -> np.ndarray:
        return self.fit(messages, counts).labels_
