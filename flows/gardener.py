"""The hourly gardener flow: one service, one window, the pipeline of DESIGN.md."""

from __future__ import annotations

import os
import signal
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext, TagsContext, get_run_context
from prefect.events import emit_event
from prefect.exceptions import ObjectNotFound
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL

from log_gardener.flows.parameters import RunParameters
from log_gardener.tasks import issue_text, matching, publish, worklog
from log_gardener.tasks.deploys import mark_new_revisions, revision_json
from log_gardener.tasks.extract import Extracted, extract
from log_gardener.tasks.group import cluster_and_identify, grouped_messages, regrouped_keys
from log_gardener.tasks.headline import headline, sample_entries, search_terms, source_text
from log_gardener.tasks.history import applied_actions, closed_issues, known_issues, load_history
from log_gardener.tasks.load import load
from log_gardener.tasks.measure import History, PatternMeasure, aggregate, prioritise
from log_gardener.tasks.mutes import apply_mutes, mute_states, record_mute_events
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.owners import assign_owners, owner_json
from log_gardener.tasks.redact import redact
from log_gardener.tasks.rules import Rules, load_rules
from log_gardener.tasks.sources import open_source
from log_gardener.tasks.timings import StageClock
from log_gardener.tasks.trackers import open_tracker
from log_gardener.tasks.vocabulary import Action, IssueRef, RunStatus, Status
from log_gardener.tasks.warehouses import Warehouse, open_warehouse, records
from log_gardener.tasks.worklog_repo import WorklogRepository

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


def checkpoint(stage: str) -> None:
    """Crash-safety testing: GARDENER_KILL_AT=<stage> ends the process here as abruptly as a lost worker (SIGKILL)."""
    if os.environ.get("GARDENER_KILL_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def _run_id() -> str:
    try:
        return str(get_run_context().flow_run.id)
    except Exception:  # called outside a flow run (plain function call in tests)
        return str(uuid.uuid4())


@task(name="measure", cache_policy=NO_CACHE)
def measure_task(grouped, identities, window: Window) -> list[PatternMeasure]:
    return aggregate(grouped, identities.fingerprint_of, identities.template_of, window)


@task(name="prioritise", cache_policy=NO_CACHE)
def prioritise_task(measures: list[PatternMeasure], history: History, rules: Rules) -> list[PatternMeasure]:
    return prioritise(measures, history, rules)


@task(name="publish", task_run_name="publish {service} {window.start:%Y-%m-%d %H:%MZ}", cache_policy=NO_CACHE)
def publish_task(
    wh: Warehouse,
    trk,
    run_id: str,
    service: str,
    window: Window,
    measures: list[PatternMeasure],
    issues: dict[str, int],
    applied: dict,
    rules: Rules,
    context: dict,
    samples: dict[str, list[str]],
    project: str | None,
    related: dict[str, set[int]],
    held: dict[str, str],
) -> list[PatternMeasure]:
    """Plan one tracker action per pattern and apply each once (see tasks.publish); fills each pattern's issue."""
    matches = matching.issues_describing(
        trk, measures, issues, rules.tracker.link_min_similarity, lambda m: rules.should_create(m.priority)
    )
    touched = wh.query("last_actions", service=service, window_start=window.start)
    planned = publish.plan(
        measures, issues, rules, service, window, matches, dict(zip(touched.fingerprint, touched.last_window_start)), applied, held
    )
    publish.apply(wh, trk, run_id, service, window, measures, planned, context, samples, rules, project, related)
    return measures


@task(name="worklog", task_run_name="worklog {service} {window.start:%Y-%m-%d %H:%MZ}", cache_policy=NO_CACHE)
def worklog_task(folder: Path, *, service: str, window: Window, **fields) -> tuple[str, Path]:
    """Render the window's worklog and write it under `folder` (see tasks.worklog); the markdown and its path."""
    markdown = worklog.render(service=service, window=window, **fields)
    return markdown, worklog.write(folder, service, window, markdown)


@task(name="commit-worklog", task_run_name="commit worklog {service} {window.start:%Y-%m-%d %H:%MZ}", cache_policy=NO_CACHE)
def commit_worklog_task(repo: WorklogRepository, *, service: str, window: Window, markdown: str) -> str:
    """Commit the worklog to the GitHub repository of `worklog_repo`: created, updated or unchanged."""
    outcome = repo.commit(service, window, markdown)
    get_run_logger().info("worklog %s in %s: %s", outcome, repo.target.repo, repo.target.path(service, window))
    return outcome


@task(name="save-counts", cache_policy=NO_CACHE)
def save_task(warehouse: Warehouse, run_id: str, service: str, window: Window, measures: list[PatternMeasure]) -> None:
    records.save_measures(warehouse, run_id, service, window, measures)


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
        "p_value": m.p_value,
        "baseline_kind": m.baseline_kind,
        "baseline_windows": m.baseline_windows,
        "issue": {"number": m.issue.number, "action": m.issue.action, "url": m.issue.url or None},
        "revision": revision_json(m),
        "affected": {"traces": m.traces, "clients": m.clients},
        "owner": owner_json(m.owner),
        "muted": m.mute,
        "regrouped_from": m.regrouped_from,
        "headline": m.headline,
        "source": source_text(m),
        "sample_insert_ids": m.sample_insert_ids,
    }


TABLE_COLUMNS = (
    "priority",
    "status",
    "count",
    "rate_per_min",
    "baseline_rate_per_min",
    "ratio",
    "issue",
    "severity",
    "headline",
    "template",
)


def artifact_key(kind: str, service: str) -> str:
    """`worklog-netra-backend-staging`: one key per kind and service, whose latest version is the newest window."""
    return "".join(c if c.isalnum() else "-" for c in f"{kind}-{service}").lower()[:100]


@task(name="artifacts", task_run_name="artifacts {service} {window.start:%Y-%m-%d %H:%MZ}", cache_policy=NO_CACHE)
def artifacts_task(service: str, window: Window, markdown: str, measures: list[PatternMeasure], newest: bool) -> None:
    """The worklog, the pattern table and the issue links, attached to the flow run.

    They carry the service's artifact keys only when this is its newest completed window, so "latest" in
    the Prefect UI is the newest hour even after a backfill of older ones; an older window's artifacts are
    attached to its run without a key. Descriptions start with the window, so a cut one still says it.
    """

    def key(kind: str) -> str | None:
        return artifact_key(kind, service) if newest else None

    label = f"{window.start:%Y-%m-%d %H:%M}–{window.end:%H:%M} UTC"
    create_markdown_artifact(markdown=markdown, key=key("worklog"), description=f"{label} · worklog of {service}")
    links = []
    for m in measures:
        if not m.issue.number:
            continue
        ref = f"[{m.issue.ref}]({m.issue.url})" if m.issue.url.startswith("http") else m.issue.ref
        links.append(f"- {ref} {m.issue.action} ({m.priority}, {m.status}): {worklog.inline(m.headline or redact(m.template), 100)}")
    create_markdown_artifact(
        markdown="\n".join(["# Tracker issues", ""] + (links or ["No issues linked to these patterns."])),
        key=key("issues"),
        description=f"{label} · tracker issues of {service}",
    )
    rows = []
    for m in measures:
        data = cluster_json(m) | {"template": redact(m.template), "issue": m.issue.ref if m.issue.number else ""}
        rows.append({column: data[column] for column in TABLE_COLUMNS})  # what decides first, the long text last
    create_table_artifact(table=rows, key=key("clusters"), description=f"{label} · patterns of {service}")


def is_newest_window(wh: Warehouse, service: str, window: Window) -> bool:
    """Whether no later window of the service has a completed run (a backfill's and a rerun's may)."""
    return wh.query("completed_windows", service=service, period_start=window.end, period_end=datetime.max.replace(tzinfo=UTC)).empty


def run_name() -> str:
    """`netra-backend-staging 2025-09-15 02:00Z`: the service and the window start, for the runs list."""
    parameters = flow_run.parameters
    params = parameters.get("params")
    service = params.service if isinstance(params, RunParameters) else (params or {}).get("service", "?")
    try:
        start = Window.parse(parameters["start"], parameters["end"]).start.strftime("%Y-%m-%d %H:%MZ")
    except (KeyError, ValueError):
        start = str(parameters.get("start"))
    return f"{service} {start}"


@flow(name="gardener", flow_run_name=run_name, log_prints=True)
def gardener(params: RunParameters, start: str, end: str) -> dict:
    """Collect, group, measure and publish the log patterns of one service in [start, end).

    Args:
        params: The service, its source, the warehouse, the tracker and the rules.
        start: First instant of the window, ISO 8601 (e.g. 2025-09-15T02:00:00Z); inclusive.
        end: End of the window, ISO 8601; exclusive.
    """
    window = Window.parse(start, end).check_over()
    # the run's tags label the flow run (the runs list filters on them); its task runs carry none, since each
    # tagged task run first asks Prefect's server for that tag's concurrency slots (a call per task run, which
    # stalled for 2 s after a 1M-entry extract), and the run already holds its service's slot
    with _service_slot(params.service), TagsContext(current_tags=set()):
        return _garden(params, window)


def _service_slot(service: str):
    """One run of a service at a time, across workers: a Prefect global concurrency limit of 1.

    Its lease is renewed while the run lives, so a run killed outright frees it within a minute on a Prefect
    server. In Prefect's local mode (no API URL) there is no server to expire leases, and runs on one machine
    are kept apart by the DuckDB file's lock instead.
    """
    if not PREFECT_API_URL.value():
        return nullcontext()
    return concurrency(ensure_service_lock(service), occupy=1, timeout_seconds=3600, lease_duration=60)


def _garden(params: RunParameters, window: Window) -> dict:
    service, source, warehouse, tracker = params.service, params.source, params.warehouse, params.tracker
    rules_path, worklog_dir, publish_issues = params.rules_path, params.worklog_dir, params.publish_issues
    logger = get_run_logger()
    clock = StageClock()
    min_severity = params.min_severity
    rules = load_rules(rules_path or None).for_service(service)
    log_source = open_source(source, params.logging_filter or None)
    wh = open_warehouse(warehouse)
    wh.setup()
    try:
        records.check_no_overlap(wh, service, [window])
    except ValueError:
        wh.close()
        raise
    trk = open_tracker(tracker, wh)
    # checked before any work: a bad token or repository stops the run before anything is published
    worklog_repo = WorklogRepository.from_spec(params.worklog_repo) if params.worklog_repo and publish_issues else None
    run_id = _run_id()
    # this run holds the service's slot: a run of the service still marked running was killed
    records.interrupt_stale_runs(wh, service)
    records.start_run(wh, run_id, service, window, log_source.describe(), params.model_dump())
    clock.lap("setup")
    completed = False
    try:
        # kept rows go to the warehouse a chunk at a time as they are read (an idempotent merge on insert_id)
        to_warehouse = partial(wh.merge_entries, window_start=window.start, window_end=window.end)
        # a DuckDB warehouse reads a log file itself, in SQL; a BigQuery warehouse reads a sink table where it is
        in_warehouse = getattr(wh, "extract_file", None)
        sink_in_warehouse, spool_in_warehouse = getattr(wh, "extract_sink", None), getattr(wh, "extract_spool", None)
        extracted: Extracted = extract_task(
            log_source,
            service,
            window,
            min_severity,
            sink=to_warehouse,
            in_warehouse=in_warehouse,
            sink_in_warehouse=sink_in_warehouse,
            spool_in_warehouse=spool_in_warehouse,
        )
        clock.lap("extract")
        logger.info(
            "%s %s to %s: %s entries kept of %s read, %s rejected, %s skipped (other services %s, outside the window %s, below %s %s)",
            service,
            window.start.isoformat(),
            window.end.isoformat(),
            extracted.stats["kept"],
            extracted.stats["read"],
            extracted.stats["rejected"],
            sum(extracted.stats[k] for k in ("other_service", "outside_window", "below_severity")),
            extracted.stats["other_service"],
            extracted.stats["outside_window"],
            min_severity,
            extracted.stats["below_severity"],
        )
        loaded = load_task(wh, extracted, run_id, service, window, log_source.describe())
        clock.lap("load")
        checkpoint("loaded")
        wh.use_grouping(rules.grouping)
        grouped = group_task(wh, service, window, min_severity)
        aliases = regrouped_keys(wh, service, window, min_severity, rules.grouping)
        clock.lap("mask_and_group")
        # the service's patterns as stored: nothing changes them before save_task, so they are read once here
        clusters = wh.query("clusters_for_service", service=service)
        identities = identify_task(wh, service, grouped, rules.identity.min_similarity, window.start, aliases, clusters)
        clock.lap("cluster_and_identify")
        checkpoint("identified")
        measures = measure_task(grouped, identities, window)
        issues, related = known_issues(wh, service, clusters)
        for m in measures:
            m.regrouped_from = identities.regrouped_from.get(m.fingerprint)
            m.regrouped_issue = issues.get(m.regrouped_from) if m.regrouped_from else None
        # regressions reopen issues: without publishing (backfills) the tracker is not asked
        applied = applied_actions(wh, service, window) if publish_issues else {}
        # every pattern with an issue: those present may regress, and a muted one that goes quiet must stay silent
        newest = is_newest_window(wh, service, window)
        closed, muted = closed_issues(trk, issues, set(issues), applied, service) if publish_issues else ({}, set())
        # The tracker says what is true now: only the newest window reads a closed issue as a regression. An older
        # window (a rerun, a backfill) whose pattern was open then leaves an issue a person closed since alone.
        held = {} if newest else {fp: CLOSED_SINCE for fp in closed if applied.get(fp, ("",))[0] != Action.REOPEN}
        closed = {fp: number for fp, number in closed.items() if fp not in held}
        history = history_task(
            wh,
            service,
            window,
            rules.escalation.baseline_windows,
            rules.tracker.quiet_after_windows,
            closed,
            seasonal_days=rules.escalation.seasonal_days,
            seasonal_weeks=rules.escalation.seasonal_weeks,
            min_seasonal_windows=rules.escalation.min_seasonal_windows,
            deescalate_after_windows=rules.escalation.deescalate_after_windows,
            clusters=clusters,
        )
        measures = prioritise_task(measures, history, rules)
        mark_new_revisions(wh, service, window, measures)
        assign_owners(measures, rules)
        mute_events = apply_mutes(measures, rules, window, muted, mute_states(wh, service))
        if publish_issues:  # a mute's course is the live tracker's: a backfill without publishing records none
            record_mute_events(wh, service, window, mute_events, datetime.now(UTC))
        payloads = records.sample_payloads(wh, service, window, measures)
        samples = {fp: [issue_text.sample_json(p) for p in entries] for fp, entries in payloads.items()}
        for m in measures:
            entries = sample_entries(payloads.get(m.fingerprint, []))
            m.headline, m.search_terms = headline(m, entries), search_terms(m, entries)
        context = wh.query("window_context", service=service, window_start=window.start, window_end=window.end).to_dict("records")
        clock.lap("measure")
        if publish_issues:
            checkpoint("publishing")
            measures = publish_task(
                wh,
                trk,
                run_id,
                service,
                window,
                measures,
                issues,
                applied,
                rules,
                context[0] if context else {},
                samples,
                extracted.project,
                related,
                held,
            )
        else:
            for m in measures:
                m.issue = IssueRef(issues.get(m.fingerprint))
        clock.lap("publish")
        save_task(wh, run_id, service, window, measures)
        checkpoint("saved")
        _report(logger, service, measures)
        markdown, path = worklog_task(
            Path(worklog_dir),
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
            timings=clock.report(),
            min_severity=min_severity,
            reported_before=loaded["reported_before"],
        )
        committed = commit_worklog_task(worklog_repo, service=service, window=window, markdown=markdown) if worklog_repo else None
        artifacts_task(service, window, markdown, measures, newest)
        clock.lap("report")
        summary = {
            "run_id": run_id,
            "service": service,
            "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
            "read": extracted.stats["read"],
            "entries": extracted.stats["kept"],
            "new_entries": loaded["new_entries"],
            "rejected": extracted.stats["rejected"],
            "skipped": {k: extracted.stats[k] for k in ("other_service", "outside_window", "below_severity")},
            "worklog": str(path),
            "worklog_commit": committed,
            "clusters": [cluster_json(m) for m in measures],
            "tracker_budget": trk.usage() if publish_issues else {},
            "timings": clock.report(),
        }
        records.finish_run(wh, run_id, RunStatus.COMPLETED, extracted.stats, sum(1 for m in measures if m.count))
        completed = True
        return summary
    finally:
        if not completed:
            records.finish_run(wh, run_id, RunStatus.FAILED)
        wh.close()


CLOSED_SINCE = "its issue was closed after this window: an older window leaves it closed"

WORST_FIRST = (Status.ESCALATED, Status.REGRESSED, Status.NEW)


def worst_status(measures: list[PatternMeasure]) -> Status | None:
    """The status a person should look at first: escalated, then regressed, then new; None when none (muted
    patterns do not count: a person chose not to look at them)."""
    present = {m.status for m in measures if m.count and not m.mute}
    return next((s for s in WORST_FIRST if s in present), None)


def _tag_worst_status(logger, measures: list[PatternMeasure]) -> None:
    """Add the run's worst status (`escalated`, `regressed`, `new`) to its tags, for the runs list's filter."""
    worst = worst_status(measures)
    context = FlowRunContext.get()
    if worst is None or context is None or context.flow_run is None:
        return
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(context.flow_run.id, tags=sorted({*context.flow_run.tags, str(worst)}))
    except Exception as exc:  # a tag is a convenience: never fail a run for it
        logger.warning("could not tag the run %s: %s", worst, exc)


def _report(logger, service: str, measures: list[PatternMeasure]) -> None:
    """INFO lines a person reads in the run's log, one event per pattern that needs attention, and a status tag."""
    _tag_worst_status(logger, measures)
    statuses: dict[str, int] = {}
    for m in measures:
        statuses[m.status] = statuses.get(m.status, 0) + 1
    logger.info("%s patterns: %s", len(measures), ", ".join(f"{n} {s}" for s, n in statuses.items()) or "none")
    for m in measures:
        if m.issue.action != Action.NONE:
            link = m.issue.url if m.issue.url.startswith("http") else m.issue.ref
            logger.info("%s %s (%s, %s, %s/min): %s", m.issue.action, link, m.status, m.priority, m.rate_per_min, redact(m.template)[:100])
        if m.status in (Status.NEW, Status.ESCALATED, Status.REGRESSED, Status.QUIET):
            emit_event(
                event=f"gardener.pattern.{m.status}",
                resource={
                    "prefect.resource.id": f"gardener.pattern.{service}.{m.fingerprint}",
                    "prefect.resource.name": redact(m.template)[:200],
                    "service": service,
                    "fingerprint": m.fingerprint,
                },
                payload={
                    "priority": str(m.priority),
                    "previous_priority": m.previous_priority and str(m.previous_priority),
                    "rate_per_min": m.rate_per_min,
                    "baseline_rate_per_min": m.baseline_rate_per_min,
                    "count": m.count,
                    "issue_url": m.issue.url or None,
                    "issue_number": m.issue.number,
                    "reason": m.reason,
                },
            )
