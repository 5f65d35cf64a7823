"""Labelled log-grouping benchmark mined from the logging statements of installed Python packages.

Every ``logger.info("Retrying in %s after %d attempts", ...)``-style call (plus ``.format`` messages, f-strings and
``warnings.warn``) found by walking ``site-packages`` with :mod:`ast` becomes a :class:`Statement`.  Each statement is
instantiated many times with realistic values, and the statement text is kept as the ground-truth template, like
the loghub datasets (``Content,EventId,EventTemplate``).  Only the standard library is used.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import datetime as dt
import email.utils
import functools
import os
import random
import re
import string
import sysconfig
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal"})
TRIGGER = re.compile(rb"\.(?:debug|info|warning|warn|error|exception|critical|fatal|log)\s*\(|\bwarn\s*\(")
PERCENT = re.compile(r"%(?:\((?P<name>[^)]*)\))?(?P<spec>[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?)[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])")
SKIP_DIRS = frozenset({"tests", "test", "__pycache__"})
VARIABLE_SHARE = 0.3  # share of un-hinted string placeholders whose word count varies between instances
HINTED_TEXT_VARIABLE = 0.5  # same, for placeholders named like free text (exceptions, names, messages)


@dataclass(frozen=True)
class Statement:
    """One logging statement: the template as written, its style, per-placeholder descriptors and its location."""

    template: str
    style: str  # "percent" | "brace" | "fstring"
    fields: tuple[str, ...]
    where: str
    literals: tuple[str, ...] = field(default=(), compare=False, repr=False)  # constant text around placeholders
    hints: tuple[str, ...] = field(default=(), compare=False, repr=False)  # percent spec ("-5d") or "conv:spec"


def normalise(text: str) -> str:
    """Collapse all whitespace (including newlines) to single spaces."""
    return " ".join(text.split())


# --- mining ---------------------------------------------------------------------------------------------------


def iter_source_files(site_packages: Path, packages: Sequence[str] | None = None) -> list[Path]:
    """Sorted ``.py`` files of the given top-level packages (default: every package dir), without tests."""
    if packages is None:
        packages = sorted(p.name for p in site_packages.iterdir() if p.is_dir() and p.name.isidentifier() and p.name not in SKIP_DIRS)
    files: list[Path] = []
    for package in packages:
        for root, dirs, names in os.walk(site_packages / package):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            sources = (n for n in sorted(names) if n.endswith(".py") and not n.startswith("test_") and not n.endswith("_test.py"))
            files.extend(Path(root, n) for n in sources)
    return files


def _percent(text: str) -> tuple[str, list[str], list[str], list[str]]:
    literals, fields, hints, last = [""], [], [], 0
    for match in PERCENT.finditer(text):
        literals[-1] += text[last : match.start()]
        last = match.end()
        if match["conv"] == "%" and not match["name"] and not match["spec"]:
            literals[-1] += "%"
            continue
        name = f"({match['name']})" if match["name"] is not None else ""
        fields.append(name + match["spec"] + match["conv"])
        hints.append(match["spec"].replace("*", "") + match["conv"])
        literals.append("")
    literals[-1] += text[last:]
    return "percent", fields, hints, literals


def _brace(text: str) -> tuple[str, list[str], list[str], list[str]]:
    literals, fields, hints = [""], [], []
    for literal, name, spec, conv in string.Formatter().parse(text):
        literals[-1] += literal
        if name is not None:
            fields.append(name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else ""))
            hints.append(f"{conv or ''}:{'' if '{' in spec else spec}")
            literals.append("")
    return "brace", fields, hints, literals


def _fstring(node: ast.JoinedStr) -> tuple[str, str, list[str], list[str], list[str]]:
    text, literals, fields, hints = "", [""], [], []
    for part in node.values:
        if isinstance(part, ast.Constant):
            literals[-1] += str(part.value)
            text += str(part.value).replace("{", "{{").replace("}", "}}")
            continue
        assert isinstance(part, ast.FormattedValue)
        expr = ast.unparse(part.value)
        conv = chr(part.conversion) if part.conversion != -1 else ""
        spec_parts = part.format_spec.values if isinstance(part.format_spec, ast.JoinedStr) else []
        spec = "".join(str(v.value) if isinstance(v, ast.Constant) else "{" + ast.unparse(v) + "}" for v in spec_parts)
        static = all(isinstance(v, ast.Constant) for v in spec_parts)
        text += "{" + expr + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
        fields.append(expr)
        hints.append(f"{conv}:{spec if static else ''}")
        literals.append("")
    return text, "fstring", fields, hints, literals


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _percent_checked(text: str, arity: int | None) -> tuple[str, list[str], list[str], list[str]] | None:
    """Parse %-placeholders; None if they cannot match the number of positional arguments (e.g. a stray "50% done")."""
    parsed = _percent(text)
    fields = parsed[1]
    if arity is None or not fields or any(f.startswith("(") or "*" in f for f in fields) or len(fields) == arity:
        return parsed
    return None


def _parse_message(node: ast.expr, args: Sequence[ast.expr] | None) -> tuple[str, str, list[str], list[str], list[str]] | None:
    """Return template, style, fields, hints and literals of a message, or None for a non-literal one.

    ``args`` are the positional arguments logging will %-format the message with (None: never formatted, as in ``warnings.warn``).
    """
    arity = None if args is None or any(isinstance(a, ast.Starred) for a in args) else len(args)
    if _is_str(node):
        text = node.value  # type: ignore[attr-defined]
        parsed = _percent_checked(text, arity) if args else ("percent", [], [], [text])
        if args and not (parsed and parsed[1]):
            with contextlib.suppress(ValueError):
                parsed = _brace(text)  # loguru/structlog-style "{}" messages with arguments
        return (text, *parsed) if parsed else None
    if isinstance(node, ast.JoinedStr):
        return _fstring(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_str(node.left):
        right = node.right
        parsed = _percent_checked(node.left.value, len(right.elts) if isinstance(right, ast.Tuple) else None)  # type: ignore[attr-defined]
        return (node.left.value, *parsed) if parsed else None  # type: ignore[attr-defined]
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(func, ast.Attribute) and func.attr == "format" and _is_str(func.value):
        with contextlib.suppress(ValueError):
            return (func.value.value, *_brace(func.value.value))  # type: ignore[attr-defined]
    return None


def _message_of(call: ast.Call) -> tuple[ast.expr, Sequence[ast.expr] | None] | None:
    """Return the message argument of a logging/warnings call and the arguments logging formats it with."""
    func, args = call.func, call.args
    if isinstance(func, ast.Name):
        return (args[0], None) if func.id == "warn" and args else None
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr == "warn" and isinstance(func.value, ast.Name) and func.value.id == "warnings":
        return (args[0], None) if args else None
    if func.attr in LOG_METHODS and args:
        return args[0], args[1:]
    if func.attr == "log" and len(args) >= 2:
        return args[1], args[2:]
    return None


def mine_files(files: Iterable[Path], root: Path) -> list[Statement]:
    """Return every logging statement with a literal message in ``files`` (unfiltered, one per call site)."""
    found: list[Statement] = []
    for path in files:
        source = path.read_bytes()
        if not TRIGGER.search(source):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            message = _message_of(node) if isinstance(node, ast.Call) else None
            parsed = _parse_message(*message) if message else None
            if parsed:
                template, style, fields, hints, literals = parsed
                found.append(Statement(template, style, tuple(fields), f"{rel}:{node.lineno}", tuple(literals), tuple(hints)))
    return found


def mine_statements(site_packages: Path, packages: Sequence[str] | None = None) -> list[Statement]:
    """Mine the logging statements of installed packages (see :func:`iter_source_files`) without importing them."""
    return mine_files(iter_source_files(site_packages, packages), site_packages)


def skeleton(statement: Statement) -> str:
    """Return the statement's constant text with every placeholder as ``<*>`` (loghub style)."""
    return normalise("<*>".join(statement.literals))


def select_statements(statements: Iterable[Statement], merge_equivalent: bool = False) -> list[Statement]:
    """Keep real templates (>= 1 placeholder, >= 2 constant words of 3+ letters), deduplicated, sorted by text.

    Duplicates share the normalised template text; with ``merge_equivalent`` also the ``<*>`` skeleton
    (e.g. ``"reading %s."`` and ``"reading {}."``), which no parser can tell apart.
    """
    kept: dict[str, Statement] = {}
    for st in statements:
        if st.fields and len(re.findall(r"[A-Za-z]{3,}", " ".join(st.literals))) >= 2:
            kept.setdefault(skeleton(st) if merge_equivalent else normalise(st.template), st)
    return sorted(kept.values(), key=lambda st: normalise(st.template))


# --- value generation -----------------------------------------------------------------------------------------


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    """Split a compact vocabulary string into a tuple of entries."""
    return tuple(text.split(sep))


WORDS = _words(
    "default primary replica worker-3 billing orders us-central1 europe-west1 pending active prod staging cache scheduler "
    "ingest postgres redis bigquery pubsub main v2 json utf-8 gzip sqlite asyncio grpc admin viewer events sessions "
    "invoices checkout api-gateway payments-svc nightly daily 2024-05-17 v1.4.2 True False None"
)
VOCAB = _words(
    "user account order invoice payment batch export import record records customer report queue task job sync "
    "schema table dataset bucket object token session request response cache entry file upload download config "
    "pipeline stage step worker flow deployment message event retry timeout limit quota region project"
)
MESSAGES = _words(
    "timeout|refused|EOF|forbidden|unauthorized|cancelled|timed out|connection refused|not found|permission denied|"
    "broken pipe|invalid token|deadline exceeded|service unavailable|too many requests|rate limit exceeded|"
    "internal server error|database is locked|SSL handshake failed|certificate verify failed|missing required field|"
    "connection reset by peer|no such file or directory|unexpected end of stream|invalid JSON payload|"
    "name or service not known|quota exceeded for project|resource temporarily unavailable|event loop is closed|"
    "temporary failure in name resolution|server closed the connection unexpectedly|"
    "task was destroyed but it is pending",
    "|",
)
BY_LENGTH: dict[int, list[str]] = defaultdict(list)
for _message in MESSAGES:
    BY_LENGTH[len(_message.split())].append(_message)
BUILTIN_EXCEPTIONS = (ConnectionError, TimeoutError, ValueError, RuntimeError, PermissionError, KeyError)
CUSTOM_EXCEPTIONS = tuple(type(name, (Exception,), {}) for name in _words("ReadTimeout HTTPError GoogleAPICallError OperationalError"))
EXCEPTIONS = BUILTIN_EXCEPTIONS + CUSTOM_EXCEPTIONS
TYPENAMES = _words("ConnectionError HTTPAdapter Session OrderProcessor dict NoneType str int list DataFrame Flow TaskRun")
HOSTS = _words(
    "api.example.com storage.googleapis.com orders-db.internal redis-master.cache.svc.cluster.local billing-api-7f3k2-uc.a.run.app "
    "metadata.google.internal localhost"
)
STATUSES = (200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 404, 409, 422, 429, 500, 502, 503, 504)
DIRS = _words("srv app var lib tmp data workspace home runner uploads cache exports config site-packages")
ID_PREFIXES = _words("usr req ord job txn sess evt cus run")
USERS = ("alice", "svc-deployer", "j.doe@example.com", "sa-runner@proj-42.iam.gserviceaccount.com")
STATES = _words("PENDING RUNNING COMPLETED FAILED CANCELLED SCHEDULED CRASHED")


def _phrase(rng: random.Random, words: int) -> str:
    n = words or rng.choice((1, 1, 2, 2, 3, 3, 4, 5))
    if BY_LENGTH.get(n) and rng.random() < 0.5:
        return rng.choice(BY_LENGTH[n])
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def _exception(rng: random.Random, words: int) -> BaseException:
    if not words and rng.random() < 0.2:
        return OSError(rng.choice((2, 13, 32, 104, 110, 111)), _phrase(rng, 0).capitalize())
    return rng.choice(EXCEPTIONS)(_phrase(rng, words))


def _ip(rng: random.Random) -> str:
    return rng.choice(("10.{}.{}.{}", "192.168.{}.{}", "172.16.{}.{}", "34.{}.{}.{}")).format(*(rng.randint(0, 254) for _ in range(3)))


def _host(rng: random.Random) -> str:
    return rng.choice(HOSTS) if rng.random() < 0.6 else f"{rng.choice(VOCAB)}-{rng.randint(0, 9)}.{rng.choice(('prod', 'dev'))}.internal"


def _port(rng: random.Random) -> int:
    return rng.choice((80, 443, 5432, 6379, 8080, 8443, 9092, rng.randint(1024, 65535)))


def _path(rng: random.Random) -> str:
    dirs = rng.sample(DIRS, rng.randint(1, 4))
    name = f"{rng.choice(VOCAB)}_{rng.randint(1, 999)}{rng.choice(('.json', '.csv', '.py', '.parquet', '.log', ''))}"
    return "/" + "/".join((*dirs, name))


def _url(rng: random.Random) -> str:
    query = f"?page={rng.randint(1, 50)}" if rng.random() < 0.3 else ""
    return f"https://{_host(rng)}/{rng.choice(('v1', 'api/v2', 'storage/v1/b'))}/{rng.choice(VOCAB)}s/{rng.randint(1, 99999)}{query}"


def _timestamp(rng: random.Random) -> str:
    """A moment as Python programs print one: ISO 8601 mostly, else `str(datetime)`, `time.ctime`, RFC 2822, syslog."""
    moment = dt.datetime(2024, 5, 17, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.uniform(0, 30 * 86400))
    shape = rng.random()
    if shape < 0.6:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if shape < 0.75:
        return str(moment.replace(tzinfo=None))
    if shape < 0.85:
        return f"{moment:%a %b} {moment.day:2d} {moment:%H:%M:%S %Y}"  # time.ctime, in UTC
    if shape < 0.95:
        return email.utils.format_datetime(moment)
    return f"{moment:%b} {moment.day:2d} {moment:%H:%M:%S}"


GENERATORS: dict[str, Callable[[random.Random, int], object]] = {
    "int": lambda r, a: r.choice((r.randint(0, 10), r.randint(0, 1000), r.randint(1000, 10**6))),
    "float": lambda r, a: round(r.uniform(0, 10 ** r.randint(0, 4)), r.randint(1, 4)),
    "seconds": lambda r, a: round(r.expovariate(0.5), 3),
    "duration": lambda r, a: r.choice((f"{r.expovariate(0.5):.1f}s", f"{r.randint(1, 999)}ms", f"{r.randint(1, 59)}m{r.randint(0, 59)}s")),
    "size": lambda r, a: f"{round(r.uniform(0.1, 999), r.randint(0, 1))}{r.choice(('KB', 'MB', 'GB', 'B'))}",
    "bytes": lambda r, a: r.randint(0, 2**26),
    "uuid": lambda r, a: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "hex": lambda r, a: f"{r.getrandbits(4 * a):0{a}x}",
    "prefixed_id": lambda r, a: f"{ID_PREFIXES[a % 9]}_{r.getrandbits(24 + a % 3 * 8):x}",
    "int_id": lambda r, a: r.randint(1, 10**7),
    "path": lambda r, a: _path(r),
    "host": lambda r, a: _host(r),
    "ip": lambda r, a: _ip(r),
    "host_port": lambda r, a: f"{r.choice((_host, _ip))(r)}:{_port(r)}",
    "port": lambda r, a: _port(r),
    "url": lambda r, a: _url(r),
    "word": lambda r, a: r.choice(WORDS),
    "name": lambda r, a: f"{r.choice(VOCAB)}-{r.choice(VOCAB)}" if a else _phrase(r, r.randint(1, 3)).title(),
    "user": lambda r, a: r.choice((*USERS, f"{r.choice(VOCAB)}{r.randint(1, 99)}")),
    "key": lambda r, a: r.choice((f"{r.choice(VOCAB)}:{r.randint(1, 9999)}:profile", "max_retries", "PREFECT_API_URL", "region")),
    "typename": lambda r, a: r.choice(TYPENAMES),
    "classrepr": lambda r, a: f"<class '{r.choice(TYPENAMES)}'>",
    "phrase": _phrase,
    "quoted": lambda r, a: r.choice("'\"").join(("", _phrase(r, a), "")),
    "exc": _exception,
    "exc_repr": lambda r, a: repr(_exception(r, a)),
    "pyrepr": lambda r, a: r.choice((r.sample(WORDS, r.randint(0, 3)), {r.choice(VOCAB): r.randint(0, 99)}, (_host(r), _port(r)))),
    "method": lambda r, a: r.choice(("GET", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")),
    "http_status": lambda r, a: r.choice(STATUSES),
    "state": lambda r, a: r.choice(STATES),
    "timestamp": lambda r, a: _timestamp(r),
}
NUMERIC = frozenset({"int", "float", "seconds", "bytes", "int_id", "port", "http_status"})
TEXTUAL = frozenset({"phrase", "quoted", "exc", "name"})
HINTS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_words("url uri href link endpoint"), ("url",)),
    **dict.fromkeys(_words("host hostname server"), ("host", "ip", "host_port")),
    **dict.fromkeys(_words("addr address ip netloc"), ("ip", "host_port")),
    **dict.fromkeys(_words("path file filename fname filepath dir directory folder"), ("path",)),
    **dict.fromkeys(_words("id uuid pk"), ("uuid", "hex", "prefixed_id", "int_id")),
    **dict.fromkeys(_words("token sha digest hash trace"), ("hex",)),
    **dict.fromkeys(_words("count n num total retries retry attempt attempts tries idx index limit lineno line pid rows length"), ("int",)),
    **dict.fromkeys(_words("size bytes nbytes"), ("size", "bytes")),
    **dict.fromkeys(_words("time timeout elapsed duration delay interval wait"), ("duration", "seconds")),
    **dict.fromkeys(_words("seconds secs"), ("seconds",)),
    **dict.fromkeys(_words("timestamp date datetime now deadline"), ("timestamp",)),
    **dict.fromkeys(_words("e ex exc err error exception"), ("exc",)),
    **dict.fromkeys(_words("msg message reason detail"), ("phrase",)),
    **dict.fromkeys(_words("user username owner email"), ("user",)),
    "name": ("name",),
    "key": ("key",),
    "port": ("port",),
    "status": ("http_status", "state"),
    "code": ("http_status",),
    "state": ("state",),
    **dict.fromkeys(_words("method verb"), ("method",)),
}
UNHINTED = {  # kind: weight, for placeholders that say nothing about their value
    "word": 16, "phrase": 12, "int": 12, "uuid": 3, "hex": 3, "prefixed_id": 3, "path": 6, "host": 3, "host_port": 2, "url": 5, "float": 4,
    "duration": 4, "size": 3, "quoted": 4, "pyrepr": 5, "exc_repr": 5, "method": 2, "http_status": 3, "timestamp": 4, "name": 3, "key": 2,
}  # fmt: skip
UNHINTED_REPR = ("word", "phrase", "path", "name", "key", "url", "uuid", "pyrepr")


class Plan(NamedTuple):
    """How one placeholder is filled: a value kind, a kind parameter (0 = variable word count) and a reuse key."""

    kind: str
    arg: int
    key: str


def _hinted(field_text: str) -> tuple[str, ...] | None:
    if "__name__" in field_text or "__qualname__" in field_text:
        return ("typename",)
    if field_text.startswith(("len(", "type(")):
        return ("int",) if field_text.startswith("len(") else ("classrepr",)
    tokens = re.sub(r"([a-z])([A-Z])", r"\1_\2", field_text).lower()
    for token in reversed(re.findall(r"[a-z]+", tokens)):
        if token in HINTS:
            return HINTS[token]
    return None


def _field_name(style: str, field_text: str) -> str:
    if style == "percent":
        return field_text[1 : field_text.index(")")] if field_text.startswith("(") else ""
    return re.split(r"[!:]", field_text, maxsplit=1)[0] if style == "brace" else field_text


def _numeric_spec(style: str, hint: str) -> str | None:
    last = hint[-1:] if style == "percent" else hint.partition(":")[2][-1:]
    if last and last in ("diouxXc" if style == "percent" else "bcdoxXn"):
        return "int"
    return "float" if last and last in "eEfFgG%" else None


@functools.cache
def plan_placeholders(statement: Statement) -> tuple[Plan, ...]:
    """Deterministic per-placeholder plans, seeded by the template text and the placeholder (name or position)."""
    plans = []
    for index, (field_text, hint) in enumerate(zip(statement.fields, statement.hints, strict=True)):
        name = _field_name(statement.style, field_text)
        key = name or f"#{index}"
        prng = random.Random(f"{normalise(statement.template)}\x00{key}")
        numeric, hinted, variable = _numeric_spec(statement.style, hint), _hinted(name), False
        is_repr = hint.endswith("r") if statement.style == "percent" else hint.startswith("r")
        if numeric:
            kinds = tuple(k for k in hinted or () if k in NUMERIC) or (numeric,)
        elif hinted:
            kinds, variable = hinted, prng.random() < HINTED_TEXT_VARIABLE
        elif prng.random() < VARIABLE_SHARE:
            kinds, variable = ("phrase", "phrase", "exc") if is_repr else ("phrase", "phrase", "quoted", "exc"), True
        elif is_repr:
            kinds = UNHINTED_REPR
        else:
            kinds = tuple(prng.choices(list(UNHINTED), weights=list(UNHINTED.values())))
        kind = prng.choice(kinds)
        arg = {"hex": prng.choice((8, 12, 16, 32, 40)), "prefixed_id": prng.randrange(27), "phrase": prng.randint(2, 4)}.get(kind, 1)
        arg = prng.randint(1, 4) if kind in ("exc", "exc_repr", "quoted") else arg
        plans.append(Plan(kind, 0 if variable and kind in TEXTUAL else arg, key))
    return tuple(plans)


def _render(style: str, hint: str, value: object) -> str:
    try:
        if style == "percent":
            return ("%" + hint) % (value,)
        conv, _, spec = hint.partition(":")
        value = {"r": repr, "a": ascii, "s": str}[conv](value) if conv else value
        return format(value, spec)
    except (TypeError, ValueError, OverflowError, KeyError):
        return str(value)


def instantiate(statement: Statement, rng: random.Random) -> str:
    """One single-line message of ``statement`` with every placeholder filled by a realistic value."""
    values: dict[str, object] = {}
    parts = [statement.literals[0]]
    for plan, hint, literal in zip(plan_placeholders(statement), statement.hints, statement.literals[1:], strict=True):
        if plan.key not in values:
            values[plan.key] = GENERATORS[plan.kind](rng, plan.arg)
        parts += [_render(statement.style, hint, values[plan.key]), literal]
    return normalise("".join(parts))


# --- corpus ---------------------------------------------------------------------------------------------------


@dataclass
class Corpus:
    """Messages with their statement labels, the template of each label and the cross-label text collisions."""

    messages: list[str]
    labels: list[str]
    templates: dict[str, str]
    collisions: int


def assemble_corpus(
    statements: Sequence[Statement], n_statements: int = 3000, per_statement: tuple[int, int] = (1, 40), seed: int = 7
) -> Corpus:
    """Sample statements and instantiate each a skewed random number of times (most few, some many), shuffled."""
    rng = random.Random(seed)
    chosen = sorted(rng.sample(list(statements), min(n_statements, len(statements))), key=lambda s: normalise(s.template))
    low, high = per_statement
    width = max(4, len(str(len(chosen))))
    rows, templates = [], {}
    for number, statement in enumerate(chosen, 1):
        label = f"S{number:0{width}d}"
        templates[label] = normalise(statement.template)
        count = min(high, low + int((high - low + 1) * rng.random() ** 3))
        rows += [(instantiate(statement, rng), label) for _ in range(count)]
    rng.shuffle(rows)
    owners: dict[str, set[str]] = defaultdict(set)
    for message, label in rows:
        owners[message].add(label)
    collisions = sum(1 for message, _ in rows if len(owners[message]) > 1)
    return Corpus([m for m, _ in rows], [lb for _, lb in rows], templates, collisions)


def spread_over_packages(statements: Sequence[Statement], share: float, n_statements: int, seed: int) -> list[Statement]:
    """At most ``share`` of ``n_statements`` from one top-level package, so no library's style dominates."""
    cap = max(1, int(share * n_statements))
    by_package: dict[str, list[Statement]] = defaultdict(list)
    for st in statements:
        by_package[st.where.split("/", 1)[0]].append(st)
    rng = random.Random(seed)
    kept: list[Statement] = []
    for package in sorted(by_package):
        members = by_package[package]
        kept += members if len(members) <= cap else rng.sample(members, cap)
    return sorted(kept, key=lambda st: normalise(st.template))


def build_corpora(
    site_packages: Path,
    seeds: Sequence[int] = (7,),
    n_statements: int = 3000,
    per_statement: tuple[int, int] = (1, 40),
    package_share: float = 0.1,
) -> dict[int, tuple[list[str], list[str]]]:
    """Mine once, then per seed select (one label per ``<*>`` skeleton, no package above ``package_share``) and
    instantiate; ``{seed: (messages, labels)}``. Seeds draw different statements and values from the same packages."""
    mined = select_statements(mine_statements(site_packages), merge_equivalent=True)
    corpora = {}
    for seed in seeds:
        statements = spread_over_packages(mined, package_share, n_statements, seed)
        corpus = assemble_corpus(statements, n_statements, per_statement, seed)
        corpora[seed] = (corpus.messages, corpus.labels)
    return corpora


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: mine site-packages and write a loghub-like CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-packages", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    parser.add_argument("--packages", nargs="*", help="top-level packages to scan (default: all)")
    parser.add_argument("--statements", type=int, default=3000)
    parser.add_argument("--per-statement", type=int, nargs=2, default=(1, 40), metavar=("MIN", "MAX"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--merge-equivalent", action="store_true", help="also merge templates with the same <*> skeleton")
    parser.add_argument("--output", type=Path, help="CSV with columns Content,EventId,EventTemplate")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    files = iter_source_files(args.site_packages, args.packages)
    mined = mine_files(files, args.site_packages)
    kept = select_statements(mined, args.merge_equivalent)
    mining = time.perf_counter() - started
    corpus = assemble_corpus(kept, args.statements, tuple(args.per_statement), args.seed)
    print(f"files scanned: {len(files)}  mining: {mining:.1f}s  total: {time.perf_counter() - started:.1f}s")
    print(f"statements mined: {len(mined)}  kept: {len(kept)}  sampled: {len(corpus.templates)}")
    print(f"messages: {len(corpus.messages)}  cross-statement collisions: {corpus.collisions}")
    ambiguous = sum(n for n in Counter(map(skeleton, kept)).values() if n > 1)
    print(f"styles kept: {dict(Counter(s.style for s in kept))}  kept statements sharing a <*> skeleton: {ambiguous}")
    if args.output:
        with args.output.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(("Content", "EventId", "EventTemplate"))
            writer.writerows((m, lb, corpus.templates[lb]) for m, lb in zip(corpus.messages, corpus.labels, strict=True))
        print(f"messages written: {len(corpus.messages)} -> {args.output}")


if __name__ == "__main__":
    main()
