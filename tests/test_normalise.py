import json

import pytest

from log_gardener.tasks.normalise import RejectedEntry, Window, message_of, normalise, parse_time, service_of, severity_name
from log_gardener.tasks.stacktrace import pattern_text

SESSION_ENTRY = {
    "insertId": "abc123",
    "jsonPayload": {
        "labels": {"function": "callHandlers", "line": "1706", "module": "logging"},
        "message": "Session access failed (middleware not installed?): SessionMiddleware must be installed to access request.session",
        "timestamp": "2025-09-15T01:52:25.002488+00:00",
    },
    "resource": {
        "type": "cloud_run_revision",
        "labels": {"service_name": "netra-backend-staging", "revision_name": "netra-backend-staging-00645-l8x", "location": "us-central1"},
    },
    "severity": "WARNING",
    "timestamp": "2025-09-15T01:52:25.002488123Z",
    "logName": "projects/netra-staging/logs/run.googleapis.com%2Fstderr",
}

BEACON_ENTRY = {
    "httpRequest": {
        "requestMethod": "POST",
        "requestUrl": "https://api.staging.netrasystems.ai/ws/beacon",
        "status": 405,
        "latency": "0.014068527s",
    },
    "severity": "WARNING",
    "timestamp": "2025-09-15T01:48:40.413930Z",
    "resource": {"type": "cloud_run_revision", "labels": {"service_name": "netra-backend-staging"}},
}


def test_json_payload_message_and_source_location():
    row = normalise(SESSION_ENTRY)
    assert row["message"].startswith("Session access failed")
    assert (row["module"], row["function"], row["line"]) == ("logging", "callHandlers", 1706)
    assert row["revision"] == "netra-backend-staging-00645-l8x"
    assert row["timestamp"].isoformat() == "2025-09-15T01:52:25.002488+00:00"  # nanoseconds cut to micro
    assert json.loads(row["payload"])["insertId"] == "abc123"


def test_request_log_message_is_method_path_status():
    row = normalise(BEACON_ENTRY)
    assert row["message"] == "POST /ws/beacon 405"
    assert row["pattern_text"] == "POST /ws/beacon"
    assert row["latency_ms"] == pytest.approx(14.069, abs=0.001)
    assert row["http_status"] == 405
    assert row["insert_id"].startswith("gardener-")  # no insertId: a stable synthetic one
    assert normalise(BEACON_ENTRY)["insert_id"] == row["insert_id"]


def test_text_payload_wins_over_json():
    entry = dict(SESSION_ENTRY, textPayload="plain text")
    assert message_of(entry) == "plain text"


@pytest.mark.parametrize(
    "entry, reason",
    [
        ([1, 2], "not an object"),
        ({"severity": "ERROR"}, "missing timestamp"),
        ({"timestamp": "yesterday", "textPayload": "x"}, "not an ISO 8601 time"),
        ({"timestamp": "2025-09-15T00:00:00Z", "severity": "ERROR"}, "no message"),
        ({"timestamp": "2025-09-15T00:00:00Z", "severity": "LOUD", "textPayload": "x"}, "unknown severity"),
    ],
)
def test_rejections_carry_a_reason(entry, reason):
    with pytest.raises(RejectedEntry, match=reason):
        normalise(entry)


def test_huge_and_binary_messages_are_capped_and_cleaned():
    entry = dict(SESSION_ENTRY, textPayload="\x00\x01bad" + "x" * 100_000)
    row = normalise(entry)
    assert "\x00" not in row["message"]
    assert "[truncated" in row["message"]
    assert len(row["pattern_text"]) <= 2_000


def test_severity_names_and_numbers():
    assert severity_name(500) == "ERROR"
    assert severity_name("warning") == "WARNING"
    assert severity_name(None) == "DEFAULT"
    # no level at all, however JSON reads it: a boolean, NaN, an infinity (which would rank above EMERGENCY)
    for odd in (True, False, float("nan"), float("inf"), float("-inf")):
        with pytest.raises(RejectedEntry, match="unknown severity"):
            severity_name(odd)


def test_window_is_half_open_and_checked():
    window = Window.parse("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z")
    assert window.contains(parse_time("2025-09-15T00:00:00Z"))
    assert not window.contains(parse_time("2025-09-15T01:00:00Z"))
    with pytest.raises(ValueError, match="not after its start"):
        Window.parse("2025-09-15T01:00:00Z", "2025-09-15T00:00:00Z")
    with pytest.raises(ValueError, match="not an ISO 8601"):
        Window.parse("soon", "2025-09-15T00:00:00Z")


def test_a_window_is_read_once_it_is_over():
    window = Window.parse("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z")
    assert window.check_over(parse_time("2025-09-15T01:00:00Z")) is window
    # another machine's clock may run a little ahead of this one's
    assert window.check_over(parse_time("2025-09-15T00:59:30Z")) is window
    with pytest.raises(ValueError, match="in the future"):
        window.check_over(parse_time("2025-09-15T00:58:00Z"))
    with pytest.raises(ValueError, match="before 1970"):
        Window.parse("0001-01-01T00:00:00Z", "2025-09-15T01:00:00Z")


PY_TRACE = """Unhandled exception while refreshing the agent cache
Traceback (most recent call last):
  File "/app/netra_backend/app/services/cache.py", line 212, in refresh
    await self._client.set(key, value, ex=ttl)
  File "/usr/local/lib/python3.11/site-packages/redis/asyncio/connection.py", line 1058, in get_connection
    await connection.connect()
redis.exceptions.ConnectionError: Error 111 connecting to {host}:6379. Connection refused."""

JAVA_TRACE = """java.lang.NullPointerException: Cannot invoke "String.length()" because "{var}" is null
\tat com.example.orders.OrderService.total(OrderService.java:{line})
\tat com.example.orders.OrderController.get(OrderController.java:41)
\tat java.base/java.lang.Thread.run(Thread.java:833)"""

GO_TRACE = """panic: runtime error: index out of range [{i}] with length 3

goroutine 1 [running]:
main.handler(0xc000010000)
\t/app/main.go:{line} +0x1d
main.main()
\t/app/main.go:8 +0x25"""


def test_stack_traces_group_by_exception_and_top_frames():
    a = pattern_text(PY_TRACE.format(host="10.0.0.1"))
    b = pattern_text(PY_TRACE.format(host="10.9.9.9"))
    assert a == b
    assert a.startswith(
        "Unhandled exception while refreshing the agent cache redis.exceptions.ConnectionError at connection.py:get_connection"
    )
    assert pattern_text(JAVA_TRACE.format(var="x", line=12)) == pattern_text(JAVA_TRACE.format(var="name", line=99))
    assert "java.lang.NullPointerException at com.example.orders.OrderService.total" in pattern_text(JAVA_TRACE.format(var="x", line=1))
    assert pattern_text(GO_TRACE.format(i=5, line=20)) == pattern_text(GO_TRACE.format(i=7, line=21))
    assert pattern_text(GO_TRACE.format(i=5, line=20)).startswith("panic: runtime error: index out of range at main.handler")


def test_a_resource_that_is_not_an_object_is_said_so():
    for entry, reason in (
        ({"resource": "svc"}, "resource is not an object"),
        ({"resource": {"labels": ["svc"]}}, "resource.labels is not"),
    ):
        with pytest.raises(RejectedEntry, match=reason):
            service_of(entry)
    assert service_of({"resource": {"labels": {"service_name": "svc"}}}) == "svc" and service_of({}) is None


def test_a_latency_that_is_no_duration_is_none():
    from log_gardener.tasks.normalise import _latency_ms

    assert _latency_ms("0.25s") == 250.0 and _latency_ms("") is None and _latency_ms("soon") is None
    assert _latency_ms("1e400s") is None and _latency_ms("nans") is None and _latency_ms("-infs") is None
