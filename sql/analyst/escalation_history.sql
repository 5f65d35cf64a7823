-- Analyst view: every escalation, with the rates that caused it and the issue it touched.
create or replace view escalation_history as
with escalations as (
  select
    service,
    fingerprint,
    window_start,
    window_end,
    previous_priority,
    priority,
    rate_per_min,
    baseline_rate_per_min,
    ratio
  from cluster_counts
  where status = 'escalated'
),

-- each escalation action with the end of its run's window: two windows may start at the same time (a short
-- manual run, since retired, and the hour)
actions as (
  select a.service, a.fingerprint, a.window_start, r.window_end, a.issue_number
  from issue_actions as a
  left join runs as r on r.run_id = a.run_id
  where a.action = 'escalate'
)

select
  e.service,
  e.window_start,
  e.window_end,
  e.fingerprint,
  c.template,
  e.previous_priority,
  e.priority,
  e.rate_per_min,
  e.baseline_rate_per_min,
  e.ratio,
  a.issue_number
from escalations as e
left join clusters as c
  on c.service = e.service and c.fingerprint = e.fingerprint
left join actions as a
  on a.service = e.service and a.fingerprint = e.fingerprint and a.window_start = e.window_start
  and (a.window_end is null or a.window_end = e.window_end)
