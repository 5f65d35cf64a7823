-- Why a local tracker issue was closed (completed, not_planned), for warehouses set up before the column existed.
alter table tracker_issues add column if not exists state_reason string
