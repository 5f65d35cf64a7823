-- Rejections already on record, so a rerun does not store them twice, with the run that recorded each: its
-- service, window, status and start (a line every run of a file rejects is listed by the first run whose worklog
-- was written, and named by the others).
select
  r.rejection_id,
  u.service,
  u.window_start,
  u.window_end,
  u.status,
  u.started_at
from rejected_entries as r
left join runs as u on u.run_id = r.run_id
where r.rejection_id in unnest(@rejection_ids)
