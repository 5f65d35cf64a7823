"""The parameters of a run, defined once: the `gardener run` and `gardener backfill` options, the
`params` of the gardener, hourly and backfill flows, and the parameters of every deployment in
prefect.yaml are this model. Prefect shows the field descriptions in the run form."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, field_validator

from log_gardener.tasks.normalise import severity_name
from log_gardener.tasks.warehouses import DEFAULT_WAREHOUSE


class RunParameters(BaseModel):
    """Which service, where its logs come from, where results go, and what may be published."""

    model_config = ConfigDict(extra="forbid")

    service: str = Field(description="Service name: the Cloud Run service_name label of the entries.")
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

    @field_validator("rules_path", "logging_filter", mode="before")
    @classmethod
    def _none_is_empty(cls, value):
        return "" if value is None else value

    @field_validator("min_severity")
    @classmethod
    def _known_severity(cls, value: str) -> str:
        return severity_name(value)

    @field_validator("service", "source")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


def describe(field: str) -> str:
    """The description of a field, for the command line's help."""
    return RunParameters.model_fields[field].description or ""
