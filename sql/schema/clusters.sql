-- One row per known pattern of a service; the fingerprint never changes.
create table if not exists clusters (
  fingerprint string not null,
  service string not null,
  template string not null,
  module string,
  function string,
  first_seen timestamp,
  last_seen timestamp,
  severity_max string,
  issue_number int64,
  issue_url string,
  current_priority string,
  updated_at timestamp,
  -- the pattern the rules file's [grouping] rules split this one off (null: not split off)
  regrouped_from string
)
cluster by service, fingerprint
