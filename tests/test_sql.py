"""Every sql/ file parses as BigQuery SQL and runs on DuckDB through the one dialect layer."""

import re
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlglot

from log_gardener.tasks.normalise import ROW_COLUMNS
from log_gardener.tasks.warehouses.sqlfiles import all_sql_names, bigquery_sql, to_duckdb

T0 = datetime(2025, 9, 15, tzinfo=UTC)
PARAMS = {
    "service": "svc",
    "window_start": T0,
    "window_end": T0.replace(hour=1),
    "since": T0,
    "period_start": T0,
    "period_end": T0,
    "severities": ["WARNING", "ERROR"],
    "insert_ids": ["a"],
    "fingerprints": ["f"],
    "revisions": ["svc-00001-abc"],
    "state_reason": "completed",
    "rejection_ids": ["r"],
    "max_windows": 24,
    "number": 1,
    "labels": "[]",
    "state": "open",
    "body": "b",
    "title": "t",
    "updated_at": T0,
    "closed_at": None,
    "action_key": "k",
    "issue_number": 1,
    "applied_at": T0,
    "label_written": "P2",
    "run_id": "r",
    "status": "completed",
    "finished_at": T0,
    "entries": 1,
    "rejected": 0,
    "clusters": 1,
    "counts": "{}",
}


# duckdb/ holds the statements only DuckDB runs (a log file read in SQL): test_file_extract runs them
@pytest.mark.parametrize("name", [n for n in all_sql_names() if not n.startswith("duckdb/")])
def test_parses_as_bigquery(name):
    statements = sqlglot.parse(bigquery_sql(name), read="bigquery")
    assert len([s for s in statements if s is not None]) == 1


@pytest.mark.parametrize("name", [n for n in all_sql_names() if not n.startswith("duckdb/")])
def test_a_comment_names_no_parameter(name):
    # a parameter is found by its @name wherever it is written: one named in a comment is sent as one too, and
    # BigQuery's emulator refuses a query with more parameters than it binds
    comments = [line.split("--", 1)[1] for line in bigquery_sql(name).splitlines() if "--" in line]
    assert not [c for c in comments if re.search(r"@\w", c)], name


def _staged(fresh_db) -> None:
    entries = pd.DataFrame([{c: None for c in ROW_COLUMNS} | {"insert_id": "a", "timestamp": T0, "severity": "ERROR", "service": "svc"}])
    fresh_db.con.register("staging_log_entries", entries)
    cluster = {
        "fingerprint": "f",
        "service": "svc",
        "template": "t <*>",
        "module": None,
        "function": None,
        "first_seen": T0,
        "last_seen": T0,
        "severity_max": "ERROR",
        "issue_number": None,
        "issue_url": None,
        "current_priority": "P2",
        "updated_at": T0,
        "regrouped_from": None,
    }
    fresh_db.con.register("staging_clusters", pd.DataFrame([cluster]))


# sink/ queries read a Log Router table in BigQuery, not the warehouse, bigquery/ ones run in BigQuery only, and
# extract/ ones read an extract's staging tables: test_file_extract and test_bigquery_warehouse run them
@pytest.mark.parametrize("name", [n for n in all_sql_names() if not n.startswith(("schema/", "sink/", "duckdb/", "bigquery/", "extract/"))])
def test_runs_on_duckdb_with_the_columns_bigquery_would_return(fresh_db, name):
    _staged(fresh_db)
    tree = sqlglot.parse_one(bigquery_sql(name), read="bigquery")
    if isinstance(tree, sqlglot.exp.Query):
        result = fresh_db.query(name, **PARAMS)
        assert list(result.columns) == tree.named_selects  # the dialect layer keeps every output name
    else:
        changed = fresh_db.execute(name, **PARAMS)
        assert isinstance(changed, int) and changed >= 0


def test_masked_messages_count_the_different_texts_each_masks(fresh_db):
    texts = ["Disk full on node 1", "Disk full on node 2", "Disk full on node 2", "Disk full on node 3", "Cache cold"]
    rows = [
        {c: None for c in ROW_COLUMNS}
        | {"insert_id": f"e{i}", "timestamp": T0, "severity": "ERROR", "service": "svc", "message": text, "pattern_text": text}
        for i, text in enumerate(texts)
    ]
    fresh_db.con.register("staging_log_entries", pd.DataFrame(rows))
    fresh_db.execute("merge_log_entries", **PARAMS)
    grouped = fresh_db.query("masked_messages", **PARAMS).set_index("masked_message")
    assert grouped.loc["Disk full on node <NUM>", ["entries", "variants"]].tolist() == [4, 3]
    assert grouped.loc["Cache cold", ["entries", "variants"]].tolist() == [1, 1]


def test_masked_messages_show_the_latest_entries_where_the_latest_was_logged_and_the_earliest_revision(fresh_db):
    second = pd.Timedelta(seconds=1)
    entries = [  # (insert_id, seconds after T0, module, revision)
        ("e1", 5, "jobs.py", "svc-00002"),
        ("e2", 40, "worker.py", "svc-00003"),
        ("e3", 9, "jobs.py", "svc-00001"),  # the earliest but one...
        ("e4", 3, "boot.py", "svc-00000"),  # ...and the earliest
        ("e0", 40, "queue.py", "svc-00003"),  # as late as e2: the tie goes to the first insert_id
        ("e5", 20, "jobs.py", "svc-00002"),
    ]
    rows = [
        {c: None for c in ROW_COLUMNS}
        | {"insert_id": insert_id, "timestamp": T0 + at * second, "severity": "ERROR", "service": "svc", "module": module}
        | {"revision": revision, "message": f"Disk full on node {n}", "pattern_text": f"Disk full on node {n}"}
        for n, (insert_id, at, module, revision) in enumerate(entries)
    ]
    fresh_db.con.register("staging_log_entries", pd.DataFrame(rows))
    fresh_db.execute("merge_log_entries", **PARAMS)
    (grouped,) = fresh_db.query("masked_messages", **PARAMS).to_dict("records")
    assert [grouped["sample_1"], grouped["sample_2"], grouped["sample_3"]] == ["e0", "e2", "e5"]
    assert grouped["module"] == "queue.py"
    assert grouped["first_revision"] == "svc-00000"


def test_top_n_of_a_group_reads_on_duckdb_as_bigquery_orders_it():
    import duckdb

    con = duckdb.connect()
    rows = "(1, 5, 'b'), (2, null, 'a'), (3, 7, 'c'), (4, 7, 'a'), (5, 1, null), (6, 7, null)"
    con.execute(f"create table t as select * from (values {rows}) v(x, k, j)")
    # BigQuery puts NULLs first going up and last going down, in the second key as in the first
    ascending = to_duckdb("select array_agg(x order by k, j limit 5) from t")
    descending = to_duckdb("select array_agg(x order by k desc, j desc limit 5) from t")
    as_struct = to_duckdb("select array_agg(struct(x as x) order by -k limit 1)[offset(0)].x from t")
    assert con.execute(ascending).fetchone()[0] == [2, 5, 1, 6, 4]
    assert con.execute(descending).fetchone()[0] == [3, 4, 6, 1, 5]
    assert con.execute(as_struct).fetchone()[0] == 2
    # the first row's value is taken even when it is NULL, as BigQuery takes it inside a query
    first_j = to_duckdb("select array_agg(j order by x desc limit 1)[offset(0)] from t where x >= 4")
    assert con.execute(first_j).fetchone()[0] is None
    # an order that the translation cannot keep is refused, never read otherwise
    for statement in (
        "select array_agg(x order by k desc, j limit 2) from t",
        "select array_agg(x order by k nulls last limit 2) from t",
        "select array_agg(x limit 2) from t",
    ):
        with pytest.raises(ValueError, match="top-n"):
            to_duckdb(statement)


def test_merges_are_idempotent(fresh_db):
    _staged(fresh_db)
    assert fresh_db.execute("merge_log_entries", **PARAMS) == 1
    assert fresh_db.execute("merge_log_entries", **PARAMS) == 0  # idempotent on insert_id
    fresh_db.execute("merge_clusters")
    fresh_db.execute("merge_clusters")
    assert fresh_db.query("clusters_for_service", service="svc").fingerprint.tolist() == ["f"]


def test_an_entry_is_known_by_its_insert_id_within_its_service(fresh_db):
    _staged(fresh_db)
    assert fresh_db.execute("merge_log_entries", **PARAMS) == 1
    # another service's entry with the same insertId is another entry, loaded by that service's run
    other = pd.DataFrame([{c: None for c in ROW_COLUMNS} | {"insert_id": "a", "timestamp": T0, "severity": "ERROR", "service": "other"}])
    fresh_db.con.register("staging_log_entries", other)
    assert fresh_db.execute("merge_log_entries", **PARAMS) == 1
    assert fresh_db.execute("merge_log_entries", **PARAMS) == 0


def test_cluster_merge_widens_sightings_and_keeps_the_newer_priority(fresh_db):
    from datetime import timedelta

    _staged(fresh_db)
    fresh_db.execute("merge_clusters")
    later = T0 + timedelta(hours=5)
    newer = {
        "fingerprint": "f",
        "service": "svc",
        "template": "t <*>",
        "module": "m",
        "function": None,
        "first_seen": later,
        "last_seen": later,
        "severity_max": "ERROR",
        "issue_number": 7,
        "issue_url": None,
        "current_priority": "P1",
        "updated_at": later,
        "regrouped_from": None,
    }
    older = newer | {
        "first_seen": T0 - timedelta(hours=3),
        "last_seen": T0 - timedelta(hours=3),
        "current_priority": "P4",
        "issue_number": None,
    }
    for row in (newer, older):  # a backfill of an older window comes after
        fresh_db.con.register("staging_clusters", pd.DataFrame([row]))
        fresh_db.execute("merge_clusters")
    (row,) = fresh_db.query("clusters_for_service", service="svc").to_dict("records")
    assert row["first_seen"] == T0 - timedelta(hours=3) and row["last_seen"] == later
    assert row["current_priority"] == "P1" and row["issue_number"] == 7 and row["module"] == "m"


def test_setup_brings_a_warehouse_of_an_older_release_up_to_the_schema(tmp_path):
    import duckdb

    from log_gardener.tasks.warehouses import open_warehouse

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # tracker_issues as an older release created it: no assignees column
        con.execute(
            "create table tracker_issues (number bigint not null, title varchar not null, body varchar, labels varchar, "
            "state varchar not null, created_at timestamptz, updated_at timestamptz, closed_at timestamptz)"
        )
        con.execute("insert into tracker_issues values (1, 'GCP-logs | P3 | x', 'body', '[\"P3\"]', 'open', null, null, null)")
    wh = open_warehouse(f"duckdb:///{path}")
    wh.setup()
    wh.setup()  # idempotent
    issues = wh.query("tracker/all_issues")
    wh.close()
    assert list(issues.number) == [1] and "assignees" in issues.columns and issues.assignees.isna().all()


def test_duckdb_stores_entry_payloads_with_zstd_and_reads_them_back(tmp_path):
    from log_gardener.tasks.warehouses.duckdb import DuckDBWarehouse

    payload = '{"insertId": "a", "jsonPayload": {"message": "' + "x" * 300 + '"}}'
    row = {c: None for c in ROW_COLUMNS} | {"timestamp": T0, "severity": "ERROR", "service": "svc", "payload": payload}
    rows = pd.DataFrame([row | {"insert_id": f"a{i}"} for i in range(3000)])
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.setup()
    assert wh.merge_entries(rows, **PARAMS) == 3000
    wh.con.execute("checkpoint")
    compressions = wh.con.execute(
        "select distinct compression from pragma_storage_info('log_entries') where column_name = 'payload' and segment_type = 'VARCHAR'"
    ).fetchall()
    stored = wh.con.execute("select count(*) from log_entries where payload = ?", [payload]).fetchone()[0]
    wh.close()
    assert compressions == [("ZSTD",)] and stored == 3000


def test_setup_of_a_warehouse_file_of_an_older_storage_version_keeps_its_compression(tmp_path):
    import duckdb

    from log_gardener.tasks.warehouses.duckdb import DuckDBWarehouse
    from log_gardener.tasks.warehouses.sqlfiles import duckdb_sql

    for name, tables in (("old.duckdb", ["log_entries"]), ("empty.duckdb", [])):
        path = tmp_path / name
        con = duckdb.connect()
        con.execute(f"attach '{path}' as old (storage_version 'v1.1.0')")  # as DuckDB 1.1 writes a file: no ZSTD
        con.execute("use old")
        for table in tables:
            con.execute(duckdb_sql(f"schema/{table}"))
        con.close()
        wh = DuckDBWarehouse(path)
        wh.setup()
        wh.setup()
        columns = wh.con.execute("select count(*) from duckdb_columns() where table_name = 'log_entries'").fetchone()[0]
        wh.close()
        assert columns == len(ROW_COLUMNS)
