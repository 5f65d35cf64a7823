"""`BigQueryWarehouse`: the production warehouse, on google-cloud-bigquery.

Selected with `--warehouse bigquery:PROJECT.DATASET`. It runs the same `sql/`
files as DuckDB, as written (BigQuery is the dialect of record), with the
dataset as default dataset and every value bound as a query parameter. Rows
arrive by load job (never streaming inserts), into a staging table that an
idempotent `merge_log_entries` folds in. Tables are created by the DDL in
`sql/schema/`, date-partitioned and clustered. `GARDENER_BIGQUERY_API_ENDPOINT`
points the client at another endpoint with anonymous credentials (tests).
"""

from __future__ import annotations

import math
import os
import uuid
from datetime import date, datetime
from functools import cache
from typing import Any

import pandas as pd
import sqlglot
from google.api_core.exceptions import NotFound
from google.cloud import bigquery
from sqlglot import exp

from log_gardener.tasks.google_credentials import with_credentials
from log_gardener.tasks.grouping_rules import GroupingRules
from log_gardener.tasks.masking import mask_expression
from log_gardener.tasks.warehouses.sqlfiles import (
    SCHEMA_TABLES,
    TABLE_PART,
    analyst_view_names,
    bigquery_sql,
    bound_parameters,
    migration_names,
    rename_tables,
    schema_version,
)

_BQ_TYPES = {
    "STRING": "STRING",
    "TEXT": "STRING",
    "VARCHAR": "STRING",
    "TIMESTAMP": "TIMESTAMP",
    "INT64": "INT64",
    "BIGINT": "INT64",
    "FLOAT64": "FLOAT64",
    "DOUBLE": "FLOAT64",
    "JSON": "JSON",
    "BOOL": "BOOL",
    "DATE": "DATE",
}


def bigquery_client(project: str, location: str | None = None, endpoint: str | None = None) -> bigquery.Client:
    """A BigQuery client: application default credentials, or anonymous at GARDENER_BIGQUERY_API_ENDPOINT."""
    endpoint = endpoint or os.environ.get("GARDENER_BIGQUERY_API_ENDPOINT")
    if endpoint:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(project=project, credentials=AnonymousCredentials(), client_options={"api_endpoint": endpoint})
    return with_credentials(f"BigQuery (project {project})", lambda: bigquery.Client(project=project, location=location))


@cache
def table_schema(table: str) -> tuple[bigquery.SchemaField, ...]:
    """The BigQuery schema of a table, read from its DDL in sql/schema/."""
    ddl = sqlglot.parse_one(bigquery_sql(f"schema/{table}"), read="bigquery")
    fields = []
    for column in ddl.find_all(exp.ColumnDef):
        kind = column.args["kind"].sql("bigquery").upper()
        required = any(isinstance(c.kind, exp.NotNullColumnConstraint) for c in column.constraints)
        fields.append(bigquery.SchemaField(column.name, _BQ_TYPES.get(kind, kind), mode="REQUIRED" if required else "NULLABLE"))
    return tuple(fields)


def _param(name: str, value: Any):
    """A typed BigQuery query parameter for a Python value."""
    if isinstance(value, (list, tuple, set)):
        items = list(value)
        kind = "INT64" if items and all(isinstance(v, int) for v in items) else "STRING"
        return bigquery.ArrayQueryParameter(name, kind, items)
    if isinstance(value, bool):
        return bigquery.ScalarQueryParameter(name, "BOOL", value)
    if isinstance(value, int):
        return bigquery.ScalarQueryParameter(name, "INT64", value)
    if isinstance(value, float):
        return bigquery.ScalarQueryParameter(name, "FLOAT64", value)
    if isinstance(value, (datetime, pd.Timestamp)):
        return bigquery.ScalarQueryParameter(name, "TIMESTAMP", value)
    if isinstance(value, date):
        return bigquery.ScalarQueryParameter(name, "DATE", value)
    return bigquery.ScalarQueryParameter(name, "STRING", None if value is None else str(value))


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def rename_table(statement: str, old: str, new: str) -> str:
    """`statement` with every reference to table `old` pointing at `new` (see `rename_tables`)."""
    return rename_tables(statement, {old: new})


SCHEMA_LABEL = "gardener_schema"


def name_tables_in_full(tree: exp.Expression, project: str, dataset: str) -> exp.Expression:
    """`tree` with each table that names no dataset (and is not one of its CTEs) read from `project.dataset`."""
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.args.get("db") and table.name not in ctes:
            table.set("db", exp.to_identifier(dataset))
            table.set("catalog", exp.to_identifier(project))
    return tree


class BigQueryWarehouse:
    """The warehouse in one BigQuery dataset."""

    def __init__(self, project: str, dataset: str, location: str | None = None, endpoint: str | None = None):
        if not (TABLE_PART.match(project) and TABLE_PART.match(dataset)):
            raise ValueError(f"bad BigQuery project or dataset name: {project!r}.{dataset!r}")
        self.project, self.dataset, self.location = project, dataset, location
        self.url = f"bigquery:{project}.{dataset}"
        self.client = bigquery_client(project, location, endpoint)
        self.default_dataset = bigquery.DatasetReference(project, dataset)
        self.grouping = GroupingRules()

    @classmethod
    def from_url(cls, url: str) -> BigQueryWarehouse:
        from log_gardener.tasks.warehouses import check_warehouse_spec

        if not url.startswith("bigquery:"):
            raise ValueError(f"BigQuery warehouse must be bigquery:PROJECT.DATASET, not {url!r}")
        check_warehouse_spec(url)  # the one rule for what a warehouse URL may be
        project, dataset = url.removeprefix("bigquery:").split(".")
        return cls(project, dataset, os.environ.get("GARDENER_BIGQUERY_LOCATION"))

    def _run(self, statement: str, params: dict[str, Any]):
        config = bigquery.QueryJobConfig(
            default_dataset=self.default_dataset,
            query_parameters=[_param(k, v) for k, v in bound_parameters(statement, params, "@").items()],
        )
        # one statement, its tables named in full: no script, and no reliance on the job's default dataset
        statement = self.qualify(statement)
        return self.client.query_and_wait(statement, job_config=config, location=self.location)

    def use_grouping(self, rules: GroupingRules) -> None:
        """Group messages by `rules` (each grouping query carries their expression, see `qualify`)."""
        self.grouping = rules

    def setup(self) -> None:
        """Create the dataset and the tables of sql/schema (idempotent). A dataset whose `gardener_schema` label
        says this release's schema version is set up already: one read, no job (an hourly run pays nothing)."""
        version = schema_version()
        try:
            existing = self.client.get_dataset(self.default_dataset)
        except NotFound:
            existing = None
        if existing is not None and (existing.labels or {}).get(SCHEMA_LABEL) == version:
            return
        dataset = bigquery.Dataset(self.default_dataset)
        if self.location:
            dataset.location = self.location
        dataset = existing or self.client.create_dataset(dataset, exists_ok=True)
        for table in SCHEMA_TABLES:
            self._run(bigquery_sql(f"schema/{table}"), {})
        for migration in migration_names():
            # a table's metadata may change only a few times in ten seconds: alter only a table that needs it
            if self._migration_needed(bigquery_sql(migration)):
                self._run(self.qualify(bigquery_sql(migration)), {})
        for view in analyst_view_names():
            self._run(self.qualify(bigquery_sql(view)), {})
        dataset.labels = {**(dataset.labels or {}), SCHEMA_LABEL: version}
        self.client.update_dataset(dataset, ["labels"])

    def _migration_needed(self, statement: str) -> bool:
        """Whether an `alter table … add column` still has a column to add."""
        tree = sqlglot.parse_one(statement, read="bigquery")
        table = tree.find(exp.Table)
        columns = {c.name for c in tree.find_all(exp.ColumnDef)}
        if table is None or not columns:
            return True
        existing = {field.name for field in self.client.get_table(f"{self.project}.{self.dataset}.{table.name}").schema}
        return not columns <= existing

    def qualify(self, statement: str) -> str:
        """`statement` with the warehouse tables and views named in full (a BigQuery view needs it), and each call
        of `group_message` / `mask_message` replaced by the function's expression (see tasks.grouping_rules)."""
        tree = sqlglot.parse_one(statement, read="bigquery")
        for call in [c for c in tree.find_all(exp.Anonymous) if c.name.lower() in ("group_message", "mask_message")]:
            argument = call.expressions[0].copy()
            body = self.grouping.expression(argument) if call.name.lower() == "group_message" else mask_expression(argument)
            for node in body.find_all(exp.RegexpReplace):
                node.set("modifiers", None)  # BigQuery's REGEXP_REPLACE is always global and takes no modifiers
            call.replace(body)
        return name_tables_in_full(tree, self.project, self.dataset).sql("bigquery")

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        rows = self._run(bigquery_sql(name), params)
        columns = [field.name for field in rows.schema]
        return pd.DataFrame([list(row.values()) for row in rows], columns=columns)

    def execute(self, name: str, **params: Any) -> int:
        return self.execute_statement(bigquery_sql(name), **params)

    def execute_statement(self, statement: str, **params: Any) -> int:
        """Run one DML statement; returns the rows it changed."""
        rows = self._run(statement, params)
        return int(getattr(rows, "num_dml_affected_rows", None) or 0)

    def extract_sink(self, source, service: str, window, min_severity: str):
        """Read, filter and load a sink table's window inside BigQuery (see `tasks.bigquery_extract`); None when it cannot."""
        from log_gardener.tasks.bigquery_extract import extract_sink  # it reads the sources package, which reads this one

        return extract_sink(self, source, service, window, min_severity)

    def extract_spool(self, path, service: str, window, min_severity: str):
        """Load a spool of the Logging API's entries and read, filter and load them inside BigQuery; None when it cannot."""
        from log_gardener.tasks.bigquery_extract import extract_spool

        return extract_spool(self, path, service, window, min_severity)

    def _load(self, table_id: str, schema_of: str, rows: pd.DataFrame, disposition: str) -> None:
        records = [{k: _json_value(v) for k, v in record.items()} for record in rows.to_dict("records")]
        config = bigquery.LoadJobConfig(
            schema=list(table_schema(schema_of)),
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition=disposition,
        )
        self.client.load_table_from_json(records, table_id, job_config=config, location=self.location).result()

    def append(self, table: str, rows: pd.DataFrame) -> int:
        if table not in SCHEMA_TABLES:
            raise ValueError(f"unknown table {table!r}")
        if rows.empty:
            return 0
        self._load(f"{self.project}.{self.dataset}.{table}", table, rows, bigquery.WriteDisposition.WRITE_APPEND)
        return len(rows)

    def merge_entries(self, rows: pd.DataFrame, **params: Any) -> int:
        """Load the rows into a staging table, then insert those whose insert_id is new."""
        return self.merge("merge_log_entries", "log_entries", rows, **params)

    def merge(self, name: str, table: str, rows: pd.DataFrame, **params: Any) -> int:
        """Load `rows` into a staging table shaped like `table`, run the statement `name` over it, drop it."""
        if table not in SCHEMA_TABLES:
            raise ValueError(f"unknown table {table!r}")
        if rows.empty:
            return 0
        staging = f"staging_{table}_{uuid.uuid4().hex[:12]}"
        table_id = f"{self.project}.{self.dataset}.{staging}"
        self._load(table_id, table, rows, bigquery.WriteDisposition.WRITE_TRUNCATE)
        try:
            statement = rename_table(bigquery_sql(name), f"staging_{table}", staging)
            result = self._run(statement, params)
            return int(getattr(result, "num_dml_affected_rows", None) or 0)
        finally:
            self.client.delete_table(table_id, not_found_ok=True)

    def close(self) -> None:
        self.client.close()
