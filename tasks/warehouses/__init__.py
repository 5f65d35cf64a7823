"""Warehouses: the interface (`base`), one module per implementation, and the factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from log_gardener.tasks.warehouses.base import DEFAULT_WAREHOUSE, Warehouse

if TYPE_CHECKING:
    from log_gardener.tasks.warehouses.bigquery import BigQueryWarehouse
    from log_gardener.tasks.warehouses.duckdb import DuckDBWarehouse

__all__ = ["DEFAULT_WAREHOUSE", "Warehouse", "DuckDBWarehouse", "BigQueryWarehouse", "duckdb_path", "open_warehouse"]


def __getattr__(name: str):
    # each implementation is imported when it is used: a command that needs no warehouse starts without them
    if name == "DuckDBWarehouse":
        from log_gardener.tasks.warehouses.duckdb import DuckDBWarehouse

        return DuckDBWarehouse
    if name == "BigQueryWarehouse":
        from log_gardener.tasks.warehouses.bigquery import BigQueryWarehouse

        return BigQueryWarehouse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def duckdb_path(url: str) -> str | None:
    """The file of a `duckdb://` URL, None for another warehouse."""
    if not url.startswith("duckdb://"):
        return None
    path = url[len("duckdb://") :]
    # SQLAlchemy's convention: three slashes for a relative path, four for an absolute one.
    return (path[1:] if path.startswith("/") else path) or "gardener.duckdb"


def check_warehouse_spec(url: str) -> None:
    """Raise unless `url` names a kind of warehouse: `duckdb:///path.duckdb` or `bigquery:PROJECT.DATASET`."""
    if duckdb_path(url) is None and not url.startswith("bigquery:"):
        raise ValueError(f"unknown warehouse {url!r}: use duckdb:///path.duckdb or bigquery:PROJECT.DATASET")


def open_warehouse(url: str = DEFAULT_WAREHOUSE) -> Warehouse:
    """A warehouse from its URL: `duckdb:///path.duckdb` or `bigquery:PROJECT.DATASET`."""
    check_warehouse_spec(url)
    path = duckdb_path(url)
    if path is not None:
        from log_gardener.tasks.warehouses.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(path)
    from log_gardener.tasks.warehouses.bigquery import BigQueryWarehouse

    return BigQueryWarehouse.from_url(url)
