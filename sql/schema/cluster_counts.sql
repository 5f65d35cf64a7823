-- Per pattern and window: how often, how bad, and what was decided.
create table if not exists cluster_counts (
  run_id string not null,
  service string not null,
  window_start timestamp not null,
  window_end timestamp not null,
  fingerprint string not null,
  entries int64 not null,
  rate_per_min float64,
  baseline_rate_per_min float64,
  ratio float64,
  warning_count int64,
  error_count int64,
  critical_count int64,
  severity_max string,
  first_seen timestamp,
  last_seen timestamp,
  status string,
  priority string,
  previous_priority string,
  sample_insert_ids string
)
partition by date(window_start)
cluster by service, fingerprint
