-- Full rows of chosen entries (samples and technical context).
select
  insert_id, timestamp, severity, service, revision, location, log_name, resource_type,
  message, module, function, line, http_method, http_url, http_status, latency_ms, trace, payload
from log_entries
where service = @service
  and timestamp >= @window_start
  and timestamp < @window_end
  and insert_id in unnest(@insert_ids)
