"""Extract: the WARNING-and-above entries of one service and window, as rows, plus rejections."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from log_gardener.tasks.normalise import (
    ROW_COLUMNS,
    SEVERITY_RANK,
    RejectedEntry,
    Window,
    normalise,
    parse_time,
    project_of,
    service_of,
    severity_name,
)
from log_gardener.tasks.sources.base import RAW_KEEP_CHARS, LogSource, Unparseable
from log_gardener.tasks.sources.file import FileSource


@dataclass
class Rejection:
    rejection_id: str
    reason: str
    raw_text: str
    location: str


@dataclass
class Extracted:
    rows: pd.DataFrame  # the kept rows not handed to a sink yet (all of them without one)
    rejections: list[Rejection] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    new_entries: int = 0  # rows the sink stored that it had not stored before
    project: str | None = None  # the Google Cloud project of the entries' logName, when they say
    project_position: int | None = None  # the position of the first kept entry that names it


CHUNK_ROWS = 20_000  # kept rows handed to the sink at a time: memory follows this, not the window


def _rejection(raw: str, reason: str, where: str, source: str) -> Rejection:
    digest = hashlib.sha1(f"{source}|{where}|{raw}".encode("utf-8", "replace")).hexdigest()[:24]
    return Rejection(digest, reason, raw[:RAW_KEEP_CHARS], where)


MAX_DEPTH = 64  # a LogEntry is a few levels deep; far deeper is hostile or broken


def _raw(entry) -> str:
    try:
        return json.dumps(entry, ensure_ascii=False, default=str)[:RAW_KEEP_CHARS].encode("utf-8", "replace").decode("utf-8")
    except (RecursionError, ValueError, TypeError):
        return repr(type(entry))


def nesting_depth(value, limit: int = MAX_DEPTH) -> int:
    """How deeply objects and arrays nest in `value`, counted without recursion and never past `limit` + 1."""
    depth, level = 0, [value] if isinstance(value, dict | list) else []
    while level:  # one level at a time: only containers are kept, scalars are looked at once
        depth += 1
        if depth > limit:
            return depth
        deeper = []
        for item in level:
            deeper.extend(child for child in (item.values() if isinstance(item, dict) else item) if isinstance(child, dict | list))
        level = deeper
    return depth


def extract(
    source: LogSource,
    service: str,
    window: Window,
    min_severity: str = "WARNING",
    sink: Callable[[pd.DataFrame], int] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    in_warehouse: Callable | None = None,
    sink_in_warehouse: Callable | None = None,
    spool_in_warehouse: Callable | None = None,
) -> Extracted:
    """Read `source`, keep `service` in `window` at `min_severity` or above, normalise each entry.

    Entries of other services, times or lower severities are counted as skipped;
    entries that cannot be read are kept as rejections with their reason. With a `sink` (the warehouse's
    idempotent merge), kept rows are handed over `chunk_rows` at a time and not held: a busy hour's memory is
    one chunk's, not the window's.

    With `in_warehouse` (a DuckDB warehouse's `extract_file`), an NDJSON file or a JSON array is read, filtered
    and loaded by SQL in the warehouse, and only the entries SQL leaves to Python are read here (see
    `tasks.file_extract`).
    Entries of a source that is not a file and says its entries are decoded JSON (`entries_are_json`: the
    Logging API's pages, a sink table's rows) arrive decoded anyway: they are written as they come to a
    temporary NDJSON file, which SQL reads the same way (1.5 times as fast as normalising them here, on 200k
    entries a service's filter let through). A file SQL cannot read as Python does (NDJSON with carriage
    returns, a malformed array) is read here: decoding it to write it out again costs more than it saves.

    With `sink_in_warehouse` (a BigQuery warehouse's `extract_sink`), a Log Router sink table is read, filtered
    and loaded inside BigQuery, and only the rows SQL leaves to Python come here; with `spool_in_warehouse`
    (its `extract_spool`), the spool of decoded entries is loaded into BigQuery and read there (see
    `tasks.bigquery_extract`). A DuckDB warehouse reads the spool with `in_warehouse`.
    """
    # what a rejection's id is made from: the source as it names itself, or the file behind the name
    args = (getattr(source, "identity", source.describe)(), service, window, min_severity, sink, chunk_rows)
    if sink_in_warehouse is not None and hasattr(source, "entries_query"):
        done = sink_in_warehouse(source, service, window, min_severity)
        if done is not None:
            return _joined(done, _extract(done.python_entries, *args))
    if in_warehouse is not None and isinstance(source, FileSource):
        done = in_warehouse(source.path, service, window, min_severity, unnumbered=True)
        if done is not None:
            python = done.python_entries if done.python_entries is not None else source.entries_at(done.python_positions)
            return _joined(done, _extract(python, *args))
    elif (read_spool := spool_in_warehouse or in_warehouse) is not None and getattr(source, "entries_are_json", False):
        with tempfile.TemporaryDirectory(prefix="gardener-spool-") as folder:
            spool = Path(folder, "entries.ndjson")
            held = _spool(source.entries(service, window, min_severity), spool)
            done = read_spool(spool, service, window, min_severity)
            if done is None:  # a line SQL cannot read (one over its line limit): Python reads the spool whole
                return _extract(_unspooled(spool, held), *args)
            return _joined(done, _extract(_unspooled(spool, held, done.python_positions), *args))
    return _extract(enumerate(source.entries(service, window, min_severity)), *args)


def _joined(done, rest: Extracted) -> Extracted:
    """What SQL kept (`done`, a `FileExtract` or `BigQueryExtract`) and what Python read of the rest, as one extract."""
    stats = {key: done.stats.get(key, 0) + rest.stats.get(key, 0) for key in rest.stats}
    stats["read"] = done.stats["read"]  # the positions Python read are among the lines SQL counted
    # the project of the first kept entry, whichever path kept it
    first = min((x for x in (done, rest) if x.project), key=lambda x: x.project_position, default=rest)
    return Extracted(rest.rows, rest.rejections, stats, done.new_entries + rest.new_entries, first.project, first.project_position)


def _spool(items, path: Path) -> dict[int, object]:
    """Write each entry as one NDJSON line of `path`, in order; what cannot be written keeps its place as `null`.

    Returns those held back by position (an entry its source could not read, one too deep to write): SQL leaves
    a `null` line to Python, which takes the held item in its place, so it is judged as if never written.
    """
    held: dict[int, object] = {}
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for position, item in enumerate(items):
            line = None
            if isinstance(item, dict):
                try:
                    # ASCII escapes: a lone surrogate or a line separator in a value is written as an escape
                    line = json.dumps(item, ensure_ascii=True)
                except (TypeError, ValueError, RecursionError):
                    line = None
            if line is None:
                held[position] = item
                line = "null"
            out.write(line + "\n")
    return held


def _unspooled(path: Path, held: dict[int, object], wanted: set[int] | None = None):
    """(position, entry) pairs read back from a spool (all, or the `wanted` positions), held items in their places.

    Every line is JSON this process wrote from an entry already in memory, so it is read whole, with no
    size limit: an entry is judged as the source gave it, never as a line of a file.
    """
    last = max(wanted) if wanted else None
    if wanted is not None and last is None:
        return
    with open(path, encoding="utf-8", newline="\n") as handle:
        for position, line in enumerate(handle):
            if wanted is None or position in wanted:
                yield position, held[position] if position in held else json.loads(line)
            if last is not None and position >= last:
                return


def judged_alone(items, service: str, window: Window, min_severity: str) -> Extracted:
    """What the extract makes of (position, entry) pairs, every kept row held and nothing written."""
    return _extract(items, "", service, window, min_severity, None, CHUNK_ROWS)


def _extract(items, described: str, service: str, window: Window, min_severity: str, sink, chunk_rows: int) -> Extracted:
    """`extract` over (position, entry) pairs."""
    floor = SEVERITY_RANK[severity_name(min_severity)]
    stats = {"read": 0, "kept": 0, "rejected": 0, "other_service": 0, "outside_window": 0, "below_severity": 0}
    rows: list[dict] = []
    rejections: list[Rejection] = []
    new_entries, project, project_position = 0, None, None

    def flush() -> None:
        nonlocal new_entries
        if rows and sink is not None:
            new_entries += sink(_frame(rows))
            stats["kept"] += len(rows)
            rows.clear()

    for position, entry in items:
        stats["read"] += 1
        where = f"entry {position + 1}"
        if isinstance(entry, Unparseable):
            rejections.append(_rejection(entry.raw, entry.reason, entry.where, described))
            continue
        try:
            if not isinstance(entry, dict):
                raise RejectedEntry(f"entry is a JSON {type(entry).__name__}, not an object")
            owner = service_of(entry)
            if owner is not None and owner != service:
                stats["other_service"] += 1
                continue
            stamp = entry.get("timestamp") or entry.get("receiveTimestamp")
            if not stamp:
                raise RejectedEntry("missing timestamp")
            try:
                ts = parse_time(stamp, "timestamp")
            except ValueError as exc:
                raise RejectedEntry(str(exc)) from None
            if not window.contains(ts):
                stats["outside_window"] += 1
                continue
            if SEVERITY_RANK[severity_name(entry.get("severity"))] < floor:
                stats["below_severity"] += 1
                continue
            # only an entry that would be kept is walked whole (skipping one reads a few top-level fields)
            if nesting_depth(entry) > MAX_DEPTH:
                raise RejectedEntry(f"nested deeper than {MAX_DEPTH} levels")
            if owner is None:
                raise RejectedEntry("no service name in resource.labels")
            row = normalise(entry)
            if project is None and (project := project_of(row["log_name"])):
                project_position = position
            rows.append(row)
            if len(rows) >= chunk_rows:
                flush()
        except RejectedEntry as exc:
            rejections.append(_rejection(_raw(entry), str(exc), where, described))
        except Exception as exc:  # an entry no rule foresaw is recorded, never the end of the run
            rejections.append(_rejection(_raw(entry), f"unreadable entry ({type(exc).__name__}: {exc})"[:500], where, described))
    flush()
    stats["kept"] += len(rows)
    stats["rejected"] = len(rejections)
    return Extracted(_frame(rows), rejections, stats, new_entries, project, project_position if project else None)


# whole-number columns: kept as nullable integers (with a missing value, pandas would make them floats, and an
# integer past 2**53 would no longer fit the warehouse's INT64 once rounded)
INTEGER_COLUMNS = ("line", "http_status")


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    for column in INTEGER_COLUMNS:
        frame[column] = pd.array([row.get(column) for row in rows], dtype="Int64")
    return frame
