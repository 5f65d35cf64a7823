"""A loopback HTTP server speaking Cloud Logging's `POST /v2/entries:list`.

It holds LogEntry dicts, evaluates the subset of the Logging query language
that the gardener sends (AND of `field op value`, with =, !=, <, <=, >, >=
and `:`), orders by timestamp, pages with `pageSize`/`pageToken`, and can
answer 429/503 on demand. Every request body is kept for inspection.
"""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler

from log_gardener.tasks.normalise import SEVERITY_RANK, parse_time
from tests.loopback import LoopbackServer

_CLAUSE = re.compile(r'^\s*([\w.]+)\s*(>=|<=|!=|=|<|>|:)\s*("(?:[^"\\]|\\.)*"|\S+)\s*$')


def _value(entry: dict, path: str):
    node = entry
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _literal(text: str) -> str:
    if text.startswith('"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def matches(entry: dict, query: str) -> bool:
    """True when `entry` satisfies every clause of `query` (clauses on lines or joined by AND)."""
    clauses = [c.strip() for line in query.splitlines() for c in re.split(r"\s+AND\s+", line) if c.strip()]
    for clause in clauses:
        clause = clause.strip("()")
        match = _CLAUSE.match(clause)
        if not match:
            raise ValueError(f"unsupported filter clause: {clause!r}")
        field, op, raw = match.groups()
        want = _literal(raw)
        have = _value(entry, field)
        if have is None:
            return False
        if field == "severity":
            have, want = SEVERITY_RANK[str(have)], SEVERITY_RANK[want]
        elif field in ("timestamp", "receiveTimestamp"):
            have, want = parse_time(have), parse_time(want)
        else:
            have = str(have)
        ok = {
            "=": have == want,
            "!=": have != want,
            "<": have < want,
            "<=": have <= want,
            ">": have > want,
            ">=": have >= want,
            ":": str(want).lower() in str(have).lower(),
        }[op]
        if not ok:
            return False
    return True


class FakeCloudLogging(LoopbackServer):
    def __init__(self, entries: list[dict]):
        self.entries = entries
        self.requests: list[dict] = []
        self.faults: list[int] = []  # status codes to answer next
        self._serve()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"path": self.path, "body": request})
                if self.path.split("?")[0] != "/v2/entries:list":
                    return self._send(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
                if fake.faults:
                    status = fake.faults.pop(0)
                    reason = "RESOURCE_EXHAUSTED" if status == 429 else "UNAVAILABLE"
                    return self._send(status, {"error": {"code": status, "message": "try again", "status": reason}})
                try:
                    selected = [e for e in fake.entries if matches(e, request.get("filter", ""))]
                except ValueError as exc:
                    return self._send(400, {"error": {"code": 400, "message": str(exc), "status": "INVALID_ARGUMENT"}})
                selected.sort(key=lambda e: (parse_time(e["timestamp"]), e.get("insertId", "")))
                if request.get("orderBy", "").endswith("desc"):
                    selected.reverse()
                start = int(request.get("pageToken") or 0)
                size = int(request.get("pageSize") or 50)
                page = selected[start : start + size]
                payload = {"entries": page}
                if start + size < len(selected):
                    payload["nextPageToken"] = str(start + size)
                self._send(200, payload)

        return Handler
