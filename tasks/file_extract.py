"""Extract of a log file (NDJSON or a JSON array) inside DuckDB: read, filtered and normalised by SQL, never entry by entry.

`sql/duckdb/file_entries.sql` sorts every line of the file: skipped (another service, outside the window,
below the severity floor), kept (every column computed in SQL), or handed to Python. A line goes to Python
when any rule of `tasks.normalise` could read it otherwise than the SQL does: malformed or lenient JSON (a
trailing comma, a key given twice), an unusual type in a field, a time at the edge of what Python reads, a
request whose URL, status or latency SQL could read otherwise, a message that is not plain text, an entry near a size or depth limit (or nested deeper than
Python's decoder goes), an insertId on more than one line. Python then reads only those lines, with the same
code as every other source, so rejections keep their reasons and their ids. A second pass over the file numbers
the lines only when one of those lines needs its number (a rejection names its line; two lines with one
insertId are loaded in the file's order, which may decide between them; the first kept line may name the
project): a few lines Python keeps are judged first, and need none.

Python still computes what only it can, once per distinct message: the text a message is grouped by
(`pattern_text`) and, for a stack trace without a source location, its top frame.

A JSON array (`gcloud logging read --format=json`) is read the same way, its elements in place of lines
(`sql/duckdb/file_elements.sql`): Python cannot seek to an element, so the few it must read come back from
SQL as text, decoded here before anything is merged.

A file DuckDB cannot read as Python does (a carriage return in NDJSON, bytes that are not UTF-8, a line over
SQL_LINE_CHARS, an array DuckDB finds malformed or with an element over ARRAY_ELEMENT_CHARS) is left to the
per-entry path whole: `extract_file` returns None.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from log_gardener.tasks.normalise import (
    MAX_MESSAGE_CHARS,
    SEVERITY_ALIASES,
    SEVERITY_RANK,
    SQL_URL_PATH_PATTERN,
    SQL_URL_PATTERN,
    Window,
    project_of,
    severity_name,
)
from log_gardener.tasks.sources.base import CHUNK_CHARS, MAX_ENTRY_CHARS
from log_gardener.tasks.stacktrace import message_columns
from log_gardener.tasks.warehouses.sqlfiles import bigquery_sql, rename_tables, sql_path, to_duckdb

SCAN_BYTES = 8 << 20  # the chunk the byte checks read the file by
# DuckDB's line reader holds a buffer many lines long: a line past this limit (Cloud Logging's own is 256 KB) sends
# the file to Python, which reads up to MAX_ENTRY_CHARS, and the buffer stays well inside the memory limit
SQL_LINE_CHARS = 1 << 20
SQL_BUFFER_CHARS = 8 << 20
# Python's array reader decodes an element of up to MAX_ENTRY_CHARS; an element longer than this (in bytes, so
# in characters too) sends the file to Python, so SQL never reads an element Python would have found too long
# (DuckDB's own `maximum_object_size` is not applied by its array reader)
ARRAY_ELEMENT_CHARS = MAX_ENTRY_CHARS - CHUNK_CHARS
# Python's decoder recurses once per level: a line with more opening brackets than this is read by Python (one
# nested past its recursion limit is a rejection there), and an array element with as many sends the file there
PYTHON_BRACKETS = 500
# Python's json reads an integer of at most this many digits (sys.get_int_max_str_digits(), 4,300 by default);
# a line with a longer run of digits is left to Python, which rejects it when the run is a number
PYTHON_INT_DIGITS = sys.get_int_max_str_digits()
# the lines left to Python come back from SQL as text up to this many bytes in all; more are read from the file
PYTHON_TEXT_CHARS = 64 << 20
# up to this many lines left to Python are judged once before the lines are numbered: when none needs its number,
# the file is not read again to number them (0.6 s on 1M lines)
UNNUMBERED_LINES = 1_000


@dataclass
class FileExtract:
    """What SQL made of a file: kept rows already merged, counts, and the positions Python must read."""

    stats: dict[str, int]
    new_entries: int
    project: str | None
    python_positions: set[int] = field(default_factory=set)
    # the position of the entry the project was read from (None when no entry is left to Python: nothing to compare)
    project_position: int | None = None
    # of a JSON array: the entries at python_positions, decoded, as (position, entry)
    python_entries: list[tuple[int, object]] | None = None


def _chunks(path: Path) -> Iterator[bytearray]:
    """The file's bytes in consecutive chunks, read into one buffer that every chunk reuses.

    A file cut short while it is read just ends sooner. Each chunk is searched before the next is read, never kept.
    """
    buffer = bytearray(SCAN_BYTES)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            yield buffer if size == len(buffer) else buffer[:size]


def array_reads_like_python(path: Path) -> bool:
    """Whether DuckDB's array reader sees the elements Python's does: no vertical tab or form feed in the file.

    DuckDB reads either as a space between elements, where Python's reader stops at it and records a broken
    element (inside an element both refuse it).
    """
    return not any(chunk.find(b"\x0b") >= 0 or chunk.find(b"\x0c") >= 0 for chunk in _chunks(path))


def splits_like_python(path: Path) -> bool:
    """Whether DuckDB's line reader sees the lines Python does: NDJSON (not an array) without carriage returns.

    A last line longer than DuckDB's line limit is refused here too: DuckDB reports a long line anywhere else,
    but a last line longer than its read buffer it drops without a word (DuckDB 2.0). So is a file that opens
    with a byte-order mark followed by anything but `{` or the line's end: DuckDB drops that mark, and Python,
    which strips spaces before marks, would read " {" or " \ufeff" after it otherwise (a rejection's column,
    a blank line).
    """
    first = b""
    for chunk in _chunks(path):
        if chunk.find(b"\r") >= 0:
            return False
        if not first and (opening := _OPENING.search(chunk)):
            first = opening.group()
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, handle.seek(0, os.SEEK_END) - SQL_LINE_CHARS - 2))
        last_line = handle.read().removesuffix(b"\n")
    if len(last_line) > SQL_LINE_CHARS and b"\n" not in last_line:
        return False
    if head.startswith(b"\xef\xbb\xbf") and head[3:] not in (b"{", b"\n", b""):
        return False
    return first != b"["


# the first byte that is not a byte-order mark's, a space, a tab or a newline
_OPENING = re.compile(rb"[^\xef\xbb\xbf \t\n]")


def severity_case(column: str) -> str:
    """SQL: the rank of a severity name or alias in `column` (upper case), NULL for anything else."""
    names = {name: rank for name, rank in SEVERITY_RANK.items()}
    names.update({alias: SEVERITY_RANK[target] for alias, target in SEVERITY_ALIASES.items()})
    whens = " ".join(f"when '{name}' then {rank}" for name, rank in sorted(names.items()))
    return f"case {column} {whens} end"


# The fields of a LogEntry the SQL reads, in the order of its lists t (types) and s (texts), 1-based there; the
# text of the large objects among them (False) is never read, only their type.
_SOURCE_LOCATION = '$.jsonPayload."logging.googleapis.com/sourceLocation"'
FIELDS: tuple[tuple[str, bool], ...] = (
    *((path, True) for path in ("$.insertId", "$.timestamp", "$.receiveTimestamp", "$.severity", "$.logName", "$.trace")),
    *((path, True) for path in ("$.textPayload", "$.jsonPayload.message", "$.jsonPayload.msg", "$.jsonPayload.error")),
    ("$.jsonPayload", False),  # 11
    ("$.resource", False),
    ("$.resource.type", True),
    ("$.resource.labels", False),
    *((f"$.resource.labels.{key}", True) for key in ("service_name", "module_id", "function_name", "container_name", "job_name")),
    *((f"$.resource.labels.{key}", True) for key in ("revision_name", "version_id", "location", "region", "zone")),  # 20-24
    ("$.httpRequest", False),  # 25
    ("$.sourceLocation", True),
    (_SOURCE_LOCATION, True),
    ("$.jsonPayload.labels", False),
    *((f"$.jsonPayload.labels.{key}", True) for key in ("module", "function", "line")),  # 29-31
    *((f"$.sourceLocation.{key}", True) for key in ("file", "function", "line")),  # 32-34
    *((f"{_SOURCE_LOCATION}.{key}", True) for key in ("file", "function", "line")),  # 35-37
    *((f"$.jsonPayload.{key}", True) for key in ("logger", "logger_name", "logName")),  # 38-40
)

# a request's fields, read only from an entry that has one (ht and hs in the SQL)
REQUEST_FIELDS = ("requestMethod", "requestUrl", "status", "latency")


def _sql_list(paths) -> str:
    return ", ".join(f"'{path}'" for path in paths)


# Python's truth of a JSON field (type, text): a non-empty string or a non-zero whole number
TRUTHY_MACRO = (
    "create or replace temp macro gardener_truthy(t, s) as "
    "coalesce((t = 'VARCHAR' and s <> '') or (t in ('BIGINT', 'UBIGINT') and s <> '0'), false)"
)
# every object of the JSON text x at the paths given holds each key once (an absent one too): DuckDB reads the
# first of two equal keys, Python the last. A key is the first of its name when its position is where the name
# is first found: for the few keys of most objects that costs half what a set of them (list_distinct) does, and
# an object of many keys still gets the set, whose cost does not grow with the square of its keys
KEYS_ONCE_MACRO = (
    "create or replace temp macro gardener_keys_once(x, paths) as coalesce(list_bool_and(["
    "k is null or case when len(k) <= 32 then list_bool_and(list_transform(k, lambda key, i: list_position(k, key) = i))"
    " else len(k) = len(list_distinct(k)) end for k in json_keys(x, paths)]), true)"
)
# a line Python reads as blank: spaces, then byte-order marks, then spaces (DuckDB reads an empty line as null)
BLANK_MACRO = r"create or replace temp macro gardener_blank(line) as line is null or regexp_full_match(line, '\s*\x{feff}*\s*')"
# parse_time in SQL: ISO 8601 with any fraction (DuckDB's cast cuts it to microseconds, as Python does), a time
# without a zone taken as UTC, an offset under 24 hours, a year from 1000 to 8999 (no edge of Python's range to
# overflow); NULL for any other text, which Python then reads. One pattern to match, then DuckDB's own cast
TIME_MACRO = r"""create or replace temp macro gardener_time(x) as
  case when regexp_full_match(x, '[1-8]\d{3}-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)?') then
    try_cast(case
      -- the text matched: it ends with Z, z, an offset (whose sign is sixth from the end) or the seconds
      when right(x, 1) = 'Z' or substr(x, -6, 1) in ('+', '-') then x
      when right(x, 1) = 'z' then left(x, -1) || 'Z'
      else x || '+00:00'
    end as timestamptz)
  end"""


def _with_lines(name: str, array: bool = False) -> str:
    """The statement `name` with the file's lines in place of __LINES__, and numbered in place of __NUMBERED_LINES__.

    The lines are `duckdb/file_lines.sql`, or the elements of an array, read into a table by
    `duckdb/file_elements.sql` before.
    """
    if array:
        lines, numbered = "(select line from _gardener_file_elements)", "_gardener_file_elements"
    else:
        lines = sql_path("duckdb/file_lines").read_text(encoding="utf-8")
        lines = "\n".join(line for line in lines.splitlines() if not line.startswith("--"))
        # a position counts the lines that are not blank, as Python counts entries
        numbered = f"(select row_number() over () - 1 as position, line from {lines} where not gardener_blank(line))"
    statement = sql_path(name).read_text(encoding="utf-8")
    return statement.replace("__NUMBERED_LINES__", numbered).replace("__LINES__", lines)


def entries_sql(array: bool = False) -> str:
    return (
        _with_lines("duckdb/file_entries", array)
        .replace("__ENTRY_TYPE__", f"t[{len(FIELDS) + 1}]")
        .replace("__FIELD_PATHS__", _sql_list(path for path, _ in FIELDS))
        .replace("__REQUEST_PATHS__", _sql_list(f"$.httpRequest.{key}" for key in REQUEST_FIELDS))
        .replace("__FIELD_TEXT_PATHS__", _sql_list(path if text else "$.none" for path, text in FIELDS))
        .replace("__SEVERITY_RANK__", severity_case("upper(s[4])"))
        .replace("__MAX_MESSAGE_CHARS__", str(MAX_MESSAGE_CHARS))
        .replace("__URL_PATTERN__", SQL_URL_PATTERN)
        .replace("__URL_PATH_PATTERN__", SQL_URL_PATH_PATTERN)
        .replace("__PYTHON_BRACKETS__", str(PYTHON_BRACKETS))
        .replace("__LONG_DIGITS__", _long_digits(PYTHON_INT_DIGITS))
    )


def _long_digits(digits: int) -> str:
    """SQL: the line `text` holds a run of more than `digits` digits (0: no limit, never)."""
    if not digits:
        return "false"
    # RE2 repeats a pattern at most 1,000 times: the run is written in parts, looked for in long lines only
    run = "\\d{1000}" * (digits // 1000) + f"\\d{{{digits % 1000 + 1}}}"
    return f"(strlen(text) > {digits} and regexp_matches(text, '{run}'))"


def extract_file(
    con: duckdb.DuckDBPyConnection, path: Path, service: str, window: Window, min_severity: str, merge, unnumbered: bool = False
) -> FileExtract | None:
    """Sort, filter and normalise the file's lines in `con`; merge the kept rows with `merge(staging_table)`.

    None when the file must be read entry by entry (see the module's docstring). With `unnumbered`, the caller
    reads the lines left to Python from `python_entries` and never from the file at `python_positions` (a spool's
    reader reads its lines back by position), so those lines may go unnumbered (see `_unnumbered`).
    """
    from log_gardener.tasks.sources.file import opens_an_array, opens_indented_entries  # the sources package reads this module

    if opens_indented_entries(path):
        return None  # entries written over several lines: Python reads them one at a time
    array = opens_an_array(path)
    if array and not array_reads_like_python(path):
        return None
    if not array and not splits_like_python(path):
        return None
    # an array's elements are read into a table first; the lines of NDJSON are read where a statement needs them
    lines = {} if array else {"path": str(path), "max_line_chars": SQL_LINE_CHARS, "buffer_chars": SQL_BUFFER_CHARS}
    floor = SEVERITY_RANK[severity_name(min_severity)]
    params = lines | {"service": service, "floor": floor}
    for macro in (TRUTHY_MACRO, TIME_MACRO, KEYS_ONCE_MACRO, BLANK_MACRO):
        con.execute(macro)
    try:
        if array:
            try:
                con.execute(sql_path("duckdb/file_elements").read_text(encoding="utf-8"), {"path": str(path)})
            except (duckdb.Error, UnicodeDecodeError):  # DuckDB's message may quote half a character
                return None  # a malformed array, bytes that are not UTF-8: Python reads the file
        # the table's rows need no order (a line is found again by its hash), and keeping one would hold the
        # query to one thread once its rows outgrow the memory limit
        (order,) = con.execute("select current_setting('preserve_insertion_order')").fetchone()
        con.execute("set preserve_insertion_order = false")
        try:
            con.execute(entries_sql(array), params | {"window_start": window.start, "window_end": window.end})
        except (duckdb.Error, UnicodeDecodeError):  # DuckDB's message may quote half a character
            return None  # bytes that are not UTF-8, a NUL, a line past the size limit: Python reads the file
        finally:
            con.execute(f"set preserve_insertion_order = {str(bool(order)).lower()}")
        con.execute(sql_path("duckdb/file_entries_duplicates").read_text(encoding="utf-8"))
        checks = con.execute(sql_path("duckdb/file_entries_checks").read_text(encoding="utf-8")).fetchone()
        counts, keys_twice, longest_chars, projects, python_chars = checks
        counts = counts or {}
        blank_lines = counts.pop("blank", 0)
        if counts.get("odd") or keys_twice or (array and (longest_chars or 0) > ARRAY_ELEMENT_CHARS):
            return None
        python_entries = judged_first = None
        if not counts.get("python") and len(projects) < 2:
            # no line for Python to read, and the project is the kept lines' one: no need to number the lines (nor
            # for the position of the first kept line, which only decides between SQL's project and Python's)
            positions, texts, project_position, project = [], [], None, (projects[0] if projects else None)
        else:
            # the texts of the lines left to Python come too, when they are short enough to hold and, in a file
            # without blank lines, each line's number is its position's: else Python reads those lines from the
            # file (an array's elements always come: Python cannot seek to one)
            texts_fit = (python_chars or 0) <= PYTHON_TEXT_CHARS
            with_texts = array or (not blank_lines and texts_fit)
            # the first kept line that names a project is looked for only when it could decide the project: the
            # kept lines name two, or a line left to Python names another one than theirs
            settled = not array and len(projects) < 2 and texts_fit
            settled = settled and (named := _python_projects(con)) is not None and named <= set(projects)
            if unnumbered and settled and with_texts and counts["python"] <= UNNUMBERED_LINES:
                judged_first = _unnumbered(con, sum(counts.values()), service, window, min_severity)
            if judged_first is not None:
                # no line needs its number: each has one past the file's last (the project is settled, below)
                positions, python_entries = judged_first
                texts, project, project_position = [], None, None
            else:
                collisions = sql_path("duckdb/file_entries_collisions").read_text(encoding="utf-8")
                (hashes_collide,) = con.execute(collisions, {"python_only": settled}).fetchone()
                if hashes_collide:
                    return None
                try:
                    positions_sql = _with_lines("duckdb/file_entries_positions", array)
                    found = con.execute(positions_sql, lines | {"with_texts": with_texts, "with_project": not settled}).fetchone()
                except (duckdb.Error, UnicodeDecodeError):
                    return None  # numbering the lines did not fit in memory: Python reads the file
                positions, texts, project_position, project = found
            if settled and projects:
                # every entry Python may keep names the kept lines' project or none: which comes first decides nothing
                project, project_position = projects[0], 0
        if array:
            python_entries = _decoded(positions, texts)
            if python_entries is None:
                return None
        elif texts:
            python_entries = _decoded_lines(positions, texts)
        new_entries = _stage_kept(con, merge)
    finally:
        con.execute("drop table if exists _gardener_file_entries")
        con.execute("drop table if exists _gardener_file_elements")
    stats = {
        "read": sum(counts.values()),
        "kept": counts.get("kept", 0),
        "rejected": 0,
        "other_service": counts.get("other_service", 0),
        "outside_window": counts.get("outside_window", 0),
        "below_severity": counts.get("below_severity", 0),
    }
    return FileExtract(stats, new_entries, project or None, set(positions), project_position if project else None, python_entries)


def _decoded(positions: list[int], texts: list[str]) -> list[tuple[int, object]] | None:
    """The array elements left to Python, decoded as its array reader decodes them; None when one cannot be.

    DuckDB read them, so each is JSON; one Python still cannot decode (nested past its recursion limit) would
    be recorded by its reader with a position in characters and its resync, so the whole file goes to Python.
    """
    from log_gardener.tasks.sources.file import decode_entry  # the sources package reads this module

    if len(texts) != len(positions):
        return None
    decoded = []
    for position, text in zip(positions, texts):
        if _near_recursion_limit(text):
            return None  # the reader, deeper in the stack, might fail where this does not
        try:
            decoded.append((position, decode_entry(text)))
        except (ValueError, RecursionError):
            return None
    return decoded


def _python_projects(con: duckdb.DuckDBPyConnection) -> set[str] | None:
    """The projects that the lines left to Python name in their logName, as Python's extract reads one.

    None when a line is `null`: a spool holds there an entry it could not write, whose project is not known here.
    """
    from log_gardener.tasks.sources.file import decode_line  # the sources package reads this module

    named = set()
    for (text,) in con.execute("select python_text from _gardener_file_entries where verdict = 'python'").fetchall():
        entry = decode_line(text, 0)
        if entry is None:
            return None
        if isinstance(entry, dict) and (project := project_of(entry.get("logName"))):
            named.add(project)
    return named


def _decoded_lines(positions: list[int], texts: list[str]) -> list[tuple[int, object]] | None:
    """The lines of an NDJSON file without blank lines left to Python, decoded (or rejected) as its reader does.

    None when one is nested near Python's recursion limit, which the reader, deeper in the stack, might reach
    where this does not: Python then reads those lines from the file.
    """
    from log_gardener.tasks.sources.file import decode_line  # the sources package reads this module

    if len(texts) != len(positions) or any(_near_recursion_limit(text) for text in texts):
        return None
    return [(position, decode_line(text, position + 1)) for position, text in zip(positions, texts)]


def _unnumbered(con: duckdb.DuckDBPyConnection, lines: int, service: str, window: Window, min_severity: str):
    """The lines left to Python, decoded, as (positions, entries), when none of them needs its number; else None.

    A line's number says where a rejection was found, and in which order two lines with one insertId are loaded
    (which may decide between them). So they are judged here first, as the extract will judge them: when Python
    rejects none and keeps no insertId twice, each line gets a position past the file's `lines`, in an order of
    their own, and the file is not read again to number them.
    """
    from log_gardener.tasks.extract import judged_alone  # the extract calls this module

    texts = [t for (t,) in con.execute(sql_path("duckdb/file_entries_unnumbered").read_text(encoding="utf-8")).fetchall()]
    positions = list(range(lines, lines + len(texts)))
    entries = _decoded_lines(positions, texts)
    if entries is None:
        return None
    judged = judged_alone(entries, service, window, min_severity)
    if judged.rejections or judged.rows["insert_id"].duplicated().any():
        return None
    return positions, entries


def _near_recursion_limit(text: str) -> bool:
    """Whether a text opens more brackets than PYTHON_BRACKETS (Python's decoder recurses once per level)."""
    return text.count("[") + text.count("{") > PYTHON_BRACKETS


def _stage_kept(con: duckdb.DuckDBPyConnection, merge) -> int:
    """The kept rows, with Python's per-message columns joined in, merged through `merge`."""
    messages = [m for (m,) in con.execute("select distinct message from _gardener_file_entries where verdict = 'kept'").fetchall()]
    if not messages:
        return 0
    per_message = pd.DataFrame([message_columns(m) for m in messages])
    per_message["frame_line"] = per_message["frame_line"].astype("Int64")
    con.register("_gardener_messages", per_message)
    try:
        kept = rename_tables(
            bigquery_sql("extract/kept_rows"), {"judged_entries": "_gardener_file_entries", "judged_messages": "_gardener_messages"}
        )
        con.execute(f"create or replace temp view _gardener_staged_entries as {to_duckdb(kept)}")
        return merge("_gardener_staged_entries")
    finally:
        con.execute("drop view if exists _gardener_staged_entries")
        con.unregister("_gardener_messages")
