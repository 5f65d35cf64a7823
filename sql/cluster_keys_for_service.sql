-- Known masked messages of a service and the fingerprint each belongs to.
select masked_message, fingerprint
from cluster_keys
where service = @service
