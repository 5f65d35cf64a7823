-- The distinct masked messages of one service and window, with counts: all that reaches Python.
with windowed as (
  select
    insert_id,
    timestamp,
    severity,
    module,
    function,
    line,
    revision,
    trace,
    pattern_text,
    -- a request's client address, counted and never shown (the payload is the stored LogEntry JSON)
    regexp_extract(payload, r'"remoteIp": ?"([^"]+)"') as client,
    case
      -- request logs: mask the path, keep the status (405 and 500 are different problems)
      when http_status is not null and message = concat(pattern_text, ' ', cast(http_status as string))
        then concat(group_message(pattern_text), ' ', cast(http_status as string))
      -- the built-in masking, with the rules file's [grouping] rules when it has some
      else group_message(pattern_text)
    end as masked_message
  from log_entries
  where service = @service
    and timestamp >= @window_start
    and timestamp < @window_end
    and severity in unnest(@severities)
),

ranked as (
  select
    *,
    row_number() over (partition by masked_message order by timestamp desc, insert_id) as recency,
    row_number() over (partition by masked_message order by timestamp, insert_id) as earliness
  from windowed
)

select
  masked_message,
  count(*) as entries,
  -- how many different texts it masks: a pattern whose values varied tells its own words from values
  count(distinct pattern_text) as variants,
  countif(severity = 'WARNING') as warning_count,
  countif(severity = 'ERROR') as error_count,
  countif(severity in ('CRITICAL', 'ALERT', 'EMERGENCY')) as critical_count,
  min(timestamp) as first_seen,
  max(timestamp) as last_seen,
  max(case when recency = 1 then insert_id end) as sample_1,
  max(case when recency = 2 then insert_id end) as sample_2,
  max(case when recency = 3 then insert_id end) as sample_3,
  -- where the latest entry says it was logged: file or module, function and line stay together
  max(case when recency = 1 then module end) as module,
  max(case when recency = 1 then function end) as function,
  max(case when recency = 1 then line end) as line,
  -- the revision of the earliest entry, every revision seen, and how many requests and clients it touched
  max(case when earliness = 1 then revision end) as first_revision,
  string_agg(distinct revision, ',') as revisions,
  count(distinct trace) as traces,
  count(distinct client) as clients
from ranked
group by masked_message
order by entries desc, masked_message
