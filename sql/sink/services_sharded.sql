-- The services with entries at or above the severity floor in one window of date-sharded sink tables (name_YYYYMMDD).
select t.resource.labels.service_name as service, count(*) as entries
from sink_table as t
where _table_suffix between @first_day and @last_day
  and t.timestamp >= @window_start
  and t.timestamp < @window_end
  and t.severity in unnest(@severities)
  and t.resource.labels.service_name is not null
group by service
order by entries desc, service
