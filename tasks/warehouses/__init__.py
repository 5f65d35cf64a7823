"""Warehouses: the interface (`base`), one module per implementation, and the factory."""

from __future__ import annotations

import re
from pathlib import Path
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


# a project id (letters, digits, hyphens, a colon) and a dataset (letters, digits, _), as `from_url` splits them
_BIGQUERY_TARGET = re.compile(r"[a-z][a-z0-9:-]*[a-z0-9]\.[A-Za-z0-9_]+", re.IGNORECASE)


def check_warehouse_spec(url: str) -> None:
    """Raise unless `url` names a warehouse: `duckdb:///path.duckdb` (a file, not a folder) or `bigquery:PROJECT.DATASET`."""
    path = duckdb_path(url)
    if path is not None:
        if "?" in path:
            # a URL's options elsewhere; here they would only become part of the file's name
            raise ValueError(f"a DuckDB warehouse takes no options: {url!r} (use duckdb:///path.duckdb)")
        if path.endswith("/") or Path(path).is_dir():
            raise ValueError(f"warehouse {url!r} is a folder: name the DuckDB file in it, e.g. duckdb:///{Path(path) / 'gardener.duckdb'}")
        return
    if url.startswith("bigquery:"):
        target = url.removeprefix("bigquery:")
        if not _BIGQUERY_TARGET.fullmatch(target):
            raise ValueError(f"BigQuery warehouse must be bigquery:PROJECT.DATASET, not {url!r}")
        return
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
