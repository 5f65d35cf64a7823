"""Extract of a Log Router sink table inside BigQuery, when the warehouse is BigQuery: the entries stay there.

`sql/sink/judged.sql` sorts the window's rows of the service in one query job that writes a staging table:
kept (every `log_entries` column computed in SQL) or left to Python (a request log, a message that is not
plain text, a field of an unusual type, a repeated insertId; see the SQL). Python then reads only those
rows, with the same code as every other source, so rejections keep their reasons. What only Python computes
(the text a message is grouped by, the top frame of a stack trace) it computes once per distinct message,
loaded back as a small table; `sql/sink/merge_judged.sql` adds the kept rows to `log_entries` inside BigQuery.

Jobs: the sorting query, a summary of the verdicts and distinct messages, the load of the per-message table,
the insert, and (only when there are any) the query of the rows Python reads. Besides those rows, only the
distinct messages of the kept rows leave BigQuery. The staging tables are dropped at the end and expire after
a day if the run dies before.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlglot
from google.api_core.exceptions import GoogleAPIError
from google.cloud import bigquery
from sqlglot import exp

from log_gardener.tasks.normalise import MAX_MESSAGE_CHARS, Window
from log_gardener.tasks.sources.base import RAW_KEEP_CHARS, Unparseable
from log_gardener.tasks.stacktrace import parse_trace, pattern_text
from log_gardener.tasks.warehouses.bigquery import rename_table
from log_gardener.tasks.warehouses.sqlfiles import bigquery_sql

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
_SUMMARY = """
select verdict, message, count(*) as entries,
  min(case when verdict = 'kept' and starts_with(log_name, 'projects/') then split(log_name, '/')[safe_offset(1)] end) as project
from `{table}`
group by verdict, message
"""


@dataclass
class SinkExtract:
    """What BigQuery made of the window: kept rows already inserted, counts, and the entries Python must read."""

    stats: dict[str, int]
    new_entries: int
    project: str | None
    project_position: int | None = None
    python_entries: Iterator = field(default_factory=lambda: iter(()))  # (position, entry) pairs


# RFC 3339 / ISO 8601 as tasks.normalise.parse_time reads it and BigQuery casts it alike: a real date and time,
# at most microseconds, UTC unless an offset says otherwise
_TIME_PATTERN = r"r'^[1-8][0-9]{3}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$'"


def judged_statement(entries: str) -> str:
    """`sql/sink/judged.sql` reading the rows of the query `entries` (sink/entries*.sql) as its CTE `sink_entries`."""
    text = bigquery_sql("sink/judged").replace("__MAX_MESSAGE_CHARS__", str(MAX_MESSAGE_CHARS)).replace("__TIME_PATTERN__", _TIME_PATTERN)
    tree = sqlglot.parse_one(text, read="bigquery")
    source = exp.CTE(this=sqlglot.parse_one(entries, read="bigquery"), alias=exp.TableAlias(this=exp.to_identifier("sink_entries")))
    ctes = tree.find(exp.With)
    ctes.set("expressions", [source, *ctes.expressions])
    return tree.sql("bigquery")


def extract_sink(
    warehouse: BigQueryWarehouse, source: SinkTableSource, service: str, window: Window, min_severity: str
) -> SinkExtract | None:
    """Sort, filter and normalise the window's sink rows of `service` inside BigQuery and insert the kept ones.

    None when BigQuery cannot read the sink table from the warehouse (another location, no access): the
    caller then reads the rows as before. The entries left to Python are read page by page as the caller
    goes through them; the staging table is dropped once they are all read.
    """
    client, location = warehouse.client, warehouse.location
    tag = uuid.uuid4().hex[:12]
    judged_id = f"{warehouse.project}.{warehouse.dataset}.staging_sink_judged_{tag}"
    messages_id = f"{warehouse.project}.{warehouse.dataset}.staging_sink_messages_{tag}"
    entries, params = source.entries_query(service, window, min_severity)
    create = (
        f"create table `{judged_id}` options (expiration_timestamp = timestamp_add(current_timestamp(), interval 1 day)) as "
        + judged_statement(entries)
    )
    try:
        client.query_and_wait(create, job_config=bigquery.QueryJobConfig(query_parameters=params), location=location)
    except GoogleAPIError as exc:
        logging.getLogger(__name__).warning("the sink table cannot be read inside BigQuery (%s); its rows are read here instead", exc)
        client.delete_table(judged_id, not_found_ok=True)
        return None
    handed_over = False
    try:
        counts: dict[str, int] = {}
        messages: list[str] = []
        project = None
        for row in client.query_and_wait(_SUMMARY.format(table=judged_id), location=location):
            counts[row["verdict"]] = counts.get(row["verdict"], 0) + int(row["entries"])
            if row["verdict"] == "kept":
                messages.append(row["message"])
                project = min(filter(None, (project, row["project"])), default=None)
        new_entries = 0
        if messages:
            _load_messages(client, messages_id, messages, location)
            statement = rename_table(bigquery_sql("sink/merge_judged"), "staging_sink_judged", judged_id)
            statement = rename_table(statement, "staging_sink_messages", messages_id)
            new_entries = warehouse.execute_statement(statement, window_start=window.start, window_end=window.end)
        client.delete_table(messages_id, not_found_ok=True)
        python_entries = _python_entries(client, judged_id, location) if counts.get("python") else iter(())
        handed_over = bool(counts.get("python"))
    finally:
        client.delete_table(messages_id, not_found_ok=True)
        if not handed_over:
            client.delete_table(judged_id, not_found_ok=True)
    stats = {
        "read": sum(counts.values()),
        "kept": counts.get("kept", 0),
        "rejected": 0,
        "other_service": 0,
        "outside_window": 0,
        "below_severity": 0,
    }
    return SinkExtract(stats, new_entries, project, 0 if project else None, python_entries)


def _load_messages(client: bigquery.Client, table_id: str, messages: list[str], location: str | None) -> None:
    """The per-message columns only Python computes, as a staging table."""
    records = []
    for message in messages:
        frame = None
        if "\n" in message:
            trace = parse_trace(message)
            frame = trace.top_application_frame if trace else None
        records.append(
            {
                "message": message,
                "pattern_text": pattern_text(message),
                "frame_module": frame.file if frame else None,
                "frame_function": frame.function if frame else None,
                "frame_line": frame.line if frame else None,
                "has_frame": frame is not None,
            }
        )
    # made first, so that it expires like the judged table if the run dies before it is dropped
    table = bigquery.Table(table_id, schema=_MESSAGES_SCHEMA)
    table.expires = datetime.now(UTC) + timedelta(days=1)
    client.create_table(table)
    config = bigquery.LoadJobConfig(
        schema=_MESSAGES_SCHEMA,
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
    )
    client.load_table_from_json(records, table_id, job_config=config, location=location).result()


def _python_entries(client: bigquery.Client, table_id: str, location: str | None) -> Iterator[tuple[int, dict | Unparseable]]:
    """(position, entry) of the entries left to Python, decoded as the sink source decodes its rows.

    They come in the order of their JSON text, so a rerun over the same rows numbers them alike and their
    rejections keep their ids. The table is dropped after the last.
    """
    try:
        rows = client.query_and_wait(f"select entry from `{table_id}` where verdict = 'python' order by entry", location=location)
        for position, row in enumerate(rows):
            try:
                yield position, json.loads(row["entry"])
            except (TypeError, json.JSONDecodeError) as exc:
                yield position, Unparseable(str(row["entry"])[:RAW_KEEP_CHARS], f"sink row is not JSON: {exc}", f"sink row {position + 1}")
    finally:
        client.delete_table(table_id, not_found_ok=True)
