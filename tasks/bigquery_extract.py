"""Extract inside BigQuery, when the warehouse is BigQuery: a sink table's rows or the Logging API's entries.

`sql/bigquery/judged_entries.sql` sorts the window's entries in one query job that writes a staging table:
kept (every `log_entries` column computed in SQL, a request log's too) or left to Python (another service
or time, a message that is not plain text, a field of an unusual type, a repeated insertId; see the SQL).
Python then reads only those entries, with the same code as every other source, so rejections keep their
reasons. What only Python computes (the text a message is grouped by, the top frame of a stack trace) it
computes once per distinct message, loaded back as a small table; the entries merge (`sql/merge_log_entries.sql`
over `sql/extract/kept_rows.sql`) adds the kept rows to `log_entries` inside BigQuery.

- A Log Router sink table (`extract_sink`): its rows never leave BigQuery but for those left to Python.
- The Logging API's entries (`extract_spool`): they arrive in Python anyway, so they are written to a
  spool file as they come (`tasks.extract`), which one load job puts in a staging table; the entries left
  to Python are read back from the spool by position.

Jobs: (the load,) the sorting query, a summary of the verdicts and distinct messages, the load of the
per-message table, the insert, and for a sink, only when there are any, the query of the rows Python reads.
Besides those rows, only the distinct messages of the kept rows leave BigQuery. The staging tables are
dropped at the end and expire after a day if the run dies before.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import sqlglot
from google.api_core.exceptions import GoogleAPIError
from google.cloud import bigquery
from sqlglot import exp

from log_gardener.tasks.group import severities_from
from log_gardener.tasks.normalise import MAX_MESSAGE_CHARS, SQL_URL_PATH_PATTERN, SQL_URL_PATTERN, Window
from log_gardener.tasks.sources.base import Unparseable
from log_gardener.tasks.sources.sink_table import decoded_row
from log_gardener.tasks.stacktrace import message_columns
from log_gardener.tasks.warehouses.sqlfiles import bigquery_sql, rename_tables

if TYPE_CHECKING:
    from log_gardener.tasks.sources.sink_table import SinkTableSource
    from log_gardener.tasks.warehouses.bigquery import BigQueryWarehouse

_MESSAGES_SCHEMA = [
    bigquery.SchemaField("message", "STRING"),
    bigquery.SchemaField("pattern_text", "STRING"),
    bigquery.SchemaField("frame_module", "STRING"),
    bigquery.SchemaField("frame_function", "STRING"),
    bigquery.SchemaField("frame_line", "INTEGER"),
    bigquery.SchemaField("has_frame", "BOOLEAN"),
]
# the escape of half a surrogate pair, which BigQuery's JSON functions refuse (a whole pair is a character)
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_SPOOL_SCHEMA = [bigquery.SchemaField("position", "INTEGER"), bigquery.SchemaField("entry", "STRING")]
# per verdict and distinct message: how many entries, and the first kept entry (by position) that names its
# project, as `<position, 20 digits>|<project>` so that the smallest text is the first entry
_SUMMARY = """
select verdict, message, count(*) as entries,
  min(case when verdict = 'kept' and starts_with(log_name, 'projects/') and split(log_name, '/')[safe_offset(1)] <> '' then
    concat(lpad(cast(coalesce(position, 0) as string), 20, '0'), '|', split(log_name, '/')[safe_offset(1)]) end) as first_project
from `{table}`
group by verdict, message
"""
# RFC 3339 / ISO 8601 as tasks.normalise.parse_time reads it and BigQuery casts it alike: a real date and time,
# at most microseconds, UTC unless an offset says otherwise
_TIME_PATTERN = r"r'^[1-8][0-9]{3}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$'"


@dataclass
class BigQueryExtract:
    """What BigQuery made of the window: kept rows already inserted, counts, and the entries Python must read."""

    stats: dict[str, int]
    new_entries: int
    project: str | None
    project_position: int | None = None
    python_positions: set[int] = field(default_factory=set)  # of a spool: the entries Python reads from it
    python_entries: Iterator = field(default_factory=lambda: iter(()))  # of a sink: (position, entry) pairs


def judged_statement(incoming: str) -> str:
    """`judged_entries.sql` reading the rows of the query `incoming` (columns entry, position) as its first CTE."""
    text = bigquery_sql("bigquery/judged_entries")
    for placeholder, value in (
        ("__MAX_MESSAGE_CHARS__", str(MAX_MESSAGE_CHARS)),
        ("__TIME_PATTERN__", _TIME_PATTERN),
        ("__URL_PATTERN__", SQL_URL_PATTERN),
        ("__URL_PATH_PATTERN__", SQL_URL_PATH_PATTERN),
    ):
        text = text.replace(placeholder, value)
    tree = sqlglot.parse_one(text, read="bigquery")
    _first_cte(tree, "incoming", incoming)
    return tree.sql("bigquery")


def _first_cte(select: exp.Expression, name: str, statement: str) -> None:
    """Make the query `statement` the first CTE of `select`, under `name`."""
    cte = exp.CTE(this=sqlglot.parse_one(statement, read="bigquery"), alias=exp.TableAlias(this=exp.to_identifier(name)))
    ctes = select.args.get("with_")
    if ctes is None:
        select.set("with_", exp.With(expressions=[cte]))
    else:
        ctes.set("expressions", [cte, *ctes.expressions])


def _window_parameters(service: str, window: Window, min_severity: str) -> list:
    return [
        bigquery.ScalarQueryParameter("service", "STRING", service),
        bigquery.ScalarQueryParameter("window_start", "TIMESTAMP", window.start),
        bigquery.ScalarQueryParameter("window_end", "TIMESTAMP", window.end),
        bigquery.ArrayQueryParameter("severities", "STRING", severities_from(min_severity)),
    ]


def extract_sink(
    warehouse: BigQueryWarehouse, source: SinkTableSource, service: str, window: Window, min_severity: str
) -> BigQueryExtract | None:
    """Sort, filter and normalise the window's sink rows of `service` inside BigQuery and insert the kept ones.

    None when BigQuery cannot read the sink table from the warehouse (another location, no access): the
    caller then reads the rows as before. The entries left to Python are read page by page as the caller
    goes through them, in the order of their JSON text (a rerun over the same rows numbers them alike, and
    their rejections keep their ids); the staging table is dropped once they are all read.
    """
    entries, params = source.entries_query(service, window, min_severity)
    incoming = f"select entry, cast(null as int64) as position from ({entries})"
    return _judged(warehouse, incoming, params, window, positions=False, tables=[])


def extract_spool(warehouse: BigQueryWarehouse, spool: Path, service: str, window: Window, min_severity: str) -> BigQueryExtract | None:
    """The same for a spool of the Logging API's entries (one JSON value per line, `null` for one held back).

    One load job stages the spool with each entry's position; Python reads the positions left to it from
    the spool itself. None when the spool cannot be loaded.
    """
    client, location = warehouse.client, warehouse.location
    raw_id = _staging_id(warehouse, "spool")
    try:
        with tempfile.TemporaryFile("w+b") as staged:
            with open(spool, encoding="utf-8", newline="\n") as lines:
                for position, line in enumerate(lines):
                    entry = line.rstrip("\n")
                    if _LONE_SURROGATE.search(entry):
                        entry = "null"  # BigQuery refuses the text; Python reads the entry at its position
                    staged.write(json.dumps({"position": position, "entry": entry}).encode() + b"\n")
            staged.seek(0)
            client.load_table_from_file(staged, raw_id, job_config=_new_table(client, raw_id, _SPOOL_SCHEMA), location=location).result()
    except GoogleAPIError as exc:
        logging.getLogger(__name__).warning("the entries cannot be staged in BigQuery (%s); they are read here instead", exc)
        client.delete_table(raw_id, not_found_ok=True)
        return None
    params = _window_parameters(service, window, min_severity)
    return _judged(warehouse, f"select entry, position from `{raw_id}`", params, window, positions=True, tables=[raw_id])


def _judged(
    warehouse: BigQueryWarehouse, incoming: str, params: list, window: Window, positions: bool, tables: list[str]
) -> BigQueryExtract | None:
    """Judge the `incoming` entries into a staging table, insert the kept ones, and say what is left to Python."""
    client, location = warehouse.client, warehouse.location
    judged_id, messages_id = _staging_id(warehouse, "judged"), _staging_id(warehouse, "messages")
    tables = [*tables, messages_id]
    create = (
        f"create table `{judged_id}` options (expiration_timestamp = timestamp_add(current_timestamp(), interval 1 day)) as "
        + judged_statement(incoming)
    )
    try:
        client.query_and_wait(create, job_config=bigquery.QueryJobConfig(query_parameters=params), location=location)
    except GoogleAPIError as exc:
        logging.getLogger(__name__).warning("the entries cannot be read inside BigQuery (%s); they are read here instead", exc)
        for table in (*tables, judged_id):
            client.delete_table(table, not_found_ok=True)
        return None
    handed_over = False
    try:
        counts: dict[str, int] = {}
        messages: list[str] = []
        first: str | None = None  # `position|project` of the first kept entry that names its project
        for row in client.query_and_wait(_SUMMARY.format(table=judged_id), location=location):
            counts[row["verdict"]] = counts.get(row["verdict"], 0) + int(row["entries"])
            if row["verdict"] == "kept":
                messages.append(row["message"])
                first = min(filter(None, (first, row["first_project"])), default=None)
        new_entries = 0
        if messages:
            _load_messages(client, messages_id, messages, location)
            new_entries = warehouse.execute_statement(
                _merge_statement(judged_id, messages_id), window_start=window.start, window_end=window.end
            )
        left = counts.get("python", 0)
        python_positions: set[int] = set()
        python_entries: Iterator = iter(())
        if left and positions:
            rows = client.query_and_wait(f"select position from `{judged_id}` where verdict = 'python'", location=location)
            python_positions = {int(row["position"]) for row in rows}
        elif left:
            python_entries, handed_over = _python_entries(client, judged_id, location), True
    finally:
        for table in tables:
            client.delete_table(table, not_found_ok=True)
        if not handed_over:
            client.delete_table(judged_id, not_found_ok=True)
    stats = {"read": sum(counts.values()), "kept": counts.get("kept", 0), "rejected": 0}
    stats |= {"other_service": 0, "outside_window": 0, "below_severity": 0}
    position, project = first.split("|", 1) if first else (None, None)
    project, position = (project or None, int(position)) if project else (None, None)
    return BigQueryExtract(stats, new_entries, project, position, python_positions, python_entries)


def _merge_statement(judged_id: str, messages_id: str) -> str:
    """The entries merge (`merge_log_entries.sql`) over the kept rows (`extract/kept_rows.sql` on the two staging
    tables, as the CTE `kept_rows` in place of its staging table)."""
    kept = rename_tables(bigquery_sql("extract/kept_rows"), {"judged_entries": judged_id, "judged_messages": messages_id})
    tree = sqlglot.parse_one(rename_tables(bigquery_sql("merge_log_entries"), {"staging_log_entries": "kept_rows"}), read="bigquery")
    _first_cte(tree.expression, "kept_rows", kept)
    return tree.sql("bigquery")


def _staging_id(warehouse: BigQueryWarehouse, what: str) -> str:
    return f"{warehouse.project}.{warehouse.dataset}.staging_{what}_{uuid.uuid4().hex[:12]}"


def _new_table(client: bigquery.Client, table_id: str, schema: list) -> bigquery.LoadJobConfig:
    """An empty staging table that expires in a day, should the run die before it is dropped, and the load
    job configuration that appends NDJSON rows to it."""
    table = bigquery.Table(table_id, schema=schema)
    table.expires = datetime.now(UTC) + timedelta(days=1)
    client.create_table(table)
    return bigquery.LoadJobConfig(
        schema=schema, source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON, write_disposition=bigquery.WriteDisposition.WRITE_APPEND
    )


def _load_messages(client: bigquery.Client, table_id: str, messages: list[str], location: str | None) -> None:
    """The per-message columns only Python computes, as a staging table."""
    records = [message_columns(message) for message in messages]
    client.load_table_from_json(records, table_id, job_config=_new_table(client, table_id, _MESSAGES_SCHEMA), location=location).result()


def _python_entries(client: bigquery.Client, table_id: str, location: str | None) -> Iterator[tuple[int, dict | Unparseable]]:
    """(position, entry) of the entries left to Python, decoded as the sink source decodes its rows.

    They come in the order of their JSON text, so a rerun over the same rows numbers them alike and their
    rejections keep their ids. The table is dropped after the last.
    """
    try:
        rows = client.query_and_wait(f"select entry from `{table_id}` where verdict = 'python' order by entry", location=location)
        for position, row in enumerate(rows):
            yield position, decoded_row(row["entry"], f"sink row {position + 1}")
    finally:
        client.delete_table(table_id, not_found_ok=True)
