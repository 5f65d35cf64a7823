-- Analyst view: when each pattern first appeared, how big it has been since, and its issue.
create or replace view pattern_first_seen as
with totals as (
  select
    service,
    fingerprint,
    min(window_start) as first_window,
    max(case when entries > 0 then window_start end) as last_window,
    sum(entries) as entries
  from cluster_counts
  group by service, fingerprint
)

select
  t.service,
  t.fingerprint,
  c.template,
  c.severity_max,
  c.current_priority,
  c.issue_number,
  t.first_window,
  t.last_window,
  t.entries
from totals as t
left join clusters as c
  on c.service = t.service and c.fingerprint = t.fingerprint
