"""The parameters of a run, defined once: the `gardener run` and `gardener backfill` options, the
`params` of the gardener, hourly and backfill flows, and the parameters of every deployment in
prefect.yaml are this model. Prefect shows the field descriptions in the run form."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, field_validator

from log_gardener.tasks.normalise import severity_name
from log_gardener.tasks.warehouses import DEFAULT_WAREHOUSE
from log_gardener.tasks.worklog_repo import WorklogTarget


def _not_blank(value: str) -> str:
    """The value without surrounding spaces; an empty one is refused."""
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


class RunSettings(BaseModel):
    """Where logs come from, where results go, and what may be published: all of a run but its service."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        description="Where the entries come from: a LogEntry file (gcloud JSON array or NDJSON), "
        "cloud-logging:PROJECT (the Logging API) or bq-sink:PROJECT.DATASET.TABLE (a Log Router sink table)."
    )
    warehouse: str = Field(DEFAULT_WAREHOUSE, description="duckdb:///path.duckdb (a local file) or bigquery:PROJECT.DATASET.")
    tracker: str = Field("local", description="local (issues kept in the warehouse) or github:OWNER/REPO.")
    rules_path: str = Field("", description="Priority rules TOML file; empty for the bundled default rules.")
    min_severity: str = Field("WARNING", description="Lowest severity collected: WARNING, ERROR, CRITICAL, ALERT or EMERGENCY.")
    logging_filter: str = Field(
        "",
        description='Extra query for cloud-logging sources, in gcloud logging read syntax (e.g. jsonPayload.module:"websocket"); empty for none.',
    )
    worklog_dir: str = Field(
        default_factory=lambda: os.environ.get("GARDENER_WORKLOGS", "worklogs"),
        description="Folder for the markdown worklogs; a relative path is taken from the worker's working directory "
        "(default: GARDENER_WORKLOGS on the worker, else ./worklogs).",
    )
    publish_issues: bool = Field(True, description="Create and update tracker issues; false records the run without touching the tracker.")
    worklog_repo: str = Field(
        default_factory=lambda: os.environ.get("GARDENER_WORKLOG_REPO", ""),
        description="Also commit each worklog to a GitHub repository: OWNER/REPO[:FOLDER][@BRANCH] (default folder worklogs, "
        "default branch the repository's), with the tracker's GITHUB_TOKEN; empty for none (default: GARDENER_WORKLOG_REPO). "
        "Only runs that publish commit.",
    )

    @field_validator("worklog_repo")
    @classmethod
    def _worklog_target(cls, value: str) -> str:
        if value.strip():
            WorklogTarget.parse(value)
        return value.strip()

    @field_validator("rules_path", "logging_filter", mode="before")
    @classmethod
    def _none_is_empty(cls, value):
        return "" if value is None else value

    @field_validator("min_severity")
    @classmethod
    def _known_severity(cls, value: str) -> str:
        return severity_name(value)

    @field_validator("source")
    @classmethod
    def _source_not_blank(cls, value: str) -> str:
        return _not_blank(value)


class RunParameters(RunSettings):
    """Which service, where its logs come from, where results go, and what may be published."""

    service: str = Field(description="Service name: the Cloud Run service_name label of the entries.")

    @field_validator("service")
    @classmethod
    def _service_not_blank(cls, value: str) -> str:
        return _not_blank(value)


class FleetParameters(RunSettings):
    """A run over many services: the settings they share, which services, and how many at once."""

    services: str = Field(
        "all", description="all (every service with entries in the window, found in one pass) or a comma-separated list of names."
    )
    max_parallel: int = Field(4, ge=1, le=32, description="At most this many services run at once (DuckDB warehouses run one at a time).")

    @field_validator("services")
    @classmethod
    def _services(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names:
            raise ValueError("must be all or a comma-separated list of service names")
        return "all" if names == ["all"] else ",".join(names)

    def names(self) -> list[str] | None:
        """The listed services, or None for all."""
        return None if self.services == "all" else self.services.split(",")

    def for_service(self, service: str) -> RunParameters:
        return RunParameters(service=service, **self.model_dump(exclude={"services", "max_parallel"}))


def describe(field: str) -> str:
    """The description of a field, for the command line's help."""
    model = RunParameters if field in RunParameters.model_fields else FleetParameters
    return model.model_fields[field].description or ""
