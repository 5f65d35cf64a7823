-- Tracker actions already planned or applied for a service and window.
select action_key, fingerprint, action, issue_number, state, priority_before, priority_after, reason
from issue_actions
where service = @service
  and window_start = @window_start
