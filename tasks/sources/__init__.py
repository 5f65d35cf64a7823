"""Log sources: the interface (`base`), one module per implementation, and the factory."""

from __future__ import annotations

from log_gardener.tasks.sources.base import LogSource, Unparseable
from log_gardener.tasks.sources.cloud_logging import CloudLoggingSource
from log_gardener.tasks.sources.file import FileSource
from log_gardener.tasks.sources.sink_table import SinkTableSource

__all__ = ["LogSource", "Unparseable", "FileSource", "CloudLoggingSource", "SinkTableSource", "open_source"]


def open_source(spec: str, extra_filter: str | None = None) -> LogSource:
    """A source from its spec: a file path, `cloud-logging:PROJECT` or `bq-sink:PROJECT.DATASET.TABLE`.

    extra_filter: a Logging query (`gcloud logging read` syntax) added to the API source's filter.
    """
    if spec.startswith("cloud-logging:"):
        return CloudLoggingSource.from_spec(spec, extra_filter)
    if spec.startswith("bq-sink:"):
        return SinkTableSource.from_spec(spec)
    return FileSource(spec)
