"""Stack-aware grouping text: a stack trace groups by exception type and top frames.

Error Reporting groups a crash by where it happened, not by the variable text
of its message; `pattern_text` does the same for Python, Java and Go traces and
leaves every other message as it is (one line, capped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOP_FRAMES = 3
MAX_PATTERN_CHARS = 2_000

_PY_FRAME = re.compile(r'^\s*File "([^"]+)", line \d+, in (\S+)')
_PY_EXC = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Fault)|[A-Za-z_][\w.]*\.[A-Z]\w*)(?::|$)")
_JAVA_FRAME = re.compile(r"^\s+at ([\w$.<>]+)\(")
_JAVA_EXC = re.compile(r"^(?:Exception in thread \"[^\"]*\" )?([a-zA-Z_$][\w$]*(?:\.[\w$]+)+)(?::|$)")
_GO_FUNC = re.compile(r"^([\w./*()\-]+)\(.*\)$")


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _python(lines: list[str]) -> str | None:
    if not any(line.startswith("Traceback (most recent call last)") for line in lines):
        return None
    start = next(i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)"))
    prefix = " ".join(line.strip() for line in lines[:start] if line.strip())[:200]
    frames = []
    exc = None
    for line in lines[start + 1 :]:
        match = _PY_FRAME.match(line)
        if match:
            frames.append(f"{_basename(match.group(1))}:{match.group(2)}")
            continue
        if line and not line[0].isspace():
            exc_match = _PY_EXC.match(line.strip())
            if exc_match:
                exc = exc_match.group(1)
    if exc is None:
        exc = lines[-1].split(":", 1)[0].strip() or "Traceback"
    top = " < ".join(reversed(frames[-TOP_FRAMES:]))  # innermost frame first
    return " ".join(part for part in (prefix, f"{exc} at {top}" if top else exc) if part)


def _java(lines: list[str]) -> str | None:
    frame_lines = [i for i, line in enumerate(lines) if _JAVA_FRAME.match(line)]
    if not frame_lines:
        return None
    head = lines[: frame_lines[0]]
    exc = None
    prefix = []
    for line in head:
        match = _JAVA_EXC.match(line.strip())
        if match and exc is None:
            exc = match.group(1)
        elif exc is None and line.strip():
            prefix.append(line.strip())
    frames = [_JAVA_FRAME.match(lines[i]).group(1) for i in frame_lines[:TOP_FRAMES]]
    exc = exc or "Exception"
    return " ".join(part for part in (" ".join(prefix)[:200], f"{exc} at {' < '.join(frames)}") if part)


def _go(lines: list[str]) -> str | None:
    goroutine = next((i for i, line in enumerate(lines) if re.match(r"^goroutine \d+ \[", line)), None)
    if goroutine is None:
        return None
    head = next((line.strip() for line in lines[:goroutine] if line.strip()), "panic")
    # "panic: runtime error: index out of range [5] with length 3": keep the kind, not the values.
    kind = re.sub(r"\[.*", "", head)[:120].strip()
    frames = []
    for line in lines[goroutine + 1 :]:
        if line.startswith(("\t", " ")):
            continue
        match = _GO_FUNC.match(line.strip())
        if match and not match.group(1).startswith(("runtime.", "panic")):
            frames.append(match.group(1))
        if len(frames) == TOP_FRAMES:
            break
    return f"{kind} at {' < '.join(frames)}" if frames else kind


@dataclass(frozen=True)
class Frame:
    file: str | None
    line: int | None
    function: str
    library: bool  # the language's runtime, its standard library or an installed dependency


@dataclass(frozen=True)
class Trace:
    exception: str  # as written in the trace: `sqlalchemy.exc.OperationalError`, `java.lang.IllegalStateException`, `panic`
    message: str  # the exception's message, first line
    frames: tuple[Frame, ...] = field(default=())  # innermost first

    @property
    def top_application_frame(self) -> Frame | None:
        """The innermost frame of the service's own code; the innermost frame when every frame is a library's."""
        return next((f for f in self.frames if not f.library), self.frames[0] if self.frames else None)


_PY_FRAME_LINE = re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)')
_PY_LIBRARY = re.compile(r"site-packages|dist-packages|[/\\]lib[/\\]python\d|[/\\]Lib[/\\]|^<")
_JAVA_FRAME_LINE = re.compile(r"^\s+at ([\w$.<>/]+)\(([^:)]*)(?::(\d+))?\)")
_JAVA_RUNTIME = ("java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "scala.")
_GO_FILE_LINE = re.compile(r"^\s+(\S+\.go):(\d+)")


def _go_library(function: str, file: str | None) -> bool:
    # an import path whose first element has no dot is the standard library (net/http, runtime); main is the program
    first = function.split("/", 1)[0] if "/" in function else function.split(".", 1)[0]
    return (first != "main" and "." not in first) or (file is not None and "/pkg/mod/" in file)


def parse_trace(message: str) -> Trace | None:
    """The exception and frames of a Python, Java or Go stack trace in `message`; None when it holds none."""
    lines = message.splitlines()
    if len(lines) < 2:
        return None
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        frames = []
        for line in lines:
            match = _PY_FRAME_LINE.match(line)
            if match:
                path = match.group(1)
                frames.append(Frame(_basename(path), int(match.group(2)), match.group(3), bool(_PY_LIBRARY.search(path))))
        # the exception line: the last unindented line that names an exception (a trailing "Background on this
        # error at: …" link or a message's own second line is not one), else the last unindented line
        unindented = [line.strip() for line in lines if line.strip() and not line[0].isspace() and not line.startswith("Traceback")]
        last = next((line for line in reversed(unindented) if _PY_EXC.match(line)), unindented[-1] if unindented else "")
        exc_match = _PY_EXC.match(last)
        exception = exc_match.group(1) if exc_match else last.split(":", 1)[0].strip() or "Traceback"
        detail = last[len(exception) :].lstrip(": ").strip() if last.startswith(exception) else ""
        return Trace(exception, detail, tuple(reversed(frames)))
    java = [_JAVA_FRAME_LINE.match(line) for line in lines]
    if any(java):
        first = next(i for i, match in enumerate(java) if match)
        head = next((line.strip() for line in lines[:first] if _JAVA_EXC.match(line.strip())), lines[0].strip())
        head = re.sub(r'^Exception in thread "[^"]*" ', "", head)
        exception, _, detail = head.partition(":")
        frames = tuple(
            Frame(
                match.group(2) or None,
                int(match.group(3)) if match.group(3) else None,
                match.group(1),
                match.group(1).startswith(_JAVA_RUNTIME),
            )
            for match in java[first:]
            if match
        )
        # a "Caused by" section repeats frames: the first section's frames are where it surfaced
        return Trace(exception.strip(), detail.strip(), frames)
    goroutine = next((i for i, line in enumerate(lines) if re.match(r"^goroutine \d+ \[", line)), None)
    if goroutine is not None:
        head = next((line.strip() for line in lines[:goroutine] if line.strip()), "panic")
        exception, _, detail = head.partition(": ")
        frames = []
        rest = lines[goroutine + 1 :]
        for i, line in enumerate(rest):
            if line.startswith(("\t", " ")) or not _GO_FUNC.match(line.strip()):
                continue
            function = re.sub(r"\([^()]*\)$", "", line.strip())  # main.(*Server).handle(0xc0001, 0x3) -> main.(*Server).handle
            where = _GO_FILE_LINE.match(rest[i + 1]) if i + 1 < len(rest) else None
            file = where.group(1) if where else None
            frames.append(
                Frame(_basename(file) if file else None, int(where.group(2)) if where else None, function, _go_library(function, file))
            )
        return Trace(exception.strip() or "panic", detail.strip(), tuple(frames))
    return None


def pattern_text(message: str) -> str:
    """The text a message is grouped by: a stack signature for traces, else the message on one line."""
    if "\n" in message:
        lines = message.splitlines()
        for parser in (_python, _java, _go):
            signature = parser(lines)
            if signature:
                return signature[:MAX_PATTERN_CHARS]
    return " ".join(message.split())[:MAX_PATTERN_CHARS]


def top_frame(message: str) -> Frame | None:
    """The top frame of the service's own code in a stack trace, None for a message that is not one."""
    if "\n" not in message:
        return None
    trace = parse_trace(message)
    return trace.top_application_frame if trace else None


def message_columns(message: str) -> dict:
    """What only Python computes of a message, once per distinct message when SQL computed the rest of a row:
    the text it is grouped by, and the top frame of a stack trace (for an entry that names no source location)."""
    frame = top_frame(message)
    return {
        "message": message,
        "pattern_text": pattern_text(message),
        "frame_module": frame.file if frame else None,
        "frame_function": frame.function if frame else None,
        "frame_line": frame.line if frame else None,
        "has_frame": frame is not None,
    }
