"""The parameters of a run, defined once: the `gardener run` and `gardener backfill` options, the
`params` of the gardener, hourly and backfill flows, and the parameters of every deployment in
prefect.yaml are this model. Prefect shows the field descriptions in the run form."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from log_gardener.flows.field_help import FIELD_HELP
from log_gardener.tasks.normalise import severity_name
from log_gardener.tasks.warehouses import DEFAULT_WAREHOUSE
from log_gardener.tasks.worklog_repo import WorklogTarget

# a file or a sink table holds what it holds: a filter that silently did nothing would mislead
FILTER_SOURCES_ONLY = "applies to cloud-logging: sources only (the Logging API filters the entries it lists)"


def _not_blank(value: str) -> str:
    """The value without surrounding spaces; an empty one is refused."""
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


class RunSettings(BaseModel):
    """Where logs come from, where results go, and what may be published: all of a run but its service."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description=FIELD_HELP["source"])
    warehouse: str = Field(DEFAULT_WAREHOUSE, description=FIELD_HELP["warehouse"])
    tracker: str = Field("local", description=FIELD_HELP["tracker"])
    rules_path: str = Field("", description=FIELD_HELP["rules_path"])
    min_severity: str = Field("WARNING", description=FIELD_HELP["min_severity"])
    logging_filter: str = Field(
        "",
        description=FIELD_HELP["logging_filter"],
    )
    worklog_dir: str = Field(
        default_factory=lambda: os.environ.get("GARDENER_WORKLOGS", "worklogs"),
        description=FIELD_HELP["worklog_dir"],
    )
    publish_issues: bool = Field(True, description=FIELD_HELP["publish_issues"])
    worklog_repo: str = Field(
        default_factory=lambda: os.environ.get("GARDENER_WORKLOG_REPO", ""),
        description=FIELD_HELP["worklog_repo"],
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
        # an empty value would read as DEFAULT, the lowest severity: every entry, most likely not what was meant
        return severity_name(_not_blank(value))

    @field_validator("source")
    @classmethod
    def _source_not_blank(cls, value: str) -> str:
        return _not_blank(value)

    @model_validator(mode="after")
    def _filter_with_the_logging_api_only(self):
        if self.logging_filter.strip() and not self.source.startswith("cloud-logging:"):
            raise ValueError(f"logging_filter {FILTER_SOURCES_ONLY}")
        return self


class RunParameters(RunSettings):
    """Which service, where its logs come from, where results go, and what may be published."""

    service: str = Field(description=FIELD_HELP["service"])

    @field_validator("service")
    @classmethod
    def _service_not_blank(cls, value: str) -> str:
        return _not_blank(value)


class FleetParameters(RunSettings):
    """A run over many services: the settings they share, which services, and how many at once."""

    services: str = Field("all", description=FIELD_HELP["services"])
    max_parallel: int = Field(4, ge=1, le=32, description=FIELD_HELP["max_parallel"])

    @field_validator("services")
    @classmethod
    def _services(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names:
            raise ValueError("must be all or a comma-separated list of service names")
        return "all" if names == ["all"] else ",".join(names)

    def names(self) -> list[str] | None:
        """The listed services, or None for all."""
        if self.services.strip().lower() == "all":
            return None
        return list(dict.fromkeys(name.strip() for name in self.services.split(",") if name.strip()))

    def for_service(self, service: str) -> RunParameters:
        return RunParameters(service=service, **self.model_dump(exclude={"services", "max_parallel"}))
