-- Clusters are rewritten whole by fingerprint (from the staged rows).
delete from clusters
where service = @service
  and fingerprint in unnest(@fingerprints)
