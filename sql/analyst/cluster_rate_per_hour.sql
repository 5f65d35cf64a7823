-- Analyst view: each pattern's entries and rate per hour, with its template and priority.
create or replace view cluster_rate_per_hour as
with hourly as (
  select
    service,
    fingerprint,
    timestamp_trunc(window_start, hour) as hour,
    sum(entries) as entries,
    sum(timestamp_diff(window_end, window_start, second)) / 60.0 as minutes,
    max(priority) as lowest_priority,
    min(priority) as highest_priority
  from cluster_counts
  group by service, fingerprint, timestamp_trunc(window_start, hour)
)

select
  h.service,
  h.fingerprint,
  c.template,
  c.module,
  h.hour,
  h.entries,
  h.entries / h.minutes as rate_per_min,
  h.highest_priority as priority
from hourly as h
left join clusters as c
  on c.service = h.service and c.fingerprint = h.fingerprint
