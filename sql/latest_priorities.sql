-- Each pattern's priority in its latest window before this one.
with earlier as (
  select
    fingerprint,
    priority,
    row_number() over (partition by fingerprint order by window_start desc) as recency
  from cluster_counts
  where service = @service
    and window_end <= @window_start
)

select fingerprint, priority
from earlier
where recency = 1
