-- DuckDB only: the kept lines of a log file as log_entries rows, with the columns Python computed once per
-- distinct message (_gardener_messages): the text it is grouped by, and the top frame of a stack trace for
-- an entry that names no source location.
create or replace temp view _gardener_staged_entries as
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
  m.pattern_text,
  case when e.module is null and e.function is null and m.has_frame then m.frame_module else e.module end as module,
  case when e.module is null and e.function is null and m.has_frame then m.frame_function else e.function end as function,
  case when e.module is null and e.function is null and m.has_frame then m.frame_line else e.line end as line,
  cast(null as varchar) as http_method,
  cast(null as varchar) as http_url,
  cast(null as bigint) as http_status,
  cast(null as double) as latency_ms,
  e.trace,
  e.payload
from _gardener_file_entries as e
join _gardener_messages as m on m.message = e.message
where e.verdict = 'kept'
