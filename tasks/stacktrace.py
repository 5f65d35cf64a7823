"""Stack-aware grouping text: a stack trace groups by exception type and top frames.

Error Reporting groups a crash by where it happened, not by the variable text
of its message; `pattern_text` does the same for Python, Java and Go traces and
leaves every other message as it is (one line, capped).
"""

from __future__ import annotations

import re

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


def pattern_text(message: str) -> str:
    """The text a message is grouped by: a stack signature for traces, else the message on one line."""
    if "\n" in message:
        lines = message.splitlines()
        for parser in (_python, _java, _go):
            signature = parser(lines)
            if signature:
                return signature[:MAX_PATTERN_CHARS]
    return " ".join(message.split())[:MAX_PATTERN_CHARS]
