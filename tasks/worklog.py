"""The worklog: a markdown record of one run that a person wants to read."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from log_gardener.tasks.headline import affected_text, source_text
from log_gardener.tasks.measure import PatternMeasure, baseline_name, per_minute
from log_gardener.tasks.normalise import Window, severity_name
from log_gardener.tasks.redact import redact, redact_template
from log_gardener.tasks.vocabulary import Action, Status

STATUS_MARK = {
    Status.NEW: "🆕 new",
    Status.ESCALATED: "🔺 escalated",
    Status.REGRESSED: "↩️ regressed",
    Status.QUIET: "💤 quiet",
    Status.ONGOING: "ongoing",
}
ACTION_TEXT = {
    Action.CREATE: "Created issue {ref}",
    Action.ESCALATE: "Escalated issue {ref}: comment added, priority label swapped",
    Action.REOPEN: "Reopened issue {ref} with a regression comment",
    Action.LINK: "Linked to existing issue {ref} (filed by a person)",
    Action.QUIET: "Commented on issue {ref} and labelled it quiet",
    Action.UPDATE: "Posted a periodic update on issue {ref}",
    Action.DEESCALATE: "De-escalated issue {ref}: comment added, priority label lowered",
    Action.NONE: "No change needed{on}",
}
STATUS_ORDER = (Status.NEW, Status.ESCALATED, Status.REGRESSED, Status.ONGOING, Status.QUIET)
ACTION_NAMES = {
    Action.CREATE: "created",
    Action.LINK: "linked",
    Action.ESCALATE: "escalated",
    Action.REOPEN: "reopened",
    Action.QUIET: "marked quiet",
    Action.UPDATE: "updated",
    Action.DEESCALATE: "de-escalated",
}

GENERATED = "**Generated:** "
TIMINGS = "*Stage timings (before writing this worklog): "
ALREADY_APPLIED = " (already applied by an earlier run of this window)"


def inline(text: str, limit: int) -> str:
    """A template as an inline code span: placeholders such as <STR> render as written, never as HTML; cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`") else f"{fence}{text}{fence}"


def _rate(value: float | None) -> str:
    return "-" if value is None else per_minute(value)


def _change(m: PatternMeasure) -> str:
    if m.baseline_rate_per_min is None:
        return "no baseline yet"
    if m.ratio is None:
        return f"new against a baseline of {_rate(m.baseline_rate_per_min)}" if m.count else "-"
    return f"x{m.ratio:g} vs {_rate(m.baseline_rate_per_min)}"


def action_text(m: PatternMeasure) -> str:
    ref = m.issue.ref
    text = ACTION_TEXT[m.issue.action].format(ref=ref, on=f" (issue {ref})" if m.issue.number else "")
    if m.issue.already_applied:
        text += ALREADY_APPLIED
    return text


def _reported_before(earlier: Counter) -> str:
    """`2 rejected lines listed before, in the worklog of svc for 2025-09-15 00:00 to 01:00 UTC`, one part per run."""
    total = sum(earlier.values())
    places = []
    for (service, start, end), count in sorted(earlier.items(), key=lambda item: (item[0][1] is None, item[0][1] or 0, str(item[0][0]))):
        if service:
            until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
            place = f"{service} for {start:%Y-%m-%d %H:%M} to {until} UTC"
        else:
            place = "an earlier run no longer on record"
        places.append(place + (f" ({count})" if len(earlier) > 1 else ""))
    return f"{total} rejected line{'' if total == 1 else 's'} listed before, in the worklog of " + "; ".join(places)


def render(
    *,
    service: str,
    window: Window,
    run_id: str,
    generated_at: datetime,
    source: str,
    tracker: str,
    stats: dict[str, int],
    measures: list[PatternMeasure],
    samples: dict[str, list[str]],
    context: list[dict],
    rejections: list,
    published: bool = True,
    timings: dict[str, float] | None = None,
    min_severity: str = "WARNING",
    reported_before: Mapping[str, tuple] | None = None,
) -> str:
    """Markdown for one run: summary, table, a section per pattern, actions, technical context.

    A rejection in `reported_before` (its id: the service and window of the run that recorded it first) is
    named by where it was listed, not listed again.
    """
    reported_before = reported_before or {}
    earlier = Counter(reported_before[r.rejection_id] for r in rejections if r.rejection_id in reported_before)
    rejections = [r for r in rejections if r.rejection_id not in reported_before]
    active = [m for m in measures if m.count]
    by_status = {s: [m for m in measures if m.status == s] for s in STATUS_MARK}
    actions = [m for m in measures if m.issue.action != Action.NONE]
    lines = [
        f"# Log Gardener worklog: {service}, {window.start:%Y-%m-%d %H:%M} to {window.end:%H:%M} UTC",
        "",
        f"**Window:** {window.start.isoformat()} to {window.end.isoformat()} (half-open, {window.minutes:g} min)  ",
        f"**Service:** {service}  ",
        f"{GENERATED}{generated_at:%Y-%m-%d %H:%M:%S} UTC, run `{run_id}`  ",
        f"**Source:** {source}  ",
        f"**Tracker:** {tracker}",
        "",
        "## Summary",
        "",
        f"Collected {stats.get('kept', 0)} entries at {severity_name(min_severity)} or above ({stats.get('read', 0)} read; "
        f"skipped {stats.get('other_service', 0)} of other services, {stats.get('outside_window', 0)} outside the window, "
        f"{stats.get('below_severity', 0)} below the severity floor; rejected {stats.get('rejected', 0)}). "
        f"They form {len(active)} pattern{'' if len(active) == 1 else 's'}: "
        + ", ".join(f"{len(by_status[s])} {s}" for s in STATUS_ORDER if by_status[s])
        + ("." if active or by_status[Status.QUIET] else "none."),
        "",
    ]
    if measures:
        lines += [
            # what decides first, so it fits a narrow panel; the long pattern text last
            "| # | Status | Priority | Issue | Count | Rate | Change | Severity | Pattern |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for i, m in enumerate(measures, 1):
            template = redact_template(m.template).replace("|", "\\|")
            template = template if len(template) <= 70 else template[:69] + "…"
            priority = m.priority if m.previous_priority in (None, m.priority) else f"{m.previous_priority} → {m.priority}"
            status = STATUS_MARK[m.status] + (" (muted)" if m.mute else "")
            lines.append(
                f"| {i} | {status} | {priority} | {m.issue.ref} {m.issue.action} | {m.count} | {_rate(m.rate_per_min)} | "
                f"{_change(m)} | {m.severity} | `{template}` |"
            )
        lines.append("")
    lines += ["## Patterns", ""]
    for i, m in enumerate(measures, 1):
        lines += [
            f"### {i}. {inline(redact_template(m.template), 120)}",
            "",
            f"- **Status:** {STATUS_MARK[m.status]}, priority {m.priority}"
            + (f" (was {m.previous_priority})" if m.previous_priority and m.previous_priority != m.priority else "")
            + (f"; {m.mute}" if m.mute else ""),
            f"- **Why:** {m.reason}" if m.reason else "- **Why:** -",
            f"- **Severity:** {m.severity} (warning {m.warning_count}, error {m.error_count}, critical {m.critical_count})",
            f"- **Frequency:** {m.count} entries, {_rate(m.rate_per_min)}; baseline {_rate(m.baseline_rate_per_min)}"
            + (f" ({baseline_name(m.baseline_kind, m.baseline_windows)})" if m.baseline_windows else "")
            + f"; change: {_change(m)}"
            + (f", p={m.p_value:.2g}" if m.p_value is not None and m.count else ""),
        ]
        if m.first_seen is not None:
            lines.append(f"- **Seen:** {m.first_seen:%H:%M:%S} to {m.last_seen:%H:%M:%S} UTC")
        if m.module or m.function:
            lines.append(f"- **Source:** `{source_text(m)}`")
        if m.owner is not None and (m.owner.team or m.owner.assignees):
            who = ", ".join(f"@{login}" for login in m.owner.assignees)
            lines.append(f"- **Owner:** {' '.join(p for p in (m.owner.team or '', f'({who})' if who else '') if p)}")
        if m.count:
            lines.append(f"- **Affected:** {affected_text(m)}")
        if m.first_revision:
            seen_in = f" (seen in {', '.join(m.revisions)})" if len(m.revisions) > 1 else ""
            new = " — new in this window" if m.revision_is_new else ""
            lines.append(f"- **Revision:** `{m.first_revision}`{new}{seen_in}")
        lines += [f"- **Fingerprint:** `{m.fingerprint}`", f"- **Issue action:** {action_text(m)}", ""]
        lines += ["**Pattern:**", "```", redact_template(m.template), "```", ""]
        for sample in samples.get(m.fingerprint, [])[:1]:
            lines += ["**Sample entry:**", "```json", sample, "```", ""]
    lines += ["## Issue actions", ""]
    tally = {}
    for m in actions:
        tally[m.issue.action] = tally.get(m.issue.action, 0) + 1
    escalations = [m for m in measures if m.status == Status.ESCALATED]
    lines += [
        (
            "**Totals:** " + ", ".join(f"{n} {ACTION_NAMES.get(a, a)}" for a, n in sorted(tally.items()))
            if tally
            else "**Totals:** no tracker changes"
        )
        + "  ",
        f"**Priority escalations:** {len(escalations)}"
        + (
            " (" + "; ".join(f"{m.previous_priority} → {m.priority}: {inline(redact_template(m.template), 60)}" for m in escalations) + ")"
            if escalations
            else ""
        ),
        "",
    ]
    if actions:
        lines += [f"- {action_text(m)}: {inline(redact_template(m.template), 80)} ({m.reason})" for m in actions]
    else:
        lines.append("- No tracker changes in this run.")
    lines += ["", "## Technical context", ""]
    if context:
        for c in context:
            lines.append(
                f"- **Revision:** {c.get('revision') or '-'}, **location:** {c.get('location') or '-'}, "
                f"**resource:** {c.get('resource_type') or '-'}: {c.get('entries')} entries"
            )
    else:
        lines.append("- No entries in this window.")
    lines += [
        "",
        "## Processing status",
        "",
        f"- [x] Logs collected for {window.start.isoformat()} to {window.end.isoformat()}: {stats.get('kept', 0)} entries",
        f"- [x] {len(active)} pattern{'' if len(active) == 1 else 's'} identified and measured against the baseline",
        f"- [x] Tracker updated: {len(actions) or 'no'} action{'' if len(actions) == 1 else 's'}"
        if published
        else "- [ ] Tracker not updated (publishing off)",
        f"- [{'x' if not rejections else ' '}] No {'new ' if earlier else ''}rejected input"
        + (f" ({len(rejections)} rejected, see below)" if rejections else "")
        + (f"; {_reported_before(earlier)}" if earlier else ""),
    ]
    if rejections:
        lines += ["", "## Rejected input", ""]
        for r in rejections[:20]:
            # a reason quotes the value it could not read, which may be anything a log line holds
            lines.append(f"- {redact(r.location)}: {redact(r.reason)}")
        if len(rejections) > 20:
            lines.append(f"- … and {len(rejections) - 20} more (table `rejected_entries`)")
    if timings:
        stages = ", ".join(f"{stage.replace('_', ' ')} {seconds:.2f} s" for stage, seconds in timings.items())
        lines += ["", "---", "", f"{TIMINGS}{stages}.*"]
    lines.append("")
    return "\n".join(lines)


def facts(markdown: str) -> str:
    """What a worklog says of its window: without the run that wrote it (when, which run, its stage timings, and
    whether its actions were applied by an earlier run), so two runs of one window compare equal."""
    kept = [line for line in markdown.splitlines() if not line.startswith((GENERATED, TIMINGS))]
    return "\n".join(kept).replace(ALREADY_APPLIED, "")


# a plain file name, as every Cloud Run service's is: the folder is the service's name as it is
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def service_folder(service: str) -> str:
    """The folder of a service's worklogs (locally and in a worklog repository): its name when that is a plain file
    name; else `_`, that name with every other character as `_`, and 8 hex digits of its hash to keep two such names
    apart. A name read from log content can thus never reach outside the worklogs' folder (`../x`, `/tmp/x`), nor
    the fleet digests' `_fleet`."""
    if _PLAIN_NAME.fullmatch(service):
        return service
    # opened by `_`, which no plain name opens with: never another service's folder
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", service)[:80].lstrip("._")
    return f"_{cleaned}-{hashlib.sha256(service.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def write(root: Path, service: str, window: Window, markdown: str) -> Path:
    path = Path(root) / service_folder(service) / f"{window.label()}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown, encoding="utf-8")
    return path
