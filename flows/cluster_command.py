"""The work of `gardener cluster`: lines in, CSV `line,cluster_id,template` out, one row per line, in order.

It imports neither typer nor rich: `plain_arguments` reads the command's usual
arguments without the command-line framework, so the console script can run
a plain `gardener cluster FILE [-o CSV]` without loading it (a third of the
command's start-up). Anything else (help, an unknown option, a missing file)
goes to the framework, which explains it.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path


class CannotOpen(Exception):
    """The input cannot be read or the output cannot be written; the message says which and why."""


class Notes:
    """Plain status lines on stderr, for output without markup."""

    @staticmethod
    def print(text: str) -> None:
        print(text, file=sys.stderr, flush=True)


def plain_arguments(argv: list[str]) -> tuple[str, Path | None] | None:
    """`(input, output)` when `argv` is `cluster INPUT [--output|-o CSV]` in any order, with an input that is `-`
    or an existing file; None for anything else."""
    if not argv or argv[0] != "cluster":
        return None
    rest = argv[1:]
    output: Path | None = None
    if len(rest) == 3 and rest[1] in ("--output", "-o"):
        rest, output = rest[:1], Path(rest[2])
    elif len(rest) == 3 and rest[0] in ("--output", "-o"):
        rest, output = rest[2:], Path(rest[1])
    if len(rest) != 1 or (output is not None and str(output).startswith("-")):
        return None
    source = rest[0]
    if source != "-" and (source.startswith("-") or not Path(source).is_file()):
        return None
    return source, output


def file_lines(path: Path) -> list[str] | list[bytes]:
    """The file's lines (see `split_lines`)."""
    return split_lines(path.read_bytes())


def split_lines(data: bytes) -> list[str] | list[bytes]:
    """A file's or stdin's lines without their endings, split as text mode splits them (a lone CR ends a line too).

    Without a CR they stay bytes, which split faster than text decodes:
    `cluster_lines` decodes each distinct line once, as UTF-8 with bad bytes
    replaced, as the whole file would have been.
    """
    data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is no part of the first line
    if b"\r" in data:
        text = data.decode("utf-8", errors="replace")
        return [line.rstrip("\r\n") for line in io.StringIO(text, newline="")]
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def write_clusters(lines: list[str] | list[bytes], output: Path | None) -> None:
    """Cluster `lines` and write the CSV to `output` (stdout when None), which is opened first."""
    from log_gardener.tasks.cluster_lines import cluster_lines

    try:
        handle = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
    except OSError as exc:
        raise CannotOpen(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        progress = Notes if len(lines) >= 10_000 else None
        labels, templates = cluster_lines(lines, progress=progress)
        csv.writer(handle).writerow(["line", "cluster_id", "template"])
        # each pattern's `cluster_id,template` is quoted once, not once per line
        tails = {}
        for label, template in templates.items():
            buffer = io.StringIO()
            csv.writer(buffer).writerow([label, template])
            tails[label] = buffer.getvalue()
        handle.writelines(f"{number},{tails[label]}" for number, label in enumerate(labels, 1))
    finally:
        if output:
            handle.close()
    if output:
        Notes.print(f"{len(lines)} lines, {len(templates)} patterns → {output}")


def cluster_file(source: str, output: Path | None) -> None:
    """The whole command: the lines of `source` (a file, or `-` for stdin) clustered into the CSV `output`."""
    from log_gardener.tasks.clustering import collection_paused

    # a batch of many small objects (the lines, their counts) and hardly a reference cycle among them
    with collection_paused():
        write_clusters(read_lines(source), output)


def read_lines(source: str) -> list[str] | list[bytes]:
    """The lines of a file, or of stdin for `-`."""
    if source == "-":  # read as a file is, so both give the same lines and line numbers
        return split_lines(sys.stdin.buffer.read())
    try:
        return file_lines(Path(source))
    except OSError as exc:
        raise CannotOpen(f"cannot read {source}: {exc.strerror or exc}") from exc
