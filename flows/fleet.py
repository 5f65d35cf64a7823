"""The fleet flow: the gardener for every service of a source in one window, a few at a time, and one digest."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from log_gardener.flows.gardener import gardener
from log_gardener.flows.parameters import FleetParameters
from log_gardener.tasks.digest import listed_id, render_digest, write_digest
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources import open_source
from log_gardener.tasks.warehouses import open_warehouse

KNOWN_FOR = timedelta(days=7)
NOT_SEEN = "no entries in the window and no run in the week before: not run (is the name right?)"


def fleet_run_name() -> str:
    """`fleet 2025-09-15 02:00Z`."""
    try:
        start = Window.parse(flow_run.parameters["start"], flow_run.parameters["end"]).start.strftime("%Y-%m-%d %H:%MZ")
    except (KeyError, ValueError):
        start = "?"
    return f"fleet {start}"


@task(name="discover-services", task_run_name="discover services {window.start:%Y-%m-%d %H:%MZ}", cache_policy=NO_CACHE)
def discover_services(source: str, logging_filter: str, window: Window, min_severity: str) -> dict[str, int]:
    """Entries per service in the window, from one pass over the source (one query for a sink table)."""
    return open_source(source, logging_filter or None).services(window, min_severity)


@task(name="known-services", cache_policy=NO_CACHE)
def known_services(warehouse: str, window: Window) -> list[str]:
    """Services with a completed run in the week before the window (see sql/recent_services.sql)."""
    wh = open_warehouse(warehouse)
    try:
        wh.setup()
        return list(wh.query("recent_services", since=window.start - KNOWN_FOR).service)
    finally:
        wh.close()


def run_fleet(
    params: FleetParameters, window: Window, found: dict[str, int], known: list[str]
) -> tuple[list[dict], list[dict], list[dict]]:
    """Run the gardener per service (see `fleet`); returns the runs, the failures and the services not run.

    With `all`, the services are those with entries in the window and those run in the week before: a service
    that falls silent is still run, so its patterns go quiet and its baseline counts the silent hours. A listed
    service runs when it has entries in the window or a run in the week before; one with neither is not run (a
    misspelt name would become a service of its own, run every hour of the week after) and is reported.
    """
    logger = get_run_logger()
    listed = params.names()
    unknown = [] if listed is None else [name for name in listed if name not in found and name not in known]
    services = sorted(set(found) | set(known)) if listed is None else [name for name in listed if name not in unknown]
    # A DuckDB file has one writer at a time: its services run one after another.
    parallel = 1 if params.warehouse.startswith("duckdb:") else min(params.max_parallel, max(1, len(services)))
    silent = [name for name in services if name not in found]
    logger.info(
        "%s services (%s without entries in the window), %s at a time: %s", len(services), len(silent), parallel, ", ".join(services)
    )

    def one(name: str) -> dict:
        return gardener(params.for_service(name), window.start.isoformat(), window.end.isoformat())

    runs, failed = [], []
    not_run = [{"service": name, "reason": NOT_SEEN} for name in unknown]
    for name in unknown:
        logger.warning("service %s: %s", name, NOT_SEEN)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        # each service's flow run is a child of this one: it runs in a copy of this thread's Prefect context
        futures = {name: pool.submit(contextvars.copy_context().run, one, name) for name in services}
        for name, future in futures.items():
            try:
                runs.append(future.result())
            except Exception as exc:  # one service failing never stops the others
                logger.warning("service %s failed: %s: %s", name, type(exc).__name__, exc)
                failed.append({"service": name, "error": f"{type(exc).__name__}: {exc}"})
    return runs, failed, not_run


@flow(name="fleet", flow_run_name=fleet_run_name, log_prints=True)
def fleet(params: FleetParameters, start: str, end: str) -> dict:
    """Run the gardener for every service with WARNING+ entries in [start, end) (or the listed ones), and write a digest.

    Args:
        params: The source, warehouse, tracker and rules the services share; which services; how many at once.
        start: First instant of the window, ISO 8601 (e.g. 2025-09-15T02:00:00Z); inclusive.
        end: End of the window, ISO 8601; exclusive.
    """
    window = Window.parse(start, end).check_over()
    found = discover_services(params.source, params.logging_filter, window, params.min_severity)
    known = known_services(params.warehouse, window)
    runs, failed, not_run = run_fleet(params, window, found, known)
    folder = Path(params.worklog_dir)
    markdown = render_digest(window, runs, failed, datetime.now(UTC), folder, not_run)
    # the services listed name a digest of their own: it never replaces the window's digest of the whole fleet
    path = write_digest(folder, window, markdown, params.names())
    # the services listed have an artifact of their own too: the latest `fleet-digest` stays the whole fleet's
    key = "fleet-digest" if params.names() is None else f"fleet-digest-{listed_id(params.names())}"
    create_markdown_artifact(markdown=markdown, key=key, description=f"{window.start:%Y-%m-%d %H:%M}–{window.end:%H:%M} UTC · fleet digest")
    return {"runs": runs, "failed": failed, "not_run": not_run, "digest": str(path)}
