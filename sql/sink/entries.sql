-- LogEntry rows of one service and window from a Log Router sink table (partitioned), as JSON.
select to_json_string(t) as entry
from sink_table as t
where t.resource.labels.service_name = @service
  and t.timestamp >= @window_start
  and t.timestamp < @window_end
  and t.severity in unnest(@severities)
