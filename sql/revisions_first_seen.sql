-- When each of the given revisions of a service first logged an entry the gardener kept (a deploy's first sign),
-- and when the service first did: a revision that was there from the start of the record is no deploy we saw.
with kept as (
  select revision, timestamp
  from log_entries
  where service = @service
    and timestamp >= @since
    and timestamp < @window_end
)

select
  revision,
  min(timestamp) as first_seen,
  (select min(timestamp) from kept) as service_first_seen
from kept
where revision in unnest(@revisions)
group by revision
