-- The services with entries at or above the severity floor in one window of a Log Router sink table (partitioned).
select t.resource.labels.service_name as service, count(*) as entries
from sink_table as t
where t.timestamp >= @window_start
  and t.timestamp < @window_end
  and t.severity in unnest(@severities)
  and t.resource.labels.service_name is not null
group by service
order by entries desc, service
