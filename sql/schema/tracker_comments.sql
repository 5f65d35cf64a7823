-- Comments on the embedded tracker's issues.
create table if not exists tracker_comments (
  issue_number int64 not null,
  body string not null,
  created_at timestamp
)
