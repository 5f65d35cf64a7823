-- Issue numbers of the local tracker count up from 1.
select coalesce(max(number), 0) + 1 as number
from tracker_issues
