-- Runs of a service that never finished (their process died): called while the service's slot is held.
update runs
set
  status = 'interrupted',
  finished_at = @finished_at
where service = @service
  and status = 'running'
