-- Input that could not become a log_entries row, with the reason; nothing is dropped silently.
create table if not exists rejected_entries (
  rejection_id string not null,
  run_id string not null,
  service string,
  source string,
  location string,
  reason string not null,
  raw_text string,
  rejected_at timestamp
)
