-- LogEntry rows of one service and window from date-sharded sink tables (name_YYYYMMDD), as JSON.
select to_json_string(t) as entry
from sink_table as t
where _table_suffix between @first_day and @last_day
  and t.resource.labels.service_name = @service
  and t.timestamp >= @window_start
  and t.timestamp < @window_end
  and t.severity in unnest(@severities)
