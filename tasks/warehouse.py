"""Warehouses: where entries, patterns, counts and actions are kept.

`DuckDBWarehouse` (a local file) is the embedded default; BigQuery is the
production warehouse. Both run the statements of `sql/` by name with bound
parameters; table names come from a fixed list, never from input.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd

from tasks.masking import mask_function_sql
from tasks.sqlfiles import SCHEMA_TABLES, analyst_view_names, bound_parameters, duckdb_sql

DEFAULT_WAREHOUSE = "duckdb:///gardener.duckdb"


class Warehouse(Protocol):
    """The few operations the pipeline needs from a warehouse."""

    url: str

    def setup(self) -> None: ...

    def query(self, name: str, **params: Any) -> pd.DataFrame: ...

    def execute(self, name: str, **params: Any) -> int: ...

    def append(self, table: str, rows: pd.DataFrame) -> int: ...

    def merge_entries(self, rows: pd.DataFrame, **params: Any) -> int: ...

    def close(self) -> None: ...


def _check_table(table: str) -> str:
    if table not in SCHEMA_TABLES:
        raise ValueError(f"unknown table {table!r}")
    return table


class DuckDBWarehouse:
    """The warehouse in one DuckDB file (or in memory with `:memory:`)."""

    def __init__(self, path: str | Path = "gardener.duckdb"):
        self.path = str(path)
        self.url = f"duckdb:///{self.path}"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            raise RuntimeError(f"cannot open the DuckDB warehouse {self.path}: {exc}") from None
        self.con.execute("set TimeZone = 'UTC'")
        self._lock = threading.RLock()

    def setup(self) -> None:
        """Create the tables of sql/schema and the masking function (idempotent)."""
        with self._lock:
            for table in SCHEMA_TABLES:
                self.con.execute(duckdb_sql(f"schema/{table}"))
            self.con.execute(mask_function_sql("duckdb"))
            for view in analyst_view_names():
                self.con.execute(duckdb_sql(view))

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        statement = duckdb_sql(name)
        with self._lock:
            return self.con.execute(statement, bound_parameters(statement, params, "$")).fetchdf()

    def execute(self, name: str, **params: Any) -> int:
        statement = duckdb_sql(name)
        with self._lock:
            result = self.con.execute(statement, bound_parameters(statement, params, "$")).fetchall()
        return int(result[0][0]) if result and result[0] and isinstance(result[0][0], int) else 0

    def append(self, table: str, rows: pd.DataFrame) -> int:
        if rows.empty:
            return 0
        with self._lock:
            self.con.register("_gardener_rows", rows)
            try:
                self.con.execute(f"insert into {_check_table(table)} by name select * from _gardener_rows")
            finally:
                self.con.unregister("_gardener_rows")
        return len(rows)

    def merge_entries(self, rows: pd.DataFrame, **params: Any) -> int:
        """Insert the entries whose insert_id is not loaded yet; returns how many were new."""
        if rows.empty:
            return 0
        with self._lock:
            self.con.register("staging_log_entries", rows)
            try:
                return self.execute("merge_log_entries", **params)
            finally:
                self.con.unregister("staging_log_entries")

    def close(self) -> None:
        with self._lock:
            self.con.close()


def open_warehouse(url: str = DEFAULT_WAREHOUSE) -> Warehouse:
    """A warehouse from its URL: `duckdb:///path.duckdb` or `bigquery:PROJECT.DATASET`."""
    if url.startswith("duckdb://"):
        path = url[len("duckdb://") :]
        # SQLAlchemy's convention: three slashes for a relative path, four for an absolute one.
        path = path[1:] if path.startswith("/") else path
        return DuckDBWarehouse(path or "gardener.duckdb")
    if url.startswith("bigquery:"):
        from tasks.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse.from_url(url)
    raise ValueError(f"unknown warehouse {url!r}: use duckdb:///path.duckdb or bigquery:PROJECT.DATASET")
