"""`DuckDBWarehouse`, the embedded default: the warehouse in one DuckDB file."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import sqlglot
from sqlglot import exp

from log_gardener.tasks.grouping_rules import GroupingRules, group_function_sql
from log_gardener.tasks.masking import mask_function_sql
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.warehouses.base import check_table
from log_gardener.tasks.warehouses.sqlfiles import SCHEMA_TABLES, analyst_view_names, bound_parameters, duckdb_sql, migration_names


class DuckDBWarehouse:
    """The warehouse in one DuckDB file (or in memory with `:memory:`)."""

    def __init__(self, path: str | Path = "gardener.duckdb", lock_wait: float | None = None):
        # a file held by another run of the same service: wait for it (GARDENER_DUCKDB_LOCK_WAIT seconds)
        lock_wait = float(os.environ.get("GARDENER_DUCKDB_LOCK_WAIT", "600")) if lock_wait is None else lock_wait
        self.path = str(path)
        self.url = f"duckdb:///{self.path}"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.con = self._connect(lock_wait)
        self.con.execute("set TimeZone = 'UTC'")
        # DuckDB caches up to most of the machine's memory by default; beyond this it spills to disk, so a busy
        # hour's run stays within a worker's memory
        self.con.execute("set memory_limit = ?", [os.environ.get("GARDENER_DUCKDB_MEMORY_LIMIT", "256MB")])
        self._lock = threading.RLock()

    def _connect(self, lock_wait: float) -> duckdb.DuckDBPyConnection:
        """Open the file; while another process holds it (a second run of the same service), wait for it."""
        deadline = time.monotonic() + lock_wait
        while True:
            try:
                return duckdb.connect(self.path)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise RuntimeError(f"cannot open the DuckDB warehouse {self.path}: {exc}") from None
                time.sleep(0.5)

    def setup(self) -> None:
        """Create the tables of sql/schema and the masking function (idempotent)."""
        with self._lock:
            for table in SCHEMA_TABLES:
                self._create(duckdb_sql(f"schema/{table}"), ZSTD_COLUMNS.get(table, ()))
            for migration in migration_names():
                self.con.execute(duckdb_sql(migration))
            self.con.execute(mask_function_sql("duckdb"))
            self.use_grouping(GroupingRules())
            for view in analyst_view_names():
                self.con.execute(duckdb_sql(view))

    def _create(self, statement: str, zstd_columns: tuple[str, ...]) -> None:
        """Run a CREATE TABLE IF NOT EXISTS, with `zstd_columns` compressed where the file's storage version can.

        DuckDB checks the compression before it finds the table exists: a file of an older storage version (as
        DuckDB 1.1 wrote them) has no ZSTD, and there the statement runs without it.
        """
        if zstd_columns:
            try:
                self.con.execute(_with_compression(statement, zstd_columns))
                return
            except duckdb.BinderException as exc:
                if "compression" not in str(exc).lower():
                    raise
        self.con.execute(statement)

    def use_grouping(self, rules: GroupingRules) -> None:
        """Group messages by `rules` (the `group_message` function of this connection)."""
        with self._lock:
            self.con.execute(group_function_sql(rules))

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        statement = duckdb_sql(name)
        with self._lock:
            return self.con.execute(statement, bound_parameters(statement, params, "$")).fetchdf()

    def execute(self, name: str, **params: Any) -> int:
        return self._execute(duckdb_sql(name), params)

    def _execute(self, statement: str, params: dict[str, Any]) -> int:
        """Run one DuckDB statement with the parameters it names; the count it answers (rows changed), else 0."""
        with self._lock:
            result = self.con.execute(statement, bound_parameters(statement, params, "$")).fetchall()
        return int(result[0][0]) if result and result[0] and isinstance(result[0][0], int) else 0

    def append(self, table: str, rows: pd.DataFrame) -> int:
        if rows.empty:
            return 0
        with self._lock:
            self.con.register("_gardener_rows", rows)
            try:
                self.con.execute(f"insert into {check_table(table)} by name select * from _gardener_rows")
            finally:
                self.con.unregister("_gardener_rows")
        return len(rows)

    def merge_entries(self, rows: pd.DataFrame, **params: Any) -> int:
        """Insert the entries whose insert_id is not loaded yet; returns how many were new."""
        return self.merge("merge_log_entries", "log_entries", rows, **params)

    def extract_file(self, path: Path, service: str, window: Window, min_severity: str, unnumbered: bool = False):
        """Read, filter and load an NDJSON log file in SQL (see `tasks.file_extract`); None when Python must read it.

        With `unnumbered`, the caller reads the lines left to Python from `python_entries`, never from the file by
        their positions, so they may go unnumbered."""
        from log_gardener.tasks.file_extract import extract_file  # it reads the sources package, which reads this one

        def merge(staged: str) -> int:
            self.con.execute(f"create or replace temp view staging_log_entries as select * from {staged}")
            try:
                statement = _without_qualify(duckdb_sql("merge_log_entries"))
                return self._execute(statement, {"window_start": window.start, "window_end": window.end})
            finally:
                self.con.execute("drop view if exists staging_log_entries")

        with self._lock:
            return extract_file(self.con, Path(path), service, window, min_severity, merge, unnumbered)

    def merge(self, name: str, table: str, rows: pd.DataFrame, **params: Any) -> int:
        """Run the statement `name` over `rows` staged as `staging_<table>`; returns the rows it changed."""
        check_table(table)
        if rows.empty:
            return 0
        with self._lock:
            self.con.register(f"staging_{table}", rows)
            try:
                return self.execute(name, **params)
            finally:
                self.con.unregister(f"staging_{table}")

    def close(self) -> None:
        with self._lock:
            self.con.close()


# Columns stored with ZSTD in place of DuckDB's own choice (dictionary and FSST, chosen per segment): a stored
# LogEntry repeats long runs of text that FSST's small symbol table cannot take, so ZSTD leaves a busy hour's
# payloads several times smaller and writes them in less than half the time (bench/pipeline_speed.py). A table
# created before keeps the compression it was created with (DuckDB cannot change it in place).
ZSTD_COLUMNS = {"log_entries": ("payload",)}


def _with_compression(statement: str, columns: tuple[str, ...]) -> str:
    """The CREATE TABLE `statement` (DuckDB) with each of `columns` compressed with ZSTD."""
    for column in columns:
        statement, found = re.subn(rf"\b({column} TEXT)([,)])", r"\1 USING COMPRESSION ZSTD\2", statement)
        if found != 1:
            raise ValueError(f"no column `{column} TEXT` to compress in: {statement}")
    return statement


def _without_qualify(statement: str) -> str:
    """`statement` without its QUALIFY clauses.

    The merge keeps one staged row per insert_id (the earliest) with a window over every row; the rows SQL
    kept from a file already hold each insert_id once (file_entries_duplicates.sql hands a repeated one to
    Python), and on 1M entries that window took longer than the rest of the merge.
    """
    tree = sqlglot.parse_one(statement, read="duckdb")
    for clause in list(tree.find_all(exp.Qualify)):
        clause.pop()
    return tree.sql(dialect="duckdb")
