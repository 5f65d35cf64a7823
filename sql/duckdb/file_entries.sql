-- DuckDB only: sort every line of a log file ($path) into a verdict, and compute the
-- columns of log_entries for the kept ones. A line whose reading could differ from tasks/normalise.py in
-- any way gets the verdict 'python' and is read there. The order of the checks is the order of
-- tasks/extract.py: service, timestamp, window, severity, then the entry itself.
-- Placeholders filled by tasks/file_extract.py: the fields read (t[i] and s[i] are the JSON type and the text
-- of FIELDS[i - 1] there; the last type, __ENTRY_TYPE__, is the entry's own), a request's fields, the severity
-- ranks, the message size limit and the URL patterns the BigQuery judging shares (tasks/normalise.py); the
-- macros gardener_truthy, gardener_time, gardener_keys_once and gardener_blank are defined there too.
create or replace temp table _gardener_file_entries as
with numbered as (
  -- every line (file_lines.sql); a line keeps its spaces and byte-order mark (JSON reads past spaces; a mark
  -- sends the line to Python). A line is known by its hash and length, not its position: numbering
  -- the lines here would hold the whole query to one thread, so file_entries_positions.sql numbers them apart
  select hash(line) as line_hash, strlen(line) as line_chars, line as text
  from __LINES__
), fields as (
  select
    line_hash,
    line_chars,
    text,
    -- one pass for the types, the last one the entry's own (not JSON at all: NULL)
    try(json_type(text, [__FIELD_PATHS__, '$'])) as t,
    -- one more for the texts, of an object only (a large object's text is not copied: '$.none' stands for it)
    case when __ENTRY_TYPE__ = 'OBJECT' then json_extract_string(text, [__FIELD_TEXT_PATHS__]) end as s
  from numbered
), typed as (
  select
    *,
    coalesce(__ENTRY_TYPE__ = 'OBJECT', false) as is_object,
    -- the objects a line's verdict is read from (and its insertId) hold each key once; the objects read from a
    -- kept entry only are checked in `messaged`, for the lines that get that far
    case when __ENTRY_TYPE__ = 'OBJECT' then gardener_keys_once(text, ['$', '$.resource', '$.resource.labels']) end
      as verdict_keys_unique,
    -- a field read as Python would: absent, null or a string (numbers and containers go to Python)
    list_bool_and([coalesce(t[i], 'NULL') in ('NULL', 'VARCHAR') for i in [15, 16, 17, 18, 19]]) as service_plain,
    coalesce(t[12], 'NULL') in ('NULL', 'OBJECT') and coalesce(t[14], 'NULL') in ('NULL', 'OBJECT') as resource_plain,
    case
      when gardener_truthy(t[15], s[15]) then s[15]
      when gardener_truthy(t[16], s[16]) then s[16]
      when gardener_truthy(t[17], s[17]) then s[17]
      when gardener_truthy(t[18], s[18]) then s[18]
      when gardener_truthy(t[19], s[19]) then s[19]
    end as owner,
    coalesce(t[2], 'NULL') in ('NULL', 'VARCHAR') and coalesce(t[3], 'NULL') in ('NULL', 'VARCHAR') as stamps_plain,
    case when gardener_truthy(t[2], s[2]) then s[2] when gardener_truthy(t[3], s[3]) then s[3] end as stamp,
    case when gardener_truthy(t[3], s[3]) then s[3] end as received_text,
    case
      when coalesce(t[4], 'NULL') = 'NULL' or (t[4] = 'VARCHAR' and s[4] = '') then 0
      when t[4] = 'VARCHAR' then __SEVERITY_RANK__
    end as severity_rank
  from fields
), stamped as (
  select
    *,
    gardener_time(stamp) as ts
  from typed
), screened as (
  -- the verdicts every line needs, in Python's order; NULL for a line that reaches the entry itself. What
  -- follows is computed for those lines only (each CASE below opens with `early is not null`), since most
  -- lines of a busy hour are skipped here
  select
    *,
    case
      -- counted apart: Python skips it, and a file without one numbers its lines as it counts its entries
      when gardener_blank(text) then 'blank'
      -- a line Python would read as blank (Unicode spaces alone) would shift every position after it
      when not regexp_matches(text, '[!-~]') then 'odd'
      -- nested deeper than Python's decoder may go: Python reads it (and may reject it), never skipped here
      when strlen(text) > 2 * __PYTHON_BRACKETS__
        and strlen(text) - strlen(replace(replace(text, '{', ''), '[', '')) > __PYTHON_BRACKETS__ then 'python'
      when not is_object or not resource_plain or not service_plain then 'python'
      -- JSON that DuckDB reads and Python does not (a trailing comma, bare nan or inf), or reads otherwise (a key
      -- twice in one object: DuckDB takes the first, Python the last). One pattern per character a value follows:
      -- a pattern that opens with one character is searched for as that character, many times faster
      when regexp_matches(text, ',\s*([}\]]|[-+]?(?i:nan|inf|infinity)\s*[,}\]])')
        or regexp_matches(text, ':\s*[-+]?(?i:nan|inf|infinity)\s*[,}\]]')
        or regexp_matches(text, '\[\s*[-+]?(?i:nan|inf|infinity)\s*[,}\]]') then 'python'
      -- a run of more digits than Python converts to an integer (a number Python cannot read, or text it can)
      when __LONG_DIGITS__ then 'python'
      when not verdict_keys_unique then 'python'
      when owner is not null and owner <> $service then 'other_service'
      when not stamps_plain or ts is null then 'python'
      when ts < $window_start or ts >= $window_end then 'outside_window'
      when severity_rank is null then 'python'
      when severity_rank < $floor then 'below_severity'
    end as early
  from stamped
), requested as (
  -- a request's method, URL, status and latency: types and texts, read only from an entry with a request that
  -- gets past the skip verdicts (most request logs of a busy hour are below the severity floor)
  select
    *,
    case when early is null and t[25] = 'OBJECT' then json_type(text, [__REQUEST_PATHS__]) end as ht,
    case when early is null and t[25] = 'OBJECT' then json_extract_string(text, [__REQUEST_PATHS__]) end as hs
  from screened
), messaged as (
  select
    *,
    -- textPayload, else the first of jsonPayload's message, msg and error that holds text; a value whose
    -- text Python might read as blank (no printable ASCII character) is left to Python
    case
      when early is not null then null
      when t[7] = 'VARCHAR' and regexp_matches(s[7], '[!-~]') then s[7]
      when t[7] = 'VARCHAR' and s[7] <> '' then null
      when t[11] <> 'OBJECT' then null
      when t[8] = 'VARCHAR' and regexp_matches(s[8], '[!-~]') then s[8]
      when t[8] = 'VARCHAR' and s[8] <> '' then null
      when t[9] = 'VARCHAR' and regexp_matches(s[9], '[!-~]') then s[9]
      when t[9] = 'VARCHAR' and s[9] <> '' then null
      when t[10] = 'VARCHAR' and regexp_matches(s[10], '[!-~]') then s[10]
    end as written,
    -- a request log whose program wrote no message (textPayload and jsonPayload's fields absent, null or empty):
    -- Python's message is `METHOD /path STATUS`, each part '-' when empty, the path as urlsplit reads it from a
    -- URL of printable ASCII with a scheme and host or none (any other URL: NULL, and Python reads the entry)
    case
      when early is not null or coalesce(t[25], 'NULL') <> 'OBJECT' then null
      when not (coalesce(t[7], 'NULL') = 'NULL' or (t[7] = 'VARCHAR' and s[7] = '')) then null
      when not (coalesce(t[11], 'NULL') = 'NULL' or (t[11] = 'OBJECT'
        and list_bool_and([coalesce(t[i], 'NULL') = 'NULL' or (t[i] = 'VARCHAR' and s[i] = '') for i in [8, 9, 10]]))) then null
      when not (gardener_truthy(ht[1], hs[1]) or gardener_truthy(ht[2], hs[2])) then null
      else case when gardener_truthy(ht[1], hs[1]) then hs[1] else '-' end
        || ' ' || case
          when coalesce(hs[2], '') = '' then '/'
          when regexp_full_match(hs[2], '[!-~]*') and not starts_with(hs[2], '//')
            and regexp_full_match(hs[2], '__URL_PATTERN__')
            then coalesce(nullif(regexp_extract(hs[2], '__URL_PATH_PATTERN__', 1), ''), '/')
        end
        || ' ' || case when gardener_truthy(ht[3], hs[3]) then hs[3] else '-' end
    end as request_message,
    -- where the source location comes from: the entry's, else the one in jsonPayload (an empty one counts as none)
    case
      when early is not null then null
      when t[26] = 'OBJECT' and s[26] <> '{}' then 'entry'
      when t[11] = 'OBJECT' and t[27] = 'OBJECT' and s[27] <> '{}' then 'payload'
    end as location_from,
    t[11] = 'OBJECT' and t[28] = 'OBJECT' as has_labels,
    case when early is null then gardener_keys_once(text, [
      '$.jsonPayload', '$.jsonPayload.labels', '$.sourceLocation', '$.jsonPayload."logging.googleapis.com/sourceLocation"',
      '$.httpRequest'
    ]) end as entry_keys_unique,
    -- a request's latency as SQL reads it: seconds with at most nine decimals (any other text: NULL)
    case when ht[4] = 'VARCHAR' and regexp_full_match(hs[4], '\d{1,5}(\.\d{1,9})?s') then try_cast(rtrim(hs[4], 's') as double) end
      as latency_seconds
  from requested
), located as (
  select
    *,
    case location_from when 'entry' then 32 when 'payload' then 35 end as loc_at,
    -- every source-location field is absent, null, a string or a whole number
    case when early is null then list_bool_and([coalesce(t[i], 'NULL') in ('NULL', 'VARCHAR', 'BIGINT', 'UBIGINT') for i in [29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]])
      and coalesce(t[26], 'NULL') in ('NULL', 'OBJECT') and coalesce(t[27], 'NULL') in ('NULL', 'OBJECT') end as location_plain
  from messaged
), sourced as (
  select
    *,
    case
      when early is not null then null
      when has_labels and gardener_truthy(t[29], s[29]) then s[29]
      when loc_at is not null and gardener_truthy(t[loc_at], s[loc_at]) then s[loc_at]
      -- else the logger's name, when it is a string
      when t[11] = 'OBJECT' then case
        when gardener_truthy(t[38], s[38]) then case when t[38] = 'VARCHAR' then s[38] end
        when gardener_truthy(t[39], s[39]) then case when t[39] = 'VARCHAR' then s[39] end
        when gardener_truthy(t[40], s[40]) and t[40] = 'VARCHAR' then s[40]
      end
    end as module,
    case
      when early is not null then null
      when has_labels and gardener_truthy(t[30], s[30]) then s[30]
      when loc_at is not null and gardener_truthy(t[loc_at + 1], s[loc_at + 1]) then s[loc_at + 1]
    end as function,
    case
      when early is not null then null
      when has_labels and gardener_truthy(t[31], s[31]) then s[31]
      -- Python's `a or b` is b when a is false, even a false b: a line of 0 stays 0
      when loc_at is not null then s[loc_at + 2]
    end as line_text,
    -- read once, for the verdict and the column
    case when early is null then gardener_time(received_text) end as received_ts
  from located
), judged as (
select
  line_hash,
  line_chars,
  case
    when early is not null then early
    when owner is not null
      and entry_keys_unique
      -- Python stores its dump of the entry cut at 65,536 characters; a dump is at most twice the line
      and strlen(text) <= 32768
      -- fewer brackets than the depth limit: the entry cannot nest deeper than it
      and strlen(text) - strlen(replace(replace(text, '{', ''), '[', '')) <= 64
      -- escapes of lone surrogates or NUL need Python's cleaning
      and not regexp_matches(text, '\\u[dD][89a-fA-F]|\\u0000')
      and t[1] = 'VARCHAR' and s[1] <> ''
      and (received_text is null or received_ts is not null)
      and coalesce(t[5], 'NULL') in ('NULL', 'VARCHAR')
      and coalesce(t[6], 'NULL') in ('NULL', 'VARCHAR')
      and coalesce(t[13], 'NULL') in ('NULL', 'VARCHAR')
      and list_bool_and([coalesce(t[i], 'NULL') in ('NULL', 'VARCHAR') for i in [20, 21, 22, 23, 24]])
      -- a request's fields as Python reads them: text, a whole status, a latency of seconds with at most nine
      -- decimals whose milliseconds are not half way between two thousandths (rounding could differ there)
      and (coalesce(t[25], 'NULL') = 'NULL' or (t[25] = 'OBJECT'
        and coalesce(ht[1], 'NULL') in ('NULL', 'VARCHAR')
        and coalesce(ht[2], 'NULL') in ('NULL', 'VARCHAR')
        and (coalesce(ht[3], 'NULL') = 'NULL' or (ht[3] in ('BIGINT', 'UBIGINT') and try_cast(hs[3] as bigint) is not null))
        and (coalesce(ht[4], 'NULL') = 'NULL' or (ht[4] = 'VARCHAR' and (hs[4] = ''
          or abs(latency_seconds * 1e6 - floor(latency_seconds * 1e6) - 0.5) > 1e-4)))))
      and coalesce(written, request_message) is not null
      and strlen(coalesce(written, request_message)) <= __MAX_MESSAGE_CHARS__
      and location_plain
      and (line_text is null or regexp_full_match(line_text, '-?\d{1,18}'))
      then 'kept'
    else 'python'
  end as verdict,
  s[1] as insert_id,
  -- false: an object holds a key twice, so the insertId SQL read may not be the one Python reads
  verdict_keys_unique as keys_unique,
  ts as timestamp,
  received_text,
  received_ts,
  case
    when severity_rank >= 800 then 'EMERGENCY' when severity_rank >= 700 then 'ALERT'
    when severity_rank >= 600 then 'CRITICAL' when severity_rank >= 500 then 'ERROR'
    when severity_rank >= 400 then 'WARNING' when severity_rank >= 300 then 'NOTICE'
    when severity_rank >= 200 then 'INFO' when severity_rank >= 100 then 'DEBUG' else 'DEFAULT'
  end as severity,
  owner as service,
  case when s[20] <> '' then s[20] else s[21] end as revision,
  case when s[22] <> '' then s[22] when s[23] <> '' then s[23] else s[24] end as location,
  s[5] as log_name,
  s[13] as resource_type,
  regexp_replace(coalesce(written, request_message), '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]', chr(65533), 'g') as message,
  written is null and request_message is not null as is_request,
  hs[1] as http_method,
  hs[2] as http_url,
  case when ht[3] in ('BIGINT', 'UBIGINT') then try_cast(hs[3] as bigint) end as http_status,
  round(latency_seconds * 1000.0, 3) as latency_ms,
  module,
  function,
  try_cast(line_text as bigint) as line,
  s[6] as trace,
  text as payload
from sourced
)
-- only a kept line carries its columns on, and a line left to Python its insertId and text: the others are
-- counted (most lines of a busy hour are skipped, and the table then holds little more than them)
select
  line_hash,
  line_chars,
  verdict,
  keys_unique,
  case when verdict in ('kept', 'python') then insert_id end as insert_id,
  case when verdict = 'kept' then columns(* exclude (line_hash, line_chars, verdict, keys_unique, insert_id, received_text, received_ts)) end,
  case when verdict = 'kept' then received_ts end as receive_timestamp,
  case when verdict = 'python' then payload end as python_text
from judged
