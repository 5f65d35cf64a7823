-- Change the title, labels, state (and why it was closed) or body of a local tracker issue.
update tracker_issues
set
  title = @title,
  labels = @labels,
  state = @state,
  state_reason = @state_reason,
  body = @body,
  updated_at = @updated_at,
  closed_at = @closed_at
where number = @number
