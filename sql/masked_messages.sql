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

grouped as (
  select
    masked_message,
    count(*) as entries,
    -- how many different texts it masks: a pattern whose values varied tells its own words from values
    count(distinct pattern_text) as variants,
    countif(severity = 'WARNING') as warning_count,
    countif(severity = 'ERROR') as error_count,
    countif(severity in ('CRITICAL', 'ALERT', 'EMERGENCY')) as critical_count,
    -- the highest severity's rank, which names a pattern below WARNING (a run with a lower severity floor)
    max(case severity
      when 'EMERGENCY' then 800 when 'ALERT' then 700 when 'CRITICAL' then 600 when 'ERROR' then 500
      when 'WARNING' then 400 when 'NOTICE' then 300 when 'INFO' then 200 when 'DEBUG' then 100 else 0
    end) as severity_rank,
    min(timestamp) as first_seen,
    max(timestamp) as last_seen,
    -- the latest three entries, latest first (a tie in time goes by insert_id): a top-n aggregate holds three
    -- rows per message, where numbering the rows would sort every entry of a busy message
    array_agg(insert_id order by -unix_micros(timestamp), insert_id limit 3) as latest,
    -- where the latest entry says it was logged: file or module, function and line stay together
    array_agg(struct(module as module, function as function, line as line)
      order by -unix_micros(timestamp), insert_id limit 1)[offset(0)] as logged_at,
    -- the revision of the earliest entry, every revision seen, and how many requests and clients it touched
    array_agg(struct(revision as revision) order by timestamp, insert_id limit 1)[offset(0)].revision as first_revision,
    string_agg(distinct revision, ',') as revisions,
    count(distinct trace) as traces,
    count(distinct client) as clients
  from windowed
  group by masked_message
)

select
  masked_message,
  entries,
  variants,
  warning_count,
  error_count,
  critical_count,
  severity_rank,
  first_seen,
  last_seen,
  latest[safe_offset(0)] as sample_1,
  latest[safe_offset(1)] as sample_2,
  latest[safe_offset(2)] as sample_3,
  logged_at.module,
  logged_at.function,
  logged_at.line,
  first_revision,
  revisions,
  traces,
  clients
from grouped
order by entries desc, masked_message
