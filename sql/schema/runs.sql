-- One row per flow run of one service and window.
create table if not exists runs (
  run_id string not null,
  service string not null,
  window_start timestamp not null,
  window_end timestamp not null,
  started_at timestamp not null,
  finished_at timestamp,
  status string not null,
  source string,
  entries int64,
  rejected int64,
  clusters int64,
  counts string,
  parameters string
)
partition by date(window_start)
cluster by service
