"""BigQueryWarehouse through the real google-cloud-bigquery client against bqemulator, an independent BigQuery
emulator; the loopback fake (tests/fake_bigquery.py) only shows what is sent."""

import json

import pytest
import sqlglot
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.sample import SERVICE
from log_gardener.tasks.warehouses.bigquery import BigQueryWarehouse, rename_table, table_schema
from log_gardener.tasks.warehouses.sqlfiles import SCHEMA_TABLES
from tests.bigquery_emulator import Emulator
from tests.cli_args import run_args
from tests.fake_bigquery import FakeBigQuery
from tests.snapshots import run_outcome

HOURS = [("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z"), ("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z")]
# every log_entries column but the payload: a path that reads the entry in SQL stores the entry's JSON as it came
COMPARED_COLUMNS = [
    "insert_id", "timestamp", "receive_timestamp", "severity", "service", "revision", "location", "log_name", "resource_type",
    "message", "pattern_text", "module", "function", "line", "http_method", "http_url", "http_status", "latency_ms", "trace",
]  # fmt: skip


@pytest.fixture
def bigquery_api(monkeypatch):
    with Emulator("acme-prod") as emulator:
        monkeypatch.setenv("GARDENER_BIGQUERY_API_ENDPOINT", emulator.url)
        yield emulator


@pytest.fixture
def fake_bigquery(monkeypatch):
    """The loopback fake: it records every request, so a test can read what the warehouse sends."""
    with FakeBigQuery("acme-prod") as fake:
        monkeypatch.setenv("GARDENER_BIGQUERY_API_ENDPOINT", fake.url)
        yield fake


def _run(sample_file, tmp_path, start, end) -> dict:
    args = [*run_args(str(sample_file), start, end, "bigquery:acme-prod.log_gardener"), "--worklogs", str(tmp_path), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_schema_comes_from_the_ddl():
    fields = {f.name: (f.field_type, f.mode) for f in table_schema("log_entries")}
    assert fields["insert_id"] == ("STRING", "REQUIRED")
    assert fields["timestamp"] == ("TIMESTAMP", "REQUIRED")
    assert fields["latency_ms"] == ("FLOAT64", "NULLABLE")


def test_staging_table_is_renamed_in_the_syntax_tree():
    out = rename_table("insert into t select * from staging_log_entries as s where s.x = @x", "staging_log_entries", "staging_1")
    assert "staging_1" in out and "staging_log_entries" not in out and "@x" in out


def test_gardener_runs_on_bigquery_and_a_rerun_adds_nothing(prefect_harness, bigquery_api, sample_file, tmp_path):
    summaries = [_run(sample_file, tmp_path, start, end) for start, end in HOURS + HOURS[1:]]  # two hours, then a rerun
    session = next(c for c in summaries[1]["clusters"] if "Session access failed" in c["template"])
    assert (session["status"], session["previous_priority"], session["priority"]) == ("escalated", "P2", "P1")
    assert summaries[2]["clusters"] == summaries[1]["clusters"]  # rerun: same answer
    rows = bigquery_api.rows("select count(*), count(distinct insert_id) from log_entries")[0]
    assert rows[0] == rows[1] == summaries[0]["entries"] + summaries[1]["entries"]  # the rerun added nothing
    tables = bigquery_api.tables()
    assert {"log_entries", "clusters", "issue_actions", "mute_events"} <= set(tables)
    assert not [t for t in tables if t.startswith("staging")]  # staging tables are dropped


def test_what_the_bigquery_warehouse_sends_is_bigquery_sql_with_bound_parameters(prefect_harness, fake_bigquery, sample_file, tmp_path):
    _run(sample_file, tmp_path, *HOURS[0])
    sent = [q["query"] for q in fake_bigquery.queries]
    assert not [s for s in sent if s.lower().startswith("alter table")]  # tables made by this release need no migration
    for statement in sent:
        assert len(sqlglot.parse(statement, read="bigquery")) == 1  # one BigQuery statement, never a script
        assert SERVICE not in statement, "a value was formatted into SQL"
    ddl = next(s for s in sent if "log_gardener.log_entries (" in s)
    assert "PARTITION BY DATE(timestamp)" in ddl.upper().replace("DATE(TIMESTAMP)", "DATE(timestamp)") and "CLUSTER BY" in ddl.upper()
    view = next(s for s in sent if "log_gardener.escalation_history as" in s.lower())
    assert "FROM `acme-prod`.log_gardener.cluster_counts" in view  # a BigQuery view names its tables in full
    assert "FROM escalations AS e" in view  # but not its CTEs
    grouped = next(q for q in fake_bigquery.queries if "REGEXP_REPLACE(pattern_text" in q["query"])  # the masking, inlined
    assert "group_message" not in grouped["query"] and "mask_message" not in grouped["query"]
    params = {p["name"]: p for p in grouped["queryParameters"]}
    assert params["service"]["parameterValue"]["value"] == SERVICE
    assert params["window_start"]["parameterType"]["type"] == "TIMESTAMP"
    assert params["severities"]["parameterType"] == {"type": "ARRAY", "arrayType": {"type": "STRING"}}
    loads = [load["configuration"]["load"] for load in fake_bigquery.loads]
    assert any(load["destinationTable"]["tableId"].startswith("staging_log_entries_") for load in loads)
    assert all(load["sourceFormat"] == "NEWLINE_DELIMITED_JSON" for load in loads)
    first_jobs = len(sent) + len(loads)
    _run(sample_file, tmp_path, *HOURS[1])  # the next hourly run: the dataset's label says it is set up
    later = [q["query"] for q in fake_bigquery.queries[len(sent) :]]
    assert not [s for s in later if s.lower().startswith(("create", "alter"))], "setup ran again"
    print(f"BigQuery jobs: first run {first_jobs}, next run {len(later) + len(fake_bigquery.loads) - len(loads)}")
    # the service's stored patterns are read once a run, not once per stage that needs them
    assert sum("issue_url, current_priority, regrouped_from" in s for s in later) == 1
    assert len(later) < len(sent) - len(SCHEMA_TABLES)


def test_bad_warehouse_urls_are_clear_errors():
    with pytest.raises(ValueError, match="PROJECT.DATASET"):
        BigQueryWarehouse.from_url("bigquery:only-project")
    with pytest.raises(ValueError, match="bad BigQuery"):
        BigQueryWarehouse("acme", "bad name;drop")


def test_sink_table_source_reads_the_window_from_bigquery(prefect_harness, bigquery_api, sample_file, tmp_path):
    # a partitioned sink table with LogEntry columns, as a Log Router sink writes it
    bigquery_api.load_sink_table("acme-prod.logs.run_googleapis_com_stderr", sample_file)
    start, end = HOURS[1]
    results = []
    for index, source in enumerate(("bq-sink:acme-prod.logs.run_googleapis_com_stderr", str(sample_file))):
        result = CliRunner().invoke(
            app,
            [
                *run_args(source, start, end, f"duckdb:///{tmp_path / f'g{index}.duckdb'}"),
                "--worklogs",
                str(tmp_path),
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        results.append(json.loads(result.stdout.strip().splitlines()[-1]))
    sink, file = results
    assert sink["entries"] == file["entries"] > 0
    assert [(c["fingerprint"], c["count"]) for c in sink["clusters"]] == [(c["fingerprint"], c["count"]) for c in file["clusters"]]


def test_sharded_sink_query_limits_the_days():
    from log_gardener.tasks.sources.sink_table import SinkTableSource
    from log_gardener.tasks.warehouses.sqlfiles import bigquery_sql

    with pytest.raises(ValueError, match="PROJECT.DATASET.TABLE"):
        SinkTableSource.from_spec("bq-sink:acme.logs")
    statement = rename_table(bigquery_sql("sink/entries_sharded"), "sink_table", "p.d.run_stderr_*")
    assert "FROM p.d.`run_stderr_*` AS t" in statement
    assert "_table_suffix BETWEEN @first_day AND @last_day" in statement
    with pytest.raises(ValueError, match="bad BigQuery table"):
        rename_table(bigquery_sql("sink/entries"), "sink_table", "p.d.x; drop table y")


def test_services_of_a_sink_window_come_from_one_query(fake_bigquery, sample_file):
    from log_gardener.sample import OTHER_SERVICE, WORKER_SERVICE
    from log_gardener.tasks.normalise import Window
    from log_gardener.tasks.sources import open_source

    fake_bigquery.db.execute(f"create table run_googleapis_com_stderr as select * from read_json_auto('{sample_file}', ignore_errors=true)")
    before = len(fake_bigquery.queries)
    found = open_source("bq-sink:acme-prod.logs.run_googleapis_com_stderr").services(Window.parse(*HOURS[1]), "WARNING")
    assert set(found) == {SERVICE, OTHER_SERVICE, WORKER_SERVICE}
    assert found == open_source(str(sample_file)).services(Window.parse(*HOURS[1]), "WARNING")  # the file agrees
    assert len(fake_bigquery.queries) == before + 1
    assert "logs.run_googleapis_com_stderr" in fake_bigquery.queries[-1]["query"]


def test_a_fleet_on_bigquery_runs_services_in_parallel_as_child_flow_runs(prefect_harness, bigquery_api, sample_file, tmp_path):
    from log_gardener.sample import OTHER_SERVICE, WORKER_SERVICE

    start, end = HOURS[1]
    args = ["fleet", "--source", str(sample_file), "--start", start, "--end", end, "--warehouse", "bigquery:acme-prod.log_gardener"]
    result = CliRunner().invoke(app, [*args, "--max-parallel", "3", "--worklogs", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(r["service"] for r in summary["runs"]) == sorted([SERVICE, OTHER_SERVICE, WORKER_SERVICE])
    rows = bigquery_api.rows("select service, count(*) from log_entries group by service order by service")
    assert dict(rows) == {r["service"]: r["entries"] for r in summary["runs"]}
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        names = [f"{name} {start[:10]} {start[11:16]}Z" for name in (SERVICE, OTHER_SERVICE, WORKER_SERVICE)]
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=names)), sort=FlowRunSort.START_TIME_DESC)[
            :3
        ]
        parents = {client.read_task_run(run.parent_task_run_id).flow_run_id for run in runs if run.parent_task_run_id}
        fleet_run = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"fleet {start[:10]} {start[11:16]}Z"]))
        )
    assert len(runs) == 3 and parents == {fleet_run[0].id}  # each service's run is a child of the fleet's


def test_two_runs_of_one_window_at_once_on_bigquery_leave_one_set_of_rows_and_actions(prefect_harness, sample_file, tmp_path):
    """Two processes (two workers, or a manual run beside a scheduled one) on one BigQuery dataset: the Prefect
    server's per-service concurrency limit lets one in at a time, and the second finds the window done."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from prefect.settings import PREFECT_API_URL

    gardener = Path(sys.executable).parent / "gardener"
    start, end = HOURS[0]

    def start_run(fake):
        args = [str(gardener), *run_args(str(sample_file), start, end, "bigquery:acme-prod.log_gardener"), "--worklogs", str(tmp_path)]
        env = os.environ | {"GARDENER_BIGQUERY_API_ENDPOINT": fake.url, "PREFECT_API_URL": PREFECT_API_URL.value()}
        return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    with Emulator("acme-prod") as clean_api:
        alone = start_run(clean_api)
        assert alone.wait(timeout=600) == 0, alone.stderr.read().decode()[-2000:]
        clean = run_outcome(clean_api.rows)
    with Emulator("acme-prod") as api:
        runs = [start_run(api), start_run(api)]
        codes = [run.wait(timeout=600) for run in runs]
        assert codes == [0, 0], [run.stderr.read().decode()[-2000:] for run in runs]
        assert run_outcome(api.rows) == clean
        spans = api.rows("select started_at, finished_at from runs where status = 'completed' order by started_at")
        assert len(spans) == 2 and spans[0][1] <= spans[1][0]  # one after the other: the second waited for the slot


def test_grouping_rules_group_the_same_way_on_bigquery_as_on_duckdb(prefect_harness, bigquery_api, sample_file, tmp_path):
    from log_gardener.tasks.rules import DEFAULT_RULES_PATH

    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES_PATH.read_text(encoding="utf-8")
        + "\n[[grouping.merge]]\nname = \"startup\"\nmatch = 'RACE CONDITION DETECTED|Cannot wait for startup phase'\n"
        + "\n[[grouping.split]]\nname = \"user\"\nmatch = 'instances for user (\\S+) '\n"
        + "\n[[grouping.mask]]\nname = \"user id\"\nmatch = 'demo-user-[0-9]+'\n",
        encoding="utf-8",
    )
    templates = []
    for warehouse in ("bigquery:acme-prod.log_gardener", f"duckdb:///{tmp_path / 'g.duckdb'}"):
        args = [*run_args(str(sample_file), *HOURS[0], warehouse), "--rules", str(rules), "--worklogs", str(tmp_path), "--json"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        templates.append(sorted((c["template"], c["count"]) for c in json.loads(result.stdout.strip().splitlines()[-1])["clusters"]))
    assert templates[0] == templates[1]
    assert any(t == "⟪startup⟫" for t, _ in templates[0])
    assert any("<USERID>" in t and "⟪user=demo-user-" in t for t, _ in templates[0])


def test_a_sink_table_is_read_inside_bigquery_when_the_warehouse_is_bigquery(
    prefect_harness, bigquery_api, sample_file, tmp_path, monkeypatch
):
    import log_gardener.tasks.bigquery_extract as bigquery_extract
    import log_gardener.tasks.sources.sink_table as sink_table

    bigquery_api.load_sink_table("acme-prod.logs.run_googleapis_com_stderr", sample_file)
    decoded = []  # the entries that left BigQuery for Python, either way
    read_by_python = bigquery_extract._python_entries
    monkeypatch.setattr(bigquery_extract, "_python_entries", lambda *a: (decoded.append(e) or e for e in read_by_python(*a)))
    monkeypatch.setattr(sink_table.SinkTableSource, "entries", lambda self, *a: pytest.fail("the sink's rows were pulled out of BigQuery"))
    start, end = HOURS[1]
    runs = [
        ("bq-sink:acme-prod.logs.run_googleapis_com_stderr", "bigquery:acme-prod.log_gardener"),
        (str(sample_file), f"duckdb:///{tmp_path / 'file.duckdb'}"),
    ]
    results = []
    for source, warehouse in runs + runs[:1]:  # the sink window twice: a rerun adds nothing
        result = CliRunner().invoke(app, [*run_args(source, start, end, warehouse), "--worklogs", str(tmp_path), "--json"])
        assert result.exit_code == 0, result.output
        results.append(json.loads(result.stdout.strip().splitlines()[-1]))
    sink, file, again = results
    assert sink["entries"] == file["entries"] > 0
    assert [(c["fingerprint"], c["count"]) for c in sink["clusters"]] == [(c["fingerprint"], c["count"]) for c in file["clusters"]]
    assert again["clusters"] == sink["clusters"]
    # every row of the sample, request logs too, was judged and loaded by BigQuery: none left it; every column but
    # the entry's own JSON is what the file path stores
    assert decoded == []
    columns = ", ".join(COMPARED_COLUMNS)
    in_bigquery = bigquery_api.rows(f"select {columns} from log_entries order by insert_id")
    from log_gardener.tasks.warehouses.duckdb import DuckDBWarehouse

    duck = DuckDBWarehouse(str(tmp_path / "file.duckdb"))
    try:
        in_duckdb = [tuple(r) for r in duck.con.execute(f"select {columns} from log_entries order by insert_id").fetchall()]
    finally:
        duck.close()
    assert len(in_bigquery) == len(in_duckdb) == sink["entries"]
    assert in_bigquery == in_duckdb
    assert not [t for t in bigquery_api.tables() if t.startswith("staging")]


def _sink_row(n: int, **fields) -> dict:
    row = {
        "insertId": f"id-{n:03d}",
        "timestamp": f"2025-09-15T01:{n % 60:02d}:00.123456Z",
        "receiveTimestamp": f"2025-09-15T01:{n % 60:02d}:01.000001Z",
        "severity": "ERROR",
        "logName": "projects/acme-prod/logs/run.googleapis.com%2Fstderr",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"service_name": SERVICE, "revision_name": "rev-1", "location": "eu", "version_id": "v1"},
        },
        "trace": "projects/acme-prod/traces/abc",
        "textPayload": "",
        "jsonPayload": {"message": "", "logger": "", "labels": {"module": "", "function": "", "line": ""}},
        "sourceLocation": {"file": "", "function": "", "line": 0},
    }
    for key, value in fields.items():
        target = row
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    return row


# Entries that exercise each rule of sql/bigquery/judged_entries.sql: Python's `a or b` over empty and falsy values, control
# characters, stack traces, request logs, repeated insertIds, blank and non-ASCII text
SINK_ROWS = [
    _sink_row(1, textPayload="Payment 42 declined for card 4000"),
    _sink_row(2, jsonPayload__message="Cache miss for key user:7", jsonPayload__logger="app.cache"),
    _sink_row(3, textPayload="   ", jsonPayload__message="Only the payload speaks"),
    _sink_row(4, textPayload="tab\there, bell\x07 and delete\x7f"),
    _sink_row(5, textPayload='Traceback (most recent call last):\n  File "/srv/app/pay.py", line 12, in charge\n    x()\nValueError: no'),
    _sink_row(6, textPayload="located", jsonPayload__labels__module="billing", jsonPayload__labels__line="0"),
    _sink_row(7, textPayload="from the entry", sourceLocation__file="svc.py", sourceLocation__function="run", sourceLocation__line=99),
    _sink_row(8, textPayload="label line wins", jsonPayload__labels__line="17", sourceLocation__line=99),
    _sink_row(9, textPayload="no revision", resource__labels__revision_name=""),
    _sink_row(10, textPayload="no location", resource__labels__location=""),
    _sink_row(11, textPayload="日本語だけ"),
    _sink_row(12, textPayload="twice"),
    _sink_row(12, textPayload="twice, later", timestamp="2025-09-15T01:12:30.000001Z"),
    _sink_row(13, textPayload="", jsonPayload__message=""),
    _sink_row(14, textPayload="x" * 20_000),
    _sink_row(15, textPayload="no receive time", receiveTimestamp=None),
    _sink_row(16, textPayload="warning only", severity="WARNING"),
    _sink_row(17, textPayload="a receive time BigQuery casts and Python refuses", receiveTimestamp="2025-09-15 01:17:00 UTC"),
    # request logs: the message built from the request, or the program's own with the request's fields beside it
    _sink_row(
        18,
        httpRequest={
            "requestMethod": "GET",
            "requestUrl": "https://svc-7f3k.a.run.app/api/orders/42?x=1",
            "status": 503,
            "latency": "0.2503s",
        },
    ),
    _sink_row(
        19,
        textPayload="upstream timed out",
        httpRequest={"requestMethod": "POST", "requestUrl": "/v1/charge", "status": 504, "latency": "1.5s"},
    ),
    _sink_row(20, httpRequest={"requestUrl": "/healthz", "status": 0, "latency": ""}),
    _sink_row(21, httpRequest={"requestMethod": "DELETE", "status": 500}),
    _sink_row(22, httpRequest={"requestMethod": "GET", "requestUrl": "/a", "status": "404"}),
    _sink_row(23, httpRequest={"requestMethod": "GET", "requestUrl": "/a", "status": 404, "latency": "abc"}),
    _sink_row(24, httpRequest={"requestMethod": "GET", "requestUrl": "https://h/a b", "status": 404}),
    _sink_row(25, httpRequest={"requestMethod": "GET", "requestUrl": "/slow", "status": 504, "latency": "0.0005005s"}),
    _sink_row(26, jsonPayload__msg="the msg field speaks", httpRequest={"requestMethod": "GET", "requestUrl": "/b", "status": 502}),
]


def test_sink_rows_judged_in_bigquery_are_the_rows_python_makes_of_them(bigquery_api, tmp_path, monkeypatch):
    from google.cloud import bigquery

    from log_gardener.tasks.extract import extract
    from log_gardener.tasks.normalise import Window
    from log_gardener.tasks.sources.sink_table import SinkTableSource

    path = tmp_path / "sink.ndjson"
    path.write_text("".join(json.dumps(row) + "\n" for row in SINK_ROWS), encoding="utf-8")
    bigquery_api.load_sink_table("acme-prod.logs.crafted", path)
    window = Window.parse(*HOURS[1])
    source = SinkTableSource("acme-prod", "logs", "crafted")
    columns = ", ".join(COMPARED_COLUMNS)
    jobs = []
    for method in ("query_and_wait", "load_table_from_json"):
        original = getattr(bigquery.Client, method)
        monkeypatch.setattr(bigquery.Client, method, lambda self, *a, _o=original, _m=method, **k: jobs.append(_m) or _o(self, *a, **k))
    import log_gardener.tasks.bigquery_extract as bigquery_extract

    left_to_python = []  # the insertIds of the entries BigQuery leaves to Python
    read_by_python = bigquery_extract._python_entries
    monkeypatch.setattr(
        bigquery_extract, "_python_entries", lambda *a: (left_to_python.append(e[1]["insertId"]) or e for e in read_by_python(*a))
    )
    found = {}
    for dataset, in_bigquery in (("judged", True), ("python", False), ("judged", True)):
        warehouse = BigQueryWarehouse("acme-prod", dataset)
        warehouse.setup()
        jobs.clear()
        sink = lambda rows, w=warehouse: w.merge_entries(rows, window_start=window.start, window_end=window.end)  # noqa: E731
        extracted = extract(
            source, SERVICE, window, "WARNING", sink=sink, sink_in_warehouse=warehouse.extract_sink if in_bigquery else None
        )
        warehouse.merge_entries(extracted.rows, window_start=window.start, window_end=window.end)
        rejections = sorted((r.reason, r.rejection_id) for r in extracted.rejections)
        if dataset in found:  # the rerun: nothing new, and the same rejections under the same ids
            assert extracted.new_entries == 0 and (extracted.stats, rejections) == found[dataset]
        found[dataset] = (extracted.stats, rejections)
        if in_bigquery:
            # the sorting query, its summary, the per-message load, the insert, the rows left to Python, their load
            # and merge (the last merge_entries call has nothing left to load)
            assert jobs.count("query_and_wait") <= 5 and len(jobs) <= 7, jobs
        found[dataset + " rows"] = bigquery_api.rows(f"select {columns} from `acme-prod.{dataset}.log_entries` order by insert_id")
        warehouse.close()
    assert found["judged"][0] == found["python"][0]
    assert [reason for reason, _ in found["judged"][1]] == [reason for reason, _ in found["python"][1]]
    assert found["judged rows"] == found["python rows"]
    assert len(found["judged rows"]) == 25  # every entry but the later copy of id-012 and the unreadable receive time
    # request logs are judged in BigQuery but for a status given as text, a latency that is not seconds or that
    # sits half way between two thousandths of a millisecond, a URL that is not printable ASCII, and the message of
    # a field SQL does not read (jsonPayload.msg)
    requests_in_python = {i for i in left_to_python if int(i.split("-")[1]) >= 18}
    assert requests_in_python == {"id-022", "id-023", "id-024", "id-025", "id-026"}
    client = bigquery_api.client()
    assert not [t.table_id for t in client.list_tables("acme-prod.judged") if t.table_id.startswith("staging")]
    client.close()


def test_logging_api_entries_are_staged_and_read_inside_bigquery(prefect_harness, bigquery_api, tmp_path, monkeypatch):
    import log_gardener.tasks.bigquery_extract as bigquery_extract
    from log_gardener.sample import PROJECT, SampleLogs
    from tests.fake_logging import FakeCloudLogging

    staged = []
    original = bigquery_extract.extract_spool
    monkeypatch.setattr(bigquery_extract, "extract_spool", lambda *a: staged.append(original(*a)) or staged[-1])
    start, end = HOURS[1]
    with FakeCloudLogging(list(SampleLogs(hours=2).entries())) as logging_api:
        monkeypatch.setenv("GARDENER_LOGGING_API_ENDPOINT", logging_api.url)
        results = []
        for warehouse in ("bigquery:acme-prod.log_gardener", f"duckdb:///{tmp_path / 'api.duckdb'}", "bigquery:acme-prod.log_gardener"):
            args = [*run_args(f"cloud-logging:{PROJECT}", start, end, warehouse), "--worklogs", str(tmp_path), "--json"]
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, result.output
            results.append(json.loads(result.stdout.strip().splitlines()[-1]))
    in_bigquery, in_duckdb, again = results
    assert staged and all(done is not None and done.stats["kept"] > done.stats["read"] / 2 for done in staged)
    assert in_bigquery["entries"] == in_duckdb["entries"] > 0
    assert in_bigquery["rejected"] == in_duckdb["rejected"]
    assert [(c["fingerprint"], c["count"]) for c in in_bigquery["clusters"]] == [
        (c["fingerprint"], c["count"]) for c in in_duckdb["clusters"]
    ]
    assert again["clusters"] == in_bigquery["clusters"]
    columns = ", ".join(COMPARED_COLUMNS)
    from log_gardener.tasks.warehouses.duckdb import DuckDBWarehouse

    duck = DuckDBWarehouse(str(tmp_path / "api.duckdb"))
    try:
        rows_in_duckdb = [tuple(r) for r in duck.con.execute(f"select {columns} from log_entries order by insert_id").fetchall()]
    finally:
        duck.close()
    assert bigquery_api.rows(f"select {columns} from log_entries order by insert_id") == rows_in_duckdb
    assert not [t for t in bigquery_api.tables() if t.startswith("staging")]


def _nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"child": value}
    return value


def test_spooled_api_entries_judged_in_bigquery_are_what_python_makes_of_them(bigquery_api, tmp_path):
    from log_gardener.tasks.extract import extract
    from log_gardener.tasks.normalise import Window
    from tests.test_file_extract import ListSource

    window = Window.parse(*HOURS[1])
    items = [
        _sink_row(1, textPayload="first, in a project without a name", logName="projects//logs/x"),
        _sink_row(2, textPayload="the first entry that names its project"),
        _sink_row(3, textPayload="deep one", jsonPayload=_nested(70)),
        _sink_row(4, textPayload="ok " + "日本語" * 4_000),  # under the message limit, six times longer once escaped
        _sink_row(5, textPayload="half a pair \ud800 of surrogates"),
        _sink_row(6, textPayload="another service", resource__labels__service_name="other"),
        _sink_row(7, textPayload="an hour early", timestamp="2025-09-15T00:07:00.000001Z"),
        _sink_row(8, textPayload="below the floor", severity="INFO"),
        ["not", "an", "object"],
        *(_sink_row(n, textPayload=f"ordinary entry {n}") for n in range(10, 20)),
    ]
    found, judged = {}, []
    for dataset, in_bigquery in (("spooled", True), ("python", False)):
        warehouse = BigQueryWarehouse("acme-prod", dataset)
        warehouse.setup()
        sink = lambda rows, w=warehouse: w.merge_entries(rows, window_start=window.start, window_end=window.end)  # noqa: E731
        spooled = (lambda *a, w=warehouse: judged.append(w.extract_spool(*a)) or judged[-1]) if in_bigquery else None
        extracted = extract(ListSource(items), SERVICE, window, "WARNING", sink=sink, spool_in_warehouse=spooled)
        warehouse.merge_entries(extracted.rows, window_start=window.start, window_end=window.end)
        rejections = sorted((r.reason, r.rejection_id, r.location) for r in extracted.rejections)
        rows = bigquery_api.rows(f"select {', '.join(COMPARED_COLUMNS)} from `acme-prod.{dataset}.log_entries` order by insert_id")
        payloads = bigquery_api.rows(f"select payload from `acme-prod.{dataset}.log_entries`")
        found[dataset] = (extracted.stats, rejections, extracted.project, extracted.project_position, rows)
        assert all(json.loads(payload) for (payload,) in payloads)  # every stored payload is the whole entry
        warehouse.close()
    assert judged and judged[0] is not None  # BigQuery judged the entries: no fallback to Python
    assert judged[0].python_positions == {2, 3, 4, 5, 6, 7, 8}  # the odd ones above, by position
    assert found["spooled"] == found["python"]
    stats, rejections, project, position, rows = found["spooled"]
    assert (project, position) == ("acme-prod", 1)
    assert [reason for reason, _, _ in rejections] == ["entry is a JSON list, not an object", "nested deeper than 64 levels"]
    assert len(rows) == stats["kept"] == 14


def test_when_bigquery_cannot_judge_the_entries_python_reads_them_and_nothing_is_lost(bigquery_api, tmp_path, monkeypatch, caplog):
    import log_gardener.tasks.bigquery_extract as bigquery_extract
    from log_gardener.tasks.extract import extract
    from log_gardener.tasks.normalise import Window
    from log_gardener.tasks.sources.sink_table import SinkTableSource

    path = tmp_path / "sink.ndjson"
    path.write_text("".join(json.dumps(row) + "\n" for row in SINK_ROWS), encoding="utf-8")
    bigquery_api.load_sink_table("acme-prod.logs.crafted", path)
    window = Window.parse(*HOURS[1])
    # the judging query fails, as it would for a sink in another location than the warehouse
    monkeypatch.setattr(bigquery_extract, "judged_statement", lambda incoming: "select * from `acme-prod.nowhere.nothing`")
    warehouse = BigQueryWarehouse("acme-prod", "fallback")
    warehouse.setup()
    sink = lambda rows: warehouse.merge_entries(rows, window_start=window.start, window_end=window.end)  # noqa: E731
    source = SinkTableSource("acme-prod", "logs", "crafted")
    extracted = extract(
        source, SERVICE, window, "WARNING", sink=sink, sink_in_warehouse=warehouse.extract_sink, spool_in_warehouse=warehouse.extract_spool
    )
    warehouse.merge_entries(extracted.rows, window_start=window.start, window_end=window.end)
    warehouse.close()
    assert "cannot be read inside BigQuery" in caplog.text
    # 26 entries kept, one insertId twice: 25 rows
    assert extracted.stats["kept"] == 26 and bigquery_api.rows("select count(*) from `acme-prod.fallback.log_entries`") == [(25,)]
    client = bigquery_api.client()
    assert not [t.table_id for t in client.list_tables("acme-prod.fallback") if t.table_id.startswith("staging")]
    client.close()


def test_a_window_is_retired_on_bigquery_as_on_duckdb(prefect_harness, bigquery_api, sample_file, tmp_path):
    _run(sample_file, tmp_path, *HOURS[0])
    warehouse = ["--service", SERVICE, "--warehouse", "bigquery:acme-prod.log_gardener", "--start", HOURS[0][0], "--end", HOURS[0][1]]
    result = CliRunner().invoke(app, ["retire", *warehouse])
    assert result.exit_code == 0 and "Retired 1 run of" in result.output, result.output
    assert bigquery_api.rows("select status from runs") == [("retired",)]
    assert bigquery_api.rows("select count(*) from cluster_counts") == [(0,)]
    assert bigquery_api.rows("select count(*) from log_entries")[0][0] > 0  # its entries stay
