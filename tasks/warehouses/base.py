"""The `Warehouse` interface: where entries, patterns, counts and actions are kept.

DuckDB (a local file) is the embedded default; BigQuery is the
production warehouse. Both run the statements of `sql/` by name with bound
parameters; table names come from a fixed list, never from input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from log_gardener.tasks.grouping_rules import GroupingRules

DEFAULT_WAREHOUSE = "duckdb:///gardener.duckdb"


class Warehouse(Protocol):
    """The few operations the pipeline needs from a warehouse."""

    url: str

    def setup(self) -> None: ...

    def use_grouping(self, rules: GroupingRules) -> None: ...

    def query(self, name: str, **params: Any) -> pd.DataFrame: ...

    def execute(self, name: str, **params: Any) -> int: ...

    def append(self, table: str, rows: pd.DataFrame) -> int: ...

    def merge_entries(self, rows: pd.DataFrame, **params: Any) -> int: ...

    def merge(self, name: str, table: str, rows: pd.DataFrame, **params: Any) -> int: ...

    def close(self) -> None: ...


def check_table(table: str) -> str:
    # the statements' module is read on first use: a command that opens no warehouse (`cluster`) never loads it
    from log_gardener.tasks.warehouses.sqlfiles import SCHEMA_TABLES

    if table not in SCHEMA_TABLES:
        raise ValueError(f"unknown table {table!r}")
    return table
