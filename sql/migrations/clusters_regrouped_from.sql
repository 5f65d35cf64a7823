-- The pattern a grouping rule split a pattern off, for warehouses set up before the column existed.
alter table clusters add column if not exists regrouped_from string
