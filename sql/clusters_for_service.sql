-- Known patterns of a service.
select
  fingerprint, template, module, function, first_seen, last_seen, severity_max,
  issue_number, issue_url, current_priority, regrouped_from
from clusters
where service = @service
