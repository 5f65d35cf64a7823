"""A log file read in SQL (DuckDB) gives the rows, counts and rejections that reading it entry by entry gives."""

import copy
import json
from datetime import timedelta
from functools import partial

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from log_gardener.sample import SERVICE, write_sample
from log_gardener.tasks.extract import extract
from log_gardener.tasks.file_extract import splits_like_python
from log_gardener.tasks.load import load
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources import FileSource
from log_gardener.tasks.warehouses.duckdb import DuckDBWarehouse

WINDOW = Window.parse("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z")
BASE = {
    "insertId": "base",
    "timestamp": "2025-09-15T01:30:00.123456789Z",
    "receiveTimestamp": "2025-09-15T01:30:01Z",
    "severity": "ERROR",
    "logName": "projects/acme/logs/run.googleapis.com%2Fstderr",
    "resource": {"type": "cloud_run_revision", "labels": {"service_name": "svc", "revision_name": "svc-001", "location": "us-central1"}},
    "jsonPayload": {"message": "payment 42 declined"},
    "trace": "projects/acme/traces/abc",
}


def read(path, tmp_path, in_sql: bool, service: str = "svc"):
    """Rows, stats and rejections of one extract and load of `path` into a fresh warehouse."""
    wh = DuckDBWarehouse(tmp_path / f"{'sql' if in_sql else 'python'}-{path.stem}.duckdb")
    wh.setup()
    source = FileSource(path)
    sink = partial(wh.merge_entries, window_start=WINDOW.start, window_end=WINDOW.end)
    extracted = extract(source, service, WINDOW, "WARNING", sink=sink, in_warehouse=wh.extract_file if in_sql else None)
    load(wh, extracted, "run", service, WINDOW, source.describe())
    rows = wh.con.execute("select * from log_entries order by insert_id").fetchdf()
    rejections = wh.con.execute("select rejection_id, location, reason, raw_text from rejected_entries order by 1").fetchall()
    wh.close()
    return rows, extracted.stats, rejections, extracted.project


def _comparable(value):
    if isinstance(value, float) and pd.isna(value) or value is None or value is pd.NA or value is pd.NaT:
        return None
    return value


def assert_read_alike(path, tmp_path, service="svc"):
    python_rows, python_stats, python_rejections, python_project = read(path, tmp_path, False, service)
    sql_rows, sql_stats, sql_rejections, sql_project = read(path, tmp_path, True, service)
    assert sql_stats == python_stats
    assert sql_rejections == python_rejections
    assert sql_project == python_project
    assert list(sql_rows.insert_id) == list(python_rows.insert_id)
    for column in python_rows.columns:
        for python_value, sql_value in zip(python_rows[column], sql_rows[column]):
            if column == "payload":  # the stored entry is the same JSON; SQL keeps the line as written
                try:
                    python_value, sql_value = json.loads(python_value), json.loads(sql_value)
                except ValueError:
                    pass
            assert _comparable(sql_value) == _comparable(python_value), (column, python_value, sql_value)
    return python_stats


def _set(entry: dict, path: tuple, value) -> dict:
    entry = copy.deepcopy(entry)
    target = entry
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(target.get(key), dict) or key not in target else target[key]
        if not isinstance(target, dict):
            return entry
    if value is _DROP:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return entry


_DROP = object()
VARIANTS = [
    (
        ("jsonPayload", "message"),
        ["", "   ", "\u00a0", "héllo wörld", "日本語のエラー", "ctl\x01char\x7f", "x" * 20_000, 12345, ["a"], None],
    ),
    (("jsonPayload", "message"), ['Traceback (most recent call last):\n  File "/app/pay.py", line 3, in run\n    x()\nValueError: bad']),
    (("textPayload",), ["plain text", "", "  ", 7]),
    (("severity",), ["WARN", "warning", " ERROR", "500", 500, 450.5, None, "", "BOGUS", "INFO", True, _DROP]),
    (
        ("timestamp",),
        [
            "2025-09-15T01:30:00Z",
            "2025-09-15T05:30:00Z",
            "2025-09-15T01:30:00",
            "2025-09-15 03:30:00+02:00",
            "2025-09-15T01:30:00.1z",
            # past microseconds: cut, never rounded (rounding would carry into the next second)
            "2025-09-15T01:30:59.9999999Z",
            "2025-09-15T01:30:00.123456789012z",
            "2025-09-15T24:00:00Z",
            "2025-02-30T01:00:00Z",
            "not a time",
            "",
            None,
            1757899800,
            "2025-09-15T01:30:00+00",
            _DROP,
        ],
    ),
    (("receiveTimestamp",), ["garbage", 17, "", _DROP]),
    (("insertId",), [42, "", _DROP]),
    (("resource", "labels", "service_name"), ["", 7, "other", _DROP]),
    (("resource",), ["a string", [], None]),
    (("resource", "labels", "revision_name"), ["", 3]),
    (("logName",), [5, "", None, False]),  # a JSON value that is not text is stored as its JSON text either way
    (("httpRequest",), [{"requestMethod": "GET", "requestUrl": "https://x/y?z", "status": 503, "latency": "0.5s"}, None]),
    (("httpRequest", "requestUrl"), ["/x?y", "//h/p", "", 5]),
    (("httpRequest", "latency"), ["0.1763125s", "1.25s", "abc", ""]),
    # a status at INT64's edge and past it: a whole number the warehouse holds, or none
    (("httpRequest", "status"), [404, "404", 0, 2.5, 2**63 - 1, 10**20]),
    (("httpRequest", "requestMethod"), ["PUT", "", ["GET"]]),
    (("protoPayload",), [{"methodName": "m", "status": {"message": "denied"}}]),
    (
        ("sourceLocation",),
        [{"file": "a.py", "function": "f", "line": "12"}, {"line": "12.0"}, {"line": "0"}, {"line": 0}, {}, "s", {"line": True}],
    ),
    (("jsonPayload", "logging.googleapis.com/sourceLocation"), [{"file": "b.py", "line": 3}, {"line": 1.5}]),
    (("jsonPayload", "labels"), [{"module": "m", "function": "fn", "line": 7}, {"module": ""}, {"line": "x"}, "no", {"module": 0}]),
    (("jsonPayload", "logger"), ["app.db", "", 5]),
    (("jsonPayload", "logger_name"), [{"a": 1}, "name"]),
]


def _payload_key_repeated(entry: dict) -> str:
    """The entry as a line whose jsonPayload gives its message twice (DuckDB reads the first, Python the last)."""
    payload = entry["jsonPayload"]
    rest = {key: value for key, value in entry.items() if key != "jsonPayload"}
    return json.dumps(rest | {"jsonPayload": payload})[:-2] + ', "message": "the last one"}}'


def _odd_lines() -> list[str]:
    """Lines of every odd field value and shape of entry, malformed ones among them."""
    lines = [json.dumps(BASE)]
    for path, values in VARIANTS:
        for value in values:
            entry = _set(BASE, path, value)
            if path != ("insertId",):
                entry["insertId"] = f"v{len(lines)}"
            lines.append(json.dumps(entry, ensure_ascii=False))
    deep: dict = {}
    cursor = deep
    for _ in range(80):
        cursor["a"] = {}
        cursor = cursor["a"]
    lines += [
        json.dumps(BASE | {"insertId": "deep", "jsonPayload": {"message": "m", "deep": deep}}),
        json.dumps(BASE | {"insertId": "brackets", "jsonPayload": {"message": "[" * 70}}),
        json.dumps(BASE | {"insertId": "surrogate", "jsonPayload": {"message": "bad \ud800 here"}}),
        json.dumps(BASE | {"insertId": "nul", "jsonPayload": {"message": "nul \u0000 here"}}),
        json.dumps(BASE | {"insertId": "big", "jsonPayload": {"message": "m", "blob": "y" * 70_000}}),
        json.dumps(BASE | {"insertId": "twice"}),
        json.dumps(BASE | {"insertId": "twice"}),
        "\ufeff" + json.dumps(BASE | {"insertId": "bom"}),
        '{"broken": ',
        # JSON DuckDB reads otherwise than Python: keys twice (first or last wins), a trailing comma, bare nan
        json.dumps(BASE | {"insertId": "sev-twice"})[:-1] + ', "severity": "INFO"}',
        json.dumps(BASE | {"insertId": "resource-twice"})[:-1] + ', "resource": {"labels": {"service_name": "other"}}}',
        json.dumps(BASE | {"insertId": "trailing-comma"})[:-1] + ",}",
        # a key twice in an object only a kept entry is read from: that line goes to Python, the file stays in SQL
        _payload_key_repeated(BASE | {"insertId": "message-repeated"}),
        _payload_key_repeated(_set(BASE, ("resource", "labels", "service_name"), "other") | {"insertId": "skipped-repeated"}),
        json.dumps(BASE | {"insertId": "bare-nan"})[:-1] + ', "x": nan}',
        json.dumps(BASE | {"insertId": "bare-inf-in-list"})[:-1] + ', "x": [INF]}',
        json.dumps(BASE | {"insertId": "bare-inf-after-comma"})[:-1] + ', "x": [1, -inf]}',
        # times DuckDB would read and Python does not
        json.dumps(BASE | {"insertId": "offset-24", "timestamp": "2025-09-16T01:30:00+24:00"}),
        json.dumps(BASE | {"insertId": "offset-60", "timestamp": "2025-09-15T01:30:00+00:60"}),
        json.dumps(BASE | {"insertId": "year-0", "timestamp": "0000-01-01T00:00:00Z"}),
        json.dumps(BASE | {"insertId": "overflow", "timestamp": "9999-12-31T23:59:59-01:00"}),
        # a line whose dump by Python is past the payload limit though the line is not
        json.dumps(
            BASE | {"insertId": "wide", "jsonPayload": {"message": "m", "extra": {f"k{i:05d}": 1 for i in range(5800)}}},
            separators=(",", ":"),
        ),
        # one insertId on a line Python reads and on a line SQL reads
        json.dumps(
            BASE | {"insertId": "dup-mixed", "timestamp": "2025-09-15T01:10:00Z", "jsonPayload": {"message": "日本語"}}, ensure_ascii=False
        ),
        json.dumps(BASE | {"insertId": "dup-mixed", "timestamp": "2025-09-15T01:20:00Z"}),
        # Python reads a line of marks and spaces as an entry (and rejects it): it counts, and positions stay in step
        "\ufeff \ufeff",
        json.dumps(BASE | {"insertId": 42}),
        "[1, 2, 3]",
        '"just a string"',
        "   ",
        "",
    ]
    return lines


def _read_in_sql(lines: list[str]) -> list[str]:
    """The lines without those that send a whole file to Python (a key twice, a line Python reads as blank)."""
    return [line for line in lines if "-twice" not in line and line.strip("\ufeff ")]


def _sql_extract(path, tmp_path, service="svc"):
    wh = DuckDBWarehouse(tmp_path / "probe.duckdb")
    wh.setup()
    done = wh.extract_file(path, service, WINDOW, "WARNING", unnumbered=True)  # as the extract of a file calls it
    wh.close()
    (tmp_path / "probe.duckdb").unlink()
    return done


def test_every_odd_field_is_read_alike_in_sql_and_in_python(tmp_path):
    path = tmp_path / "odd.ndjson"
    path.write_text("\n".join(_odd_lines()) + "\n", encoding="utf-8")
    assert _sql_extract(path, tmp_path) is None  # a key twice, a line of marks: the whole file goes to Python
    stats = assert_read_alike(path, tmp_path)
    assert stats["kept"] > 20 and stats["rejected"] > 5 and stats["below_severity"] and stats["other_service"] and stats["outside_window"]
    # without them, SQL reads the file and leaves Python the odd lines (a file of its own name: fresh warehouses)
    path = tmp_path / "odd-in-sql.ndjson"
    path.write_text("\n".join(_read_in_sql(_odd_lines())) + "\n", encoding="utf-8")
    done = _sql_extract(path, tmp_path)
    assert done is not None and done.stats["kept"] > 10 and len(done.python_positions) > 20
    stats = assert_read_alike(path, tmp_path)
    assert stats["kept"] > 20 and stats["rejected"] > 5 and stats["below_severity"] and stats["other_service"] and stats["outside_window"]


def _json_elements(lines: list[str]) -> list[str]:
    """The lines that are JSON as Python reads it, elements of an array as written (spaces, escapes and all)."""
    elements = []
    for line in lines:
        try:
            json.loads(line)
        except ValueError:
            continue
        elements.append(line)
    return elements


def test_a_json_array_is_read_in_sql_and_alike(tmp_path):
    # gcloud's --format=json: the odd entries above as one indented array; those left to Python come back as text
    path = tmp_path / "odd.json"
    elements = [e for e in _json_elements(_read_in_sql(_odd_lines())) if '"surrogate"' not in e]  # DuckDB refuses it
    path.write_text("\ufeff[\n  " + ",\n  ".join(elements) + "\n]\n", encoding="utf-8")
    done = _sql_extract(path, tmp_path)
    assert done is not None and done.stats["kept"] > 10 and len(done.python_entries) > 20
    assert [position for position, _ in done.python_entries] == sorted(done.python_positions)
    stats = assert_read_alike(path, tmp_path)
    assert stats["kept"] > 20 and stats["rejected"] >= 2 and stats["below_severity"] and stats["other_service"] and stats["outside_window"]


def test_entries_written_over_several_lines_are_left_to_python_and_loaded_as_their_ndjson(tmp_path):
    # `jq .` over gcloud's array: DuckDB's line reader would see each line as an entry, so Python reads the file
    path = tmp_path / "sample.ndjson"
    write_sample(path, hours=1, scale=1, fmt="ndjson", start=WINDOW.start)
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # the sample's broken lines: rejected either way, at another place
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    indented = tmp_path / "indented.json"
    indented.write_text("\n".join(json.dumps(e, indent=2) for e in entries) + "\n", encoding="utf-8")
    assert _sql_extract(indented, tmp_path, SERVICE) is None
    rows, stats, rejections, _ = read(indented, tmp_path, True, SERVICE)
    ndjson_rows, ndjson_stats, _, _ = read(path, tmp_path, True, SERVICE)
    assert stats == ndjson_stats and stats["kept"] > 300 and not rejections
    assert sorted(rows.insert_id) == sorted(ndjson_rows.insert_id)


def test_the_bundled_sample_as_a_json_array_is_read_in_sql_and_alike(tmp_path):
    path = tmp_path / "sample.json"
    write_sample(path, hours=1, scale=1, fmt="json", start=WINDOW.start)
    done = _sql_extract(path, tmp_path, SERVICE)
    assert done is not None and done.stats["kept"] > 300
    assert_read_alike(path, tmp_path, SERVICE)


@pytest.mark.parametrize(
    "text, kept",
    [
        ('[{"insertId": "a"}, {"broken": }, {"insertId": "b"}]', 3),  # a broken element: Python records it and resumes
        ('[{"insertId": "a"}] trailing text', 3),
        ('[{"insertId": "a"}][{"insertId": "b"}]', 3),  # appended output: two arrays
        ('[{"insertId": "a"}, {"insertId": "b"}', 3),  # never closed
        ('[{"insertId": "a"},, {"insertId": "b"}]', 3),
        ('[{"insertId": "a", "x": nan}]', 0),
        ('[{"insertId": "a", "insertId": "b"}]', 1),  # a key twice: Python takes the last, DuckDB the first
        ('[{"insertId": "a", "m": "half a pair \\ud800"}]', 1),  # an escaped lone surrogate, which DuckDB's array reader refuses
        # a vertical tab or form feed between elements: DuckDB reads past it, Python records a broken element
        ('[{"insertId": "a"}\x0c, {"insertId": "b"}]', 3),
        ('[\x0b{"insertId": "a"}, {"insertId": "b"}]', 2),
        ('[{"insertId": "a"}]\x0c', 3),
    ],
)
def test_an_array_duckdb_would_read_otherwise_is_left_to_python_and_nothing_is_lost(tmp_path, text, kept):
    elements = [BASE | {"insertId": f"e{i}"} for i in range(3)]
    body = ", ".join(json.dumps(e) for e in elements)
    path = tmp_path / "odd.json"
    path.write_text(text.replace('{"insertId": "a"}', body).replace('{"insertId": "a", ', json.dumps(BASE)[:-1] + ", "), encoding="utf-8")
    assert _sql_extract(path, tmp_path) is None
    stats = assert_read_alike(path, tmp_path)
    assert stats["kept"] == kept and stats["read"] >= 1


@pytest.mark.parametrize("start", [" \ufeff", "\n\ufeff\n", "\ufeff \ufeff", "\n" * ((1 << 20) + 3)])
def test_marks_and_spaces_of_any_length_before_an_array_are_read_alike(tmp_path, start):
    path = tmp_path / "start.json"
    path.write_text(start + "[" + ", ".join(json.dumps(BASE | {"insertId": f"e{i}"}) for i in range(3)) + "]", encoding="utf-8")
    assert assert_read_alike(path, tmp_path)["kept"] == 3


@pytest.mark.parametrize(
    ("first", "in_sql"),
    [
        ("\ufeff" + json.dumps(BASE | {"insertId": "bom"}), True),  # the mark DuckDB drops is the one Python strips
        ("\ufeff\n", True),
        ("\ufeff " + '{"insertId": "bad", oops', False),  # Python keeps the space before the entry: column 22, not 21
        ("\ufeff\t" + json.dumps(BASE | {"insertId": "tab"})[:-1] + ",}", False),
        ("\ufeff \ufeff", False),  # for Python a line, for DuckDB (without its first mark) a blank one
    ],
)
def test_a_file_opening_with_a_mark_is_read_in_sql_only_when_the_entry_follows_it(tmp_path, first, in_sql):
    path = tmp_path / "mark.ndjson"
    path.write_text(first + "\n" + json.dumps(BASE | {"insertId": "next"}) + "\n", encoding="utf-8")
    assert splits_like_python(path) == in_sql
    assert_read_alike(path, tmp_path)


def test_an_array_element_longer_than_python_reads_sends_the_file_to_python(tmp_path, monkeypatch):
    import log_gardener.tasks.file_extract as file_extract

    monkeypatch.setattr(file_extract, "ARRAY_ELEMENT_CHARS", 2_000)  # DuckDB's own object size limit is not applied
    path = tmp_path / "long.json"
    path.write_text("[" + json.dumps(BASE) + ", " + json.dumps(BASE | {"insertId": "long", "x": "y" * 3_000}) + "]", encoding="utf-8")
    assert _sql_extract(path, tmp_path) is None
    monkeypatch.setattr(file_extract, "ARRAY_ELEMENT_CHARS", 4_000)
    assert _sql_extract(path, tmp_path) is not None


def test_a_line_nested_past_pythons_recursion_limit_is_rejected_in_both_whatever_its_service(tmp_path):
    deep = "[" * 3_000 + "]" * 3_000
    other = BASE | {"insertId": "deep", "resource": {"labels": {"service_name": "other"}}}
    lines = [json.dumps(BASE), json.dumps(other)[:-1] + f', "x": {deep}}}']
    path = tmp_path / "deep.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _sql_extract(path, tmp_path)
    assert done is not None and done.python_positions == {1}
    stats = assert_read_alike(path, tmp_path)
    assert stats["kept"] == 1 and stats["rejected"] == 1 and stats["other_service"] == 0


def test_an_array_element_python_cannot_decode_sends_the_file_to_python_before_anything_is_merged(tmp_path):
    deep = "[" * 5_000 + "]" * 5_000  # JSON DuckDB reads, nested past Python's recursion limit
    text = "[" + json.dumps(BASE) + ", " + json.dumps(BASE | {"insertId": "deep"})[:-1] + f', "x": {deep}}}' + "]"
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")
    wh = DuckDBWarehouse(tmp_path / "probe.duckdb")
    wh.setup()
    assert wh.extract_file(path, "svc", WINDOW, "WARNING") is None
    assert wh.con.execute("select count(*) from log_entries").fetchone()[0] == 0
    wh.close()


def test_the_bundled_sample_is_read_in_sql_and_alike(tmp_path):
    path = tmp_path / "sample.ndjson"
    write_sample(path, hours=1, scale=1, fmt="ndjson", start=WINDOW.start)
    done = _sql_extract(path, tmp_path, SERVICE)
    # SQL keeps the plain entries itself; Python reads only the few it cannot (request logs)
    assert done is not None and done.stats["kept"] > 300 and len(done.python_positions) < 20
    assert_read_alike(path, tmp_path, SERVICE)


def test_the_project_is_the_first_kept_entrys_whichever_path_kept_it(tmp_path):
    first = BASE | {"insertId": 7, "logName": "projects/first/logs/x"}  # a number id: Python reads it
    second = BASE | {"insertId": "plain", "logName": "projects/second/logs/x"}
    path = tmp_path / "projects.ndjson"
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n", encoding="utf-8")
    assert_read_alike(path, tmp_path)


def test_ndjson_with_carriage_returns_is_left_to_python(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"a": 1}\r\n{"b": 2}\r\n', encoding="utf-8")
    assert not splits_like_python(path)


def test_the_byte_checks_read_past_the_first_chunk(tmp_path, monkeypatch):
    import log_gardener.tasks.file_extract as file_extract

    monkeypatch.setattr(file_extract, "SCAN_BYTES", 4)  # every check below spans several chunks
    path = tmp_path / "late.json"
    path.write_bytes(b'\xef\xbb\xbf  \n\n\t  [{"a": 1}]\n')
    assert not splits_like_python(path)  # an array, found in the third chunk
    path.write_bytes(b'{"a": 1}\n{"b": 2}\n')
    assert splits_like_python(path)
    path.write_bytes(b'{"a": 1}\n{"b": 2}\r\n')
    assert not splits_like_python(path)  # a carriage return in the last chunk
    path.write_bytes(b'[{"a": 1},\n {"b": 2}]\x0c\n')
    assert not file_extract.array_reads_like_python(path)


_values = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, width=16), st.text(max_size=6))
_FIELDS = [p for p, _ in VARIANTS]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(_FIELDS), _values), min_size=1, max_size=4))
def test_entries_with_any_values_in_any_field_are_read_alike(tmp_path_factory, changes):
    tmp_path = tmp_path_factory.mktemp("any")
    entry = dict(BASE)
    for path, value in changes:
        entry = _set(entry, path, value)
    path = tmp_path / "any.ndjson"
    path.write_text(json.dumps(BASE | {"insertId": "plain"}) + "\n" + json.dumps(entry) + "\n", encoding="utf-8")
    assert_read_alike(path, tmp_path)


def test_lines_left_to_python_are_found_at_their_place_in_a_file_read_in_parallel(tmp_path):
    # larger than DuckDB's read buffer, so the lines are read in chunks by several threads and the table of
    # verdicts holds them in no particular order: each line is found again by its hash and length
    lines, odd = [], []
    for i in range(48_000):
        if i % 4_999 == 17:
            odd.append(len(lines))
            lines.append(json.dumps(BASE | {"insertId": f"odd-{i}"})[:-1] + ', "x": [1,],}')  # trailing commas: Python's to read
        elif i % 1_000 == 0:
            lines.append("")  # blank: not counted as a line
        elif i % 7 == 0:
            lines.append(json.dumps(BASE | {"insertId": "same", "severity": "INFO"}))  # equal lines, one verdict
        else:
            lines.append(json.dumps(BASE | {"insertId": f"id-{i}", "logName": f"projects/p{i % 3}/logs/x", "padding": "p" * (i % 300)}))
    path = tmp_path / "big.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _sql_extract(path, tmp_path)
    counted = [n for n, line in enumerate(lines) if line]  # positions count the lines that are not blank
    assert done is not None and done.python_positions == {counted.index(n) for n in odd}
    assert done.project == "p1" and done.project_position == 0
    assert_read_alike(path, tmp_path)


class ListSource:
    """A source of entries already decoded, as the Logging API's pages give them."""

    entries_are_json = True

    def __init__(self, items):
        self.items = items

    def describe(self) -> str:
        return "list:test"

    def entries(self, service, window, min_severity):
        return iter(self.items)


def test_entries_of_an_api_source_are_loaded_through_sql_alike(tmp_path):
    from log_gardener.tasks.sources.base import Unparseable

    deep: dict = {}
    cursor = deep
    for _ in range(5_000):  # too deep to write as JSON: held back and judged by Python in its place
        cursor["x"] = {}
        cursor = cursor["x"]
    items = [BASE | {"insertId": f"id-{i}", "jsonPayload": {"message": f"payment {i} declined"}} for i in range(50)]
    items[10] = Unparseable("{oops", "malformed JSON: test", "page 1")
    items[20] = BASE | {"insertId": "deep", "jsonPayload": deep}
    items[30] = BASE | {"insertId": 31}  # a number id: SQL leaves it to Python
    results, in_sql_results = [], []

    def recorded(extract_file):
        def call(*args):
            in_sql_results.append(extract_file(*args))
            return in_sql_results[-1]

        return call

    for in_sql in (False, True):
        wh = DuckDBWarehouse(tmp_path / f"api-{in_sql}.duckdb")
        wh.setup()
        sink = partial(wh.merge_entries, window_start=WINDOW.start, window_end=WINDOW.end)
        in_warehouse = recorded(wh.extract_file) if in_sql else None
        extracted = extract(ListSource(items), "svc", WINDOW, "WARNING", sink=sink, in_warehouse=in_warehouse)
        load(wh, extracted, "run", "svc", WINDOW, "list:test")
        rows = wh.con.execute("select insert_id, message, log_name from log_entries order by insert_id").fetchall()
        rejections = wh.con.execute("select rejection_id, location, reason from rejected_entries order by 1").fetchall()
        wh.close()
        results.append((rows, rejections, extracted.stats, extracted.project))
    assert results[0] == results[1]
    # SQL read the spooled entries and kept the plain ones; Python read only the three it had to
    assert len(in_sql_results) == 1 and in_sql_results[0].stats["kept"] == 47 and len(in_sql_results[0].python_positions) == 3
    rows, rejections, stats, _ = results[1]
    assert len(rows) == 48 and len(rejections) == 2 and stats["read"] == 50


# Two different lines of equal length that DuckDB 2.0's string hash maps to one value (found by solving its
# block-wise mixing for the insertId): the first is left to Python (an escaped NUL), the second is kept.
_COLLIDING = (
    '{"insertId": "pp\\u0000abABCDEFGH", "timestamp": "2025-09-15T01:30:00Z", "severity": "ERROR", "logName": "projects/acme/logs/x", '
    '"resource": {"type": "cloud_run_revision", "labels": {"service_name": "svc"}}, "jsonPayload": {"message": "payment declined"}}',
    '{"insertId": "ppgrsbewxe #*RF+t ", "timestamp": "2025-09-15T01:30:00Z", "severity": "ERROR", "logName": "projects/acme/logs/x", '
    '"resource": {"type": "cloud_run_revision", "labels": {"service_name": "svc"}}, "jsonPayload": {"message": "payment declined"}}',
)


def test_two_different_lines_with_one_hash_send_the_file_to_python_instead_of_mixing_them_up(tmp_path):
    import duckdb

    first, second = _COLLIDING
    same = duckdb.connect().execute("select hash(?) = hash(?) and strlen(?) = strlen(?)", [first, second, first, second]).fetchone()[0]
    assert same, "DuckDB's hash changed: find another pair of colliding lines for this test"
    # a line Python rejects: its number is wanted, so the lines are numbered, and found again by their hashes
    rejected = json.dumps(BASE | {"insertId": "late", "timestamp": "not a time"})
    path = tmp_path / "collide.ndjson"
    path.write_text("\n".join([first, second, rejected]) + "\n", encoding="utf-8")
    assert _sql_extract(path, tmp_path) is None
    stats = assert_read_alike(path, tmp_path)
    assert stats["kept"] == 2 and stats["rejected"] == 1
    # without it no line is numbered, and the hashes are never read: SQL reads the file
    path.write_text(first + "\n" + second + "\n", encoding="utf-8")
    assert _sql_extract(path, tmp_path) is not None
    assert assert_read_alike(path, tmp_path)["kept"] == 2


def test_two_different_lines_left_to_python_with_one_hash_keep_their_own_texts(tmp_path):
    import duckdb

    first, second = _COLLIDING  # the first is left to Python; the second is too once its insertId comes again
    again = json.loads(second) | {"timestamp": "2025-09-15T01:40:00Z", "jsonPayload": {"message": "later copy"}}
    path = tmp_path / "collide-python.ndjson"
    path.write_text("\n".join([first, second, json.dumps(again)]) + "\n", encoding="utf-8")
    with duckdb.connect() as con:
        assert con.execute("select hash(?) = hash(?)", [first, second]).fetchone()[0]
    assert _sql_extract(path, tmp_path) is None  # else both lines would be read as the text of one of them
    assert_read_alike(path, tmp_path)


def test_an_entry_a_spool_held_back_keeps_the_project_it_names(tmp_path):
    import datetime

    # not JSON (a datetime): held back by the spool, judged by Python in its place, and it comes first
    items = [BASE | {"insertId": "z", "logName": "projects/zeta/logs/x", "labels": {"when": datetime.datetime(2025, 1, 1)}}]
    items += [BASE | {"insertId": f"p{i}"} for i in range(3)]
    projects = [(extracted.project, extracted.stats) for extracted in _api_extracts(items, tmp_path, "held")]
    assert projects[0] == projects[1] and projects[0][0] == "zeta"


def _api_extracts(items, tmp_path, name):
    """The extracts of entries an API source gives, by Python alone and through SQL, each into a fresh warehouse."""
    extracts = []
    for in_sql in (False, True):
        wh = DuckDBWarehouse(tmp_path / f"{name}-{in_sql}.duckdb")
        wh.setup()
        sink = partial(wh.merge_entries, window_start=WINDOW.start, window_end=WINDOW.end)
        extracts.append(extract(ListSource(items), "svc", WINDOW, "WARNING", sink=sink, in_warehouse=wh.extract_file if in_sql else None))
        wh.close()
    return extracts


def test_entries_of_a_spool_left_to_python_are_read_back_at_their_own_positions(tmp_path):
    # a number for an insertId: SQL leaves the entry to Python, which keeps it. A spool's reader reads it back
    # by its position in the spool, so that position must be its own, never one past the last line
    items = [BASE | {"insertId": f"p{i}"} for i in range(3)] + [BASE | {"insertId": 31}]
    python, in_sql = _api_extracts(items, tmp_path, "spool-positions")
    assert python.stats == in_sql.stats and in_sql.stats["kept"] == 4 and in_sql.stats["rejected"] == 0


@pytest.mark.parametrize("suffix", ["ndjson", "json"])
def test_an_integer_of_more_digits_than_python_reads_is_a_rejection_not_a_crash(tmp_path, suffix):
    huge = json.dumps(BASE | {"insertId": "huge"})[:-1] + ', "n": ' + "7" * 5_000 + "}"
    elsewhere = huge.replace('"svc"', '"other"').replace('"huge"', '"elsewhere"')  # rejected before it is skipped
    in_text = json.dumps(BASE | {"insertId": "in-text", "jsonPayload": {"message": "7" * 5_000}})  # text: kept
    plain = json.dumps(BASE | {"insertId": "plain"})
    path = tmp_path / f"huge.{suffix}"
    lines = [huge, elsewhere, in_text, plain]
    path.write_text(f"[{', '.join(lines)}]" if suffix == "json" else "\n".join(lines) + "\n", encoding="utf-8")
    rows, stats, rejections, _ = read(path, tmp_path, False)
    assert stats["kept"] == 2 and len(rejections) == 2 and "unreadable JSON" in str(rejections)
    assert assert_read_alike(path, tmp_path) == stats


def test_an_api_entry_too_long_for_a_line_is_kept_as_the_source_gave_it(tmp_path):
    # 1.5M CJK characters: 9M characters once written with ASCII escapes, over both SQL's and a file's line
    # limit; the spool is then read back whole, so the entry is judged as the API gave it, not as a long line
    items = [BASE | {"insertId": "a"}, BASE | {"insertId": "b", "jsonPayload": {"message": "\u65e5" * 1_500_000}}]
    results = [(extracted.stats, [r.reason for r in extracted.rejections]) for extracted in _api_extracts(items, tmp_path, "long")]
    assert results[0] == results[1] and results[1][0]["kept"] == 2


@pytest.mark.parametrize("chars", [2_000_000, 9_000_000])
def test_a_last_line_longer_than_sql_reads_is_never_dropped(tmp_path, chars):
    # DuckDB reports a line over its limit, except a last line longer than its read buffer, which it dropped
    path = tmp_path / "long.ndjson"
    long_entry = BASE | {"insertId": "long", "jsonPayload": {"message": "x" * chars}}
    path.write_text(json.dumps(BASE) + "\n" + json.dumps(long_entry) + "\n", encoding="utf-8")
    assert not splits_like_python(path)
    stats = assert_read_alike(path, tmp_path)
    assert stats["read"] == 2 and stats["kept"] + stats["rejected"] == 2


def test_a_line_with_a_key_given_twice_cannot_hide_its_insert_id_from_the_duplicates_rule(tmp_path):
    # DuckDB reads the first of two insertId keys, Python the last: the second line is the first's duplicate
    later = BASE | {"insertId": "x", "timestamp": "2025-09-15T01:40:00Z", "jsonPayload": {"message": "later copy"}}
    earlier = BASE | {"insertId": "x", "timestamp": "2025-09-15T01:10:00Z", "jsonPayload": {"message": "earlier copy"}}
    path = tmp_path / "twice.ndjson"
    path.write_text(json.dumps(later) + "\n" + '{"insertId": "decoy", ' + json.dumps(earlier)[1:] + "\n", encoding="utf-8")
    assert_read_alike(path, tmp_path)


@pytest.mark.parametrize("keys", [3, 31, 32, 400])  # with the key given again: 4, 32, 33, 401
def test_a_key_given_twice_is_found_in_an_object_of_few_keys_and_of_many(keys):
    import duckdb

    from log_gardener.tasks.file_extract import KEYS_ONCE_MACRO

    con = duckdb.connect()
    con.execute(KEYS_ONCE_MACRO)
    names = [f"k{i}" for i in range(keys)]
    once = json.dumps({"resource": {"labels": dict.fromkeys(names, 1)}})
    for twice in (names[0], names[-1]):  # the first key again, and the last
        nested = once.replace("}}", f', "{twice}": 2}}}}')
        top = '{"' + twice + '": 0, ' + json.dumps(dict.fromkeys(names, 1))[1:]
        found = con.execute(
            "select gardener_keys_once(?, ['$', '$.resource', '$.resource.labels']), gardener_keys_once(?, ['$'])", [nested, top]
        )
        assert found.fetchone() == (False, False), twice
    assert con.execute("select gardener_keys_once(?, ['$', '$.resource', '$.resource.labels'])", [once]).fetchone() == (True,)


def test_lines_left_to_python_come_from_sql_unless_blank_lines_shift_their_numbers_or_they_are_long(tmp_path, monkeypatch):
    import log_gardener.tasks.file_extract as file_extract

    read_again = []  # the positions Python read from the file itself
    real = FileSource.entries_at
    monkeypatch.setattr(FileSource, "entries_at", lambda self, positions: read_again.append(sorted(positions)) or real(self, positions))
    odd = json.dumps(BASE | {"insertId": "odd"})[:-1] + ', "x": [1,],}'  # trailing commas: Python's to read (and reject)
    plain = [json.dumps(BASE | {"insertId": f"p{i}"}) for i in range(3)]
    for name, lines, expected in [
        ("plain", [plain[0], odd, *plain[1:]], []),  # the line's number is its position + 1: SQL's text is read
        ("blank", [plain[0], "", odd, *plain[1:]], [[1]]),  # line 3 is the entry at position 1: read from the file
    ]:
        read_again.clear()
        path = tmp_path / f"{name}.ndjson"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert assert_read_alike(path, tmp_path)["rejected"] == 1
        assert read_again == expected, name
    monkeypatch.setattr(file_extract, "PYTHON_TEXT_CHARS", 10)  # too long to hold: read from the file
    read_again.clear()
    path = tmp_path / "long.ndjson"
    path.write_text("\n".join([plain[0], odd, *plain[1:]]) + "\n", encoding="utf-8")
    assert assert_read_alike(path, tmp_path)["rejected"] == 1 and read_again == [[1]]


def test_a_line_left_to_python_that_names_another_project_first_gives_the_project(tmp_path):
    # a trace that is a number: SQL leaves the line to Python, which keeps it (as the text "5")
    plain = [json.dumps(BASE | {"insertId": f"p{i}"}) for i in range(3)]
    for name, log_name, project in [
        ("other", "projects/zeta/logs/x", "zeta"),
        ("same", "projects/acme/logs/x", "acme"),
        ("none", "x", "acme"),
    ]:
        odd = json.dumps(BASE | {"insertId": "odd", "logName": log_name, "trace": 5})
        path = tmp_path / f"{name}.ndjson"
        path.write_text("\n".join([odd, *plain]) + "\n", encoding="utf-8")
        done = _sql_extract(path, tmp_path)
        # the lines are numbered only where the project depends on which comes first; else the odd line is
        # given a position past the file's last
        assert done is not None and done.python_positions == ({0} if name == "other" else {4}), name
        assert assert_read_alike(path, tmp_path)["kept"] == 4
        assert read(path, tmp_path, True)[3] == project, name


def test_lines_are_numbered_only_when_python_reads_some_or_the_kept_lines_name_two_projects(tmp_path, monkeypatch):
    import log_gardener.tasks.file_extract as file_extract

    numbered = []
    real = file_extract._with_lines
    monkeypatch.setattr(file_extract, "_with_lines", lambda name, *a: numbered.append(name) or real(name, *a))
    path = tmp_path / "plain.ndjson"
    plain = [BASE | {"insertId": f"p{i}"} for i in range(3)]
    path.write_text("".join(json.dumps(entry) + "\n" for entry in plain), encoding="utf-8")
    done = _sql_extract(path, tmp_path)
    assert done.project == "acme" and done.python_positions == set()
    assert not [name for name in numbered if name.endswith("positions")]
    assert_read_alike(path, tmp_path)
    # two projects: the first kept line's, found by numbering the lines
    other = BASE | {"insertId": "o", "logName": "projects/zeta/logs/x"}
    path = tmp_path / "two.ndjson"
    path.write_text("".join(json.dumps(entry) + "\n" for entry in [other, *plain]), encoding="utf-8")
    done = _sql_extract(path, tmp_path)
    assert done.project == "zeta" and [name for name in numbered if name.endswith("positions")]
    assert_read_alike(path, tmp_path)


def test_when_numbering_the_lines_fails_python_reads_the_file(tmp_path, monkeypatch):
    # the numbering pass holds every line's hash at once: out of memory there, Python reads the file instead
    import log_gardener.tasks.file_extract as file_extract

    real = file_extract._with_lines

    def failing(name, *lines_from):
        return "select error('out of memory (test)')" if name.endswith("file_entries_positions") else real(name, *lines_from)

    monkeypatch.setattr(file_extract, "_with_lines", failing)
    path = tmp_path / "plain.ndjson"
    # a line Python rejects, whose number the rejection names
    rejected = BASE | {"insertId": "late", "timestamp": "not a time"}
    path.write_text("".join(json.dumps(entry) + "\n" for entry in [BASE, BASE | {"insertId": 7}, rejected]), encoding="utf-8")
    wh = DuckDBWarehouse(tmp_path / "probe.duckdb")
    wh.setup()
    assert wh.extract_file(path, "svc", WINDOW, "WARNING") is None
    assert wh.con.execute("select count(*) from log_entries").fetchone()[0] == 0  # nothing merged before it failed
    wh.close()
    stats = assert_read_alike(path, tmp_path)
    assert stats["kept"] == 2 and stats["rejected"] == 1


def test_lines_left_to_python_are_numbered_only_when_one_needs_its_number(tmp_path, monkeypatch):
    import log_gardener.tasks.file_extract as file_extract

    numbered = []
    real = file_extract._with_lines
    monkeypatch.setattr(file_extract, "_with_lines", lambda name, *a: numbered.append(name) or real(name, *a))
    plain = [BASE | {"insertId": f"p{i}"} for i in range(3)]
    # a latency half way between two milliseconds: SQL leaves the line to Python, which keeps it
    halfway = BASE | {"insertId": "h", "httpRequest": {"requestMethod": "GET", "status": 503, "latency": "0.035041500s"}}
    number_id = BASE | {"insertId": 7}  # a number: left to Python, which keeps it as the text "7"
    for name, extra, wanted in [
        ("kept", [halfway, number_id], False),
        ("rejected", [halfway, BASE | {"insertId": "r", "timestamp": "not a time"}], True),  # the rejection names its line
        ("twice", [number_id, BASE | {"insertId": 7, "timestamp": "2025-09-15T01:31:00Z"}], True),  # which comes first
    ]:
        path = tmp_path / f"{name}.ndjson"
        path.write_text("".join(json.dumps(entry) + "\n" for entry in [extra[0], *plain, extra[1]]), encoding="utf-8")
        numbered.clear()
        done = _sql_extract(path, tmp_path)
        assert done is not None and len(done.python_positions) == 2, name
        assert any(n.endswith("positions") for n in numbered) == wanted, name
        assert_read_alike(path, tmp_path)


REQUEST = {
    "requestMethod": "GET",
    "requestUrl": "https://svc-7f3k2-uc.a.run.app/api/orders/42?expand=items",
    "status": 503,
    "latency": "0.25s",
}
REQUEST_VALUES = {
    "requestUrl": [
        "https://h",
        "https://h?x=1",
        "/health",
        "/a:b/c",
        "HTTP://Host/P",
        "ftp+x.y-z://a/b",
        "https://h//twice",
        "?only=query",
        "#fragment",
        "https://h/p#f?x",
        "",
        None,
        "relative/path",
        "//cdn.example.com/x",
        "mailto:ops@example.com",
        "http:/x",
        "https://[::1]/v6",
        "https://h/ü",
        "https://h/a b",
        "https://h/p\tq",
        42,
    ],
    # milliseconds half way between two thousandths round otherwise in DuckDB ("0.1763125s"): Python's
    "latency": ["0.002553391s", "1.5s", "0s", "", None, "12", "0.0005s", "0.1763125s", "0.0000005s", "1e-3s", "inf", "123456.7s", 0.5],
    "status": [200, 0, None, -1, "503", 200.0, True],
    "requestMethod": ["POST", "", None, 5, "GE T", "DEL\x01"],
}


def _request_lines() -> list[str]:
    """Request logs that wrote no message of their own, each with one field of its request changed."""
    plain = BASE | {"httpRequest": REQUEST}
    del plain["jsonPayload"]
    lines = [json.dumps(plain | {"insertId": "req-plain"})]
    for key, values in REQUEST_VALUES.items():
        for n, value in enumerate(values):
            lines.append(json.dumps(plain | {"insertId": f"req-{key}-{n}", "httpRequest": REQUEST | {key: value}}))
    # Python's message of its own decides: empty fields leave the request's, anything else is the program's
    for n, payload in enumerate(({"message": ""}, {"msg": None}, {"message": []}, {"message": 0}, {"error": "boom"}, "text")):
        lines.append(json.dumps(plain | {"insertId": f"req-payload-{n}", "jsonPayload": payload}))
    lines.append(json.dumps(plain | {"insertId": "req-text", "textPayload": ""}))
    lines.append(json.dumps(plain | {"insertId": "req-neither", "httpRequest": {"status": 500}}))
    return lines


def test_request_logs_are_read_in_sql_as_python_reads_them(tmp_path):
    lines = _request_lines()
    path = tmp_path / "requests.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _sql_extract(path, tmp_path)
    # the plain ones are SQL's; an odd URL, latency, status or method is Python's
    assert done is not None and done.stats["kept"] >= 20 and len(done.python_positions) >= 15
    assert_read_alike(path, tmp_path)
    rows, *_ = read(path, tmp_path, True)
    plain = rows[rows.insert_id == "req-plain"].iloc[0]
    assert (plain.message, plain.pattern_text) == ("GET /api/orders/42 503", "GET /api/orders/42")
    assert (plain.http_method, plain.http_status, plain.latency_ms) == ("GET", 503, 250.0)


@pytest.mark.parametrize(
    "text",
    [
        "2025-09-15T01:30:59.9999999Z",  # cut to microseconds, never rounded into the next second
        "2025-09-15T01:30:00.123456789012z",
        "2025-09-15 01:30:00.5",  # no zone: UTC
        "2025-09-15T03:30:00.25+02:00",
        "2024-02-29T23:59:59-23:59",
        "1000-01-01T00:00:00Z",
    ],
)
def test_sql_reads_a_time_as_python_does(text):
    import duckdb

    from log_gardener.tasks.file_extract import TIME_MACRO
    from log_gardener.tasks.normalise import parse_time

    con = duckdb.connect()
    con.execute("set TimeZone = 'America/New_York'")  # the session's zone plays no part
    con.execute(TIME_MACRO)
    (read,) = con.execute("select epoch_us(gardener_time(?))", [text]).fetchone()
    epoch = parse_time("1970-01-01T00:00:00Z")
    assert read == (parse_time(text) - epoch) // timedelta(microseconds=1)
