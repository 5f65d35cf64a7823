import json

import pandas as pd
import pytest

from log_gardener.tasks.extract import extract
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources import FileSource, Unparseable

WINDOW = Window.parse("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z")


def entry(i, **extra):
    return {
        "insertId": f"id{i}",
        "timestamp": "2025-09-15T00:10:00Z",
        "severity": "ERROR",
        "textPayload": f"boom {i}",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "svc"}},
    } | extra


def test_json_array_with_a_broken_element_keeps_the_rest(tmp_path):
    good = [json.dumps(entry(i), indent=2) for i in range(3)]
    text = "[\n" + good[0] + ",\n" + '{"insertId": "bad", "textPayload": "unterminated}' + ",\n" + good[1] + ",\n" + good[2] + "\n]"
    path = tmp_path / "logs.json"
    path.write_text(text)
    items = list(FileSource(path).entries("svc", WINDOW, "WARNING"))
    assert [i["insertId"] for i in items if isinstance(i, dict)] == ["id0", "id1", "id2"]
    broken = [i for i in items if isinstance(i, Unparseable)]
    assert len(broken) == 1 and '"bad"' in broken[0].raw


@pytest.mark.parametrize("start", ["", "\ufeff", "  \n\ufeff\n "])
def test_a_broken_array_element_is_located_at_its_character_in_the_file(tmp_path, start):
    # marks and spaces before the array count: the location is where the element starts in the file as written
    bad = '{"insertId": "bad" "x": 1}'
    text = start + "[" + json.dumps(entry(0)) + ", " + bad + ", " + json.dumps(entry(1)) + "]"
    path = tmp_path / "logs.json"
    path.write_text(text, encoding="utf-8")
    (broken,) = [i for i in FileSource(path).entries("svc", WINDOW, "WARNING") if isinstance(i, Unparseable)]
    assert broken.where == f"character {text.index(bad)}"


def test_entries_written_over_several_lines_are_read_one_at_a_time(tmp_path, monkeypatch):
    # `jq .` over gcloud's array, or an indented dump: each entry over many lines, one after another, no brackets
    monkeypatch.setattr("log_gardener.tasks.sources.file.CHUNK_CHARS", 256)  # entries across chunk boundaries
    entries = [entry(i, textPayload="x" * 300) for i in range(5)]
    indented = tmp_path / "indented.json"
    indented.write_text("\ufeff\n" + "\n".join(json.dumps(e, indent=2) for e in entries) + "\n", encoding="utf-8")
    ndjson = tmp_path / "logs.ndjson"
    ndjson.write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert list(FileSource(indented).entries("svc", WINDOW, "WARNING")) == entries
    one = extract(FileSource(indented), "svc", WINDOW, "WARNING")
    assert one.stats == extract(FileSource(ndjson), "svc", WINDOW, "WARNING").stats
    assert one.stats["kept"] == 5 and one.stats["rejected"] == 0


def test_a_saved_entries_list_answer_is_read_as_its_entries(tmp_path):
    path = tmp_path / "answer.json"
    path.write_text(json.dumps({"entries": [entry(0), entry(1)], "nextPageToken": "abc"}, indent=2))
    assert [i["insertId"] for i in FileSource(path).entries("svc", WINDOW, "WARNING")] == ["id0", "id1"]


def test_a_broken_entry_written_over_several_lines_is_recorded_and_the_next_one_read(tmp_path):
    good = [json.dumps(entry(i), indent=2) for i in range(3)]
    bad = '{\n  "insertId": "bad",\n  "textPayload": "cut short'
    path = tmp_path / "indented.json"
    path.write_text("\n".join([good[0], bad, good[1], good[2]]) + "\n")
    items = list(FileSource(path).entries("svc", WINDOW, "WARNING"))
    assert [i["insertId"] for i in items if isinstance(i, dict)] == ["id0", "id1", "id2"]
    (broken,) = [i for i in items if isinstance(i, Unparseable)]
    assert '"bad"' in broken.raw and broken.where == f"character {path.read_text().index(bad)}"


def test_ndjson_whose_first_line_is_an_entry_is_not_read_as_indented_entries(tmp_path):
    # a line of NDJSON opens with `{` too, but holds the whole entry: a broken line stays one rejection
    path = tmp_path / "logs.ndjson"
    path.write_text(json.dumps(entry(0)) + "\n{\n" + json.dumps(entry(1)) + "\n")
    items = list(FileSource(path).entries("svc", WINDOW, "WARNING"))
    assert [i.where for i in items if isinstance(i, Unparseable)] == ["line 2"]
    assert [i["insertId"] for i in items if isinstance(i, dict)] == ["id0", "id1"]


def test_a_rejection_reason_reads_as_a_sentence():
    from log_gardener.tasks.sources.file import decode_line

    assert decode_line('{"a": "cut short', 3).reason == "malformed JSON: Unterminated string starting at column 7"
    assert decode_line('{"a" 1}', 3).reason == "malformed JSON: Expecting ':' delimiter at column 6"


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
def test_a_compressed_file_is_refused_with_what_to_do_not_read_as_broken_lines(tmp_path, kind):
    import bz2
    import gzip
    import lzma

    compress = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}[kind]
    path = tmp_path / "logs.ndjson.z"
    path.write_bytes(compress(json.dumps(entry(0)).encode() + b"\n"))
    with pytest.raises(FileNotFoundError, match=f"is {kind}-compressed: decompress it first"):
        FileSource(path)


def test_large_json_array_is_streamed(tmp_path, monkeypatch):
    monkeypatch.setattr("log_gardener.tasks.sources.file.CHUNK_CHARS", 256)  # force many chunk boundaries
    path = tmp_path / "logs.json"
    path.write_text(json.dumps([entry(i, textPayload="x" * 700) for i in range(50)], indent=2))
    items = list(FileSource(path).entries("svc", WINDOW, "WARNING"))
    assert len(items) == 50 and all(isinstance(i, dict) for i in items)


def test_ndjson_bad_lines_binary_and_filters_are_counted(tmp_path):
    lines = [
        json.dumps(entry(1)),
        "{not json",
        "\x00\x01\x02binary\xff",
        json.dumps(entry(2, severity="INFO")),
        json.dumps(entry(3, resource={"type": "cloud_run_revision", "labels": {"service_name": "other"}})),
        json.dumps(entry(4, timestamp="2025-09-15T02:00:00Z")),
        json.dumps(entry(5, timestamp="garbage")),
        json.dumps(entry(6, textPayload=None)),
        json.dumps([1, 2]),
    ]
    path = tmp_path / "logs.ndjson"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n\xff\xfe\n")
    result = extract(FileSource(path), "svc", WINDOW, "WARNING")
    assert list(result.rows.insert_id) == ["id1"]
    assert result.stats["below_severity"] == 1
    assert result.stats["other_service"] == 1
    assert result.stats["outside_window"] == 1
    reasons = [r.reason for r in result.rejections]
    assert len(reasons) == 6, reasons
    assert sum("malformed JSON" in r for r in reasons) == 3
    assert any("not an ISO 8601" in r for r in reasons)
    assert any("no message" in r for r in reasons)
    assert any("not an object" in r for r in reasons)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        FileSource(tmp_path / "nope.json")


def test_kept_rows_go_to_the_sink_a_chunk_at_a_time_and_are_not_held(tmp_path):
    from log_gardener.sample import SERVICE, write_sample

    path = tmp_path / "logs.ndjson"
    write_sample(path, hours=1, fmt="ndjson", corrupt=2)
    window = Window.parse("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z")
    whole = extract(FileSource(path), SERVICE, window)
    chunks = []
    streamed = extract(FileSource(path), SERVICE, window, sink=lambda rows: chunks.append(rows) or len(rows), chunk_rows=50)
    assert [len(c) for c in chunks[:-1]] == [50] * (len(chunks) - 1) and 0 < len(chunks[-1]) <= 50
    assert streamed.rows.empty and streamed.new_entries == whole.stats["kept"] == sum(len(c) for c in chunks)
    assert streamed.stats == whole.stats and len(streamed.rejections) == len(whole.rejections) == 2
    assert list(pd.concat(chunks).insert_id) == list(whole.rows.insert_id)  # the same rows, in order
    assert streamed.project == whole.project == "netra-staging"
