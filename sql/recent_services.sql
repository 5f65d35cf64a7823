-- Services with a completed run since a time: a fleet runs them even in a window where they logged nothing,
-- so their patterns can go quiet and their baselines count the silent hours.
select distinct service
from runs
where status = 'completed'
  and window_start >= @since
order by service
