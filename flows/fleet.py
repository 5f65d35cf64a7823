"""The fleet flow: the gardener for every service of a source in one window, a few at a time, and one digest."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from log_gardener.flows.gardener import gardener
from log_gardener.flows.parameters import FleetParameters
from log_gardener.tasks.digest import render_digest, write_digest
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources import open_source


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


def run_fleet(params: FleetParameters, window: Window, found: dict[str, int]) -> tuple[list[dict], list[dict], list[str]]:
    """Run the gardener per service (see `fleet`); returns the runs, the failures and the services skipped."""
    logger = get_run_logger()
    listed = params.names()
    services = sorted(found) if listed is None else listed
    skipped = [] if listed is None else [name for name in listed if name not in found]
    services = [name for name in services if name not in skipped]
    # A DuckDB file has one writer at a time: its services run one after another.
    parallel = 1 if params.warehouse.startswith("duckdb:") else min(params.max_parallel, max(1, len(services)))
    logger.info("%s services with entries, %s skipped, %s at a time: %s", len(services), len(skipped), parallel, ", ".join(services))

    def one(name: str) -> dict:
        return gardener(params.for_service(name), window.start.isoformat(), window.end.isoformat())

    runs, failed = [], []
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        # each service's flow run is a child of this one: it runs in a copy of this thread's Prefect context
        futures = {name: pool.submit(contextvars.copy_context().run, one, name) for name in services}
        for name, future in futures.items():
            try:
                runs.append(future.result())
            except Exception as exc:  # one service failing never stops the others
                logger.warning("service %s failed: %s: %s", name, type(exc).__name__, exc)
                failed.append({"service": name, "error": f"{type(exc).__name__}: {exc}"})
    return runs, failed, skipped


@flow(name="fleet", flow_run_name=fleet_run_name, log_prints=True)
def fleet(params: FleetParameters, start: str, end: str) -> dict:
    """Run the gardener for every service with WARNING+ entries in [start, end) (or the listed ones), and write a digest.

    Args:
        params: The source, warehouse, tracker and rules the services share; which services; how many at once.
        start: First instant of the window, ISO 8601 (e.g. 2025-09-15T02:00:00Z); inclusive.
        end: End of the window, ISO 8601; exclusive.
    """
    window = Window.parse(start, end)
    found = discover_services(params.source, params.logging_filter, window, params.min_severity)
    runs, failed, skipped = run_fleet(params, window, found)
    folder = Path(params.worklog_dir)
    markdown = render_digest(window, runs, failed, skipped, datetime.now(UTC), folder)
    path = write_digest(folder, window, markdown)
    create_markdown_artifact(
        markdown=markdown, key="fleet-digest", description=f"{window.start:%Y-%m-%d %H:%M}–{window.end:%H:%M} UTC · fleet digest"
    )
    return {"runs": runs, "failed": failed, "skipped": skipped, "digest": str(path)}
