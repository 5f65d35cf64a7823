-- Tracker actions already planned or applied for a service and window (its start and end: another window that
-- starts at the same time, such as a short manual run, has actions of its own). An action whose run is not on
-- record is matched by its window's start alone.
select a.action_key, a.fingerprint, a.action, a.issue_number, a.state, a.priority_before, a.priority_after, a.reason
from issue_actions as a
left join runs as r on r.run_id = a.run_id
where a.service = @service
  and a.window_start = @window_start
  and (r.run_id is null or r.window_end = @window_end)
