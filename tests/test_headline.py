"""Where a pattern comes from, what its title says, and which terms find its entries: known answers on real shapes."""

import json

import pytest

from log_gardener.tasks.headline import affected_text, component, headline, sample_entries, search_terms, source_text
from log_gardener.tasks.normalise import normalise
from log_gardener.tasks.stacktrace import parse_trace
from tests.logging_query import compile_query
from tests.test_measure import pattern

SQLALCHEMY = """Charge could not be saved
Traceback (most recent call last):
  File "/usr/local/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line 1969, in _exec_single_context
    self.dialect.do_execute(
  File "/app/payments/repository.py", line 142, in save_charge
    session.commit()
  File "/usr/local/lib/python3.11/site-packages/sqlalchemy/orm/session.py", line 2017, in commit
    trans.commit(_to_root=True)
sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "10.20.0.5", port 5432 failed: timeout expired"""

JAVA = """Exception in thread "http-nio-8080-exec-3" java.lang.IllegalStateException: Order 4411 is already settled
\tat java.base/java.util.Objects.requireNonNull(Objects.java:233)
\tat com.shop.orders.OrderService.settle(OrderService.java:88)
\tat com.shop.orders.OrderController.post(OrderController.java:31)
\tat java.base/java.lang.Thread.run(Thread.java:833)"""

GO = """panic: runtime error: index out of range [5] with length 3

goroutine 18 [running]:
github.com/acme/router.(*Router).ServeHTTP(0xc000182000, 0x1)
\t/go/pkg/mod/github.com/acme/router@v1.2.0/router.go:77 +0x2a
main.(*Server).handleOrder(0xc0001a2000, {0x9c1e40, 0xc0002a4000})
\t/app/server.go:42 +0x1d
net/http.HandlerFunc.ServeHTTP(0x0, {0x9c1e40, 0xc0002a4000})
\t/usr/local/go/src/net/http/server.go:2136 +0x29"""


def _entry(text: str, insert_id: str = "a1", **extra) -> dict:
    return {"insertId": insert_id, "timestamp": "2025-09-15T02:00:01Z", "severity": "ERROR", "textPayload": text, **extra}


def test_python_trace_top_application_frame_skips_site_packages():
    trace = parse_trace(SQLALCHEMY)
    assert trace.exception == "sqlalchemy.exc.OperationalError"
    assert trace.message.startswith("(psycopg2.OperationalError) connection to server")
    frame = trace.top_application_frame
    assert (frame.file, frame.line, frame.function, frame.library) == ("repository.py", 142, "save_charge", False)
    assert trace.frames[0].function == "commit" and trace.frames[0].library  # innermost first


def test_java_trace_top_application_frame_skips_the_jdk():
    trace = parse_trace(JAVA)
    assert (trace.exception, trace.message) == ("java.lang.IllegalStateException", "Order 4411 is already settled")
    frame = trace.top_application_frame
    assert (frame.file, frame.line, frame.function) == ("OrderService.java", 88, "com.shop.orders.OrderService.settle")


def test_go_trace_top_application_frame_skips_the_standard_library_and_module_cache():
    trace = parse_trace(GO)
    assert (trace.exception, trace.message) == ("panic", "runtime error: index out of range [5] with length 3")
    assert [f.library for f in trace.frames] == [True, False, True]
    frame = trace.top_application_frame
    assert (frame.file, frame.line, frame.function) == ("server.go", 42, "main.(*Server).handleOrder")


def test_a_message_without_a_trace_has_none():
    assert parse_trace("Connection refused\nretrying in 5s") is None
    assert parse_trace("one line") is None


def test_normalise_takes_the_source_from_the_trace_only_when_no_label_says_it():
    row = normalise(_entry(SQLALCHEMY))
    assert (row["module"], row["function"], row["line"]) == ("repository.py", "save_charge", 142)
    labelled = {
        "insertId": "b",
        "timestamp": "2025-09-15T02:00:01Z",
        "severity": "ERROR",
        "jsonPayload": {"message": SQLALCHEMY, "labels": {"module": "payments.repository", "function": "save", "line": "7"}},
    }
    row = normalise(labelled)
    assert (row["module"], row["function"], row["line"]) == ("payments.repository", "save", 7)


def test_source_text_and_component_read_files_and_modules():
    m = pattern("f1", 3)
    m.module, m.function, m.line = "repository.py", "save_charge", 142
    assert source_text(m) == "repository.py:142 in save_charge"
    assert component("repository.py") == "repository"
    assert component("/app/netra_backend/app/services/cache.py") == "cache"
    assert component("netra_backend.app.middleware") == "middleware"
    m.module, m.function, m.line = None, None, None
    assert source_text(m) == "-"


def test_traceback_headline_is_type_function_and_gist():
    m = pattern("f1", 90, "ERROR")
    m.template = "Charge could not be saved sqlalchemy.exc.OperationalError at session.py:commit < repository.py:save_charge"
    text = headline(m, [_entry(SQLALCHEMY)])
    assert text == "OperationalError in save_charge: connection to server at <IP>, port … failed: timeout expired".replace("<IP>", "…")
    assert len(headline(m, [_entry(SQLALCHEMY.replace("timeout expired", "timeout expired " + "x" * 300))])) <= 100


def test_plain_headline_shortens_placeholders_and_names_the_component():
    m = pattern("f2", 5)
    m.template = "Startup phase <STR> did not reach <STR> within <NUM>s"
    m.module = "netra_backend.app.core.gcp_initialization_validator"
    assert headline(m, []) == "Startup phase … did not reach … within …s (gcp_initialization_validator)"


def test_headline_never_carries_a_secret():
    m = pattern("f3", 1, "ERROR")
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    text = headline(m, [_entry(SQLALCHEMY.replace("timeout expired", f"token {token} rejected"))])
    assert token not in text and "REDACTED" in text


def test_search_terms_occur_in_every_sample_and_find_them():
    m = pattern("f1", 2, "ERROR")
    m.template = "Charge could not be saved sqlalchemy.exc.OperationalError at session.py:commit < repository.py:save_charge"
    entries = [_entry(SQLALCHEMY, "a1"), _entry(SQLALCHEMY.replace("10.20.0.5", "10.20.0.9"), "a2")]
    terms = search_terms(m, entries)
    assert terms == ["sqlalchemy.exc.OperationalError", "save_charge"]
    query = "\n".join(f'"{t}"' for t in terms)
    assert all(compile_query(query)(e) for e in entries)
    assert not compile_query(query)(_entry("sqlalchemy.exc.OperationalError in another place"))


def test_search_terms_of_a_request_log_use_the_words_its_fields_hold():
    m = pattern("f4", 9)
    m.template = "POST /ws/beacon <NUM>"
    entry = {"insertId": "r1", "httpRequest": {"requestMethod": "POST", "requestUrl": "https://api.example.com/ws/beacon", "status": 405}}
    assert search_terms(m, [entry]) == ["/ws/beacon", "POST"]


def test_search_terms_skip_what_redaction_would_change_and_what_the_samples_lack():
    m = pattern("f5", 2)
    m.template = "Login failed for admin@example.com from <IP>"
    entry = _entry("Login failed for admin@example.com from 10.0.0.1")
    assert search_terms(m, [entry]) == ["Login failed for", "from"]  # what redaction leaves of the template; the address never
    assert search_terms(m, [_entry("something else entirely")]) == []


def test_sample_entries_skip_payloads_cut_at_the_storage_limit():
    assert sample_entries([json.dumps(_entry("x")), '{"cut": "at the li', "[1, 2]"]) == [_entry("x")]


def test_secrets_never_reach_terms_or_titles_even_split_by_masks():
    bearer = "auth failed Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789"
    m = pattern("f6", 1)
    m.template = "auth failed Authorization: Bearer abcdefghijklmnopqrstuvwxyz<NUM>"
    assert all("abcdefghij" not in term for term in search_terms(m, [_entry(bearer)]))
    m.template = "password: Sup<NUM>rS<NUM>cretPw for user app"
    assert all("cretPw" not in term for term in search_terms(m, [_entry("password: Sup3rS3cretPw for user app")]))
    trace = 'Traceback (most recent call last):\n  File "/app/h.py", line 3, in handler\n    x()\nValueError: login failed\npassword: correct-horse-battery'
    assert "correct-horse" not in headline(pattern("f7", 1), [_entry(trace)])


def test_the_exception_line_is_the_last_one_that_names_an_exception():
    trace = SQLALCHEMY + "\n(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    assert parse_trace(trace).exception == "sqlalchemy.exc.OperationalError"


@pytest.mark.parametrize(
    "traces, clients, said",
    [
        (702, 214, "702 requests (distinct traces), 214 clients"),
        (1, 1, "1 request (distinct traces), 1 client"),
        (3, 0, "3 requests (distinct traces)"),
        (0, 2, "2 clients"),
        (0, 0, "no traces or client addresses in its entries"),
    ],
)
def test_affected_names_what_was_recorded_and_never_says_zero_clients(traces, clients, said):
    m = pattern("a", 3)
    m.traces, m.clients = traces, clients
    assert affected_text(m) == said
