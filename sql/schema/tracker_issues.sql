-- The embedded issue tracker (the `local` tracker), same shape as a GitHub issue.
create table if not exists tracker_issues (
  number int64 not null,
  title string not null,
  body string,
  labels string,
  assignees string,
  state string not null,
  state_reason string,
  created_at timestamp,
  updated_at timestamp,
  closed_at timestamp
)
