-- A completed window a person retires (say, a manual run off the hourly grid, which blocks the windows it
-- overlaps): it is no longer completed, so it counts in no baseline and blocks no window. Its counts are
-- deleted apart (delete_cluster_counts.sql); its entries stay loaded.
update runs
set status = 'retired'
where service = @service
  and window_start = @window_start
  and window_end = @window_end
  and status = 'completed'
