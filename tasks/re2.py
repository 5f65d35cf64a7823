r"""Expressions of the rules file matched by RE2, DuckDB's engine: in time linear in the text, whatever the expression.

Python's engine backtracks: a mute or owner rule such as `(a+)+$` takes exponential time on a template of
a's that ends otherwise, and would stall every run that meets one. The rules are checked to be in the subset
of expressions both engines take (`check`); where they differ in meaning, RE2's is the rule's, here as in SQL:
`\d`, `\w`, `\s` and `\b` are ASCII only, and `$` is the end of the text (never before a last newline).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import duckdb

_LOCK = threading.Lock()  # one connection, used by one thread at a time


@lru_cache(maxsize=1)
def _connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@contextmanager
def scratch() -> Iterator[duckdb.DuckDBPyConnection]:
    """The in-memory DuckDB these matches run on, for one thread at a time (`explain` computes a key on it too)."""
    with _LOCK:
        yield _connection()


def check(value: str, may_match_nothing: bool = False) -> str:
    """`value` when Python and RE2 both take it and read it alike; else a ValueError that says why.

    An expression that matches the empty text matches every text: refused unless `may_match_nothing`.
    """
    if not value:
        raise ValueError("an empty expression would match everything")
    if "[[:" in value or re.search(r"(?<!\\)\{,", value):
        raise ValueError(f"{value!r} uses a POSIX class or {{,n}}, which Python and RE2 read differently")
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from None
    if re.search(r"\(\?[=!<>(]|\(\?P=|\\[1-9]|\\Z", value):
        raise ValueError(f"{value!r} uses lookaround, an atomic group, a backreference or \\Z, which RE2 does not support")
    if not may_match_nothing and compiled.search("") is not None:
        raise ValueError(f"{value!r} matches the empty text, so it would match everything")
    try:
        with _LOCK:
            _connection().execute("select regexp_matches('', ?)", [value])
    except duckdb.Error as exc:
        raise ValueError(f"RE2 does not take {value!r}: {str(exc).splitlines()[0]}") from None
    return value


# what each (expression, text) pair gave, so a run asks DuckDB once per expression, not once per pair; emptied
# before it would grow past MAX_KNOWN pairs (it holds the texts themselves, which the patterns hold anyway)
_KNOWN: dict[tuple[str, str], bool] = {}
MAX_KNOWN = 1 << 19


def prime(patterns, texts) -> None:
    """Match every expression of `patterns` against every text of `texts` at once: one query per expression.

    `search` then answers those pairs without DuckDB (a run's owners and mutes meet a few thousand templates; a
    query per pair would take a third of a millisecond each).
    """
    texts = sorted({text for text in texts if text})
    patterns = list(dict.fromkeys(patterns))
    if len(_KNOWN) + len(patterns) * len(texts) > MAX_KNOWN:
        _KNOWN.clear()  # before, never while: every pair asked for now stays known
    for pattern in patterns:
        wanted = [text for text in texts if (pattern, text) not in _KNOWN]
        if not wanted:
            continue
        with _LOCK:
            found = (
                _connection()
                .execute(
                    "select list(t) filter (where regexp_matches(t, $pattern)) from unnest($texts) as u(t)",
                    {"pattern": pattern, "texts": wanted},
                )
                .fetchone()[0]
            )
        matched = set(found or ())
        _KNOWN.update(((pattern, text), text in matched) for text in wanted)


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` (checked by `check`) finds a match anywhere in `text` (`prime` asks for many at once)."""
    known = _KNOWN.get((pattern, text))
    if known is None:
        prime([pattern], [text])
        known = _KNOWN.get((pattern, text), False)
    return known


def replace(pattern: str, text: str, token: str) -> str:
    """`text` with every match of `pattern` replaced by `token` (a placeholder, no backslash), as SQL masks it."""
    with _LOCK:
        return _connection().execute("select regexp_replace(?, ?, ?, 'g')", [text, pattern, token]).fetchone()[0]


def group(pattern: str, text: str) -> str | None:
    """The first group of the first match of `pattern` in `text` ('' when it took nothing), None without a match."""
    with _LOCK:
        found, value = (
            _connection().execute("select regexp_matches(?, ?), regexp_extract(?, ?, 1)", [text, pattern, text, pattern]).fetchone()
        )
    return value if found else None
