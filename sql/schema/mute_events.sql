-- When a rules-file mute began for a pattern (with its rate then) and when an escalation ended it.
create table if not exists mute_events (
  service string not null,
  fingerprint string not null,
  mute_key string not null,
  event string not null,
  window_start timestamp not null,
  rate_per_min float64,
  recorded_at timestamp
)
cluster by service, fingerprint
