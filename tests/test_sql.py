"""Every sql/ file parses as BigQuery SQL and runs on DuckDB through the one dialect layer."""

from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlglot

from log_gardener.tasks.normalise import ROW_COLUMNS
from log_gardener.tasks.warehouses.sqlfiles import all_sql_names, bigquery_sql

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
    "rejection_ids": ["r"],
    "max_windows": 24,
    "number": 1,
    "labels": "[]",
    "state": "open",
    "body": "b",
    "updated_at": T0,
    "closed_at": None,
    "action_key": "k",
    "issue_number": 1,
    "applied_at": T0,
    "run_id": "r",
    "status": "completed",
    "finished_at": T0,
    "entries": 1,
    "rejected": 0,
    "clusters": 1,
    "counts": "{}",
}


@pytest.mark.parametrize("name", all_sql_names())
def test_parses_as_bigquery(name):
    statements = sqlglot.parse(bigquery_sql(name), read="bigquery")
    assert len([s for s in statements if s is not None]) == 1


# sink/ queries read a Log Router table in BigQuery, not the warehouse: test_bigquery_warehouse runs them
@pytest.mark.parametrize("name", [n for n in all_sql_names() if not n.startswith(("schema/", "sink/"))])
def test_runs_on_duckdb(fresh_db, name):
    staging = pd.DataFrame([{c: None for c in ROW_COLUMNS} | {"insert_id": "a", "timestamp": T0, "severity": "ERROR", "service": "svc"}])
    fresh_db.con.register("staging_log_entries", staging)
    if name == "merge_log_entries":
        assert fresh_db.execute(name, **PARAMS) == 1
        assert fresh_db.execute(name, **PARAMS) == 0  # idempotent on insert_id
    else:
        fresh_db.query(name, **PARAMS)
