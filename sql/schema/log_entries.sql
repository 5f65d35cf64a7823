-- One normalised LogEntry per row; insert_id is the key (loads are idempotent on it).
create table if not exists log_entries (
  insert_id string not null,
  timestamp timestamp not null,
  receive_timestamp timestamp,
  severity string not null,
  service string not null,
  revision string,
  location string,
  log_name string,
  resource_type string,
  message string,
  pattern_text string,
  module string,
  function string,
  line int64,
  http_method string,
  http_url string,
  http_status int64,
  latency_ms float64,
  trace string,
  payload string
)
partition by date(timestamp)
cluster by service, severity
