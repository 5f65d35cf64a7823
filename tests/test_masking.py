import pytest

from log_gardener.tasks.masking import mask, mask_function_sql

CASES = [
    (
        "[🔴] RACE CONDITION DETECTED: Startup phase 'no_app_state' did not reach 'services' within 2.1s - this would cause WebSocket 1011 errors",
        "[🔴] RACE CONDITION DETECTED: Startup phase <STR> did not reach <STR> within <NUM>s - this would cause WebSocket <NUM> errors",
    ),
    (
        "SSOT validation issues (non-blocking): ['Multiple manager instances for user demo-user-001 - potential duplication']",
        "SSOT validation issues (non-blocking): ['Multiple manager instances for user demo-user-<NUM> - potential duplication']",
    ),
    ("user usr_8f3a2b1c logged in from 10.2.3.4:5432", "user usr_<HEX> logged in from <IP>"),
    ("request 3f2a9c1b-1234-4abc-8def-0123456789ab failed at 2025-09-15T01:52:25.002488Z", "request <UUID> failed at <TS>"),
    ("mail to jane.doe@example.com bounced, see https://mail.example.com/x?id=9", "mail to <EMAIL> bounced, see <URL>"),
    ("cannot open /var/lib/app/data/file.db", "cannot open <PATH>"),
    # the punctuation of the sentence around a URL is not part of it
    ("fetching https://api.example.com/v1/items: read timeout", "fetching <URL>: read timeout"),
    ("see https://example.com/docs.", "see <URL>."),
    # a vertical tab is not a space to RE2, so it is not one to Python's masking either
    ("fetch http://h.example/a\vb failed", "fetch <URL> failed"),
    (
        "com.apple.ical.sync.x-coredata://DB05755C-483D-44B7-B93B-ED06E57FF420/CalDAVPrincipal/p11: scheduler_evaluate_activity told me",
        "<URL>: scheduler_evaluate_activity told me",
    ),
    ("pointer 0xc000010000 freed", "pointer <HEX> freed"),
    # dates written with month names, in the orders syslog, ctime, HTTP and Java write them
    ("connection from 10.1.2.3 at Sun Jun 19 23:54:40 2005", "connection from <IP> at <TS>"),
    ("Jul  1 09:01:05 lease renewed", "<TS> lease renewed"),
    ("cache entry expires Tue, 15 Nov 1994 08:12:31 GMT, refreshing", "cache entry expires <TS>, refreshing"),
    ("job started Jun 19, 2005 11:02:03 PM and stalled", "job started <TS> and stalled"),
    # a month name without a time is a word: "May" in a sentence stays
    ("May 3 workers retry", "May <NUM> workers retry"),
    # words that begin like a month, and words after a time, are not part of a date
    ("Marker 12:30 reached", "Marker <NUM>:<NUM> reached"),
    ("Jun 19 23:54:40 GET /index", "<TS> GET /index"),
    # a quoted value of up to five words, in either quotes; a request line keeps its method (it holds a slash),
    # and a longer quoted text is a message of its own
    ('Failed to load propagator: "connection reset by peer"', "Failed to load propagator: <STR>"),
    ("Failed to load propagator: 'connection reset by peer'", "Failed to load propagator: <STR>"),
    ('"GET /v2/servers/detail HTTP/1.1" status: 200', '"GET <PATH> HTTP/<NUM>" status: <NUM>'),
    ('"GET /api/v1/items" 200', '"GET <PATH>" <NUM>'),
    ('"GET https://h.io/x/y" 502', '"GET <URL>" <NUM>'),
    ('msg="he said \\"hi there\\" ok"', 'msg="he said \\"hi there\\" ok"'),
    ('msg="open \\"cfg\\" failed"', 'msg="open \\"cfg\\" failed"'),
    ('proxy said "one two three four five six" again', 'proxy said "one two three four five six" again'),
]


@pytest.mark.parametrize("raw, masked", CASES)
def test_known_masks(raw, masked):
    assert mask(raw) == masked


def test_sql_masking_matches_python(fresh_db):
    con = fresh_db.con
    for raw, masked in CASES:
        assert con.execute("select mask_message(?)", [raw]).fetchone()[0] == masked


def test_bigquery_function_parses():
    import sqlglot

    sqlglot.parse_one(mask_function_sql("bigquery"), read="bigquery")
    assert "REGEXP_REPLACE" in mask_function_sql("bigquery")


def test_many_texts_masked_in_duckdb_are_masked_as_python_masks_them():
    import random

    from log_gardener.tasks.cluster_lines import _mask_in_duckdb, mask_all

    rng = random.Random(5)
    alphabet = "ab 1:/.=-_'\"\x00\x01\t\u00e9\u2028\U0001f600<>[]()@x9,;ffZ"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(5_000)]
    texts += ["GET https://api.example.com/v1/items?id=7: timeout", "user alice@example.com at 2025-09-15T01:02:03Z from 10.0.0.1:8080"]
    assert _mask_in_duckdb(texts) == [mask(t) for t in texts]
    # a text DuckDB cannot take (half a surrogate pair) sends the whole batch to Python, still in order
    odd = [*texts[:10], "half a pair \ud800 42", *texts[10:20]]
    assert mask_all(odd, sql_from=1) == [mask(t) for t in odd]
