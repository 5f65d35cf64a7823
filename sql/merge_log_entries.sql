-- Add the staged entries not loaded yet; re-loading a window adds nothing. An entry is known by its insertId within
-- its service: another service's entry with the same insertId is another entry.
insert into log_entries (
  insert_id, timestamp, receive_timestamp, severity, service, revision, location, log_name,
  resource_type, message, pattern_text, module, function, line, http_method, http_url,
  http_status, latency_ms, trace, payload
)
with staged as (
  select *
  from staging_log_entries
  qualify row_number() over (partition by insert_id order by timestamp) = 1
)
select
  s.insert_id, s.timestamp, s.receive_timestamp, s.severity, s.service, s.revision, s.location,
  s.log_name, s.resource_type, s.message, s.pattern_text, s.module, s.function, s.line,
  s.http_method, s.http_url, s.http_status, s.latency_ms, s.trace, s.payload
from staged as s
where not exists (
  select 1 from log_entries as t
  where t.insert_id = s.insert_id
    and t.service = s.service
    and t.timestamp >= @window_start and t.timestamp < @window_end
)
