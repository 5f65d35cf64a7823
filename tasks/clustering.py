"""Grouping of masked messages into patterns: statement shapes, TF-IDF vectors, DBSCAN on cosine distance.

The estimator follows scikit-learn's conventions: parameters in `__init__`,
fitted attributes end in `_`, `fit` returns self.

Three general observations about logging statements shape the method:

1. A value that carries a digit (ids, counts, times, sizes, versions) or sits
   right after `=` is a variable, and a run of values joined only by
   punctuation (`00:02:13`, `1,024`, `10.0.0.1:80`) is one value of any
   length, and so is text glued to a value (`367.0MB`), parts glued to a
   number by colons (`session:7513:profile`), an error printed with its
   argument (`KeyError('x')`) and a `key=` value of a few words up to the
   comma before the next key. Each message is
   reduced to its *shape*: constant tokens with every such run as one `<*>`,
   so a field that holds two tokens instead of one does not split a
   statement. Many messages share a shape, so the rest of
   the work is on distinct shapes, never on lines.
2. A statement rarely changes its token count or its first constant word:
   shapes are blocked by both, DBSCAN runs per block on TF-IDF vectors, so
   memory grows with the largest block, never with the square of the input.
3. Within a block, a position where shapes take many distinct plain words is
   a free field (names, hosts, free text) and joins them; one where they take
   a few plain words is a word of the statement ("VM Paused" / "VM Resumed")
   and splits them, unless two unrelated statements take those words too
   (user names, HTTP methods: the values of a field with few values); shapes
   one identifier apart (`db_main` / `db-replica-eu`)
   join. The first shared word may be a value itself (a user name printed by
   other statements too): blocked again past it, shapes that vary there and
   at their other free fields within their own group join. Finally,
   patterns whose templates align on their words with a value in each gap
   are the same statement, compared with the widened template once a
   statement has taken values of several lengths; free text one of them has
   more next to a value both hold is that value's.
"""

from __future__ import annotations

import gc
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from itertools import combinations

import numpy as np

from log_gardener.tasks.vectors import SMALL_BLOCK, SparseRows, dbscan_one_per_core, near_pairs, tfidf

WILDCARD = "<*>"
_THEN_WILDCARD = "\x00<*>"  # in a template's tokens: this token, then a value (one that is empty in this message)
MAX_TEMPLATE_CHARS = 1_000
# the most words a value printed as free text is taken to hold (as many as the masking takes in quotes)
MAX_VALUE_WORDS = 5
# the fewest plain words a field with few values must take in each of two statements, and share, to be known as one
MIN_ENUMERATION = 3
# the statements (blocks) that take the same words compared for two unrelated ones, the first in the input's order:
# many related ones (one family) would otherwise cost the square of their number for each combination of words
MAX_ENUMERATION_STATEMENTS = 16
# a mark that ends a source tag opening a message ("java - ...", "kernel: ...", "worker | ...")
SOURCE_MARKS = frozenset({"-", "--", ":", "|", "->"})
MAX_TAG_POSITION = 8  # a source tag is looked for among a message's first tokens only
# a program's name with its process id in brackets and a colon, as syslog prints it (`sshd[4242]:`, masked or not)
_PROCESS_TAG = re.compile(r"(?<![\w.<>-])[A-Za-z][\w.<>-]*\[(?:\d+|<[A-Z]+>)\]:")
_PART = r"[^\s,;=:()\[\]{}\"'|]"  # a character of a token: marks that separate values are tokens of their own
_TOKEN = re.compile(
    # most tokens: a run of such characters that no colon glues to another part and no bracket opens after
    rf"{_PART}++(?!:{_PART}|\()"
    # parts glued by colons, one of them a number or a masked value, are one token: `session:7513:profile`, `db-2:5432`
    # (the number is looked for within 64 characters: each part of a long run is a token start, and a longer look
    # from each would take the square of its length)
    rf"|(?={_PART}*+:{_PART})(?=[^\s,;=()\[\]{{}}\"'|]{{0,64}}?(?:\d|<[A-Z]+>))(?:{_PART}+:)+{_PART}+"
    # and so is an object printed with its one quoted argument, or an error with its one argument whatever it is:
    # `KeyError(<STR>)`, `ConnectionRefusedError(<NUM>)`
    r"|[A-Za-z_][\w.]*(?:\(<STR>\)|(?:Error|Exception)\(<[A-Z]+>\))"
    rf"|{_PART}+|[=:()\[\]{{}}|]"
)
_PLACEHOLDER = re.compile(r"^<[A-Z*]+>$")
_HAS_VALUE = re.compile(r"\d|<[A-Z*]+>|^[/~.]*/|/.*/|\\.*\\")
_JOINERS = frozenset(":=|()[]{}")
_CLOSING = {"[": "]", "(": ")", "{": "}"}
_OPENING_OF = {close: open_ for open_, close in _CLOSING.items()}
_WORD = re.compile(r"[A-Za-z]")
_VALUE_MARKS = _JOINERS | frozenset(".,;/#'\"")  # marks inside or around a value
_HEX_GROUP = re.compile(r"^[0-9a-fA-F]{1,4}$")
# the words a boolean is printed as: a value whatever statement prints it (`yes`, `no`, `none` are ordinary words too)
_BOOLEANS = frozenset({"true", "false"})
# the loopback host's reserved name is a host like any other (`localhost:5432` already reads as a value by its port)
_LOOPBACK = "localhost"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
# A host name is a value: dot-separated labels that end in a generic top-level domain, or in a country's after a
# generic second level or two labels (`mail.example.org`, `proxy.cs.univ.edu.hk`, `mail.yandex.ru`), in lower case as
# hosts are written. A name that opens with a package root is code (`java.io`, `org.apache.hadoop.io`), and other dotted names
# (`NameSystem.delete`, `mapred.task.id`, `com.apple.xpc`) are as often words of the statement.
_HOST = re.compile(
    r"^(?!(?:java|javax|org|com|net|android|kotlin|scala|sun)\.)(?:"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"(?:com|net|org|edu|gov|mil|io|local|lan|internal|localdomain|arpa|(?:co|com|net|org|edu|gov|ac)\.[a-z]{2})"
    # or, after two labels or more, a country's two letters: two letters that name a field or a source file's type in
    # code aside (`mapred.task.id`, `self.instance.pk`, `request.state.ok`; the types `_FILE_NAME` knows are values anyway)
    r"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.){2,}(?!(?:id|pk|fk|ok|tz|ts|rb|rs|go|md|ui|os|fs|ip|cs|hs|ml|pl|pm)$)[a-z]{2}"
    r")$"
)
# So is a file name with a common file-type extension: which program, library or file (`chrome.exe`, `libssl.so`).
_FILE_NAME = re.compile(
    r"^[\w.+-]*\w\.(?:exe|dll|so|jar|war|py|js|sh|bat|ps1|log|txt|json|xml|yaml|yml|conf|cfg|ini|csv|dat|db|tmp|pid"
    r"|sock|gz|zip|tar|tgz|pdf|png|jpg|html?)$",
    re.IGNORECASE,
)


def tokenize(message: str, max_tokens: int = 64) -> list[str]:
    """Split a masked message into tokens; placeholders stay whole, at most `max_tokens`."""
    return _TOKEN.findall(message)[:max_tokens]


@lru_cache(maxsize=1 << 16)  # a window's tokens repeat: each is judged once (a tenth of the time at 200k messages)
def is_variable(token: str) -> bool:
    """A placeholder, a token that carries a digit or a masked value (`blk_<NUM>`, `v2`, `db-7`), a path, a boolean,
    a host name (`localhost` too) or a file name."""
    lowered = token.lower()
    return (
        _HAS_VALUE.search(token) is not None
        or lowered in _BOOLEANS
        or lowered == _LOOPBACK
        or ("." in token and (_HOST.match(token) is not None or _FILE_NAME.match(token) is not None))
    )


def statement_shape(
    tokens: Sequence[str], comma_after: frozenset[int] = frozenset(), quoted: frozenset[int] = frozenset()
) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """The tokens with every run of values as one `<*>`, and the token span each shape position covers.

    comma_after: the tokens a comma follows in the message (see `tokens_and_commas`): a `key=` value of several
    words runs on to the comma before the next `key=` (`shape=missing required field, dtype=int8`).
    quoted: the tokens that open a quoted text after `key=` (see `quoted_texts`): text, not a value for being there.
    """
    shape: list[str] = []
    spans: list[tuple[int, int]] = []
    n = len(tokens)
    i = 0
    while i < n:
        token = tokens[i]
        if token == "=" and _empty_value(tokens, i):
            # `logname= uid=0`: an empty value is a value too, and the key after it stays a word
            shape.extend((token, WILDCARD))
            spans.extend(((i, i + 1), (i + 1, i + 1)))
            i += 1
            if i < n:  # the key
                shape.append(tokens[i])
                spans.append((i, i + 1))
                i += 1
        elif is_variable(token) or (i > 0 and tokens[i - 1] == "=" and token not in _JOINERS and i not in quoted):
            j = i + 1
            while j < n:
                if is_variable(tokens[j]):
                    j += 1
                elif (
                    tokens[j] in _JOINERS
                    and j + 1 < n
                    and (is_variable(tokens[j + 1]) or (tokens[j] == ":" and j - i >= 3 and _HEX_GROUP.match(tokens[j + 1])))
                ):
                    # 10.0.0.1:80, 00:02:13, and MAC / IPv6 groups such as 1a:ee:3b
                    j += 2
                else:
                    break
            while j < n and tokens[j] in _OPENING_OF and tokens[i:j].count(_OPENING_OF[tokens[j]]) > tokens[i:j].count(tokens[j]):
                j += 1  # a bracket the value opened closes in it: `python3[4242]`, `libc-2.31.so[7f+3a]`
            if comma_after and i > 0 and tokens[i - 1] == "=":
                j = _value_before_next_key(tokens, j, comma_after)
            shape.append(WILDCARD)
            spans.append((i, j))
            i = j
        elif token in _CLOSING and i + 1 < n and tokens[i + 1] == _CLOSING[token]:
            # an empty list, dict or argument list is a value too: [] and ['a', 'b'] read alike
            shape.append(WILDCARD)
            spans.append((i, i + 2))
            i += 2
        else:
            shape.append(token)
            spans.append((i, i + 1))
            i += 1
    # a bracket that holds nothing but one value is that value: [<*>] reads like []. So is one word alone in
    # parentheses, a name set apart (`Killed process 42 (java)`, `(root) CMD`): the parentheses stay in the template
    k = 0
    while k + 2 < len(shape):
        if shape[k] in _CLOSING and shape[k + 1] == WILDCARD and shape[k + 2] == _CLOSING[shape[k]]:
            shape[k : k + 3] = [WILDCARD]
            spans[k : k + 3] = [(spans[k][0], spans[k + 2][1])]
        elif shape[k] == "(" and shape[k + 2] == ")" and shape[k + 1] not in _JOINERS:
            shape[k : k + 3] = [WILDCARD]
            spans[k : k + 3] = [spans[k + 1]]
        k += 1
    return tuple(shape), tuple(spans)


def _value_before_next_key(tokens: Sequence[str], j: int, comma_after: frozenset[int]) -> int:
    """Where a `key=` value that reaches `j` ends: on to a comma followed by the next `key=`, over at most
    `MAX_VALUE_WORDS` words and no mark; at `j` when there is none (`user=bob logged in from host=h1` keeps its words)."""
    if j - 1 in comma_after:
        return j
    n = len(tokens)
    for k in range(j, min(n - 2, j + MAX_VALUE_WORDS - 1)):
        if not _is_word(tokens[k]):  # a mark (a joiner, a bracket) ends it
            return j
        if k in comma_after:
            return k + 1 if tokens[k + 2] == "=" and _KEY.match(tokens[k + 1]) else j
    return j


def tokens_and_commas(message: str, max_tokens: int = 64) -> tuple[list[str], frozenset[int]]:
    """`tokenize(message, max_tokens)`, and the positions of those tokens that a comma follows (spaces aside)."""
    tokens: list[str] = []
    found = set()
    for match in _TOKEN.finditer(message):
        if len(tokens) == max_tokens:
            break
        end = match.end()
        while end < len(message) and message[end] == " ":
            end += 1
        if end < len(message) and message[end] == ",":
            found.add(len(tokens))
        tokens.append(match.group())
    return tokens, frozenset(found)


def quoted_texts(message: str, tokens: Sequence[str]) -> frozenset[int]:
    """The positions of the tokens that open a quoted text after `key=` (`msg="Received block ..."`).

    Masking leaves a quoted text of more than five words, or with a path in it: the message of a logfmt line
    (`level=warn msg="..."`), text whose words are read as any others, not one value. Called for messages that
    hold `="`; `tokens` are the message's, `tokenize` splits them the same way.
    """
    found = set()
    for position, match in enumerate(_TOKEN.finditer(message)):
        if position >= len(tokens):
            break
        start = match.start()
        if position and tokens[position - 1] == "=" and start >= 2 and message[start - 2 : start] == '="':
            found.add(position)
    return frozenset(found)


def _empty_value(tokens: Sequence[str], i: int) -> bool:
    """Whether the `=` at `i` holds no value: the line ends there, or the next token is a key with a value of its own."""
    n = len(tokens)
    if i + 1 == n:
        return True
    # `ruser= rhost=` at the end of a line: the key's own value is empty too
    return i + 2 < n and tokens[i + 2] == "=" and (i + 3 == n or tokens[i + 3] != "=") and _KEY.match(tokens[i + 1]) is not None


def collapse_wildcards(tokens: Sequence[str]) -> tuple[str, ...]:
    """Adjacent wildcards read as one value of any length."""
    out: list[str] = []
    for token in tokens:
        if token == WILDCARD and out and out[-1] == WILDCARD:
            continue
        out.append(token)
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _is_word(token: str) -> bool:
    return token != WILDCARD and _WORD.search(token) is not None


@lru_cache(maxsize=1 << 16)
def _is_name(token: str) -> bool:
    # an identifier: a word with a digit, `_`, `-` or `.` in it (`db_main`, `acme-eu`), not a mark, nor a plain word
    # that ends a sentence ("bounds.")
    return _is_word(token) and not token.isalpha() and token not in _JOINERS and _plain_stem(token) is None


# a unit, file or host name: parts joined by dots, the last one a lower-case suffix (`cron.service`, `NetworkManager.service`)
_DOTTED = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-z]+")


@lru_cache(maxsize=1 << 16)
def _is_dotted_name(token: str) -> bool:
    # a sentence's marks after it aside; a class's name (`com.acme.OrderService`) or two words that lack a space
    # (`finished.Exiting`) end otherwise
    return _is_name(token) and _DOTTED.fullmatch(token.rstrip(".!?")) is not None


def _is_plain_word(token: str) -> bool:
    # two letters are enough: "no" / "different", "NO" / "YES", "up" / "down" tell statements apart, and so do
    # two-letter units and codes where only a few of them are seen ("KB" / "MB"); one letter is as often a value
    # (a drive, a grade) as a word
    return token.isalpha() and len(token) >= 2


# a comma, a semicolon or a colon is a token of its own: only these stay on a word
_CLAUSE_MARKS = frozenset(".!?")


@lru_cache(maxsize=1 << 16)
def _plain_stem(token: str) -> str | None:
    """The plain word a token is, or ends a sentence with ("root." / "root!"); None for any other."""
    if _is_plain_word(token):
        return token
    if token[-1:] in _CLAUSE_MARKS and _is_plain_word(token[:-1]):
        return token[:-1]
    return None


def _process_tags(messages, token_lists, spans_of, shape_of, shapes) -> set[tuple[int, int]]:
    """The (shape, position) of each word that a message prints as a program's tag with its process id.

    `nginx[4242]:` as syslog prints it: the word, then a value that is one id in brackets, then a colon. The shape
    reads the brackets as a value like any other, so the message's own tokens say where they are.
    """
    found: set[tuple[int, int]] = set()
    seen: set[int] = set()
    for i, message in enumerate(messages):
        s = int(shape_of[i])
        if s in seen or "]:" not in message or not _PROCESS_TAG.search(message):
            continue
        seen.add(s)
        shape, spans, tokens = shapes[s], spans_of[i], token_lists[i]
        for pos in range(min(len(shape) - 2, MAX_TAG_POSITION)):
            if _is_word(shape[pos]) and shape[pos + 1] == WILDCARD and shape[pos + 2] == ":":
                start, end = spans[pos + 1]
                if end - start == 3 and tokens[start] == "[" and tokens[end - 1] == "]":
                    found.add((s, pos))
    return found


def _bracketed_openings(messages, token_lists, spans_of, shape_of, shapes, counts) -> np.ndarray:
    """Per shape, how many of its messages (by `counts`) print square brackets where a source tag may open.

    "[worker-1] Receiving ..." reads as "<*> Receiving ...", and so does "<TS> [worker-1] Receiving ...", whose
    time takes in the brackets; "<TS> Receiving ..." reads the same without any: each message's own tokens tell.
    A tag opens the shape, follows a mark, or follows the one value that opens it (see `_bracket_tags`).
    """
    found = np.zeros(len(shapes))
    for i, message in enumerate(messages):
        if "[" not in message:
            continue
        s = int(shape_of[i])
        shape, spans, tokens = shapes[s], spans_of[i], token_lists[i]
        for pos in range(min(len(shape), MAX_TAG_POSITION)):
            if not _may_open_a_tag(shape, pos):
                continue
            start, end = spans[pos]
            if shape[pos] == "[" or (shape[pos] == WILDCARD and "[" in tokens[start:end]):
                found[s] += counts[i]
                break
    return found


def _join_pairs(labels: np.ndarray, pairs) -> np.ndarray:
    """`labels` with the clusters of each (label, label) pair in `pairs` joined, each into the other's group."""
    parent = {int(label): int(label) for label in labels}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        a, b = find(a), find(b)
        if a != b:
            parent[a] = b
    return np.array([find(int(label)) for label in labels], dtype=int)


def _tag_positions(shape: Sequence[str]) -> list[int]:
    """Where a shape may hold a source tag (see `_join_source_tags`), among its first `MAX_TAG_POSITION` tokens.

    A tag is one word or value followed by a mark, or by a value and a mark (`nginx[<*>]:`); it opens the shape or
    follows a mark, or a value that does ("kernel: [<*>] nginx[<*>]:").
    """
    found = []
    for pos in range(min(len(shape) - 1, MAX_TAG_POSITION)):
        if shape[pos] != WILDCARD and (not _is_word(shape[pos]) or shape[pos] in SOURCE_MARKS):
            continue
        before = shape[pos - 1] if pos else None
        if pos and before not in SOURCE_MARKS and not (before == WILDCARD and (pos == 1 or shape[pos - 2] in SOURCE_MARKS)):
            continue
        after = shape[pos + 1]
        if after in SOURCE_MARKS or (after == WILDCARD and pos + 2 < len(shape) and shape[pos + 2] in SOURCE_MARKS):
            found.append(pos)
    return found


def _may_open_a_tag(shape: Sequence[str], pos: int) -> bool:
    """Whether a tag in brackets may open at `pos`: the shape's start, after a mark, or after the one value that
    opens the shape (a time)."""
    return not pos or shape[pos - 1] in SOURCE_MARKS or (pos == 1 and shape[0] == WILDCARD)


MAX_BRACKET_TAG_TOKENS = 8  # the tokens a thread's or component's name in brackets may take ("IPC Server handler 3 on 8020")


def _bracket_tags(shape: Sequence[str]) -> list[tuple[int, int]]:
    """Where a shape may hold a source tag in square brackets: the spans (start, stop) of `shape[start:stop]`.

    A thread's or a component's name in brackets opens many lines ("[main] ...", "[IPC Server handler 3 on 8020]
    ...", "<TS> [pool-2-thread-7] ..."): the first `[` among the shape's first `MAX_TAG_POSITION` tokens, when it
    opens the shape, follows a mark, or follows the one value that opens it; then a few tokens, a word or a value
    among them, and its `]`. A value inside may have taken in the `]` and what follows it (`8020] <IP>` is one
    value): each value before any `]` may end the tag too.
    """
    for start in range(min(len(shape) - 1, MAX_TAG_POSITION)):
        if shape[start] != "[":
            continue
        if not _may_open_a_tag(shape, start):
            return []
        spans = []
        for stop in range(start + 1, min(len(shape), start + MAX_BRACKET_TAG_TOKENS + 2)):
            token = shape[stop]
            if token == "]":
                inside = shape[start + 1 : stop]
                if any(t == WILDCARD or _is_word(t) for t in inside):
                    spans.append((start, stop + 1))
                return spans
            if token in _CLOSING:
                return spans
            if token == WILDCARD:
                spans.append((start, stop + 1))
        return spans
    return []


@lru_cache(maxsize=1 << 12)
def _any_unrelated(constants: tuple[frozenset[str], ...]) -> bool:
    """Whether two of the blocks whose constant words are `constants` are unrelated statements: they share fewer
    than half the constant words of the smaller one (each holds two at least, see `_read_block`)."""
    for k, one in enumerate(constants):
        for other in constants[k + 1 :]:
            if 2 * len(one & other) < min(len(one), len(other)):
                return True
    return False


def _words(tokens: Sequence[str]) -> int:
    return _words_in(tuple(tokens))


def _count_words(tokens: Sequence[str]) -> int:
    return sum(1 for t in tokens if _is_word(t))


# templates are compared many times each: their word count is counted once
_words_in = lru_cache(maxsize=1 << 16)(_count_words)


def _common_ends(a: Sequence[str], b: Sequence[str], at_end: bool = True, opens_value=None) -> tuple[int, int]:
    """How many tokens two templates (or two pieces of them, `at_end` when they end them) share at their start,
    and then at their end.

    A value that ends the shorter template is not common when the longer one has more tokens: it holds
    them, as a value at the end of a message can be any text (`tail_as_one_value`). "Received: <*>"
    meets "Received: unexpected end of stream <*>" (the value and the marks after it end both) and
    "Received: <*> export." (the shorter ends where the longer goes on) with its value against their text.
    A value inside the template holds nothing more ("for <*> from" / "for invalid user <*> from"), unless
    `opens_value` is given and says the longer one's extra tokens (up to `MAX_VALUE_WORDS` words and marks,
    no sign or arrow) are free text: before the value, when their first word opens free text ("retry <*>
    in" / "retry connection <*> in"); after it, when every word reads as free text ("(<*>, attempt" /
    "(<*> JSON payload, attempt").
    """
    limit = min(len(a), len(b))
    prefix = 0
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    if at_end and len(a) != len(b) and prefix + suffix == limit:  # the shorter is all common: does its last value hold the rest?
        shorter, longer = (a, b) if len(a) < len(b) else (b, a)
        # words and values only: a sign or an arrow says something of its own (as in `tail_as_one_value`)
        if all(_is_word(token) or _value_part(token) for token in longer[prefix : len(longer) - suffix]):
            if suffix and shorter[limit - suffix] == WILDCARD and all(map(_value_part, shorter[limit - suffix :])):
                suffix -= 1
            elif prefix and not suffix and shorter[-1] == WILDCARD:
                prefix -= 1
    if opens_value is not None and (len(a) == prefix + suffix) != (len(b) == prefix + suffix):
        # what one side has more, next to a value both hold, is that value's own text when it reads as free text:
        # a few words and marks, no sign or arrow
        extra = (a if len(a) > len(b) else b)[prefix : max(len(a), len(b)) - suffix]
        if sum(map(_is_word, extra)) <= MAX_VALUE_WORDS and all(_is_word(t) or _value_part(t) for t in extra):
            if suffix and a[len(a) - suffix] == WILDCARD and opens_value(_opening(extra)):
                suffix -= 1  # "retry <*> in" / "retry connection <*> in": its first words
            elif prefix and a[prefix - 1] == WILDCARD and all(map(opens_value, filter(_is_word, extra))):
                prefix -= 1  # "(<*>, attempt" / "(<*> JSON payload, attempt": the rest of it
    return prefix, suffix


def _landmark(middle_a: Sequence[str], middle_b: Sequence[str]) -> tuple[int, int] | None:
    """Where the first word that occurs exactly once on each side sits in each, or None."""
    if not middle_a or not middle_b or set(middle_a).isdisjoint(middle_b):
        return None
    count_a, count_b = Counter(middle_a), Counter(middle_b)
    for i, token in enumerate(middle_a):
        if count_a[token] == 1 and count_b.get(token) == 1 and _is_word(token):
            return i, middle_b.index(token)
    return None


def _gaps(
    a: Sequence[str], b: Sequence[str], at_end: bool = True, opens_value=None
) -> tuple[list[tuple[Sequence[str], Sequence[str]]], int]:
    """Align two templates on their common tokens: the unmatched (a, b) segments, and how many words matched.

    Common prefix and suffix first (`at_end`: see `_common_ends`); then, inside what is left, a word that
    occurs exactly once on each side is a landmark that splits the rest in two.
    """
    prefix, suffix = _common_ends(a, b, at_end, opens_value)
    matched = sum(map(_is_word, a[:prefix])) + sum(map(_is_word, a[len(a) - suffix :]))
    middle_a, middle_b = a[prefix : len(a) - suffix], b[prefix : len(b) - suffix]
    if not middle_a and not middle_b:
        return [], matched
    mark = _landmark(middle_a, middle_b)
    if mark is None:
        return [(middle_a, middle_b)], matched
    i, j = mark
    left, left_matched = _gaps(middle_a[:i], middle_b[:j], False, opens_value)
    right, right_matched = _gaps(middle_a[i + 1 :], middle_b[j + 1 :], at_end and not suffix, opens_value)
    return left + right, matched + 1 + left_matched + right_matched


def generalise(a: Sequence[str], b: Sequence[str], at_end: bool = True) -> tuple[str, ...]:
    """The template both `a` and `b` fit: their common tokens (aligned as `_gaps` aligns them), each gap one wildcard."""
    prefix, suffix = _common_ends(a, b, at_end)
    middle_a, middle_b = a[prefix : len(a) - suffix], b[prefix : len(b) - suffix]
    middle: tuple[str, ...] = ()
    if middle_a or middle_b:
        mark = _landmark(middle_a, middle_b)
        if mark is None:
            middle = (WILDCARD,)
        else:
            i, j = mark
            left = generalise(middle_a[:i], middle_b[:j], at_end=False)
            middle = (*left, middle_a[i], *generalise(middle_a[i + 1 :], middle_b[j + 1 :], at_end=at_end and not suffix))
    return collapse_wildcards((*a[:prefix], *middle, *a[len(a) - suffix :]))


def _value_part(token: str) -> bool:
    """A wildcard, or a mark that may sit inside or around a value (`host:port`, `(<*>)`, a full stop after it)."""
    return token == WILDCARD or token in _VALUE_MARKS


@lru_cache(maxsize=1 << 16)
def tail_as_one_value(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The template with the values and marks after its last other token read as one value.

    A value printed as `host` in one message and `host:port` in another, or followed by a full stop here
    and not there, is still one value at the end of one statement. Any other token ends the tail: a word in
    any script, an arrow or a status sign says something of its own.
    """
    end = len(tokens)
    while end and _value_part(tokens[end - 1]):
        end -= 1
    return (*tokens[:end], WILDCARD) if WILDCARD in tokens[end:] else tokens


def same_statement(
    a: Sequence[str],
    b: Sequence[str],
    is_value=lambda token: token == WILDCARD,
    a_is_busy: bool = False,
    b_is_busy: bool = False,
    weight=None,
) -> bool:
    """Whether two templates are one statement whose values took other tokens (see `_join_value_lengths`).

    is_value: whether a token can be part of a value (a wildcard, or free text rather than the statement's words); a gap
    of one hyphenated name on each side, neither the first nor the last token, passes as a value too (`_names_in_place`).
    a_is_busy, b_is_busy: the template is a pattern's seen in enough different texts that, when it holds a
    value (a wildcard) and still kept a plain word, that word is a word of its statement (the value varied,
    the word did not), however many other statements print it: a gap that holds such a word on that side and
    other text on the other ("Failed to read <*>" / "Failed to import tax <*>") parts them; so does a gap where such
    a word sits beside all the template's values and the other side is a lone wildcard (`_keeps_words`).
    weight: what the words of some tokens count for, when the common words must be half of each template's words
    (one each when None); given, it also parts two templates that differ only in openings of different lengths,
    either weighing more per word than the rest (`_open_with_own_words`).
    """
    a, b = tail_as_one_value(tuple(a)), tail_as_one_value(tuple(b))
    if a == b:
        return True
    gaps, anchored = _gaps(a, b, opens_value=is_value)
    if anchored < 2:
        return False  # fewer than two words in common
    for gap_a, gap_b in gaps:
        if not gap_a or not gap_b:
            return False  # words on one side only: another statement
        if len(gaps) == 1 and len(gap_a) == len(gap_b) == 1:
            stem_a, stem_b = _plain_stem(gap_a[0]), _plain_stem(gap_b[0])
            if stem_a and stem_b and stem_a != stem_b:
                # only one plain word in place of another (a full stop after either aside): a word of the statement
                # (see `_split_statement_words`)
                return False
        lone = tuple(gap_a) == (WILDCARD,) or tuple(gap_b) == (WILDCARD,)
        if (a_is_busy and _keeps_words(a, gap_a, lone)) or (b_is_busy and _keeps_words(b, gap_b, lone)):
            return False
        if not lone and not _names_in_place(a, b, gap_a, gap_b) and not (is_value(_opening(gap_a)) and is_value(_opening(gap_b))):
            return False
    # the weight of the words the two share, when words are weighed (see `weight`)
    shared = None if weight is None else weight(a) - sum(weight(tuple(gap)) for gap, _ in gaps)
    if shared is not None and _open_with_own_words(a, b, gaps, anchored, shared, weight):
        return False
    if len(gaps) == 1 and _ends_after_a_mark(a, gaps[0][0]) and _ends_after_a_mark(b, gaps[0][1]):
        # the text after a label's mark that ends both is one value when each is free text: a few plain words
        # ("Connection file not found: <text>"), no mark, number or name (a statement of its own after a source tag)
        if all(len(gap) <= MAX_VALUE_WORDS and all(map(_plain_stem, gap)) for gap in gaps[0]):
            return True
    if weight is None:
        if 2 * anchored >= max(_words(a), _words(b)):
            return True
    elif 2 * shared >= max(weight(a), weight(b)):
        return True
    # most words differ: still one statement when everything that differs reads as free text, or fills in
    # a value the other template holds as a wildcard
    return all(
        side == (WILDCARD,) or other == (WILDCARD,) or all(is_value(token) for token in side if _is_word(token))
        for gap_a, gap_b in gaps
        for side, other in ((tuple(gap_a), tuple(gap_b)), (tuple(gap_b), tuple(gap_a)))
    )


def _open_with_own_words(a: Sequence[str], b: Sequence[str], gaps, anchored: int, shared: float, weight) -> bool:
    """Whether two templates that differ only in their openings (one gap, which opens both) open with texts either
    of which weighs more, word for word, than their `anchored` common words (which weigh `shared` in all).

    A statement opens with words of its own, which few patterns print; the text of an error that many statements
    end with is common. "Skipping existing file event loop is closed" and "Found executable event loop is closed"
    share only that text: two statements. "timeout spawning launcher via <*>" and "no such file or directory
    spawning launcher via <*>" open with values, commoner words than the ones they share: one statement.
    """
    if len(gaps) != 1:
        return False
    gap_a, gap_b = (tuple(gap) for gap in gaps[0])
    if gap_a == (WILDCARD,) or gap_b == (WILDCARD,) or len(gap_a) == len(gap_b):
        # a value one side holds as a wildcard, which the other fills in; openings of as many tokens are fields in
        # the same places of one statement's shape (two names side by side), however rare their words
        return False
    if tuple(a[: len(gap_a)]) != gap_a or tuple(b[: len(gap_b)]) != gap_b:
        return False
    return any(_words(side) and weight(side) * anchored > shared * _words(side) for side in (gap_a, gap_b))


def _names_in_place(a: Sequence[str], b: Sequence[str], gap_a: Sequence[str], gap_b: Sequence[str]) -> bool:
    """Whether a gap holds one hyphenated name on each side (`pipeline-region` / `file-schema`: a host's, a service's, a
    queue's) and neither is the first or the last token of its template.

    Such identifiers in the same place between the other tokens of two templates are values of one field, however
    rarely each is seen (a name seen in a few messages follows too few words to read as a value by its contexts).
    A name with a dot or an underscore is left to the other rules: a class's, a module's or a function's name
    (`requests.exceptions.ReadTimeout`, `purge_sessions`) is as often a word of its statement. So is a name that is
    the first or the last token (see `_join_one_name_apart`).
    """
    if len(gap_a) != 1 or len(gap_b) != 1:
        return False
    name_a, name_b = gap_a[0], gap_b[0]
    if not (_is_name(name_a) and _is_name(name_b)) or any(mark in name for name in (name_a, name_b) for mark in "._"):
        return False
    return name_a not in (a[0], a[-1]) and name_b not in (b[0], b[-1])


_TAIL_MARKS = frozenset({":", "-"})  # a label and its text: "Health check: ...", "worker-3 - ..."


def _ends_after_a_mark(template: Sequence[str], gap: Sequence[str]) -> bool:
    """Whether `gap` ends the template, right after a mark (`_TAIL_MARKS`)."""
    n = len(gap)
    return 0 < n < len(template) and tuple(template[-n:]) == tuple(gap) and template[-n - 1] in _TAIL_MARKS


def _keeps_words(template: Sequence[str], gap: Sequence[str], lone: bool = False) -> bool:
    """Whether a template that holds a value kept a plain word in `gap` (see `same_statement`'s busy sides).

    `lone`: the other side of the gap is a lone wildcard (or a value in `fills_a_value`), which may hold any text.
    Then only a gap that holds all the template's values beside its words counts: "Pool pre-ping on connection <*>
    failed, will invalidate pool" kept its words while its value varied, so the value of "Pool pre-ping on connection
    <*>" does not hold them. When a value outside the gap may be the one that varied, the gap's text may be one
    value's, printed the same way each time ("Connect to <*> failed: [Errno <*>] Connection refused" / "Connect to
    <*> failed: <*>"); and a gap that opens with a label's mark is that value's text, numbers and all ("Health check
    failed: timeout after <*>" / "Health check failed: <*>", whose values hold the mark, see `tail_as_one_value`).
    """
    if lone:
        values = gap.count(WILDCARD)
        if not values or gap[0] in _TAIL_MARKS or values != template.count(WILDCARD):
            return False
        return any(map(_is_plain_word, gap))
    return WILDCARD in template and any(map(_is_plain_word, gap))


def _opening(gap: Sequence[str]) -> str:
    """The first token of a gap that is not an opening bracket or quote mark: `[Errno 2]` opens with `Errno`."""
    for token in gap:
        if token not in _CLOSING:
            return token
    return gap[0]


def merge_template(token_lists: Sequence[Sequence[str]]) -> list[str]:
    """Position-wise template: a token shared by every member stays, others become <*>."""
    first = list(token_lists[0])
    if any(len(tokens) != len(first) for tokens in token_lists):
        # members of different lengths: keep the common prefix
        width = min(len(tokens) for tokens in token_lists)
        first = first[:width]
        token_lists = [tokens[:width] for tokens in token_lists]
    template = []
    for i, token in enumerate(first):
        same = all(tokens[i] == token for tokens in token_lists)
        template.append(token if same else WILDCARD)
    return template


def _cluster_template(shapes: Sequence[tuple[str, ...]], members: Sequence[int]) -> tuple[str, ...]:
    """The template of a cluster of `shapes`: its one shape, or the merge of its shapes of the commonest length."""
    if len(members) == 1:  # most clusters hold one shape: it is their template
        return collapse_wildcards(shapes[members[0]])
    width = Counter(len(shapes[s]) for s in members).most_common(1)[0][0]
    return collapse_wildcards(merge_template([shapes[s] for s in members if len(shapes[s]) == width]))


def render_template(message: str, template_tokens: Sequence[str], max_tokens: int = 64) -> str:
    """`message` with the spans of its varying tokens replaced by <*> (keeps its spacing)."""
    out, last = [], 0
    for position, match in enumerate(_TOKEN.finditer(message)):
        if position >= min(max_tokens, len(template_tokens)):
            break
        if template_tokens[position] == WILDCARD:
            out.append(message[last : match.start()] + WILDCARD)
            last = match.end()
        elif template_tokens[position] == _THEN_WILDCARD:  # a value that is empty here follows this token
            out.append(message[last : match.end()] + WILDCARD)
            last = match.end()
    out.append(message[last:])
    return collapse_spaces("".join(out))[:MAX_TEMPLATE_CHARS]


def collapse_spaces(text: str) -> str:
    """`<*> <*>` and `<*>:<*>` read as one `<*>` in a template."""
    return re.sub(r"<\*>(?:[\s:=|,]*<\*>)+", WILDCARD, text)


_pauses = {"depth": 0, "resume": False}  # pauses open in this process, and whether the collector ran before the first
_pauses_lock = threading.Lock()


@contextmanager
def collection_paused():
    """Python's cyclic garbage collector off meanwhile, and as it was once the last pause is over.

    Clustering makes millions of small tuples and lists with hardly a reference cycle among them: the
    collector would walk them all again and again as they pile up (a tenth of the time at 200,000
    distinct messages), to free nothing. The collector is one per process: pauses that overlap (a fleet
    clusters services on several threads) hold it off until the last one ends, and it is turned back on
    only if it was on when the first began.
    """
    with _pauses_lock:
        if _pauses["depth"] == 0:
            _pauses["resume"] = gc.isenabled()
            gc.disable()
        _pauses["depth"] += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses["depth"] -= 1
            if _pauses["depth"] == 0 and _pauses["resume"]:
                gc.enable()


class PatternClusterer:
    """TF-IDF + DBSCAN (cosine) over the shapes of distinct masked messages, weighted by their counts.

    eps: largest cosine distance between neighbours (1 - similarity).
    max_tokens: tokens considered per message (long messages are capped, never rejected).
    max_block: largest block DBSCAN sees at once; larger blocks are split by more constant tokens.
    max_field_values: a position with more distinct plain words than this in a block is a free field;
        one with this many or fewer is a word of the statement.
    min_value_contexts: a word that follows this many different words across the input can begin a value...
    min_context_share: ...when it also follows a different word in at least this share of the distinct shapes
        where it follows one (a statement's word follows the same word in each shape of its statement).
    min_support: entries with which a pattern's own words count as evidence of a statement of its own.
    max_candidates: larger patterns a pattern is compared with, per shared opening or closing words.
    """

    # during a fit: the plain words known as values of fields with few values (see `_enumerated_values`)
    _enumerated: frozenset[str] = frozenset()

    def __init__(
        self,
        eps: float = 0.2,
        max_tokens: int = 64,
        max_block: int = 1_000,
        max_field_values: int = 8,
        min_value_contexts: int = 3,
        min_context_share: float = 0.2,
        min_support: int = 3,
        max_candidates: int = 8,
    ):
        self.eps = eps
        self.max_candidates = max_candidates
        self.min_support = min_support
        self.min_value_contexts = min_value_contexts
        self.min_context_share = min_context_share
        self.max_tokens = max_tokens
        self.max_block = max_block
        self.max_field_values = max_field_values

    # -- blocking -------------------------------------------------------------------------------------------------
    def _blocks(
        self,
        shapes: list[tuple[str, ...]],
        indices: list[int],
        words: Sequence[tuple[str, ...]],
        depth: int = 1,
        skip: int = 0,
    ) -> list[list[int]]:
        """Shapes are blocked by length and their first `depth` shared constant words (after the first `skip`).

        A shared word has a letter and is seen in more than one shape: a word seen once is as
        likely a value (a job name, a host) as a word of the statement, so it
        never decides a block. `words` holds each shape's shared words, in order.
        Blocks larger than `max_block` use one more word.
        """
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i in indices:
            groups[(len(shapes[i]), words[i][skip : skip + depth])].append(i)
        blocks = []
        for members in groups.values():
            if len(members) > self.max_block and depth < 8:
                blocks.extend(self._blocks(shapes, members, words, depth + 1, skip))
            else:
                blocks.append(members)
        return blocks

    # -- decisions within a block ---------------------------------------------------------------------------------
    def _free_positions(self, block: list[int], shapes: list[tuple[str, ...]], values: list[set[str]] | None = None) -> list[bool]:
        """The positions that take more than `max_field_values` values in the block (none in a block of fewer shapes).

        `values`: each position's set of values, when the caller has them already (see `_read_block`).
        """
        if len(block) <= self.max_field_values:
            return [False] * len(shapes[block[0]])
        if values is None:
            # the shapes of a block are of one length: a position's values are a column
            values = [set(column) for column in zip(*[shapes[i] for i in block])]
        return [len(v) > self.max_field_values for v in values]

    def _field_keys(self, block: list[int], shapes: list[tuple[str, ...]], free: list[bool]) -> list[tuple]:
        """Each shape's key: its tokens with the free fields read as values (shapes of one key are one statement).

        A statement is known by its words: a key that keeps fewer words than it
        frees joins nothing. When a block holds several statements, a position
        can be free in the block and yet hold a word of one of them. Then, for
        a key that would keep too few words, a token seen at a free position in
        more than `max_field_values` shapes is such a word and the key keeps
        it; and as in `_split_statement_words`, a freed position whose values
        among the shapes of one such key are a few plain words keeps them
        ("user peggy granted ..." / "user victor revoked ..." stay apart).
        """
        free_at = [pos for pos, is_free in enumerate(free) if is_free]
        if not free_at:
            return [shapes[i] for i in block]
        if len(block) <= min(SMALL_BLOCK, self.max_field_values):
            # a few shapes: each key in Python (numpy's cost per call is more than their few tokens). No value is
            # seen in more than `max_field_values` of them, so a key that keeps too few words joins nothing
            keys = []
            for local, i in enumerate(block):
                shape = shapes[i]
                freed = sum(1 for pos in free_at if shape[pos] != WILDCARD)
                if freed > self._shape_words[i] - sum(1 for pos in free_at if _is_word(shape[pos])):
                    keys.append(("\x00", str(local)))
                else:
                    keys.append(tuple(WILDCARD if is_free else token for token, is_free in zip(shape, free)))
            return keys
        # every shape's key at once, a column at a time: the free columns become wildcards, and each shape
        # counts the values it frees and the words among them
        n = len(block)
        columns = list(zip(*(shapes[i] for i in block)))
        words = np.array([self._shape_words[i] for i in block], dtype=np.int64)
        valued: dict[int, np.ndarray] = {}  # a free position's values (not yet wildcards), per shape
        worded: dict[int, np.ndarray] = {}  # and those of them that are words
        for pos in free_at:
            valued[pos] = np.fromiter(map(WILDCARD.__ne__, columns[pos]), dtype=bool, count=n)
            worded[pos] = np.fromiter(map(_is_word, columns[pos]), dtype=bool, count=n)
        freed = sum(valued.values())
        kept = words - sum(worded.values())  # the words each key keeps
        keys: list[tuple] = list(zip(*(((WILDCARD,) * n if pos in valued else column) for pos, column in enumerate(columns))))
        narrowed: dict[tuple, list[int]] = defaultdict(list)  # keys that keep the words held in the block
        too_few = np.flatnonzero(freed > kept).tolist()
        if too_few:
            # those keys keep a value seen in more than `max_field_values` shapes of the block, as a word
            narrow = list(columns)
            freed, kept = np.zeros(n, dtype=np.int64), words.copy()
            for pos in free_at:
                seen = np.fromiter(map(Counter(columns[pos]).__getitem__, columns[pos]), dtype=np.int64, count=n)
                freeable = valued[pos] & (seen <= self.max_field_values)
                freed += freeable
                kept -= freeable & worded[pos]
                column = np.array(columns[pos], dtype=object)
                column[freeable] = WILDCARD
                narrow[pos] = column.tolist()
            narrow_keys = list(zip(*narrow))
            for local in too_few:
                if freed[local] > kept[local]:
                    keys[local] = ("\x00", str(local))
                else:
                    keys[local] = narrow_keys[local]
                    narrowed[keys[local]].append(local)
        for key, locals_ in narrowed.items():
            if len(locals_) < 2:
                continue
            freed = [pos for pos in free_at if key[pos] == WILDCARD]
            words = self._statement_words([shapes[block[m]] for m in locals_], freed)
            for m in locals_:
                key_m = list(key)
                for pos in words:
                    key_m[pos] = shapes[block[m]][pos]
                keys[m] = tuple(key_m)
        return keys

    def _statement_words(self, rows: list[tuple[str, ...]], positions: list[int]) -> list[int]:
        """The `positions` where `rows` differ by plain words (2+ letters), at most `max_field_values` of them.

        Words that are values wherever they are printed (`_enumerated_values`) are none.
        """
        words = []
        for pos in positions:
            values = {row[pos] for row in rows}
            if 1 < len(values) <= self.max_field_values and all(_is_plain_word(v) for v in values):
                if not values <= self._enumerated:
                    words.append(pos)
        return words

    def _read_block(
        self, block: list[int], shapes: list[tuple[str, ...]], few_words: defaultdict[frozenset[str], dict[frozenset[str], None]]
    ) -> tuple[list[bool], list[tuple[int, frozenset[str]]]]:
        """The block's free positions (as `_free_positions`), and the few plain words its positions take.

        Each set of `MIN_ENUMERATION` to `max_field_values` plain words that a position takes (its values, marks
        and other tokens aside: a statement of the same length may hold other text there) is returned with its
        position and added to `few_words`, with the constant words of the block (when it holds two at least), for
        `_enumerated_values`; once those are known, a position whose words are all values is free too (see `_fit`).
        A word that ends a sentence counts without its full stop: the "root." of "Started Session 5 of user
        root." is the "root" other statements print.
        """
        if len(block) < MIN_ENUMERATION:
            return self._free_positions(block, shapes), []
        columns = list(zip(*(shapes[i] for i in block)))
        if len(block) <= self.max_field_values:
            # no position is free in so few shapes: only a position that holds a plain word can take a few
            values = [set(column) if any(map(_plain_stem, column)) else None for column in columns]
        else:
            values = [set(column) for column in columns]
        free = self._free_positions(block, shapes, values)
        few = []
        for pos, v in enumerate(values):
            # "root" and "root." are one word: a position may take twice as many tokens as words
            if v is None or not MIN_ENUMERATION <= len(v) <= 2 * self.max_field_values:
                continue
            stems = {stem for token in v if (stem := _plain_stem(token)) is not None}
            if MIN_ENUMERATION <= len(stems) <= self.max_field_values:
                few.append((pos, frozenset(stems)))
        if few:
            constant = frozenset(c[0] for c in columns if _is_word(c[0]) and c.count(c[0]) == len(c))
            # a statement is known by its words: a block of fewer than two ("now Paused", "now Resumed") shows nothing
            if len(constant) >= 2:
                for _, v in few:
                    few_words[v].setdefault(constant)
        return free, few

    @staticmethod
    def _enumerated_values(few_words: dict[frozenset[str], dict[frozenset[str], None]]) -> frozenset[str]:
        """Plain words that are the values of a field with few values (user names, HTTP methods, job states).

        A few plain words at one position of a block are as likely a word of
        the statement ("VM Paused" / "VM Resumed") as a value. The values of a
        field with few of them, though, are printed by many statements: when
        two unrelated statements (blocks of two constant words or more that
        share fewer than half the constant words of the smaller) each take at
        least `MIN_ENUMERATION` plain words at one position, and share at
        least that many of them, the shared ones are values. Statements
        written as a family ("Detected added / removed / changed unique
        constraint", and the same for a check constraint) share most of their
        words, so their alternatives stay words. Of the statements that take
        the same words, the first `MAX_ENUMERATION_STATEMENTS` in the input's
        order are compared. `few_words` holds each such set of words with the
        constant words of each block where a position takes it, in the input's
        order (see `_read_block`). With `max_field_values` under
        `MIN_ENUMERATION` no word is a value this way.
        """
        # two sets share MIN_ENUMERATION words when they share a combination of that many: sets are met by those
        # combinations (56 of a set of 8 words), never compared pair by pair; a word only one statement takes
        # can be shared with none, and is left out first
        statements: dict[str, set[frozenset[str]]] = defaultdict(set)
        for v, constants in few_words.items():
            for word in v:
                statements[word].update(constants)
        meeting: dict[tuple[str, ...], list[frozenset[str]]] = {}
        for v, constants in few_words.items():
            shared = sorted(word for word in v if len(statements[word]) > 1)
            for words in combinations(shared, MIN_ENUMERATION):
                takers = meeting.setdefault(words, [])
                for constant in constants:
                    if len(takers) >= MAX_ENUMERATION_STATEMENTS:
                        break
                    if constant not in takers:
                        takers.append(constant)
        enumerated: set[str] = set()
        for words, takers in meeting.items():
            if len(takers) > 1 and not enumerated.issuperset(words) and _any_unrelated(tuple(takers)):
                enumerated.update(words)
        return frozenset(enumerated)

    def _split_statement_words(self, block: list[int], shapes: list[tuple[str, ...]], labels: np.ndarray, free: list[bool]) -> np.ndarray:
        """Split clusters whose members differ by plain words that take few values (words of the statement).

        With few messages TF-IDF cannot tell "VM Paused" from "VM Resumed"; a
        position whose values are alphabetic words (2+ letters), at most
        `max_field_values` of them, is a word of the statement. Values with
        digits or punctuation are never statement words.
        """
        result = labels.copy()
        next_label = int(labels.max()) + 1
        members: dict[int, list[int]] = defaultdict(list)
        for local, label in enumerate(labels):
            members[int(label)].append(local)
        fixed = [pos for pos, is_free in enumerate(free) if not is_free]
        for label, locals_ in members.items():
            if len(locals_) < 2:
                continue
            words = self._statement_words([shapes[block[m]] for m in locals_], fixed)
            if not words:
                continue
            new_label: dict[tuple, int] = {}
            for m in locals_:
                key = tuple(shapes[block[m]][pos] for pos in words)
                if key not in new_label:
                    if new_label:
                        new_label[key] = next_label
                        next_label += 1
                    else:
                        new_label[key] = label
                result[m] = new_label[key]
        return result

    @staticmethod
    def _join(labels: np.ndarray, keys: list[tuple]) -> np.ndarray:
        """Union of the clusters whose members share a key."""
        first: dict[tuple, int] = {}
        return _join_pairs(labels, ((int(label), first.setdefault(key, int(label))) for label, key in zip(labels, keys)))

    def _dbscan(self, block: list[int], vectors: SparseRows) -> np.ndarray:
        """DBSCAN's clusters of a block's shapes on cosine distance (a cluster never crosses a block).

        DBSCAN's pairs cost the square of a block: one that no shared word could
        split (over `max_block`) starts from one cluster per shape and is joined
        by its free fields only, in linear time (see `_refine_block`).
        """
        if len(block) < 2 or len(block) > self.max_block:
            return np.arange(len(block))
        # counts weigh at least one, so with min_samples=1 every shape is a core point whatever its weight
        return dbscan_one_per_core(len(block), *near_pairs(vectors, np.asarray(block), 1.0 - self.eps))

    def _refine_block(
        self,
        block: list[int],
        shapes: list[tuple[str, ...]],
        labels: np.ndarray,
        weights: np.ndarray,
        variants: np.ndarray,
        free: list[bool],
    ) -> np.ndarray:
        """Statement words split a block's DBSCAN clusters, free fields join them (a block of two shapes or more).

        `weights`: the messages behind each shape; `variants`: the different texts among them.
        """
        labels = self._split_statement_words(block, shapes, labels, free)
        if any(free):  # else each shape is its own key (a block's shapes are distinct): nothing to join
            labels = self._join(labels, self._field_keys(block, shapes, free))
        return self._join_one_name_apart(block, shapes, labels, weights, variants)

    def _join_one_name_apart(
        self, block: list[int], shapes: list[tuple[str, ...]], labels: np.ndarray, weights: np.ndarray, variants: np.ndarray
    ) -> np.ndarray:
        """Join shapes that differ in one position only, where both hold an identifier.

        `acme-eu` / `globex-us`, `db_main` / `db-replica-eu`: a token with a letter and a digit, `_`, `-` or
        `.` inside is a name, and a statement that differs by nothing else is one statement with another
        value there. Alphabetic words are left to `_split_statement_words` ("VM Paused" / "VM Resumed"). The
        shapes must share at least three words besides, as a function's name may be its statement's own
        ("hibernate_teardown_pmap_structs done: ..."); one word is enough between unit, file and host names,
        whose parts a dot joins and whose last part is a lower-case suffix ("Starting cron.service..."). Two
        shapes each seen `min_support` times stay two statements ("read-only" / "read-write" on a busy
        service); for those names, in `min_support` different texts (`variants`), as in `_join_value_lengths`:
        a unit started again and again, word for word, is still the one statement of any unit.
        """
        besides = [self._shape_words[i] - 1 for i in block]
        if sum(1 for words in besides if words >= 1) < 2:
            return labels
        rows = [shapes[i] for i in block]
        for pos, column in enumerate(zip(*rows)):
            if len(set(column)) < 2:
                continue  # every shape has the same token there: nothing to join on
            groups: dict[tuple, list[int]] = defaultdict(list)
            for local, token in enumerate(column):
                if not _is_name(token):
                    continue
                dotted = _is_dotted_name(token)
                if besides[local] >= 3 or (besides[local] >= 1 and dotted):
                    row = rows[local]
                    groups[(pos, dotted, row[:pos], row[pos + 1 :])].append(local)
            joining = []
            for (_, dotted, _, _), members in groups.items():
                # how busy a shape is: for a dotted name the texts behind it, for an identifier its messages
                seen = variants if dotted else weights
                if len(members) > 1 and sum(1 for local in members if seen[block[local]] >= self.min_support) < 2:
                    joining.append(members)
            if not joining:
                continue
            keys: list[tuple] = [("\x00", local) for local in range(len(block))]
            for number, members in enumerate(joining):
                for local in members:
                    keys[local] = ("=", number)
            labels = self._join(labels, keys)
        return labels

    # -- fit ------------------------------------------------------------------------------------------------------
    def fit(self, messages: Sequence[str], counts: Sequence[int] | None = None, variants: Sequence[int] | None = None) -> PatternClusterer:
        """Group `messages` (distinct masked messages); `counts` weight them, and `variants` says how many different
        texts each one masks (its entries all alike: 1; the counts when not given)."""
        with collection_paused():
            try:
                return self._fit(messages, counts, variants)
            finally:
                # the fit's own, whether it ended or failed
                self.__dict__.pop("_shape_words", None)
                self.__dict__.pop("_enumerated", None)

    def _fit(self, messages: Sequence[str], counts: Sequence[int] | None, variants: Sequence[int] | None) -> PatternClusterer:
        n = len(messages)
        counts = list(counts) if counts is not None else [1] * n
        variants = list(variants) if variants is not None else counts
        token_lists: list[list[str]] = []
        shape_index: dict[tuple[str, ...], int] = {}
        shape_of = np.empty(n, dtype=int)
        spans_of: list[tuple[tuple[int, int], ...]] = []
        shape_weights: list[float] = []
        shape_variants: list[float] = []  # different texts behind a shape
        for i, message in enumerate(messages):
            # a comma that ends a `key=` value of several words: only a message with both can hold one
            if "=" in message and "," in message:
                tokens, commas = tokens_and_commas(message, self.max_tokens)
            else:
                tokens, commas = tokenize(message, self.max_tokens), frozenset()
            token_lists.append(tokens)
            shape, spans = statement_shape(tokens, commas, quoted_texts(message, tokens) if '="' in message else frozenset())
            spans_of.append(spans)
            s = shape_index.setdefault(shape, len(shape_index))
            if s == len(shape_weights):
                shape_weights.append(0.0)
                shape_variants.append(0.0)
            shape_weights[s] += counts[i]
            shape_variants[s] += variants[i]
            shape_of[i] = s
        shapes = list(shape_index)
        # the words of each shape, counted once: a block's rules count what a key keeps of them (more shapes than
        # the template cache holds at 200k distinct messages)
        self._shape_words = [_count_words(shape) for shape in shapes]
        weights = np.asarray(shape_weights, dtype=float)
        variety = np.asarray(shape_variants, dtype=float)

        shape_labels = np.full(len(shapes), -1, dtype=int)
        next_label = 0
        if shapes:
            vectors = tfidf(
                (
                    # the length feature gives every shape a feature, even one without a token; a token at its
                    # position is a pair, not a string formatted for each (a third faster at 200k shapes)
                    [("len", len(shape)), *enumerate(shape)] + [tok for tok in shape if tok != WILDCARD]
                    for shape in shapes
                ),
                sublinear_tf=True,
            )
            document_frequency: dict[str, int] = defaultdict(int)
            for shape in shapes:
                for token in set(shape):
                    document_frequency[token] += 1
            shared = {token for token, df in document_frequency.items() if df > 1 and token != WILDCARD}
            anchors = [[pos for pos, token in enumerate(shape) if token in shared and _is_word(token)] for shape in shapes]
            words = [tuple([shape[pos] for pos in positions]) for shape, positions in zip(shapes, anchors)]
            blocks = self._blocks(shapes, list(range(len(shapes))), words)
            # every block is read before any is refined: a word is known as a value by the statements that print it
            few_words: defaultdict[frozenset[str], dict[frozenset[str], None]] = defaultdict(dict)
            reads = [self._read_block(block, shapes, few_words) if len(block) > 1 else None for block in blocks]
            self._enumerated = self._enumerated_values(few_words)
            for block, read in zip(blocks, reads):
                if len(block) == 1:  # most blocks of a large input: nothing to compare
                    shape_labels[block[0]] = next_label
                    next_label += 1
                    continue
                free, few = read
                for pos, v in few:
                    if v <= self._enumerated:  # the values of a field with few values: a free field, as many are
                        free[pos] = True
                local = self._refine_block(block, shapes, self._dbscan(block, vectors), weights, variety, free)
                values, dense = np.unique(local, return_inverse=True)
                shape_labels[block] = dense + next_label
                next_label += len(values)
            # a name in brackets opening a line (a thread's) is a value, known before the other joins: read as words,
            # they would anchor unrelated statements it opens ("[main] [instance: <*>] ...")
            bracketed = _bracketed_openings(messages, token_lists, spans_of, shape_of, shapes, counts)
            shape_labels = self._join_bracket_tags(shapes, shape_labels, weights, bracketed)
            shape_labels = self._join_past_first_word(shapes, shape_labels, anchors, words)
            shape_labels = self._join_value_lengths(shapes, shape_labels, weights, variety, document_frequency)
            # the shapes of messages with a program's tag and process id (`nginx[<NUM>]:`): `statement_shape` reads
            # the id in brackets as a value like any other
            pid_tagged = _process_tags(messages, token_lists, spans_of, shape_of, shapes)
            shape_labels = self._join_source_tags(shapes, shape_labels, weights, pid_tagged)

        # renumber labels densely, in order of first appearance
        dense: dict[int, int] = {}
        labels = np.array([dense.setdefault(int(shape_labels[s]), len(dense)) for s in shape_of], dtype=int)
        self.labels_ = labels
        self.n_clusters_ = len(dense)
        self.templates_ = self._templates(messages, token_lists, spans_of, labels, counts)
        return self

    def _join_past_first_word(
        self, shapes: list[tuple[str, ...]], labels: np.ndarray, anchors: list[list[int]], words: list[tuple[str, ...]]
    ) -> np.ndarray:
        """Join the shapes of one statement that opens with a value printed by other statements too.

        Blocks are keyed by the first shared word, and such a value (a user
        name, a job name) is shared: each of its values made a block of its
        own, where nothing varied. Blocked again by the shared words after the
        first, shapes with one key (see `_field_keys`) are one statement when,
        among themselves, the position of their first shared word varies and
        every position that varies takes more than `max_field_values` values.
        A block keyed by a common word such as "to" pools many statements, so
        a position freed across that pool proves nothing ("Transitioning to
        active state" / "... standby state" stay two).
        """
        # the position of each shape's first shared word; shapes with a second one only
        opening = {i: positions[0] for i, positions in enumerate(anchors) if len(positions) >= 2}
        keys: list[tuple] = [("\x00", i) for i in range(len(shapes))]  # a shape joins no other but by its group
        groups_joined = 0
        for block in self._blocks(shapes, list(opening), words, skip=1):
            if len(block) < 2:
                continue
            free = self._free_positions(block, shapes)
            if not any(free):
                continue
            groups: dict[tuple, list[int]] = defaultdict(list)
            for i, key in zip(block, self._field_keys(block, shapes, free)):
                groups[key].append(i)
            for key, members in groups.items():
                if len(members) <= self.max_field_values:
                    continue  # too few shapes for any position to take more values than that
                # the positions that vary among the group's own shapes (one freed across the block may not)
                counts = {pos: len({shapes[i][pos] for i in members}) for pos, token in enumerate(key) if token == WILDCARD}
                varying = [pos for pos, count in counts.items() if count > 1]
                if not any(opening[i] in varying for i in members):
                    continue
                if any(counts[pos] <= self.max_field_values for pos in varying):
                    continue
                for i in members:
                    keys[i] = ("=", groups_joined)
                groups_joined += 1
        return self._join(labels, keys) if groups_joined else labels

    def _join_source_tags(
        self, shapes: list[tuple[str, ...]], labels: np.ndarray, weights: np.ndarray, pid_tagged: set[tuple[int, int]] = frozenset()
    ) -> np.ndarray:
        """Join a statement whose source tag was read as a word to the same statement with a value there.

        A program, module or host often opens a message, then a mark
        (`SOURCE_MARKS`): "chrome.exe - host:443 close, ...", "java - host:443
        close, ...". The sources read as values make one template "<*> - ...
        close, ..."; a source read as a word ("java") made a template of its
        own with the same rest. That template joins the one with a value there
        (the word read as a value, the template is the other's) when the tag
        is one token, the rest after it holds two words or more, and most of
        the statement's messages hold a value or a name there (`chrome.exe`,
        `worker-3`) rather than a plain word, counted over the clusters that
        would join. Else the words are words of their statements, as log
        levels are ("ERROR - payment failed" / "WARNING - payment failed"
        beside a few "worker-3 - payment failed"). Without a mark after it, a
        word is a word of its statement ("Bark Payload: ..." / "SendGrid
        Payload: ..."). A tag may follow other tags (a mark before it), and
        may be followed by a value before its mark; when the messages print
        that value as syslog prints a process id (`nginx[4242]:`, the shapes
        in `pid_tagged`), the word is a program's name whatever most of the
        others hold, and such a tag may follow a value too ("kernel: [5.3]
        nginx[4242]: segfault at ..."). A tag right after a value without a
        process id is not looked for: the value would take in a value there,
        so lines without any tag ("<TS> - payment ...") would read as
        value-tagged. Each word-tagged cluster is judged on its own kind of
        tag. Of two clusters with one template, the first in label order is
        joined.
        """
        # a tag needs a mark after it (within two tokens): most shapes have none, and need no closer look
        tagged = [
            s for s, shape in enumerate(shapes) if not SOURCE_MARKS.isdisjoint(shape[1 : MAX_TAG_POSITION + 2]) and _tag_positions(shape)
        ]
        if not tagged:
            return labels
        members: dict[int, list[int]] = defaultdict(list)
        for s in np.flatnonzero(np.isin(labels, np.unique(labels[tagged]))).tolist():
            members[int(labels[s])].append(s)
        templates = {label: _cluster_template(shapes, idx) for label, idx in members.items()}
        by_template: dict[tuple[str, ...], int] = {}
        for label, template in templates.items():
            if WILDCARD in template[:MAX_TAG_POSITION]:
                by_template.setdefault(template, label)
        # a cluster with a value there: the clusters with a word, each with where the tag sits in its template, and
        # whether the tag is a program's with its process id (`nginx[<*>]:`, where `pid_tagged` says a shape prints one)
        joining: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
        for label, template in templates.items():
            for pos in _tag_positions(template):
                if template[pos] == WILDCARD or _count_words(template[pos + 1 :]) < 2:
                    continue
                with_pid = template[pos + 1] == WILDCARD and any((s, pos) in pid_tagged for s in members[label])
                if not with_pid and pos and template[pos - 1] == WILDCARD:
                    continue  # the value before it would take in a value there: lines without a tag look the same
                target = by_template.get(collapse_wildcards((*template[:pos], WILDCARD, *template[pos + 1 :])))
                if target is not None and target != label:
                    joining[target].append((label, pos, with_pid))
                    break
        pairs: list[tuple[int, int]] = []
        for target, word_tagged in joining.items():
            # a word with a process id after it is a program's name whatever the others hold
            joins = [label for label, _, with_pid in word_tagged if with_pid]
            marked = [(label, pos) for label, pos, with_pid in word_tagged if not with_pid]
            if marked:
                # the messages with a plain word as a tag against the others, over the clusters that would join
                # (other rules may have joined "ACCEPT: ..." and "fw01: ..." in the target, whose lines hold their
                # tag where the word-tagged templates do)
                opened_by = {True: 0.0, False: 0.0}
                for label, pos in ((target, marked[0][1]), *marked):
                    for s in members[label]:
                        opened_by[len(shapes[s]) > pos and _is_plain_word(shapes[s][pos])] += float(weights[s])
                if opened_by[False] > opened_by[True]:
                    joins += [label for label, _ in marked]
            pairs += [(label, target) for label in joins]
        return _join_pairs(labels, pairs) if pairs else labels

    @staticmethod
    def _join_bracket_tags(shapes: list[tuple[str, ...]], labels: np.ndarray, weights: np.ndarray, bracketed: np.ndarray) -> np.ndarray:
        """Join a statement whose name in brackets was read as words to the same statement with a value there.

        A thread's or a component's name in square brackets often opens a line, and changes from line to line of
        one statement: "[pool-2-thread-7] Receiving block ...", "[main] Receiving block ...", "[IPC Server handler
        3 on 8020] Receiving block ...". The names read as values make one shape ("<*> Receiving block ..."); each
        name read as words made a cluster of its own. Such a cluster joins the one that holds the shape with a value
        in place of its brackets (`_bracket_tags`), when the rest holds two words or more and most of the lines
        involved hold a name or a value there, counted over the clusters that would join: brackets with plain words
        only ("[ERROR]", "[WARN]", a level) beside a few with a name are words of their statements, as with a mark
        (see `_join_source_tags`). The lines with a value there count only when they print brackets (`bracketed`,
        see `_bracketed_openings`): after a time, a line without any tag reads as one with a value there.
        """
        spans = {s: found for s, shape in enumerate(shapes) if "[" in shape[:MAX_TAG_POSITION] and (found := _bracket_tags(shape))}
        # the shape with a value in place of the tag: the shapes that name it in words, and whether in letters alone
        wanted: dict[tuple[str, ...], list[tuple[int, bool]]] = defaultdict(list)
        for s, found in spans.items():
            shape = shapes[s]
            for start, stop in found:
                inside = shape[start + 1 : stop - 1] if shape[stop - 1] == "]" else shape[start + 1 : stop]
                if inside == (WILDCARD,) or _count_words(shape[stop:]) < 2:
                    continue
                # letters alone, one letter too: `[E]`, `[W]` are levels, `[x]` a mark
                letters = all(token.isalpha() for token in inside)
                # the value takes in the brackets, or the closing one only when a value follows (`[worker-1] <IP> ...`)
                wanted[collapse_wildcards((*shape[:start], WILDCARD, *shape[stop:]))].append((s, letters))
                wanted[collapse_wildcards((*shape[: start + 1], WILDCARD, *shape[stop:]))].append((s, letters))
        if not wanted:
            return labels
        per_label = np.bincount(labels, weights=weights)
        # the lines of a cluster with a value there count as named when they print brackets (`bracketed`): lines
        # without a tag after a time read as "<*> Receiving ..." too
        named_lines = np.bincount(labels, weights=bracketed, minlength=len(per_label))
        plain: dict[int, dict[int, bool]] = defaultdict(dict)  # target label: the word-named labels, plain words only?
        for t, shape in enumerate(shapes):
            for s, letters in wanted.get(shape, ()):
                target, label = int(labels[t]), int(labels[s])
                if target != label:
                    plain[target][label] = plain[target].get(label, True) and letters
        pairs: list[tuple[int, int]] = []
        for target, word_named in plain.items():
            in_words = sum(float(per_label[label]) for label, only_words in word_named.items() if only_words)
            if float(named_lines[target]) + sum(float(per_label[label]) for label in word_named) - in_words > in_words:
                pairs += [(label, target) for label in word_named]
        return _join_pairs(labels, pairs) if pairs else labels

    def _join_value_lengths(
        self,
        shapes: list[tuple[str, ...]],
        labels: np.ndarray,
        weights: np.ndarray,
        variants: np.ndarray | None = None,
        shapes_with: dict[str, int] | None = None,
    ) -> np.ndarray:
        """Join clusters that are one statement whose values took different numbers of tokens.

        Two cluster templates are one statement when they are equal once adjacent
        wildcards read as one value, or when they align on common words (prefix,
        suffix, landmark words; see `same_statement`) that are at least two and
        at least half the words of each, a word weighed by how few shapes hold
        it (TF-IDF's smoothed inverse document frequency: the words of an error
        message that many statements end with anchor less than a statement's
        own), and each gap differs on both sides (one
        value in place of another). Two templates that differ only in their
        openings, texts of different lengths (neither a lone wildcard), are
        two statements when either opening weighs more, word for word, than
        the rest they share: a statement opens with words of its own, and an
        error text that many statements end with is no anchor. Words present on one side only are words of another
        statement ("for <*> from <*>" and "for invalid user <*> from <*>"), except around
        the value that ends the shorter template, which holds them ("Received: <*>",
        "Received: [Errno <*>] reset by peer <*>" and "Received: <*> export."; see
        `_common_ends`), and one plain word
        in place of another is left to the same-length rules ("VM Paused").
        The text after a mark that ends both templates is one value when each
        side is free text of at most `MAX_VALUE_WORDS` plain words ("Connection
        file not found: timed out" / "...: server closed the connection
        unexpectedly"); a number, a name or a mark there makes it a statement
        of its own after a source tag ("pydev debugger: process <*> is
        connecting").
        One hyphenated name on each side of a gap, neither the first nor the
        last token, is a value too (`_names_in_place`).
        A value begins with a wildcard or with a word that follows many
        different words across the input (free text such as an error message,
        punctuation aside) and seldom the same one twice; a word that always
        follows the same word ("to build" / "to deallocate") belongs to its
        statement, and so does a word that, in most of the distinct messages
        holding it, follows the same word as before (counted over distinct
        shapes, so a word of statements whose other fields vary a lot).
        Two clusters each seen `min_support` times with their own words in
        their gaps are two statements ("Took <*> seconds to build instance" /
        "... to deallocate network for instance"), but not when each gap is
        a wildcard on one side and, on the other, free text of at most
        `MAX_VALUE_WORDS` words or a value in brackets (not words kept beside
        all the values of a busy side, see below). When the messages of a
        cluster (with those of the clusters that joined its template) are
        `min_support` different texts (`variants`) or more, and its template
        holds a value and still kept a plain word in a gap, that word is a
        word of its statement (the value varied, the word did not), whatever
        follows it elsewhere: a template with other text there is another
        statement ("Failed to read <*>" / "Failed to import tax <*>"). Beside
        all the template's values, such a word is not held by another
        template's lone wildcard either ("Pool pre-ping on connection <*>
        failed, will invalidate pool" / "Pool pre-ping on connection <*>"). One
        message repeated word for word shows no such thing, however often.
        The values and marks after the last other token are one value
        (`tail_as_one_value`).
        """
        predecessors: dict[str, set[str]] = defaultdict(set)  # the word before a token, punctuation skipped
        followed: Counter = Counter()  # how many times (in distinct shapes) a token is seen after a word
        if shapes_with is None:  # how many distinct shapes hold each token (`fit` has counted them)
            shapes_with = Counter(token for shape in shapes for token in set(shape))
        for shape in shapes:
            before = None
            for token in shape:
                if before is not None:
                    predecessors[token].add(before)
                    followed[token] += 1
                if token == WILDCARD or _is_word(token):
                    before = token

        def is_value(token: str) -> bool:
            if token == WILDCARD:
                return True
            contexts = len(predecessors[token])
            return contexts >= self.min_value_contexts and contexts >= self.min_context_share * followed[token]

        def free_text_for_a_value(gap_a: Sequence[str], gap_b: Sequence[str]) -> bool:
            side = tuple(gap_b) if tuple(gap_a) == (WILDCARD,) else tuple(gap_a) if tuple(gap_b) == (WILDCARD,) else ()
            words = [token for token in side if _is_word(token)]  # its first word opens it, punctuation aside
            if not words:  # the value in brackets: "(<*>)" where the other holds "<*>"
                return WILDCARD in side and all(_value_part(token) for token in side)
            return len(words) <= MAX_VALUE_WORDS and is_value(words[0])

        # clusters of one template meet the same candidates again and again (most of the comparisons at 50k
        # shapes): each of the two tests below runs once per pair of templates
        @cache
        def fills_a_value(joined: tuple[str, ...], template: tuple[str, ...], joined_is_busy: bool, template_is_busy: bool) -> bool:
            # each gap is a wildcard on one side and, on the other, free text of a few words that opens with a
            # value ("Payload: <*>" / "Payload: connection reset by peer"): one statement even when both are seen
            # often. A longer text is a message of its own ("Connection to the primary replica of ... closed"), and
            # so are the words a busy side kept beside all its values ("... lease <*>" / "... lease <*> during abort")
            joined, template = tail_as_one_value(joined), tail_as_one_value(template)
            if joined == template:
                return True
            gaps, anchored = _gaps(joined, template, opens_value=is_value)
            if any(
                (joined_is_busy and _keeps_words(joined, a, True)) or (template_is_busy and _keeps_words(template, b, True))
                for a, b in gaps
            ):
                return False
            return anchored >= 2 and bool(gaps) and all(free_text_for_a_value(a, b) for a, b in gaps)

        @cache
        def word_weight(token: str) -> float:
            # a word many patterns print (common words, the words of common error messages) anchors little; its
            # shapes counted once per pattern whose template holds it, so a statement seen in many shapes is not made
            # common by its own words
            held = min(max(shapes_with.get(token, 0) - shared_within[token], 1), len(templates))
            return math.log((1 + len(templates)) / (1 + held)) + 1.0

        @cache
        def weight(tokens: tuple[str, ...]) -> float:
            return sum(word_weight(token) for token in tokens if _is_word(token))

        @cache
        def one_statement(joined: tuple[str, ...], template: tuple[str, ...], joined_is_busy: bool, template_is_busy: bool) -> bool:
            return same_statement(joined, template, is_value, joined_is_busy, template_is_busy, weight)

        members: dict[int, list[int]] = defaultdict(list)
        for s, label in enumerate(labels.tolist()):
            members[label].append(s)
        templates: dict[int, tuple[str, ...]] = {}
        support: dict[int, float] = {}
        variants = weights if variants is None else variants
        variety: dict[int, float] = {}  # the different texts behind a cluster (see same_statement's busy sides)
        for label, idx in members.items():
            variety[label] = float(sum(variants[s] for s in idx))
            templates[label] = _cluster_template(shapes, idx)
            support[label] = float(weights[idx[0]]) if len(idx) == 1 else float(sum(weights[s] for s in idx))
        # a word of a pattern's template is printed by each of its shapes: counted once for the pattern
        shared_within: Counter = Counter()
        for label, idx in members.items():
            if len(idx) > 1:
                for token in set(templates[label]):
                    shared_within[token] += len(idx) - 1

        def keys(template: tuple[str, ...]) -> list[tuple]:
            # where a template meets the larger clusters it is compared with: its opening and closing tokens, and
            # the words before its first value ("Unclosed socket" of "Unclosed socket <*>" and of "Unclosed socket
            # step cache file", whose first three tokens differ)
            if _words(template) < 2:
                return [("=", template)]
            found = [("=", template), ("<>", template[:2], template[-2:]), ("<", template[:3]), (">", template[-3:])]
            first = next((i for i, token in enumerate(template) if is_value(token)), len(template))
            if first < len(template) and _words(template[:first]) >= 2:
                found.append(("<v", template[:first]))
            # the last three words of the longest run of words that are not values, when it does not open the
            # template: "<*>: Invalid FTARGET; it should be a real number; it is set to <*>" opens and closes with
            # values of any length. Its last words, since the run may open with the tail of a free-text value
            # (words that always follow the value's first word are not values themselves)
            best, run = (), []
            for token in (*template, WILDCARD):
                if is_value(token):
                    if _words(run) > _words(best):
                        best = tuple(run)
                    run = []
                else:
                    run.append(token)
            if _words(best) >= 3 and best != template[: len(best)]:
                words = [i for i, token in enumerate(best) if _is_word(token)]
                found.append(("core", best[words[-3] :]))
            # and its rarest word that more than one shape holds, most likely a word of its statement: "Exception <*>
            # while reading result, retry <*> in <*>" and "Exception not found while reading result, retry ...
            # in rediss..." share neither their ends nor a run of three words that are not values
            rare = min(((held, t) for t in set(template) if _is_word(t) and (held := shapes_with.get(t, 0)) > 1), default=None)
            if rare is not None:
                found.append(("rare", rare[1]))
            return found

        # Largest first: each cluster joins the statement of the first larger cluster it matches. Two clusters
        # that are both seen `min_support` times with their own words in between are two statements, unless what
        # differs is free text where the other holds a wildcard (see fills_a_value). A statement
        # that took in values of other lengths compares with a wider template; a second pass compares every
        # cluster that joined no other with all the widened templates, so the outcome does not hang on which came
        # first (a cluster that met it before it widened, or that sorts before it).
        order = sorted(templates, key=lambda x: (-support[x], templates[x]))
        parent = {label: label for label in templates}  # union-find; a root is its group's earliest cluster

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        keys_of = {label: keys(template) for label, template in templates.items()}
        widened: set[int] = set()  # clusters whose template grew: the only ones worth a second comparison

        def index(by_key: dict[tuple, list[int]], label: int) -> None:
            for key in keys_of[label]:
                if len(by_key[key]) < self.max_candidates and label not in by_key[key]:
                    by_key[key].append(label)

        for second in (False, True):
            by_key: dict[tuple, list[int]] = defaultdict(list)
            if second:  # every widened template is met, also by a cluster that sorts before it
                for label in order:
                    if label in widened:
                        index(by_key, label)
            for label in order:
                template = templates[label]
                indexed = [label]
                if not second or parent[label] == label:
                    target = self._first_match(
                        label, template, keys_of[label], by_key, templates, support, variety, one_statement, fills_a_value, widened
                    )
                    if target is not None and find(target) != find(label):
                        parent[find(label)] = find(target)
                        # the template that now stands for both is seen as often as both, in as many texts
                        support[target] += support[label]
                        variety[target] += variety[label]
                    if target is not None and templates[target] != template:
                        # the statement now holds values of several lengths there: later clusters meet its wider template
                        templates[target] = generalise(templates[target], template)
                        keys_of[target] = keys(templates[target])
                        widened.add(target)
                        indexed.append(target)
                for indexed_label in indexed:
                    if not second or indexed_label in widened:  # the second pass compares with widened templates only
                        index(by_key, indexed_label)
        return np.array([find(int(label)) for label in labels], dtype=int)

    def _first_match(
        self, label, template, label_keys, by_key, templates, support, variety, one_statement, fills_a_value, widened
    ) -> int | None:
        """The first indexed cluster that `template` is one statement with (see `_join_value_lengths`), or None."""
        for key in label_keys:
            if key[0] == "rare" and support[label] >= self.min_support:
                continue  # a busy template meets busy ones by its ends or its core (see keys)
            for other in by_key.get(key, ()):
                if other == label:
                    continue  # a widened cluster is indexed before its turn in the second pass
                joined = templates[other]
                # a widened template equal to this one is no proof: two large statements still need the test below
                equal = joined == template and other not in widened
                # either may be the busier: in the second pass a cluster meets widened templates of rarer ones
                busy = variety[other] >= self.min_support, variety[label] >= self.min_support
                if not equal and support[label] >= self.min_support and support[other] >= self.min_support:
                    if fills_a_value(joined, template, *busy):
                        return other
                    continue
                if equal or one_statement(joined, template, *busy):
                    return other
        return None

    def _templates(self, messages, token_lists, spans_of, labels, counts) -> dict[int, str]:
        """A readable template per cluster: its most frequent message with the varying spans as <*>."""
        members: dict[int, list[int]] = defaultdict(list)
        for i, label in enumerate(labels):
            members[int(label)].append(i)
        templates = {}
        for label, idx in members.items():
            representative = max(idx, key=lambda i: (counts[i], -i))
            rep_spans = spans_of[representative]
            same_width = [i for i in idx if len(spans_of[i]) == len(rep_spans)]
            varying: set[int] = set()
            for pos, (a, b) in enumerate(rep_spans):
                text = token_lists[representative][a:b]
                if any(token_lists[i][slice(*spans_of[i][pos])] != text for i in same_width):
                    varying.add(pos)
            tokens = list(token_lists[representative])
            for pos in varying:
                a, b = rep_spans[pos]
                for k in range(a, b):
                    tokens[k] = WILDCARD
                if a == b and a > 0:  # the value is empty in this message (`user= host=x`): mark it after its `=`
                    tokens[a - 1] = _THEN_WILDCARD
            templates[label] = render_template(messages[representative], tokens, self.max_tokens)
        return templates

    def fit_predict(
        self, messages: Sequence[str], counts: Sequence[int] | None = None, variants: Sequence[int] | None = None
    ) -> np.ndarray:
        return self.fit(messages, counts, variants).labels_
