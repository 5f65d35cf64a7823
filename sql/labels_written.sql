-- The priority label the gardener last wrote on each pattern's issue: a different label there is a person's.
select fingerprint, label_written
from issue_actions
where service = @service
  and state = 'applied'
  and label_written is not null
qualify row_number() over (partition by fingerprint order by window_start desc, applied_at desc) = 1
