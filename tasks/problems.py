"""Every problem a settings or rules model found, on one line: `field: what is wrong; other.field: ...`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import ValidationError


def dotted(loc: Sequence) -> str:
    """`escalation.ratio`; a problem of the whole input has no location and is the `input`'s."""
    return ".".join(map(str, loc)) or "input"


def one_line(exc: ValidationError, name: Callable[[Sequence], str] = dotted) -> str:
    """The problems of `exc`, each after the name `name` gives its location, in the order pydantic found them."""
    return "; ".join(f"{name(e['loc'])}: {e['msg']}" for e in exc.errors())
