-- The latest completed windows of a service that end before this window starts.
with done as (
  select distinct window_start, window_end
  from runs
  where service = @service
    and status = 'completed'
    and window_end <= @window_start
)

select window_start, window_end
from done
order by window_start desc
limit @max_windows
