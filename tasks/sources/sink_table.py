"""`SinkTableSource`: LogEntry rows from the BigQuery tables of a Log Router sink.

Selected with `--source bq-sink:PROJECT.DATASET.TABLE`. At scale the Logging
API is the slow path; a sink already routes the entries into BigQuery with the
LogEntry field names (`jsonPayload`, `textPayload`, `httpRequest`,
`resource.labels`, ...). TABLE is a partitioned table (the sink's
`use_partitioned_tables` option, e.g. `run_googleapis_com_stderr`) or a
date-sharded family written with a trailing `*` (`run_googleapis_com_stderr_*`),
read only for the days the window touches.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta

from google.cloud import bigquery

from log_gardener.tasks.group import severities_from
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources.base import RAW_KEEP_CHARS, Unparseable
from log_gardener.tasks.warehouses.bigquery import bigquery_client, rename_table
from log_gardener.tasks.warehouses.sqlfiles import bigquery_sql


class SinkTableSource:
    """LogEntry rows of one sink table (or date-sharded table family) in BigQuery."""

    # its entries are decoded JSON objects: a DuckDB warehouse spools them to NDJSON and reads them in SQL
    entries_are_json = True

    def __init__(self, project: str, dataset: str, table: str, location: str | None = None):
        self.table_id = f"{project}.{dataset}.{table}"
        self.sharded = table.endswith("*")
        self.location = location
        self.client = bigquery_client(project, location)
        self.project, self.dataset = project, dataset
        rename_table("select 1 from sink_table", "sink_table", self.table_id)  # validates the names

    @classmethod
    def from_spec(cls, spec: str) -> SinkTableSource:
        parts = spec.removeprefix("bq-sink:").split(".")
        if len(parts) != 3:
            raise ValueError(f"sink source must be bq-sink:PROJECT.DATASET.TABLE (TABLE may end in *), not {spec!r}")
        return cls(*parts, location=os.environ.get("GARDENER_BIGQUERY_LOCATION"))

    def describe(self) -> str:
        return f"bq-sink:{self.table_id}"

    def services(self, window: Window, min_severity: str) -> dict[str, int]:
        """One query: entries per service in the window."""
        name = "sink/services_sharded" if self.sharded else "sink/services"
        statement = rename_table(bigquery_sql(name), "sink_table", self.table_id)
        config = bigquery.QueryJobConfig(query_parameters=self._window_parameters(window, min_severity))
        rows = self.client.query_and_wait(statement, job_config=config, location=self.location)
        return {row["service"]: int(row["entries"]) for row in rows}

    def entries_query(self, service: str, window: Window, min_severity: str) -> tuple[str, list]:
        """The query of the window's entries of `service` (one column, `entry`: the LogEntry as JSON) and its parameters."""
        name = "sink/entries_sharded" if self.sharded else "sink/entries"
        statement = rename_table(bigquery_sql(name), "sink_table", self.table_id)
        return statement, [bigquery.ScalarQueryParameter("service", "STRING", service), *self._window_parameters(window, min_severity)]

    def entries(self, service: str, window: Window, min_severity: str) -> Iterator[dict | Unparseable]:
        statement, params = self.entries_query(service, window, min_severity)
        config = bigquery.QueryJobConfig(query_parameters=params)
        for number, row in enumerate(self.client.query_and_wait(statement, job_config=config, location=self.location), 1):
            yield decoded_row(row["entry"], f"{self.table_id} row {number}")

    def _window_parameters(self, window: Window, min_severity: str) -> list:
        params = [
            bigquery.ScalarQueryParameter("window_start", "TIMESTAMP", window.start),
            bigquery.ScalarQueryParameter("window_end", "TIMESTAMP", window.end),
            bigquery.ArrayQueryParameter("severities", "STRING", severities_from(min_severity)),
        ]
        if self.sharded:
            last = window.end - timedelta(microseconds=1)
            params += [
                bigquery.ScalarQueryParameter("first_day", "STRING", f"{window.start:%Y%m%d}"),
                bigquery.ScalarQueryParameter("last_day", "STRING", f"{last:%Y%m%d}"),
            ]
        return params


def decoded_row(entry, where: str) -> dict | Unparseable:
    """A sink row's LogEntry JSON, decoded; an Unparseable (with `where` it was) if it is not JSON."""
    try:
        return json.loads(entry)
    except (TypeError, json.JSONDecodeError) as exc:
        return Unparseable(str(entry)[:RAW_KEEP_CHARS], f"sink row is not JSON: {exc}", where)
