"""The subset of the Cloud Logging query language the gardener's console links use, evaluated on LogEntry dicts.

A query is restrictions on separate lines, AND-ed: `a.b.c="value"` (a field equals a string),
`severity>=LEVEL`, and `"text"` (some string field of the entry contains the text). Anything else raises,
so a link that starts using more of the language fails its test instead of being judged by a guess.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

SEVERITIES = ["DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"]
_FIELD = re.compile(r'^([A-Za-z_][\w.]*)="((?:[^"\\]|\\.)*)"$')
_SEVERITY = re.compile(r"^severity>=([A-Z]+)$")
_TEXT = re.compile(r'^"((?:[^"\\]|\\.)*)"$')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _field(entry: dict, path: str):
    value = entry
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def compile_query(query: str):
    """A predicate over LogEntry dicts for `query`."""
    tests = []
    for line in filter(None, (line.strip() for line in query.splitlines())):
        if match := _FIELD.match(line):
            path, wanted = match.group(1), _unescape(match.group(2))
            tests.append(lambda e, path=path, wanted=wanted: _field(e, path) == wanted)
        elif match := _SEVERITY.match(line):
            floor = SEVERITIES.index(match.group(1))
            tests.append(lambda e, floor=floor: e.get("severity") in SEVERITIES and SEVERITIES.index(e["severity"]) >= floor)
        elif match := _TEXT.match(line):
            text = _unescape(match.group(1))
            tests.append(lambda e, text=text: any(text in s for s in _strings(e)))
        else:
            raise ValueError(f"restriction outside the supported subset: {line!r}")
    return lambda entry: all(test(entry) for test in tests)


def link_query(link: str) -> str:
    """The query of a console link (`…/logs/query;query=…;timeRange=…`)."""
    match = re.search(r";query=([^;?]*)", link)
    if not match:
        raise ValueError(f"no query in {link!r}")
    return unquote(match.group(1))
