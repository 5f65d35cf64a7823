-- Per pattern counts in the windows of a service between two times (the baseline period).
select
  window_start,
  window_end,
  fingerprint,
  entries,
  status,
  priority
from cluster_counts
where service = @service
  and window_start >= @since
  and window_end <= @window_start
