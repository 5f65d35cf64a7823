"""Every kind of bad input has a defined outcome (kept, skipped or rejected with a reason), and none ends a run."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from log_gardener.tasks.extract import extract
from log_gardener.tasks.load import load
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources import FileSource
from log_gardener.tasks.sources.base import MAX_ENTRY_CHARS

WINDOW = Window.parse("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z")


def entry(insert_id="ok", **fields):
    base = {
        "insertId": insert_id,
        "timestamp": "2025-09-15T00:10:00Z",
        "severity": "ERROR",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "svc"}},
        "textPayload": "boom",
    }
    return base | fields


def line(value) -> str:
    return json.dumps(value)


def run(tmp_path, lines: list[str | bytes], name="in.ndjson", prefix: bytes = b""):
    path = tmp_path / name
    path.write_bytes(prefix + b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    result = extract(FileSource(path), "svc", WINDOW)
    s = result.stats
    assert s["kept"] + s["rejected"] + s["other_service"] + s["outside_window"] + s["below_severity"] == s["read"]
    return result


def kept_messages(result):
    return list(result.rows.message)


def reasons(result):
    return [r.reason for r in result.rejections]


@pytest.mark.parametrize(
    "bad, reason",
    [
        ('{"insertId": "x", "timestamp"', "malformed JSON"),
        ("[1, 2]", "entry is a JSON list, not an object"),
        ('"just text"', "entry is a JSON str, not an object"),
        ("null", "entry is a JSON NoneType, not an object"),
        ("[" * 100_000, "nested too deeply"),
        (line(entry(jsonPayload=json.loads("[" * 100 + "]" * 100))), "nested deeper than 64 levels"),
        (line(entry(timestamp="yesterday")), "not an ISO 8601 time"),
        (line(entry(severity="LOUD")), "unknown severity"),
        (line(entry(textPayload="", jsonPayload={})), "no message"),
        (line({k: v for k, v in entry().items() if k != "timestamp"}), "missing timestamp"),
        (line(entry(resource={"type": "global"})), "no service name"),
        (b"\x89PNG\x1a\x00\x00\xff binary", "malformed JSON"),
    ],
)
def test_each_kind_of_unreadable_entry_is_rejected_with_its_reason_and_the_rest_is_kept(tmp_path, bad, reason):
    result = run(tmp_path, [line(entry("a")), bad, line(entry("b"))])
    assert result.stats["kept"] == 2 and result.stats["rejected"] == 1
    assert reason in reasons(result)[0]
    assert len(result.rejections[0].raw_text) <= 4_096  # a bounded excerpt is stored


def test_a_line_of_tens_of_megabytes_is_rejected_without_holding_it(tmp_path):
    huge = line(entry("huge", textPayload="x" * (MAX_ENTRY_CHARS + 1_000_000)))
    result = run(tmp_path, [line(entry("a")), huge, line(entry("b"))])
    assert result.stats["kept"] == 2
    assert "over the 8,388,608-character limit" in reasons(result)[0]


def test_a_byte_order_mark_and_crlf_line_endings_lose_nothing(tmp_path):
    path = tmp_path / "bom.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + (line(entry("a")) + "\r\n" + line(entry("b")) + "\r\n").encode())
    result = extract(FileSource(path), "svc", WINDOW)
    assert result.stats["kept"] == 2 and not result.rejections


def test_control_characters_and_invalid_utf8_are_kept_cleaned(tmp_path):
    raw_control = line(entry("a")).replace('"boom"', '"bo\x01om\x00"')  # raw control characters inside a string
    escaped_nul = line(entry("b", textPayload="nul \u0000 here"))
    invalid_utf8 = line(entry("c")).encode().replace(b"boom", b"bo\xff\xfeom")
    result = run(tmp_path, [raw_control, escaped_nul, invalid_utf8])
    assert result.stats["kept"] == 3
    assert all("\x00" not in m and "\x01" not in m for m in kept_messages(result))
    assert "bo\ufffd\ufffdom" in kept_messages(result)


def test_messages_that_are_numbers_objects_arrays_or_fields_are_kept_as_text(tmp_path):
    result = run(
        tmp_path,
        [
            line(entry("n", textPayload=None, jsonPayload={"message": 12345})),
            line(entry("o", textPayload=None, jsonPayload={"message": {"code": 7}})),
            line(entry("l", textPayload=None, jsonPayload={"message": ["a", 1]})),
            line(entry("f", textPayload=None, jsonPayload={"event": "login", "user": "bob"})),
        ],
    )
    assert kept_messages(result) == ["12345", '{"code": 7}', '["a", 1]', '{"event": "login", "user": "bob"}']


def test_times_with_nanoseconds_or_offsets_and_severity_aliases_are_understood(tmp_path):
    result = run(
        tmp_path,
        [
            line(entry("ns", timestamp="2025-09-15T00:10:00.123456789Z")),
            line(entry("off", timestamp="2025-09-15T02:10:00+02:00")),
            line(entry("warn", severity="warn")),
            line(entry("num", severity=500)),
            line(entry("numstr", severity="600")),
            line(entry("info", severity="INFO")),
        ],
    )
    assert result.stats["kept"] == 5 and result.stats["below_severity"] == 1
    assert list(result.rows.severity) == ["ERROR", "ERROR", "WARNING", "ERROR", "CRITICAL"]


def test_audit_and_request_only_entries_are_kept_with_a_message(tmp_path):
    audit = entry("audit", textPayload=None, protoPayload={"methodName": "storage.objects.delete", "status": {"message": "denied"}})
    request = entry(
        "req", textPayload=None, httpRequest={"requestMethod": "GET", "requestUrl": "https://x.run.app/api/v1?q=1", "status": 503}
    )
    result = run(tmp_path, [line(audit), line(request)])
    assert kept_messages(result) == ["storage.objects.delete: denied", "GET /api/v1 503"]


def test_missing_insert_id_gets_a_stable_one_and_a_duplicate_counts_once(tmp_path, fresh_db):
    without = {k: v for k, v in entry().items() if k != "insertId"}
    result = run(tmp_path, [line(without), line(without), line(entry("dup")), line(entry("dup"))])
    assert result.rows.insert_id.str.startswith("gardener-").sum() == 2
    assert load(fresh_db, result, "run", "svc", WINDOW, "file")["new_entries"] == 2
    assert load(fresh_db, result, "run", "svc", WINDOW, "file")["new_entries"] == 0


def test_a_file_named_another_way_rejects_its_lines_under_the_same_ids(tmp_path, monkeypatch):
    result = run(tmp_path, [line(entry("a")), "{broken", "[1, 2]"])
    link = tmp_path / "link.ndjson"
    link.symlink_to(tmp_path / "in.ndjson")
    monkeypatch.chdir(tmp_path)
    ids = {r.rejection_id for r in result.rejections}
    for other in (link, "in.ndjson"):  # a link to it, a relative path to it
        assert {r.rejection_id for r in extract(FileSource(other), "svc", WINDOW).rejections} == ids
    assert len(ids) == 2


VALID = entry()
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30))
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10
)
mutations = st.lists(
    st.tuples(st.sampled_from(["insertId", "timestamp", "severity", "resource", "textPayload", "jsonPayload", "httpRequest", "x"]), values),
    max_size=4,
)


# derandomized: the same examples on every machine, so CI is repeatable
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated=st.lists(mutations, min_size=1, max_size=5), junk=st.lists(st.binary(max_size=40), max_size=3))
def test_random_mutations_of_valid_entries_never_crash_and_every_entry_is_accounted_for(tmp_path, mutated, junk):
    lines = []
    for changes in mutated:
        value = dict(VALID)
        for key, new in changes:
            value[key] = new
        lines.append(json.dumps(value, default=str))
    lines += [b.replace(b"\n", b" ").replace(b"\r", b" ") for b in junk]
    result = run(tmp_path, lines, name="fuzz.ndjson")  # run() checks kept + skipped + rejected == read
    assert result.stats["read"] >= len(mutated)


def test_a_run_over_hostile_input_completes_and_records_every_rejection(prefect_harness, tmp_path):
    from typer.testing import CliRunner

    from log_gardener.flows.cli import app

    good = [line(entry(f"g{i}", textPayload=f"Payment provider timeout after {i}s")) for i in range(300)]
    hostile = ["[" * 100_000, '{"insertId": "cut', line(entry("n", textPayload=None, jsonPayload={"message": 12345}))]
    path = tmp_path / "hostile.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(good[:150] + hostile + good[150:]).encode() + b"\n")
    db = tmp_path / "g.duckdb"
    args = ["run", "--source", str(path), "--service", "svc", "--start", "2025-09-15T00:00:00Z", "--end", "2025-09-15T01:00:00Z"]
    result = CliRunner().invoke(app, [*args, "--warehouse", f"duckdb:///{db}", "--worklogs", str(tmp_path / "w"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["entries"], summary["rejected"]) == (301, 2)
    assert "nested too deeply" in open(summary["worklog"], encoding="utf-8").read()


def test_lone_surrogates_and_malformed_request_urls_are_kept_and_stored(tmp_path, fresh_db):
    surrogate = (
        '{"insertId": "s", "timestamp": "2025-09-15T00:10:00Z", "severity": "ERROR", '
        '"resource": {"labels": {"service_name": "svc"}}, "textPayload": "bad \\ud800 half an emoji", "labels": {"k": "\\udc00"}}'
    )
    scanner = line(entry("u", textPayload=None, httpRequest={"requestMethod": "GET", "requestUrl": "http://[::1/x?y", "status": 400}))
    cr_inside = line(entry("cr", textPayload="progress 10%\r20%")).replace("\\r", "\r")  # a raw carriage return
    result = run(tmp_path, [surrogate, scanner, cr_inside])
    assert result.stats["kept"] == 3, reasons(result)
    assert load(fresh_db, result, "run", "svc", WINDOW, "file")["new_entries"] == 3  # the warehouse stores them


def test_json_array_files_lose_nothing_after_a_broken_element_or_between_appended_arrays(tmp_path):
    broken = '{"timestamp": "2025-09-15T00:10:00Z", "jsonPayload": {"items": [1, {"b": 2}], oops}}'
    path = tmp_path / "broken.json"
    path.write_text("[" + line(entry("a")) + ",\n" + broken + ",\n" + line(entry("b")) + ",\n" + line(entry("c")) + "]")
    result = extract(FileSource(path), "svc", WINDOW)
    assert sorted(result.rows.insert_id) == ["a", "b", "c"] and result.stats["rejected"] >= 1
    appended = tmp_path / "appended.json"  # two `gcloud logging read --format=json >> file` outputs
    appended.write_text("[" + line(entry("a")) + "]\n[" + line(entry("b")) + ",\n" + line(entry("c")) + "]\n")
    assert sorted(extract(FileSource(appended), "svc", WINDOW).rows.insert_id) == ["a", "b", "c"]
