"""Masking of the variable parts of a message, defined once for Python and SQL.

Every pattern is RE2 syntax (no look-around, no back-references) so BigQuery
and DuckDB run exactly the rules that `mask()` runs in Python; the warehouse
builds its `mask_message()` SQL function from `MASK_RULES` (see
`mask_function_sql`). Order matters: wider shapes (URLs, emails, timestamps)
go before the numbers they contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the SQL side is built on demand: masking plain lines starts without sqlglot
    from sqlglot import exp


@dataclass(frozen=True)
class MaskRule:
    name: str
    pattern: str
    token: str
    # a pattern every match contains, cheap to search for: Python skips the rule when the text has none
    needs: str = ""

    @cached_property
    def needed(self) -> re.Pattern[str] | None:
        return re.compile(self.needs, re.ASCII) if self.needs else None

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        # RE2 classes (\d, \w, \b) are ASCII-only: keep Python in step.
        return re.compile(as_re2_spaces(self.pattern), re.ASCII)


_RE2_SPACE = "\\t\\n\\f\\r "  # RE2's \s; Python's (even with re.ASCII) adds the vertical tab


def as_re2_spaces(pattern: str) -> str:
    """`pattern` with `\\s` spelled out as RE2 reads it, so Python and the warehouses match the same text."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            pair = pattern[i : i + 2]
            if pair == "\\s":
                out.append(_RE2_SPACE if in_class else f"[{_RE2_SPACE}]")
            elif pair == "\\S" and not in_class:
                out.append(f"[^{_RE2_SPACE}]")
            else:
                out.append(pair)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            # a `]` or `^]` right after the opening bracket is a member, not the end
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                out.append("]")
                i += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        else:
            out.append(char)
        i += 1
    return "".join(out)


MASK_RULES: tuple[MaskRule, ...] = (
    # A URL never ends in the punctuation of the sentence around it: "fetching https://h/p: timeout".
    MaskRule("url", r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>()\[\]{},]*[^\s\"'<>()\[\]{},.:;!?]", "<URL>", needs="://"),
    MaskRule("email", r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", "<EMAIL>", needs=r"@"),
    MaskRule(
        "timestamp",
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+\-]\d{2}:?\d{2})?",
        "<TS>",
        needs=r"\d-\d",
    ),
    # A date written with a month name is one value, whichever of the usual orders it takes: syslog's
    # "Jun 19 23:54:40", ctime's "Sun Jun 19 23:54:40 2005", HTTP's "Tue, 15 Nov 1994 08:12:31 GMT",
    # "Jun 19, 2005 11:02:03 PM". Month and weekday names take few values, so unmasked they would read as
    # words of the statement and split it by the day it was written.
    MaskRule(
        "textual_date",
        r"\b(?:(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)(?:day|sday|nesday|rsday|urday)?\.?,? +)?(?:\d{1,2} +)?"
        r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?"
        r"|Nov(?:ember)?|Dec(?:ember)?)\.? +(?:\d{1,2}(?:st|nd|rd|th)?,? +)?(?:\d{4},? +)?"
        r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?: ?[AaPp][Mm]\b)?"
        r"(?: +(?:UTC|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|CET|CEST|BST|IST|JST|AEST|AEDT)\b|(?: +[+\-]\d{4}\b))?(?: +\d{4}\b)?",
        "<TS>",
        needs="Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec",
    ),
    MaskRule("path", r"(?:/[\w.\-~%]+){3,}/?(?:\?[^\s\"']*)?", "<PATH>", needs="/"),
    MaskRule(
        "uuid", r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", "<UUID>", needs=r"[0-9A-Fa-f]-[0-9A-Fa-f]"
    ),
    MaskRule("ip", r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d{1,5})?", "<IP>", needs=r"\d\.\d"),
    # A single-quoted value (a repr, an SQL literal) of up to five words; the quote must open after a
    # non-word character, so apostrophes ("isn't ... don't") never pair up. A longer quoted text is a
    # message of its own, whose words say what happened. A double-quoted value of several words holds no
    # slash, nor a value masked before it: a quoted request line ("GET /x HTTP/1.1", "GET <PATH>") keeps its
    # method. No double-quoted value holds a backslash: an escaped quote (\" inside a quoted text) pairs with
    # no other.
    MaskRule(
        "quoted",
        r"\"[^\"\s\\]{1,80}\"|\"[^\"\s/<>\\]{1,80}(?: [^\"\s/<>\\]{1,80}){1,4}\"|(^|[^0-9A-Za-z])'[^'\s]{1,80}(?: [^'\s]{1,80}){0,4}'",
        r"\1<STR>",
        needs="[\"']",
    ),
    MaskRule("hex", r"0[xX][0-9A-Fa-f]+", "<HEX>", needs="0[xX]"),
    # ids that mix hex digits and letters (usr_8f3a2b1c, 5e9ac0); the boundary is captured, RE2 has no look-behind
    MaskRule(
        "hex_id",
        r"(^|[^0-9A-Za-z])[0-9a-fA-F]*(?:[0-9][a-fA-F]|[a-fA-F][0-9])[0-9a-fA-F]*",
        r"\1<HEX>",
        needs="[0-9][a-fA-F]|[a-fA-F][0-9]",
    ),
    MaskRule("number", r"\d+(?:\.\d+)*", "<NUM>", needs=r"\d"),
    # a comma-separated list of masked values is one value of variable length
    MaskRule("list", r"(<[A-Z]+>)(?:, ?<[A-Z]+>)+", r"\1", needs=">, ?<"),
)


def mask(text: str, rules: tuple[MaskRule, ...] = MASK_RULES) -> str:
    """Replace every variable part of `text` by its typed token (`<NUM>`, `<IP>`, ...)."""
    for rule in rules:
        if rule.needed is None or rule.needed.search(text):
            text = rule.compiled.sub(rule.token, text)
    return text


def mask_expression(column: exp.Expression, rules: tuple[MaskRule, ...] = MASK_RULES) -> exp.Expression:
    """The nested REGEXP_REPLACE that applies `rules` to `column`, as a sqlglot tree."""
    from sqlglot import exp

    expression = column
    for rule in rules:
        expression = exp.RegexpReplace(
            this=expression,
            expression=exp.Literal.string(rule.pattern),
            replacement=exp.Literal.string(rule.token),
            # DuckDB replaces only the first match without 'g'; BigQuery always replaces all.
            modifiers=exp.Literal.string("g"),
        )
    return expression


def mask_function_sql(dialect: str) -> str:
    """DDL for a `mask_message(s)` SQL function in `dialect` (duckdb macro or BigQuery temp function)."""
    from sqlglot import exp

    body = mask_expression(exp.column("s"))
    if dialect == "duckdb":
        return f"create or replace macro mask_message(s) as {body.sql('duckdb')}"
    if dialect == "bigquery":
        # BigQuery's REGEXP_REPLACE is always global and takes no modifiers.
        for node in body.find_all(exp.RegexpReplace):
            node.set("modifiers", None)
        return f"create temp function mask_message(s string) as ({body.sql('bigquery')})"
    raise ValueError(f"no masking function for dialect {dialect!r}")


def parse_check(dialect: str) -> None:
    """Raise if the generated masking function does not parse in `dialect`."""
    import sqlglot

    sqlglot.parse_one(mask_function_sql(dialect), read=dialect)
