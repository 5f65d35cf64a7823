"""The scheduled entry points: the gardener of one service, or the fleet, on the last full hour before the scheduled time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger, tags
from prefect.runtime import flow_run

from log_gardener.flows.fleet import fleet
from log_gardener.flows.gardener import gardener
from log_gardener.flows.parameters import FleetParameters, RunParameters


def last_full_hour(now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the last complete hour before `now` (UTC)."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=1), end


@flow(name="hourly-gardener")
def hourly_gardener(params: RunParameters) -> dict:
    """Gardener for the previous full hour of the run's scheduled time (so a late run still does its own hour)."""
    scheduled = flow_run.scheduled_start_time or datetime.now(UTC)
    start, end = last_full_hour(scheduled)
    get_run_logger().info(
        "scheduled for %s: runs the last full hour before it, %s to %s", scheduled.isoformat(), start.isoformat(), end.isoformat()
    )
    with tags("log-gardener", "hourly", f"service:{params.service}"):
        return gardener(params, start.isoformat(), end.isoformat())


@flow(name="hourly-fleet")
def hourly_fleet(params: FleetParameters) -> dict:
    """The fleet for the previous full hour of the run's scheduled time: every service with entries, one digest.

    Args:
        params: The source, warehouse, tracker and rules the services share; which services; how many at once.
    """
    scheduled = flow_run.scheduled_start_time or datetime.now(UTC)
    start, end = last_full_hour(scheduled)
    get_run_logger().info("scheduled for %s: the fleet runs %s to %s", scheduled.isoformat(), start.isoformat(), end.isoformat())
    with tags("log-gardener", "hourly", "fleet"):
        return fleet(params, start.isoformat(), end.isoformat())
