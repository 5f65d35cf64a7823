-- Windows of a service that already have a completed run, within a period (backfills skip them).
select distinct window_start, window_end
from runs
where service = @service
  and status = 'completed'
  and window_start >= @period_start
  and window_end <= @period_end
