"""The fleet digest: one markdown page per fleet run, what changed across every service in the window."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

from log_gardener.tasks.measure import per_minute
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.redact import redact, redact_template
from log_gardener.tasks.worklog import inline

ATTENTION = ("escalated", "regressed", "new")
FLEET_FOLDER = "_fleet"


def _cell(text: str) -> str:
    return text.replace("|", "/")


def render_digest(
    window: Window, runs: list[dict], failed: list[dict], generated_at: datetime, folder: Path, not_run: list[dict] = ()
) -> str:
    """Services run (and how many logged nothing), failed and not run, then every new, escalated and regressed
    pattern, most urgent first.

    runs: `gardener run --json` objects; failed: `{service, error}`; not_run: `{service, reason}` (a listed name
    never seen); links to worklogs are relative to the digest.
    """
    lines = [
        f"# Fleet digest {window.start:%Y-%m-%d %H:%M}–{window.end:%H:%M} UTC",
        "",
        f"Generated {generated_at:%Y-%m-%d %H:%M} UTC. "
        f"{len(runs)} service{'' if len(runs) == 1 else 's'} run "
        f"({sum(1 for r in runs if not r['entries'])} without entries in the window), {len(failed)} failed.",
        "",
        "## Services",
        "",
        "| Service | Entries | Patterns | New | Escalated | Regressed | Worklog |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    here = folder / FLEET_FOLDER
    for run in sorted(runs, key=lambda r: r["service"]):
        statuses = [c["status"] for c in run["clusters"] if c["count"]]
        link = Path(os.path.relpath(Path(run["worklog"]).resolve(), here.resolve())).as_posix()
        lines.append(
            f"| {_cell(run['service'])} | {run['entries']} | {len(statuses)} | {statuses.count('new')} | "
            f"{statuses.count('escalated')} | {statuses.count('regressed')} | [worklog]({link}) |"
        )
    for item in failed:
        lines.append(f"| {_cell(item['service'])} | failed: {_cell(redact(item['error'])[:200])} | | | | | |")
    for item in not_run:
        lines.append(f"| {_cell(item['service'])} | {_cell(item['reason'])} | | | | | |")
    changes = [(run, c) for run in runs for c in run["clusters"] if c["status"] in ATTENTION and c["count"]]
    changes.sort(key=lambda rc: (rc[1]["priority"], ATTENTION.index(rc[1]["status"]), -rc[1]["count"], rc[0]["service"]))
    lines += ["", "## What needs a look", ""]
    if not changes:
        lines.append("Nothing new, escalated or regressed in any service.")
    else:
        lines += ["| Priority | Status | Service | Pattern | Rate | Issue |", "|---|---|---|---|---:|---|"]
        for run, c in changes:
            issue = c["issue"]
            ref = f"#{issue['number']} {issue['action']}" if issue["number"] else "-"
            if (issue.get("url") or "").startswith("http"):
                ref = f"[#{issue['number']}]({issue['url']}) {issue['action']}"
            text = c.get("headline") or redact_template(c["template"])
            lines.append(
                f"| {c['priority']} | {c['status']} | {_cell(run['service'])} | {inline(text, 100)} | {per_minute(c['rate_per_min'])} | {ref} |"
            )
    return "\n".join(lines) + "\n"


def listed_id(services: list[str] | None) -> str | None:
    """What names the digest of some `services` listed (8 hex digits of their names, in any order); None for all."""
    return None if services is None else hashlib.sha1(",".join(sorted(services)).encode()).hexdigest()[:8]


def write_digest(folder: Path, window: Window, markdown: str, services: list[str] | None = None) -> Path:
    """`<folder>/_fleet/<window>.md`, replaced by a rerun of the window; for some `services` listed,
    `<window>_some-<listed_id>.md`, so the digest of the whole fleet stays."""
    some = "" if services is None else f"_some-{listed_id(services)}"
    path = folder / FLEET_FOLDER / f"{window.label()}{some}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(markdown, encoding="utf-8")
    tmp.replace(path)
    return path
