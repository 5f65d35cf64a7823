"""What a person scans first about a pattern: a short headline, where it comes from, and terms that find its entries.

All three are computed from the pattern's template and the messages of its sample entries, so a title or a
console link never says something the logs do not:

- the headline of a stack trace is `ExceptionType in function: gist of its message`; of any other pattern, its
  template with each placeholder shortened to `…`;
- the search terms are strings that occur in a text field of every sample entry (the exception type and the
  function of the top application frame, or the longest constant stretches of the template, else their
  words), so a Cloud Logging query made of them finds the samples; a term that redaction would change is
  never used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from log_gardener.tasks.masking import mask
from log_gardener.tasks.measure import PatternMeasure
from log_gardener.tasks.normalise import RejectedEntry, clean_text, message_of
from log_gardener.tasks.redact import redact, redact_template
from log_gardener.tasks.stacktrace import parse_trace

MAX_HEADLINE_CHARS = 100
MAX_TERM_CHARS = 80
MIN_TERM_CHARS = 4
MAX_TERMS = 2
_PLACEHOLDER = re.compile(r"<[A-Z*]+>")
PLACEHOLDER_OR_REDACTED = re.compile(r"<[A-Z*]+>|\[REDACTED[^\]]*\]")  # where a redacted template stops being constant
_QUALIFIER = re.compile(r"^\([\w.]+\)\s*")  # "(psycopg2.OperationalError) connection …": the type again
_SOURCE_SUFFIX = re.compile(r"\.(?:py|java|kt|go|rb|js|ts|cs|php|scala)$")


def sample_entries(payloads: Sequence[str]) -> list[dict]:
    """The stored sample entries (LogEntry JSON) that still parse: a payload cut at its storage limit does not."""
    entries = []
    for payload in payloads:
        try:
            entry = json.loads(payload)
        except (ValueError, TypeError):
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def entry_message(entry: dict) -> str | None:
    """An entry's message as the gardener read it."""
    try:
        return clean_text(message_of(entry))
    except (RejectedEntry, TypeError, AttributeError):
        return None


def _texts(value) -> list[str]:
    """Every string field of an entry: what a quoted term of a Logging query is searched in."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def shortened(template: str) -> str:
    """A template with each placeholder (or run of them) as `…`, on one line."""
    text = " ".join(_PLACEHOLDER.sub("…", template).split())
    return re.sub(r"…(?:[\s:=,/.]*…)+", "…", text)


def component(module: str | None) -> str | None:
    """The short name of where a pattern is logged: `repository` for `app/repository.py`, `charges` for `payments.charges`."""
    if not module:
        return None
    if "/" in module or "\\" in module or _SOURCE_SUFFIX.search(module):
        return _SOURCE_SUFFIX.sub("", PurePosixPath(module.replace("\\", "/")).name) or None
    return module.rsplit(".", 1)[-1] or None


def source_text(m: PatternMeasure) -> str:
    """`repository.py:142 in save_charge`, `payments.charges in save_charge`, or `-` when nothing says."""
    if not m.module and not m.function:
        return "-"
    where = (m.module or "-") + (f":{m.line}" if m.line is not None else "")
    return f"{where} in {m.function}" if m.function else where


def affected_text(m: PatternMeasure) -> str:
    """`12 requests (distinct traces), 3 clients`, leaving out a part with nothing recorded (both: says so)."""
    parts = []
    if m.traces:
        parts.append(f"{m.traces} request{'' if m.traces == 1 else 's'} (distinct traces)")
    if m.clients:
        parts.append(f"{m.clients} client{'' if m.clients == 1 else 's'}")
    return ", ".join(parts) or "no traces or client addresses in its entries"


def _short_function(function: str) -> str:
    """The last two parts of a qualified name: com.shop.OrderService.load -> OrderService.load; main.handler -> handler."""
    parts = function.rsplit("/", 1)[-1].split(".")[-2:]
    return parts[-1] if parts[0] == "main" else ".".join(parts)


def headline(m: PatternMeasure, entries: Sequence[dict]) -> str:
    """A title-length sentence for the pattern (from its template and sample entries), redacted."""
    messages = [text for text in map(entry_message, entries) if text]
    trace = parse_trace(messages[0]) if messages else None
    if trace is not None:
        frame = trace.top_application_frame
        # the exception line is redacted whole before it is taken apart: a key and its secret stay together
        exception, _, detail = redact(f"{trace.exception}: {trace.message}").partition(": ")
        head = exception.rsplit(".", 1)[-1] + (f" in {_short_function(frame.function)}" if frame else "")
        # redacted before masking: a secret cut into pieces by the masks would no longer be recognised
        gist = shortened(mask(_QUALIFIER.sub("", detail)))
        text = f"{head}: {gist}" if gist else head
    else:
        # redacted before the placeholders are shortened away: a secret cut into pieces is recognised by them
        text = shortened(redact_template(m.template))
        where = component(m.module)
        if where and where not in text and len(text) + len(where) + 3 <= MAX_HEADLINE_CHARS:
            text = f"{text} ({where})"
    return _cut(redact(text), MAX_HEADLINE_CHARS)


def search_terms(m: PatternMeasure, entries: Sequence[dict]) -> list[str]:
    """Strings that occur in a text field of every sample entry, best first (none when none can be trusted)."""
    texts = [_texts(entry) for entry in entries]
    messages = [text for text in map(entry_message, entries) if text]
    candidates: list[str] = []
    trace = parse_trace(messages[0]) if messages else None
    if trace is not None:
        candidates.append(trace.exception)
        frame = trace.top_application_frame
        if frame is not None:
            candidates.append(frame.function)  # as the trace writes it: `in save_charge`, `at com.shop.Orders.load(`
    # stretches of the redacted template: a secret is gone before the template is cut into terms
    stretches = [s.strip(" :=,;") for s in PLACEHOLDER_OR_REDACTED.split(redact_template(m.template))]
    candidates += sorted((s for s in stretches if len(s) >= MIN_TERM_CHARS), key=len, reverse=True)
    # a stretch the message was assembled from (`POST /ws/beacon 405` of a request log) is found by its words
    candidates += sorted({w for s in stretches for w in s.split() if len(w) >= MIN_TERM_CHARS}, key=lambda w: (-len(w), w))
    terms: list[str] = []
    for candidate in candidates:
        term = candidate[:MAX_TERM_CHARS].strip()
        if len(term) < MIN_TERM_CHARS or any(term in chosen for chosen in terms) or redact(term) != term:
            continue
        if texts and not all(any(term in text for text in fields) for fields in texts):
            continue
        terms.append(term)
        if len(terms) == MAX_TERMS:
            break
    return terms
