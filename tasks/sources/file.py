"""`FileSource`, the embedded default: `gcloud logging read --format=json` output, NDJSON, or indented entries.

A file whose first line that is not blank holds `{` alone is a stream of entries each written over several lines
(`jq .` over an array, an indented dump, several appended): it is read as an array's elements are, one entry at a
time, and a broken entry is recorded up to the next line that opens one with `{`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources.base import CHUNK_CHARS, MAX_ENTRY_CHARS, RAW_KEEP_CHARS, Unparseable, count_services

# the first bytes of a compressed file, what made it, and the command that restores the text
_COMPRESSED = (
    (b"\x1f\x8b", "gzip", "gunzip -k"),
    (b"BZh", "bzip2", "bunzip2 -k"),
    (b"\xfd7zXZ\x00", "xz", "unxz -k"),
    (b"\x28\xb5\x2f\xfd", "zstd", "zstd -d"),
    (b"PK\x03\x04", "zip", "unzip"),
)


class FileSource:
    """A file of `gcloud logging read --format=json` output (a JSON array), NDJSON or indented entries, read streaming."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            if self.path.exists():  # a folder, a device, a pipe: nothing to read twice from
                raise FileNotFoundError(f"log source {self.path} is not a regular file")
            raise FileNotFoundError(f"log source file not found: {self.path}")
        with open(self.path, "rb") as handle:
            magic = handle.read(6)
        # compressed, every line would be rejected as malformed JSON and the window stand as run with nothing in it
        for mark, kind, tool in _COMPRESSED:
            if magic.startswith(mark):
                raise FileNotFoundError(f"log source {self.path} is {kind}-compressed: decompress it first ({tool} {self.path})")

    def describe(self) -> str:
        return f"file:{self.path}"

    def identity(self) -> str:
        """The file itself, however it was named (a relative path, a link): a rejection's id is made from it, so the
        same line rejected again is the same rejection."""
        return f"file:{self.path.resolve()}"

    def services(self, window: Window, min_severity: str) -> dict[str, int]:
        return count_services(self.entries("", window, min_severity), window, min_severity)

    def entries(self, service: str, window: Window, min_severity: str) -> Iterator[dict | Unparseable]:
        # The file holds every service and time; tasks.extract filters.
        with open(self.path, encoding="utf-8", errors="replace", newline="\n") as handle:
            first = first_char(handle)
            handle.seek(0)
            if first == "[":
                yield from _json_array(handle)
            elif first == "{" and _opens_indented(handle):
                handle.seek(0)
                for item in _json_array(handle, _STREAM_RESYNC):
                    # a saved `entries:list` answer (`{"entries": [...], "nextPageToken": ...}`) holds the entries
                    if isinstance(item, dict) and isinstance(item.get("entries"), list) and "insertId" not in item:
                        yield from item["entries"]
                    else:
                        yield item
            else:
                handle.seek(0)
                yield from (item for _, item in _ndjson(handle))

    def entries_at(self, positions: set[int]) -> Iterator[tuple[int, dict | Unparseable]]:
        """Only the entries at `positions` (counted as `entries` yields them) of an NDJSON file, with their position.

        The file is read only as far as the last of them.
        """
        if not positions:
            return
        last = max(positions)
        with open(self.path, encoding="utf-8", errors="replace", newline="\n") as handle:
            for position, entry in _ndjson(handle, positions):
                yield position, entry
                if position >= last:
                    return


def opens_an_array(path: Path) -> bool:
    """Whether `FileSource` reads the file as a JSON array (its first character past marks and spaces is `[`)."""
    with open(path, encoding="utf-8", errors="replace", newline="\n") as handle:
        return first_char(handle) == "["


def opens_indented_entries(path: Path) -> bool:
    """Whether `FileSource` reads the file as a stream of entries written over several lines (see the module)."""
    with open(path, encoding="utf-8", errors="replace", newline="\n") as handle:
        return first_char(handle) == "{" and _opens_indented(handle)


def _opens_indented(handle) -> bool:
    """Whether the first line of `handle` (read from its start) that is not blank holds `{` alone; `handle` is read past it."""
    handle.seek(0)
    while line := handle.readline(CHUNK_CHARS):
        text = _entry_text(line)
        if text:
            return text == "{"
    return False


def first_char(handle) -> str:
    while True:
        chunk = handle.read(4096)
        if not chunk:
            return ""
        stripped = chunk.lstrip("\ufeff \t\r\n")
        if stripped:
            return stripped[0]


def _ndjson(handle, wanted: set[int] | None = None) -> Iterator[tuple[int, dict | Unparseable]]:
    """(position, entry) of each line that is not blank; with `wanted`, only those positions are decoded."""
    number, position = 0, -1
    while True:
        # a line is read at most MAX_ENTRY_CHARS at a time: a huge line never sits in memory whole
        line = handle.readline(MAX_ENTRY_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_ENTRY_CHARS and not line.endswith("\n"):
            excerpt, size = line[:RAW_KEEP_CHARS], len(line)
            while line and not line.endswith("\n"):
                line = handle.readline(CHUNK_CHARS)
                size += len(line)
            position += 1
            if wanted is None or position in wanted:
                reason = f"entry of {size:,} characters, over the {MAX_ENTRY_CHARS:,}-character limit"
                yield position, Unparseable(excerpt, reason, f"line {number}")
            continue
        text = _entry_text(line)
        if not text:
            continue
        position += 1
        if wanted is None or position in wanted:
            yield position, _decoded_text(text, number)


def _entry_text(line: str) -> str:
    return line.strip().lstrip("\ufeff")  # a byte-order mark is not part of the entry


def decode_line(line: str, number: int) -> dict | Unparseable:
    """The entry on one line of NDJSON that is not blank, or its rejection naming the line by its `number`."""
    return _decoded_text(_entry_text(line), number)


def _decoded_text(text: str, number: int) -> dict | Unparseable:
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        # "Unterminated string starting at" says its own "at"
        at = "column" if exc.msg.endswith(" at") else "at column"
        return Unparseable(text[:RAW_KEEP_CHARS], f"malformed JSON: {exc.msg} {at} {exc.colno}", f"line {number}")
    except RecursionError:
        return Unparseable(text[:RAW_KEEP_CHARS], "malformed JSON: nested too deeply to read", f"line {number}")
    except ValueError as exc:  # an integer of more digits than Python converts
        return Unparseable(text[:RAW_KEEP_CHARS], f"unreadable JSON: {exc}", f"line {number}")


# Control characters inside strings are read (and cleaned later), not a reason to lose the entry.
_DECODER = json.JSONDecoder(strict=False)


_RESYNC = re.compile(r",\s*(?=\{)")
# in a stream of indented entries, an entry opens with `{` at the start of a line (an object inside one is indented)
_STREAM_RESYNC = re.compile(r"\n(?=\{)")


def decode_entry(text: str):
    """One entry's text decoded as both readers decode it (control characters inside strings are allowed)."""
    return _DECODER.decode(text)


def _skip(
    buffer: str, start: int, search_from: int, reason: str, consumed: int, resync: re.Pattern = _RESYNC
) -> tuple[Unparseable, int | None]:
    """Record the text from `start` up to the next element that starts an object; where to resume, or None."""
    match = resync.search(buffer, search_from)
    stop = match.end() if match else len(buffer)
    return Unparseable(buffer[start:stop][:RAW_KEEP_CHARS], reason, f"character {consumed + start}"), (stop if match else None)


def _json_array(handle, resync: re.Pattern = _RESYNC) -> Iterator[dict | Unparseable]:
    """Decode a JSON array one element at a time, so a large file is never held whole.

    `resync` finds where the element after a broken one opens (in a stream of indented entries, a line's `{`).
    """
    decoder = _DECODER
    consumed = 0  # characters of the file before `buffer`
    while True:  # marks and spaces before the array, however many chunks they take
        chunk = handle.read(CHUNK_CHARS)
        buffer = chunk.lstrip("\ufeff \t\r\n")
        consumed += len(chunk) - len(buffer)
        if buffer or not chunk:
            break
    eof = False
    if buffer.startswith("["):
        buffer, consumed = buffer[1:], consumed + 1
    index = 0
    ended = False  # the array closed: what follows is another array (appended output) or recorded text
    while True:
        # skip separators
        while True:
            while index < len(buffer) and buffer[index] in " \t\r\n,":
                index += 1
            if index < len(buffer) or eof:
                break
            more = handle.read(CHUNK_CHARS)
            eof = not more
            buffer, consumed, index = buffer[index:] + more, consumed + index, 0
        if index >= len(buffer):
            return  # the end of the file, or a missing closing bracket: everything readable was read
        if ended:
            ended = False
            if buffer[index] == "[":
                index += 1
                continue
            skipped, resume = _skip(buffer, index, index, "malformed JSON: text after the end of the array", consumed, resync)
            yield skipped
            if resume is None:
                return
            index = resume
            continue
        if buffer[index] == "]":
            ended, index = True, index + 1
            continue
        try:
            value, end = decoder.raw_decode(buffer, index)
        except RecursionError:
            reason = "malformed JSON: nested too deeply to read"
        except json.JSONDecodeError as exc:
            truncated = exc.pos >= len(buffer) - 1 or exc.msg.startswith("Unterminated string")
            if truncated and not eof and len(buffer) - index < MAX_ENTRY_CHARS:
                more = handle.read(CHUNK_CHARS)
                eof = not more
                buffer, consumed, index = buffer[index:] + more, consumed + index, 0
                continue
            # "Unterminated string starting at" says where: the character in the file
            reason = f"malformed JSON: {exc.msg}" + (f" character {consumed + exc.pos}" if exc.msg.endswith(" at") else "")
        except ValueError as exc:  # an integer of more digits than Python converts
            reason = f"unreadable JSON: {exc}"
        else:
            yield value
            index = end
            continue
        # a broken element: record it and resume at the next element that starts an object
        skipped, resume = _skip(buffer, index, index + 1, reason, consumed, resync)
        yield skipped
        if resume is None:
            return
        index = resume
