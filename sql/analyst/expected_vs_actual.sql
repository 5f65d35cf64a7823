-- Analyst view: each pattern's actual rate per window beside the rate its baseline expected,
-- with the ratio, the status and the priority the gardener decided from them.
create or replace view expected_vs_actual as
select
  k.service,
  k.fingerprint,
  c.template,
  k.window_start,
  k.window_end,
  k.entries,
  k.rate_per_min as actual_rate_per_min,
  k.baseline_rate_per_min as expected_rate_per_min,
  k.ratio,
  k.status,
  k.priority
from cluster_counts as k
left join clusters as c
  on c.service = k.service and c.fingerprint = k.fingerprint
