-- Rejections already on record, so a rerun does not store them twice.
select rejection_id
from rejected_entries
where rejection_id in unnest(@rejection_ids)
