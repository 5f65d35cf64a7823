-- Assignees of local tracker issues (a JSON list of logins), for warehouses set up before the column existed.
alter table tracker_issues add column if not exists assignees string
