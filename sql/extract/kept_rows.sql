-- The log_entries rows of the entries an extract kept in SQL (judged_entries: the verdicts and the columns SQL
-- computed, tasks/file_extract.py in DuckDB or bigquery/judged_entries.sql in BigQuery), with the columns Python
-- computed once per distinct message (judged_messages: the text a message is grouped by, and the top frame of a
-- stack trace, used for an entry that names no source location). Each warehouse reads it over its own staging
-- tables, and merges them with merge_log_entries.sql.
select
  e.insert_id,
  e.timestamp,
  e.receive_timestamp,
  e.severity,
  e.service,
  e.revision,
  e.location,
  e.log_name,
  e.resource_type,
  e.message,
  -- a request log is grouped by method and path (masked_messages.sql appends its status)
  case when e.is_request then regexp_replace(e.message, r' [^ ]*$', '') else m.pattern_text end as pattern_text,
  case when e.module is null and e.function is null and m.has_frame then m.frame_module else e.module end as module,
  case when e.module is null and e.function is null and m.has_frame then m.frame_function else e.function end as function,
  case when e.module is null and e.function is null and m.has_frame then m.frame_line else e.line end as line,
  e.http_method,
  e.http_url,
  e.http_status,
  e.latency_ms,
  e.trace,
  e.payload
from judged_entries as e
join judged_messages as m on m.message = e.message
where e.verdict = 'kept'
