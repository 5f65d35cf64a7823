-- Patterns counted in any window of the service before this one.
select distinct fingerprint
from cluster_counts
where service = @service
  and window_end <= @window_start
  and entries > 0
