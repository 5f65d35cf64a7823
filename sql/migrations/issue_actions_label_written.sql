-- The priority label an action wrote, for warehouses set up before the column existed.
alter table issue_actions add column if not exists label_written string
