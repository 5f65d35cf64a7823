-- Every issue of the local tracker.
select number, title, body, labels, assignees, state, state_reason, created_at, updated_at, closed_at
from tracker_issues
order by number
