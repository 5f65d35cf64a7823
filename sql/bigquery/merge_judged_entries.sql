-- BigQuery only: the rows judged_entries.sql kept (staging_judged), with the columns Python computed once per
-- distinct message (staging_messages: the text a message is grouped by, and the top frame of a stack trace for an
-- entry that names no source location), added to log_entries unless loaded already; re-loading a window adds
-- nothing. The judged rows hold each insertId once: a repeated one was left to Python.
insert into log_entries (
  insert_id, timestamp, receive_timestamp, severity, service, revision, location, log_name,
  resource_type, message, pattern_text, module, function, line, http_method, http_url,
  http_status, latency_ms, trace, payload
)
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
  case when e.module is null and e.function is null and m.has_frame then m.frame_module else e.module end,
  case when e.module is null and e.function is null and m.has_frame then m.frame_function else e.function end,
  case when e.module is null and e.function is null and m.has_frame then m.frame_line else e.line end,
  cast(null as string),
  cast(null as string),
  cast(null as int64),
  cast(null as float64),
  e.trace,
  e.payload
from staging_judged as e
join staging_messages as m on m.message = e.message
where e.verdict = 'kept'
  and not exists (
    select 1 from log_entries as t
    where t.insert_id = e.insert_id
      and t.timestamp >= @window_start and t.timestamp < @window_end
  )
