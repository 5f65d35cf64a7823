-- Fold the staged patterns of one window into `clusters`, one row per fingerprint. A window older than
-- the stored last sighting (a backfill) never overwrites the newer template, severity or priority; first
-- and last sightings only widen; an issue, once known, stays.
merge into clusters as t
using (
  select
    s.*,
    stored.last_seen is null or (s.last_seen is not null and s.last_seen >= stored.last_seen) as newer
  from staging_clusters as s
  left join clusters as stored
    on stored.service = s.service and stored.fingerprint = s.fingerprint
) as s
on t.service = s.service and t.fingerprint = s.fingerprint
when matched then update set
  template = case when s.newer then s.template else t.template end,
  module = coalesce(s.module, t.module),
  function = coalesce(s.function, t.function),
  first_seen = case
    when s.first_seen is not null and (t.first_seen is null or s.first_seen < t.first_seen) then s.first_seen
    else t.first_seen
  end,
  last_seen = case when s.newer and s.last_seen is not null then s.last_seen else t.last_seen end,
  severity_max = case when s.newer then s.severity_max else t.severity_max end,
  issue_number = coalesce(s.issue_number, t.issue_number),
  issue_url = coalesce(s.issue_url, t.issue_url),
  current_priority = case when s.newer then s.current_priority else t.current_priority end,
  updated_at = s.updated_at,
  regrouped_from = coalesce(t.regrouped_from, s.regrouped_from)
when not matched then insert (
  fingerprint, service, template, module, function, first_seen, last_seen, severity_max,
  issue_number, issue_url, current_priority, updated_at, regrouped_from
) values (
  s.fingerprint, s.service, s.template, s.module, s.function, s.first_seen, s.last_seen, s.severity_max,
  s.issue_number, s.issue_url, s.current_priority, s.updated_at, s.regrouped_from
)
