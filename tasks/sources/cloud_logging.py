"""`CloudLoggingSource`: LogEntry objects from the Cloud Logging API, via google-cloud-logging.

Selected with `--source cloud-logging:PROJECT`. The filter is built from the
service, the window and the minimum severity, plus an optional extra filter in
`gcloud logging read` syntax. Entries are paged through `entries:list` in
timestamp order; 429 and 5xx answers are retried with exponential backoff.
`GARDENER_LOGGING_API_ENDPOINT` points the client at another endpoint (a
local emulator or a test server) with anonymous credentials.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry, if_exception_type

from log_gardener.tasks.google_credentials import with_credentials
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.sources.base import count_services

RESOURCE_TYPE = "cloud_run_revision"
PAGE_SIZE = 1000
RETRYABLE = (
    api_exceptions.TooManyRequests,
    api_exceptions.InternalServerError,
    api_exceptions.BadGateway,
    api_exceptions.ServiceUnavailable,
    api_exceptions.GatewayTimeout,
)


def quote(value: str) -> str:
    """A string literal of the Logging query language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_filter(
    service: str | None, window: Window, min_severity: str, extra: str | None = None, resource_type: str = RESOURCE_TYPE
) -> str:
    """The Logging filter of one service (None: every service), window and severity floor."""
    clauses = [
        f"resource.type={quote(resource_type)}",
        *([f"resource.labels.service_name={quote(service)}"] if service is not None else []),
        f"severity>={min_severity}",
        f"timestamp>={quote(_rfc3339(window.start))}",
        f"timestamp<{quote(_rfc3339(window.end))}",
    ]
    if extra:
        clauses.append(f"({extra})")
    return "\n".join(clauses)


class CloudLoggingSource:
    """Entries of one Google Cloud project, read through the Logging API."""

    # its entries are decoded JSON objects: a DuckDB warehouse spools them to NDJSON and reads them in SQL
    entries_are_json = True

    def __init__(
        self,
        project: str,
        extra_filter: str | None = None,
        endpoint: str | None = None,
        resource_type: str = RESOURCE_TYPE,
        page_size: int = PAGE_SIZE,
        retry_deadline: float = 300.0,
        initial_backoff: float = 1.0,
    ):
        from google.cloud import logging as cloud_logging

        if not project:
            raise ValueError("cloud-logging source needs a project: cloud-logging:PROJECT")
        self.project = project
        self.extra_filter = extra_filter
        self.resource_type = resource_type
        self.page_size = page_size
        self.endpoint = endpoint or os.environ.get("GARDENER_LOGGING_API_ENDPOINT")
        if self.endpoint:
            from google.auth.credentials import AnonymousCredentials

            self.client = cloud_logging.Client(
                project=project,
                credentials=AnonymousCredentials(),
                _use_grpc=False,
                client_options={"api_endpoint": self.endpoint},
            )
        else:
            self.client = with_credentials(
                f"Cloud Logging (project {project})", lambda: cloud_logging.Client(project=project, _use_grpc=False)
            )
        retry = Retry(
            predicate=if_exception_type(*RETRYABLE), initial=initial_backoff, maximum=30.0, multiplier=2.0, timeout=retry_deadline
        )
        # Every page request goes through the connection: retrying there resumes at the failed page.
        connection = self.client._connection
        connection.api_request = retry(connection.api_request)

    @classmethod
    def from_spec(cls, spec: str, extra_filter: str | None = None) -> CloudLoggingSource:
        return cls(spec.removeprefix("cloud-logging:"), extra_filter or os.environ.get("GARDENER_LOGGING_FILTER"))

    def describe(self) -> str:
        where = f" via {self.endpoint}" if self.endpoint else ""
        return f"cloud-logging:{self.project}{where}"

    def services(self, window: Window, min_severity: str) -> dict[str, int]:
        """One listing of the window's entries of every service (pages of `page_size`), counted by service name."""
        return count_services(self._listing(None, window, min_severity), window, min_severity)

    def entries(self, service: str, window: Window, min_severity: str) -> Iterator[dict]:
        return self._listing(service, window, min_severity)

    def _listing(self, service: str | None, window: Window, min_severity: str) -> Iterator[dict]:
        from google.cloud.logging import ASCENDING

        query = build_filter(service, window, min_severity, self.extra_filter, self.resource_type)
        for entry in self.client.list_entries(
            resource_names=[f"projects/{self.project}"], filter_=query, order_by=ASCENDING, page_size=self.page_size
        ):
            data = entry.to_api_repr()
            received = getattr(entry, "received_timestamp", None)
            if received is not None and "receiveTimestamp" not in data:
                data["receiveTimestamp"] = _rfc3339(received)
            yield data
