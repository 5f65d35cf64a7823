"""Expressions of the rules file matched by RE2, DuckDB's engine: in time linear in the text, whatever the expression.

Python's engine backtracks: a mute or owner rule such as `(a+)+$` takes exponential time on a template of
a's that ends otherwise, and would stall every run that meets one. The rules are checked to be in the subset
of expressions Python and RE2 read alike (`check`), so a rule means the same in the file, in SQL and here.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import duckdb

_LOCK = threading.Lock()  # one connection, used by one thread at a time


@lru_cache(maxsize=1)
def _connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


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


@lru_cache(maxsize=1 << 14)
def search(pattern: str, text: str) -> bool:
    """Whether `pattern` (checked by `check`) finds a match anywhere in `text`, as `re.search` would."""
    with _LOCK:
        (found,) = _connection().execute("select regexp_matches(?, ?)", [text, pattern]).fetchone()
    return bool(found)
