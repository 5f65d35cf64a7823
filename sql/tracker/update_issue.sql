-- Change the title, labels, state or body of a local tracker issue.
update tracker_issues
set
  title = @title,
  labels = @labels,
  state = @state,
  body = @body,
  updated_at = @updated_at,
  closed_at = @closed_at
where number = @number
