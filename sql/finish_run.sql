-- Close the bookkeeping row of a run.
update runs
set
  status = @status,
  finished_at = @finished_at,
  entries = @entries,
  rejected = @rejected,
  clusters = @clusters,
  counts = @counts
where run_id = @run_id
