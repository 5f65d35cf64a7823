-- Completed windows of a service that overlap the period given (its start and end): the windows a run or a
-- backfill must not share entries with (only the very same window may run again).
select distinct window_start, window_end
from runs
where service = @service
  and status = 'completed'
  and window_start < @period_end
  and window_end > @period_start
order by window_start
