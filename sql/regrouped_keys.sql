-- Where the rules file's [grouping] rules change what a message is grouped by: for each key they make, the
-- key the built-in masking alone makes, with entries. Their patterns inherit the fingerprints of those keys.
with keyed as (
  select
    case
      when http_status is not null and message = concat(pattern_text, ' ', cast(http_status as string))
        then concat(group_message(pattern_text), ' ', cast(http_status as string))
      else group_message(pattern_text)
    end as masked_message,
    case
      when http_status is not null and message = concat(pattern_text, ' ', cast(http_status as string))
        then concat(mask_message(pattern_text), ' ', cast(http_status as string))
      else mask_message(pattern_text)
    end as plain_message
  from log_entries
  where service = @service
    and timestamp >= @window_start
    and timestamp < @window_end
    and severity in unnest(@severities)
)

select masked_message, plain_message, count(*) as entries
from keyed
where masked_message != plain_message
group by masked_message, plain_message
