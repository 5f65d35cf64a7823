-- Each rules-file mute of one service's patterns: the window it began in, the rate then, and the window
-- an escalation ended it in (null while it holds). A mute's start is recorded once, so its rate is one value.
select
  fingerprint,
  mute_key,
  min(case when event = 'start' then window_start end) as started,
  max(case when event = 'start' then rate_per_min end) as rate_at_start,
  min(case when event = 'end' then window_start end) as ended
from mute_events
where service = @service
group by fingerprint, mute_key
