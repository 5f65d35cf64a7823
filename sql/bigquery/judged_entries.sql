-- BigQuery only: one service's window of LogEntry JSON, sorted inside BigQuery. The entries come in as the CTE
-- `incoming` (entry: the LogEntry's JSON text, which is what tasks/normalise.py reads too; position: its place
-- in the source, or NULL): the rows of sink/entries.sql (or sink/entries_sharded.sql) for a sink table, or a
-- staging table loaded from the entries of the Logging API. A row is:
--   'kept': every log_entries column is computed here, as tasks/normalise.py computes it;
--   'python': an entry Python could read otherwise, which Python reads: another service, time or severity, a
--     message that is not plain text, a field of an unusual type (a request's too), a URL whose path SQL could
--     read otherwise, a missing or repeated insertId, a time SQL cannot read.
-- The text a message is grouped by and the top frame of a stack trace are Python's, once per distinct message
-- (extract/kept_rows.sql joins them in). `x_j` columns hold a field's JSON text: NULL when absent, 'null',
-- '"…"' for a string.
with fields as (
  select
    entry,
    position,
    json_query(entry, '$.insertId') as insert_id_j,
    json_query(entry, '$.timestamp') as stamp_j,
    json_query(entry, '$.receiveTimestamp') as received_j,
    json_value(entry, '$.severity') as severity,
    json_value(entry, '$.resource.labels.service_name') as service,
    json_query(entry, '$.resource.labels.revision_name') as revision_j,
    json_query(entry, '$.resource.labels.version_id') as version_j,
    json_query(entry, '$.resource.labels.location') as location_j,
    json_query(entry, '$.resource.labels.region') as region_j,
    json_query(entry, '$.resource.labels.zone') as zone_j,
    json_query(entry, '$.logName') as log_name_j,
    json_query(entry, '$.resource.type') as resource_type_j,
    json_query(entry, '$.trace') as trace_j,
    json_query(entry, '$.textPayload') as text_j,
    json_query(entry, '$.jsonPayload') as payload_j,
    json_query(entry, '$.jsonPayload.message') as message_j,
    json_query(entry, '$.jsonPayload.msg') as msg_j,
    json_query(entry, '$.jsonPayload.error') as error_j,
    json_query(entry, '$.httpRequest') as http_j,
    json_query(entry, '$.httpRequest.requestMethod') as method_j,
    json_query(entry, '$.httpRequest.requestUrl') as url_j,
    json_query(entry, '$.httpRequest.status') as status_j,
    json_query(entry, '$.httpRequest.latency') as latency_j,
    json_query(entry, '$.sourceLocation') as location_of_code_j,
    json_query(entry, '$.jsonPayload.labels.module') as label_module_j,
    json_query(entry, '$.jsonPayload.labels.function') as label_function_j,
    json_query(entry, '$.jsonPayload.labels.line') as label_line_j,
    json_query(entry, '$.sourceLocation.file') as code_file_j,
    json_query(entry, '$.sourceLocation.function') as code_function_j,
    json_query(entry, '$.sourceLocation.line') as code_line_j,
    json_query(entry, '$.jsonPayload.logger') as logger_j,
    json_query(entry, '$.jsonPayload.logger_name') as logger_name_j,
    json_query(entry, '$.jsonPayload.logName') as payload_log_name_j,
    -- an insertId on more than one row goes to Python on all of them, so which one is kept is decided in one place
    count(*) over (partition by json_value(entry, '$.insertId')) as copies
  from incoming
), read_as_python as (
  select
    *,
    -- a request's status as Python reads it: a whole number (any other JSON: NULL, and Python reads the entry)
    case when regexp_contains(status_j, r'^-?[0-9]{1,18}$') then safe_cast(status_j as int64) end as http_status,
    -- Python's `a or b` over strings: the first that is not empty
    case
      when starts_with(text_j, '"') and regexp_contains(json_value(text_j, '$'), r'[!-~]') then json_value(text_j, '$')
      when (text_j is null or text_j in ('null', '""')) and starts_with(payload_j, '{') and starts_with(message_j, '"')
        and regexp_contains(json_value(message_j, '$'), r'[!-~]') then json_value(message_j, '$')
    end as written,
    -- a request's latency as SQL reads it: seconds with at most nine decimals (any other text: NULL)
    case
      when regexp_contains(latency_j, r'^"[0-9]{1,5}(\.[0-9]{1,9})?s"$') then cast(rtrim(json_value(latency_j, '$'), 's') as float64)
    end as latency_seconds,
    case
      when label_module_j not in ('null', '""') then json_value(label_module_j, '$')
      when code_file_j not in ('null', '""') then json_value(code_file_j, '$')
      when logger_j not in ('null', '""') then json_value(logger_j, '$')
      when logger_name_j not in ('null', '""') then json_value(logger_name_j, '$')
      when payload_log_name_j not in ('null', '""') then json_value(payload_log_name_j, '$')
    end as module,
    case
      when label_function_j not in ('null', '""') then json_value(label_function_j, '$')
      when code_function_j not in ('null', '""') then json_value(code_function_j, '$')
    end as function,
    -- a line number is a whole number or its text; 0 and "" are false to Python, "0" is not. Python's `a or b`
    -- is b when a is false, even a false b: a source line of 0 stays 0
    case
      when label_line_j not in ('null', '""') and regexp_contains(label_line_j, r'^"|[1-9]') then json_value(label_line_j, '$')
      else json_value(code_line_j, '$')
    end as line_text,
    -- every field read is absent, null or a string (a line number may be a whole number)
    coalesce(
      (stamp_j is null or starts_with(stamp_j, '"'))
      and (received_j is null or received_j = 'null' or starts_with(received_j, '"'))
      and (revision_j is null or revision_j = 'null' or starts_with(revision_j, '"'))
      and (version_j is null or version_j = 'null' or starts_with(version_j, '"'))
      and (location_j is null or location_j = 'null' or starts_with(location_j, '"'))
      and (region_j is null or region_j = 'null' or starts_with(region_j, '"'))
      and (zone_j is null or zone_j = 'null' or starts_with(zone_j, '"'))
      and (log_name_j is null or log_name_j = 'null' or starts_with(log_name_j, '"'))
      and (resource_type_j is null or resource_type_j = 'null' or starts_with(resource_type_j, '"'))
      and (trace_j is null or trace_j = 'null' or starts_with(trace_j, '"'))
      and (location_of_code_j is null or location_of_code_j = 'null' or starts_with(location_of_code_j, '{'))
      and (label_module_j is null or label_module_j = 'null' or starts_with(label_module_j, '"'))
      and (label_function_j is null or label_function_j = 'null' or starts_with(label_function_j, '"'))
      and (code_file_j is null or code_file_j = 'null' or starts_with(code_file_j, '"'))
      and (code_function_j is null or code_function_j = 'null' or starts_with(code_function_j, '"'))
      and (logger_j is null or logger_j = 'null' or starts_with(logger_j, '"'))
      and (logger_name_j is null or logger_name_j = 'null' or starts_with(logger_name_j, '"'))
      and (payload_log_name_j is null or payload_log_name_j = 'null' or starts_with(payload_log_name_j, '"'))
      and (label_line_j is null or label_line_j = 'null' or regexp_contains(label_line_j, r'^("-?[0-9]{1,18}"|"")$|^-?[0-9]{1,18}$'))
      and (code_line_j is null or code_line_j = 'null' or regexp_contains(code_line_j, r'^("-?[0-9]{1,18}"|"")$|^-?[0-9]{1,18}$')),
      false
    ) as fields_plain
  from fields
), requests as (
  select
    *,
    -- a request log whose program wrote no message (textPayload and jsonPayload's message, msg and error absent,
    -- null or empty): Python's message is `METHOD /path STATUS`, each part '-' when empty, the path as urlsplit
    -- reads it from a URL of printable ASCII with a scheme and host or none (any other URL: NULL, read by Python)
    case
      when starts_with(http_j, '{')
        and coalesce(text_j, 'null') in ('null', '""')
        and (coalesce(payload_j, 'null') = 'null' or (starts_with(payload_j, '{')
          and coalesce(message_j, 'null') in ('null', '""') and coalesce(msg_j, 'null') in ('null', '""')
          and coalesce(error_j, 'null') in ('null', '""')))
        and ((starts_with(method_j, '"') and method_j <> '""') or (starts_with(url_j, '"') and url_j <> '""'))
      then concat(
        case when starts_with(method_j, '"') and method_j <> '""' then json_value(method_j, '$') else '-' end,
        ' ',
        case
          when coalesce(url_j, 'null') in ('null', '""') then '/'
          when regexp_contains(json_value(url_j, '$'), r'^[!-~]*$') and not starts_with(json_value(url_j, '$'), '//')
            and regexp_contains(json_value(url_j, '$'), r'^__URL_PATTERN__$')
            then coalesce(nullif(regexp_extract(json_value(url_j, '$'), r'__URL_PATH_PATTERN__'), ''), '/')
        end,
        ' ',
        case when http_status <> 0 then cast(http_status as string) else '-' end
      )
    end as request_message
  from read_as_python
), judged as (
  select
    *,
    case
      when starts_with(insert_id_j, '"') and insert_id_j <> '""' and copies = 1
        -- a time both read alike: RFC 3339 with at most microseconds (BigQuery's cast reads more shapes than Python)
        and regexp_contains(json_value(stamp_j, '$'), __TIME_PATTERN__)
        and safe_cast(json_value(stamp_j, '$') as timestamp) is not null
        and (
          received_j is null or received_j in ('null', '""')
          or (regexp_contains(json_value(received_j, '$'), __TIME_PATTERN__) and safe_cast(json_value(received_j, '$') as timestamp) is not null)
        )
        -- the structured logger's source location, which Python reads when the entry names none
        and not coalesce(strpos(payload_j, 'logging.googleapis.com') > 0, false)
        -- the service, window and severity floor (a sink's query chose them already; the Logging API's filter
        -- should have): any other entry is Python's to count
        and severity in unnest(@severities)
        and service = @service
        and safe_cast(json_value(stamp_j, '$') as timestamp) >= @window_start
        and safe_cast(json_value(stamp_j, '$') as timestamp) < @window_end
        and coalesce(written, request_message) is not null
        and char_length(coalesce(written, request_message)) <= __MAX_MESSAGE_CHARS__
        -- the payload keeps the whole entry (Python keeps its own writing of it, cut at 65,536 characters, which
        -- an escaped entry may exceed many times over), and fewer brackets than the depth limit
        and char_length(entry) <= 32768
        and char_length(entry) - char_length(replace(replace(entry, '{', ''), '[', '')) <= 64
        -- a request's fields as Python reads them: text, a whole status, a latency of seconds with at most nine
        -- decimals whose milliseconds are not half way between two thousandths (rounding could differ there)
        and (coalesce(http_j, 'null') = 'null' or (starts_with(http_j, '{')
          and (coalesce(method_j, 'null') = 'null' or starts_with(method_j, '"'))
          and (coalesce(url_j, 'null') = 'null' or starts_with(url_j, '"'))
          and (coalesce(status_j, 'null') = 'null' or http_status is not null)
          and (coalesce(latency_j, 'null') in ('null', '""')
            or abs(latency_seconds * 1e6 - floor(latency_seconds * 1e6) - 0.5) > 1e-4)))
        and fields_plain
        then 'kept'
      else 'python'
    end as verdict
  from requests
)
select
  verdict,
  position,
  case when verdict = 'python' then entry end as entry,
  json_value(insert_id_j, '$') as insert_id,
  safe_cast(json_value(stamp_j, '$') as timestamp) as timestamp,
  case when received_j not in ('null', '""') then safe_cast(json_value(received_j, '$') as timestamp) end as receive_timestamp,
  severity,
  service,
  case when revision_j not in ('null', '""') then json_value(revision_j, '$') else json_value(version_j, '$') end as revision,
  case
    when location_j not in ('null', '""') then json_value(location_j, '$')
    when region_j not in ('null', '""') then json_value(region_j, '$')
    else json_value(zone_j, '$')
  end as location,
  json_value(log_name_j, '$') as log_name,
  json_value(resource_type_j, '$') as resource_type,
  case
    when verdict = 'kept' then regexp_replace(coalesce(written, request_message), r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]', code_points_to_string([65533]))
  end as message,
  written is null and request_message is not null as is_request,
  json_value(method_j, '$') as http_method,
  json_value(url_j, '$') as http_url,
  http_status,
  round(latency_seconds * 1000.0, 3) as latency_ms,
  module,
  function,
  safe_cast(line_text as int64) as line,
  json_value(trace_j, '$') as trace,
  -- the entry as BigQuery writes it, cut where Python cuts its own writing of it
  case when verdict = 'kept' then substr(entry, 1, 65536) end as payload
from judged
