-- Action log of tracker updates: written as planned before it is applied, as applied after.
create table if not exists issue_actions (
  action_key string not null,
  run_id string not null,
  service string not null,
  window_start timestamp not null,
  fingerprint string not null,
  action string not null,
  issue_number int64,
  priority_before string,
  priority_after string,
  reason string,
  state string not null,
  planned_at timestamp,
  applied_at timestamp,
  -- the priority label the action put on the issue; null when it left a person's label in place
  label_written string
)
cluster by service, fingerprint
