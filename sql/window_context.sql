-- Technical context of a window: which revisions and locations logged, how much.
select
  revision,
  location,
  resource_type,
  count(*) as entries
from log_entries
where service = @service
  and timestamp >= @window_start
  and timestamp < @window_end
group by revision, location, resource_type
order by entries desc
