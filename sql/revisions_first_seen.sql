-- When each of the given revisions of a service first logged an entry the gardener kept, and when the entry
-- kept just before it was logged (by another revision: a deploy shows as one revision taking over from another).
with kept as (
  select
    revision,
    timestamp,
    lag(timestamp) over (order by timestamp, insert_id) as previous_at
  from log_entries
  where service = @service
    and timestamp >= @since
    and timestamp < @window_end
),

firsts as (
  select
    revision,
    timestamp as first_seen,
    previous_at,
    row_number() over (partition by revision order by timestamp) as n
  from kept
  where revision in unnest(@revisions)
)

select revision, first_seen, previous_at as other_last_seen
from firsts
where n = 1
