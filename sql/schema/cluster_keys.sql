-- Stable identity: each distinct masked message belongs to exactly one fingerprint.
create table if not exists cluster_keys (
  service string not null,
  masked_message string not null,
  fingerprint string not null,
  first_seen timestamp
)
cluster by service, fingerprint
