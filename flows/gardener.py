"""The hourly gardener flow: one service, one window, the pipeline of DESIGN.md."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.context import get_run_context
from prefect.exceptions import ObjectNotFound

from log_gardener.tasks import issue_text, matching, publish, worklog
from log_gardener.tasks.extract import Extracted, extract
from log_gardener.tasks.group import cluster_and_identify, grouped_messages
from log_gardener.tasks.history import load_history
from log_gardener.tasks.load import load
from log_gardener.tasks.measure import PatternMeasure, aggregate, prioritise
from log_gardener.tasks.normalise import Window, severity_name
from log_gardener.tasks.redact import redact
from log_gardener.tasks.rules import Rules, load_rules
from log_gardener.tasks.sources import open_source
from log_gardener.tasks.trackers import Tracker, open_tracker
from log_gardener.tasks.warehouses import DEFAULT_WAREHOUSE, Warehouse, open_warehouse

extract_task = task(extract, name="extract", cache_policy=NO_CACHE)
load_task = task(load, name="load", cache_policy=NO_CACHE)
group_task = task(grouped_messages, name="mask-and-group", cache_policy=NO_CACHE)
identify_task = task(cluster_and_identify, name="cluster-and-identify", cache_policy=NO_CACHE)
history_task = task(load_history, name="baseline", cache_policy=NO_CACHE)


def service_lock_name(service: str) -> str:
    return "gardener-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in service.lower())[:100]


def ensure_service_lock(service: str) -> str:
    """A global concurrency limit of 1 per service, so two runs of a service never overlap."""
    name = service_lock_name(service)
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
            except Exception:  # created meanwhile by a parallel run
                client.read_global_concurrency_limit_by_name(name)
    return name


def _run_id() -> str:
    try:
        return str(get_run_context().flow_run.id)
    except Exception:  # called outside a flow run (plain function call in tests)
        return str(uuid.uuid4())


def _start_run(warehouse: Warehouse, run_id: str, service: str, window: Window, source: str, parameters: dict) -> None:
    row = {
        "run_id": run_id,
        "service": service,
        "window_start": window.start,
        "window_end": window.end,
        "started_at": datetime.now(UTC),
        "finished_at": None,
        "status": "running",
        "source": source,
        "parameters": json.dumps(parameters, default=str),
    }
    warehouse.append("runs", pd.DataFrame([row]))


@task(name="measure-and-prioritise", cache_policy=NO_CACHE)
def measure_task(grouped, identities, history, rules: Rules, window: Window) -> list[PatternMeasure]:
    return prioritise(aggregate(grouped, identities.fingerprint_of, identities.template_of, window), history, rules)


def _known_issues(warehouse: Warehouse, service: str) -> tuple[dict[str, int], dict[str, set[int]]]:
    """From one read of `clusters`: issue number per fingerprint, and issue numbers per module (cross-references)."""
    clusters = warehouse.query("clusters_for_service", service=service)
    known = clusters[clusters.issue_number.notna()]
    by_fingerprint = {fp: int(n) for fp, n in zip(known.fingerprint, known.issue_number)}
    by_module: dict[str, set[int]] = {}
    for module, number in zip(known.module, known.issue_number):
        if isinstance(module, str):
            by_module.setdefault(module, set()).add(int(number))
    return by_fingerprint, by_module


def _mark_regressions(measures: list[PatternMeasure], issues: dict[str, int], tracker: Tracker, reopened: set[str]) -> None:
    """A pattern whose issue was closed (or was reopened by this window's run) is regressed."""
    for m in measures:
        number = issues.get(m.fingerprint)
        if not m.count or number is None or m.status == "new":
            continue
        if m.fingerprint in reopened or tracker.get(number).state == "closed":
            m.status = "regressed"
            m.reason = f"came back after issue #{number} was closed: {m.count} entries, {m.rate_per_min:g}/min"


def _human_issue_matches(
    tracker: Tracker, measures: list[PatternMeasure], issues: dict[str, int], rules: Rules
) -> dict[str, tuple[int, float]]:
    """Issues filed by people that describe a pattern which has no issue yet (link instead of duplicate)."""
    wanting = [m for m in measures if m.fingerprint not in issues and m.count and m.status != "quiet"]
    if not wanting:
        return {}
    taken = set(issues.values())
    candidates = [i for i in tracker.candidates() if i.number not in taken]
    texts = [matching.pattern_text(m.template, m.module, m.function) for m in wanting]
    found = matching.best_matches(texts, candidates, rules.tracker.link_min_similarity)
    return {m.fingerprint: (hit[0].number, hit[1]) for m, hit in zip(wanting, found) if hit}


def _samples(warehouse: Warehouse, service: str, window: Window, measures: list[PatternMeasure]) -> dict[str, list[str]]:
    ids = [i for m in measures for i in m.sample_insert_ids]
    if not ids:
        return {}
    rows = warehouse.query("entries_by_id", service=service, window_start=window.start, window_end=window.end, insert_ids=ids)
    payload = dict(zip(rows.insert_id, rows.payload))
    return {m.fingerprint: [issue_text.sample_json(payload[i]) for i in m.sample_insert_ids if i in payload] for m in measures}


@task(name="save-counts", cache_policy=NO_CACHE)
def save_counts(warehouse: Warehouse, run_id: str, service: str, window: Window, measures: list[PatternMeasure]) -> None:
    """Replace this window's per-pattern counts and refresh the `clusters` rows."""
    warehouse.execute("delete_cluster_counts", service=service, window_start=window.start, window_end=window.end)
    rows = [
        {
            "run_id": run_id,
            "service": service,
            "window_start": window.start,
            "window_end": window.end,
            "fingerprint": m.fingerprint,
            "entries": m.count,
            "rate_per_min": m.rate_per_min,
            "baseline_rate_per_min": m.baseline_rate_per_min,
            "ratio": m.ratio,
            "warning_count": m.warning_count,
            "error_count": m.error_count,
            "critical_count": m.critical_count,
            "severity_max": m.severity,
            "first_seen": m.first_seen,
            "last_seen": m.last_seen,
            "status": m.status,
            "priority": m.priority,
            "previous_priority": m.previous_priority,
            "sample_insert_ids": json.dumps(m.sample_insert_ids),
        }
        for m in measures
    ]
    warehouse.append("cluster_counts", pd.DataFrame(rows))
    existing = warehouse.query("clusters_for_service", service=service).set_index("fingerprint")
    now = datetime.now(UTC)
    updated = []
    for m in measures:
        old = existing.loc[m.fingerprint] if m.fingerprint in existing.index else None
        issue_number = (m.issue or {}).get("number") or (old.issue_number if old is not None and pd.notna(old.issue_number) else None)
        later = old is None or pd.isna(old.last_seen) or (m.last_seen is not None and m.last_seen >= old.last_seen)
        updated.append(
            {
                "fingerprint": m.fingerprint,
                "service": service,
                "template": m.template if m.count or old is None else old.template,
                "module": m.module or (old.module if old is not None else None),
                "function": m.function or (old.function if old is not None else None),
                "first_seen": _earliest(m.first_seen, None if old is None else old.first_seen),
                "last_seen": m.last_seen if later and m.last_seen is not None else (old.last_seen if old is not None else None),
                "severity_max": m.severity if m.count else (old.severity_max if old is not None else m.severity),
                "issue_number": int(issue_number) if issue_number is not None else None,
                "issue_url": (m.issue or {}).get("url") or (old.issue_url if old is not None else None),
                "current_priority": m.priority if later else old.current_priority,
                "updated_at": now,
            }
        )
    if updated:
        warehouse.execute("delete_clusters", service=service, fingerprints=[u["fingerprint"] for u in updated])
        warehouse.append("clusters", pd.DataFrame(updated))


def _earliest(*values):
    """The earliest of the times that are set, or None."""
    present = [v for v in values if v is not None and not pd.isna(v)]
    return min(present) if present else None


def cluster_json(m: PatternMeasure) -> dict:
    """One entry of the `clusters` list of `gardener run --json` (DESIGN.md, Interfaces)."""
    return {
        "fingerprint": m.fingerprint,
        "template": m.template,
        "count": m.count,
        "rate_per_min": m.rate_per_min,
        "baseline_rate_per_min": m.baseline_rate_per_min,
        "ratio": m.ratio,
        "severity": m.severity,
        "priority": m.priority,
        "previous_priority": m.previous_priority,
        "status": m.status,
        "issue": {"number": (m.issue or {}).get("number"), "action": (m.issue or {}).get("action", "none")},
    }


def _artifacts(run_id: str, service: str, window: Window, markdown: str, measures: list[PatternMeasure]) -> None:
    """The worklog, the pattern table and the issue links, attached to the flow run."""
    key = "".join(c if c.isalnum() else "-" for c in f"worklog-{service}").lower()[:100]
    create_markdown_artifact(markdown=markdown, key=key, description=f"Worklog {service} {window.label()}")
    links = []
    for m in measures:
        issue = m.issue or {}
        if not issue.get("number"):
            continue
        url = str(issue.get("url") or "")
        ref = f"[#{issue['number']}]({url})" if url.startswith("http") else f"#{issue['number']}"
        links.append(f"- {ref} {issue.get('action', 'none')}: {redact(m.template)[:100]}")
    create_markdown_artifact(
        markdown="\n".join(["# Tracker issues", ""] + (links or ["No issues linked to these patterns."])),
        key=key.replace("worklog", "issues", 1),
        description=f"Tracker issues of {service} in {window.label()}",
    )
    create_table_artifact(
        table=[{k: v for k, v in cluster_json(m).items() if k != "issue"} | {"issue": (m.issue or {}).get("number")} for m in measures],
        key=key.replace("worklog", "clusters", 1),
        description=f"Patterns of {service} in {window.label()}",
    )


@flow(name="gardener", log_prints=True)
def gardener(
    service: str,
    start: str,
    end: str,
    source: str,
    warehouse: str = DEFAULT_WAREHOUSE,
    tracker: str = "local",
    rules_path: str | None = None,
    min_severity: str = "WARNING",
    worklog_dir: str = "worklogs",
    publish_issues: bool = True,
    logging_filter: str | None = None,
) -> dict:
    """Collect, group, measure and publish the log patterns of `service` in [start, end).

    source: a LogEntry JSON/NDJSON file path, or `cloud-logging:PROJECT`.
    warehouse: `duckdb:///path.duckdb` (default) or `bigquery:PROJECT.DATASET`.
    tracker: `local` (issues kept in the warehouse) or `github:OWNER/REPO`.
    publish_issues: False records the run without touching the tracker (backfills).
    logging_filter: extra Logging query for the cloud-logging source (`gcloud logging read` syntax).
    """
    window = Window.parse(start, end)
    with concurrency(ensure_service_lock(service), occupy=1, timeout_seconds=3600):
        return _garden(service, window, source, warehouse, tracker, rules_path, min_severity, worklog_dir, publish_issues, logging_filter)


def _garden(
    service: str,
    window: Window,
    source: str,
    warehouse: str,
    tracker: str,
    rules_path: str | None,
    min_severity: str,
    worklog_dir: str,
    publish_issues: bool,
    logging_filter: str | None,
) -> dict:
    logger = get_run_logger()
    min_severity = severity_name(min_severity)
    rules = load_rules(rules_path)
    log_source = open_source(source, logging_filter)
    wh = open_warehouse(warehouse)
    wh.setup()
    trk = open_tracker(tracker, wh)
    run_id = _run_id()
    parameters = {"source": source, "warehouse": warehouse, "tracker": tracker, "min_severity": min_severity, "rules": rules_path}
    _start_run(wh, run_id, service, window, log_source.describe(), parameters)
    status = "failed"
    try:
        extracted: Extracted = extract_task(log_source, service, window, min_severity)
        logger.info("extracted %s entries of %s (%s rejected)", extracted.stats["kept"], service, extracted.stats["rejected"])
        loaded = load_task(wh, extracted, run_id, service, window, log_source.describe())
        grouped = group_task(wh, service, window, min_severity)
        identities = identify_task(wh, service, grouped, rules.identity.min_similarity, window.start)
        history = history_task(wh, service, window, rules.escalation.baseline_windows, rules.tracker.quiet_after_windows)
        measures = measure_task(grouped, identities, history, rules, window)
        issues, related = _known_issues(wh, service)
        done = wh.query("actions_for_window", service=service, window_start=window.start)
        reopened = set(done[(done.action == "reopen") & (done.state == "applied")].fingerprint)
        _mark_regressions(measures, issues, trk, reopened)
        samples = _samples(wh, service, window, measures)
        context_rows = wh.query("window_context", service=service, window_start=window.start, window_end=window.end)
        context = context_rows.to_dict("records")
        top_context = context[0] if context else {}
        if publish_issues:
            matches = _human_issue_matches(trk, measures, issues, rules)
            touched = wh.query("last_actions", service=service, window_start=window.start)
            planned = publish.plan(
                measures, issues, rules, service, window, matches, dict(zip(touched.fingerprint, touched.last_window_start))
            )
            project = _project_of(extracted)
            publish.apply(wh, trk, run_id, service, window, measures, planned, top_context, samples, rules, project, related)
        else:
            for m in measures:
                m.issue = {"number": issues.get(m.fingerprint), "action": "none"}
        save_counts(wh, run_id, service, window, measures)
        markdown = worklog.render(
            service=service,
            window=window,
            run_id=run_id,
            generated_at=datetime.now(UTC),
            source=log_source.describe(),
            tracker=trk.describe() if publish_issues else f"{trk.describe()} (publishing off)",
            published=publish_issues,
            stats=extracted.stats,
            measures=measures,
            samples=samples,
            context=context,
            rejections=extracted.rejections,
        )
        path = worklog.write(Path(worklog_dir), service, window, markdown)
        _artifacts(run_id, service, window, markdown, measures)
        status = "completed"
        summary = {
            "run_id": run_id,
            "service": service,
            "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
            "entries": extracted.stats["kept"],
            "new_entries": loaded["new_entries"],
            "rejected": extracted.stats["rejected"],
            "skipped": {k: extracted.stats[k] for k in ("other_service", "outside_window", "below_severity")},
            "worklog": str(path),
            "clusters": [cluster_json(m) for m in measures],
        }
        wh.execute(
            "finish_run",
            run_id=run_id,
            status=status,
            finished_at=datetime.now(UTC),
            entries=extracted.stats["kept"],
            rejected=extracted.stats["rejected"],
            clusters=sum(1 for m in measures if m.count),
            counts=json.dumps(extracted.stats),
        )
        return summary
    finally:
        if status != "completed":
            wh.execute(
                "finish_run",
                run_id=run_id,
                status="failed",
                finished_at=datetime.now(UTC),
                entries=None,
                rejected=None,
                clusters=None,
                counts=None,
            )
        wh.close()


def _project_of(extracted: Extracted) -> str | None:
    names = extracted.rows.log_name.dropna() if not extracted.rows.empty else []
    for name in names:
        parts = str(name).split("/")
        if len(parts) > 1 and parts[0] == "projects":
            return parts[1]
    return None
