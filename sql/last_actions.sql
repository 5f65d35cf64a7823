-- The latest window in which each pattern's issue was touched, before this window.
select
  fingerprint,
  max(window_start) as last_window_start
from issue_actions
where service = @service
  and state = 'applied'
  and action != 'none'
  and window_start < @window_start
group by fingerprint
