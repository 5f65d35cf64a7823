-- Comments of a local tracker issue, oldest first.
select issue_number, body, created_at
from tracker_comments
where issue_number = @number
order by created_at
