-- Rejections already on record, so a rerun does not store them twice, with the run that recorded each: its
-- service, window and start, and whether a run of that service and window finished (completed or retired),
-- so its worklog lists the line (a line every run of a file rejects is listed by the first such window, and
-- named by the others). A recording run that died is taken over by the rerun of its window that finished.
with finished as (
  select distinct service, window_start, window_end
  from runs
  where status in ('completed', 'retired')
)

select
  r.rejection_id,
  u.service,
  u.window_start,
  u.window_end,
  u.started_at,
  f.service is not null as listed
from rejected_entries as r
left join runs as u on u.run_id = r.run_id
left join finished as f
  on f.service = u.service and f.window_start = u.window_start and f.window_end = u.window_end
where r.rejection_id in unnest(@rejection_ids)
