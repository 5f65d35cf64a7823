"""What issues and comments say: titles, bodies, labels, and the console link of a pattern."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from log_gardener.tasks.headline import PLACEHOLDER_OR_REDACTED, affected_text, component, headline, source_text
from log_gardener.tasks.measure import PatternMeasure, per_minute
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.owners import owner_labels
from log_gardener.tasks.redact import redact, redact_template
from log_gardener.tasks.trackers import ACTION_MARKER, FINGERPRINT_MARKER
from log_gardener.tasks.vocabulary import Action

SAMPLE_KEYS = ("severity", "timestamp", "textPayload", "jsonPayload", "httpRequest", "protoPayload", "sourceLocation")


MAX_SAMPLE_CHARS = 8_000  # GitHub takes at most 65,536 characters per issue body or comment
MAX_BODY_CHARS = 60_000


def _capped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… [{len(text) - limit:,} more characters]"


def sample_json(payload: str | None) -> str:
    """A LogEntry trimmed to what a reader needs, redacted, as indented JSON, at most MAX_SAMPLE_CHARS."""
    try:
        entry = json.loads(payload or "{}")
    except json.JSONDecodeError:
        return _capped(redact(payload or ""), MAX_SAMPLE_CHARS)
    kept = {key: entry[key] for key in SAMPLE_KEYS if key in entry}
    return _capped(redact(json.dumps(kept, indent=2, ensure_ascii=False, sort_keys=True)), MAX_SAMPLE_CHARS)


def title(prefix: str, m: PatternMeasure) -> str:
    """`prefix | P | headline`; a pattern whose samples were not read is titled from its template alone."""
    return f"{prefix} | {m.priority} | {m.headline or headline(m, [])}"


def retitled(current: str, prefix: str, priority: str) -> str | None:
    """The title with its priority token set to `priority`, when it is still in the gardener's own format
    (`prefix | P | summary`) and says another priority; None leaves a title a person wrote alone."""
    match = re.fullmatch(rf"({re.escape(prefix)} \| )(P[0-4])( \| .*)", current, flags=re.S)
    if not match or match.group(2) == priority:
        return None
    return f"{match.group(1)}{priority}{match.group(3)}"


def labels(m: PatternMeasure, service: str) -> list[str]:
    result = {m.priority, m.severity.lower(), f"service:{service}", "log-gardener", *owner_labels(m.owner)}
    if component(m.module):
        result.add(f"component:{component(m.module)}"[:50])
    return sorted(result)


def console_link(m: PatternMeasure, service: str, project: str | None, window: Window) -> str:
    """A Cloud Logging console link whose query finds this pattern in this window.

    Its terms are the pattern's search terms (strings in every sample entry); a pattern without samples
    uses the longest constant stretch of its redacted template. A secret never goes into a link.
    """
    terms = m.search_terms
    if not terms:
        constant = max(PLACEHOLDER_OR_REDACTED.split(redact_template(m.template)), key=len).strip()[:80]
        terms = [constant] if constant else []
    query = f'resource.labels.service_name="{service}"\nseverity>=WARNING'
    for term in terms:
        escaped = term.replace("\\", "\\\\").replace('"', '\\"')
        query += f'\n"{escaped}"'
    time_range = f"{window.start:%Y-%m-%dT%H:%M:%SZ}/{window.end:%Y-%m-%dT%H:%M:%SZ}"
    link = f"https://console.cloud.google.com/logs/query;query={quote(query, safe='')};timeRange={quote(time_range, safe='')}"
    return link + (f"?project={quote(project)}" if project else "")


def facts_table(m: PatternMeasure, service: str, context: dict, window: Window) -> str:
    baseline = f"{per_minute(m.baseline_rate_per_min)}" if m.baseline_rate_per_min is not None else "none yet"
    ratio = f"x{m.ratio:g}" if m.ratio is not None else "n/a"
    rows = [
        ("Service", service),
        ("Severity", f"{m.severity} (warning {m.warning_count}, error {m.error_count}, critical {m.critical_count})"),
        ("Window", f"{window.start:%Y-%m-%d %H:%M} to {window.end:%H:%M} UTC"),
        ("Count", f"{m.count} ({per_minute(m.rate_per_min)})"),
        ("Baseline", f"{baseline}, ratio {ratio}"),
        ("First / last seen", f"{_ts(m.first_seen)} / {_ts(m.last_seen)}"),
        ("Source", source_text(m)),
        ("Revision", _revision(m, context)),
        ("Affected", affected_text(m)),
        ("Owner", _owner(m)),
        ("Location", context.get("location") or "-"),
        ("Priority", f"{m.priority} ({m.reason})" if m.reason else m.priority),
    ]
    lines = ["| | |", "|---|---|"] + [f"| {k} | {redact(str(v)).replace('|', '/')} |" for k, v in rows]
    return "\n".join(lines)


def _owner(m: PatternMeasure) -> str:
    if m.owner is None:
        return "-"
    who = ", ".join(f"@{login}" for login in m.owner.assignees)
    return " ".join(part for part in (f"team {m.owner.team}" if m.owner.team else "", f"({who})" if who else "") if part) or "-"


def _revision(m: PatternMeasure, context: dict) -> str:
    if not m.first_revision:
        return context.get("revision") or "-"
    if m.revision_is_new and m.revision_first_seen is not None:
        return f"{m.first_revision} (new: first seen {m.revision_first_seen:%Y-%m-%d %H:%M} UTC)"
    return m.first_revision


def _ts(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if hasattr(value, "strftime") else "-"


def issue_body(
    m: PatternMeasure,
    service: str,
    context: dict,
    window: Window,
    samples: list[str],
    project: str | None,
    related: list[int] | None = None,
) -> str:
    parts = [
        f"Log Gardener found a new log pattern in `{service}`.",
        "",
        facts_table(m, service, context, window),
        "",
        "**Pattern**",
        "```",
        redact_template(m.template),
        "```",
        "",
        "**Sample entries** (redacted)",
    ]
    for sample in samples[:2]:
        parts += ["```json", sample, "```"]
    if m.regrouped_from:
        issue = f" (#{m.regrouped_issue})" if m.regrouped_issue else ""
        parts += ["", f"**Split off** pattern `{m.regrouped_from}`{issue} by the rules file's `[grouping]` rules."]
    if related:
        parts += ["", "**Related Log Gardener issues** (same component): " + ", ".join(f"#{n}" for n in sorted(related))]
    parts += [
        "",
        f"[Open these logs in Cloud Logging]({console_link(m, service, project, window)})",
        "",
        FINGERPRINT_MARKER.format(fingerprint=m.fingerprint),
    ]
    return "\n".join(parts)


def action_headline(action: Action, m: PatternMeasure, reason: str, quiet_after_windows: int, close_quiet: bool) -> str:
    """The first line of the comment an action posts: what happened to the issue, and why."""
    if action == Action.LINK:
        return (
            f"**Log Gardener links pattern `{m.fingerprint}` to this issue** ({reason}); updates about it will be posted here."
            f"\n\n{FINGERPRINT_MARKER.format(fingerprint=m.fingerprint)}"
        )
    if action == Action.ESCALATE:
        return f"**Escalated**: {m.reason}."
    if action == Action.DEESCALATE:
        return f"**De-escalated**: {m.reason}."
    if action == Action.REOPEN:
        return f"**Regressed**: {m.reason}. Reopening."
    if action == Action.QUIET:
        return f"**Quiet**: no entries for {quiet_after_windows} window(s)" + (", closing." if close_quiet else "; labelled `quiet`.")
    return f"**Still happening**: {reason}."


def comment_body(m: PatternMeasure, service: str, context: dict, window: Window, samples: list[str], action_key: str, headline: str) -> str:
    parts = [headline, "", facts_table(m, service, context, window), ""]
    if samples:
        parts += ["**Latest sample** (redacted)", "```json", samples[0], "```", ""]
    parts.append(ACTION_MARKER.format(key=action_key))
    return "\n".join(parts)
