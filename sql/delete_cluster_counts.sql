-- A rerun of a window replaces its counts.
delete from cluster_counts
where service = @service
  and window_start = @window_start
  and window_end = @window_end
