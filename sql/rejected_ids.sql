-- Rejections already on record, so a rerun does not store them twice, with the service and window of the run that
-- recorded each (a line every run of a file rejects is listed by the first, and named only by the others).
select
  r.rejection_id,
  u.service,
  u.window_start,
  u.window_end
from rejected_entries as r
left join runs as u on u.run_id = r.run_id
where r.rejection_id in unnest(@rejection_ids)
