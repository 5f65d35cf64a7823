"""Wiring: prefect.yaml entrypoints, their parameters, and the command line all share one parameters model."""

import importlib
import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
import yaml
from pydantic import ValidationError

from log_gardener.flows.cli import app
from log_gardener.flows.parameters import FleetParameters, RunParameters
from log_gardener.flows.scheduled import last_full_hour

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
# the command-line option of each field of RunParameters
OPTION_OF = {
    "service": "--service",
    "source": "--source",
    "warehouse": "--warehouse",
    "tracker": "--tracker",
    "rules_path": "--rules",
    "min_severity": "--min-severity",
    "logging_filter": "--filter",
    "worklog_dir": "--worklogs",
    "worklog_repo": "--worklog-repo",
}


def _flow(deployment):
    module_path, name = deployment["entrypoint"].split(":")
    module = importlib.import_module("log_gardener." + module_path.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def test_prefect_yaml_entrypoints_import_and_name_flows():
    assert DEPLOYMENTS
    for deployment in DEPLOYMENTS:
        assert hasattr(_flow(deployment), "fn"), f"{deployment['entrypoint']} is not a Prefect flow"


def test_every_deployment_passes_valid_run_parameters_and_only_arguments_its_flow_takes():
    for deployment in DEPLOYMENTS:
        flow = _flow(deployment)
        signature = inspect.signature(flow.fn)
        annotation = signature.parameters["params"].annotation
        model = {"RunParameters": RunParameters, "FleetParameters": FleetParameters}[getattr(annotation, "__name__", annotation)]
        parameters = dict(deployment["parameters"])
        model.model_validate(parameters.pop("params"))
        assert set(parameters) <= set(signature.parameters), deployment["name"]


def test_every_field_of_the_parameters_model_is_an_option_of_run_and_backfill():
    assert set(OPTION_OF) | {"publish_issues"} == set(RunParameters.model_fields)
    commands = typer.main.get_command(app).commands
    for name in ("run", "backfill"):
        options = {opt for p in commands[name].params for opt in getattr(p, "opts", [])}
        assert set(OPTION_OF.values()) <= options, name
    assert "--no-publish" in {o for p in commands["run"].params for o in p.opts}
    assert "--publish" in {o for p in commands["backfill"].params for o in p.opts}


def test_scheduled_window_is_the_previous_full_hour():
    start, end = last_full_hour(datetime(2025, 9, 15, 2, 7, 30, tzinfo=UTC))
    assert (start.hour, end.hour, end.minute) == (1, 2, 0)


def _properties(schema: dict):
    """Every property of a JSON schema and its definitions, with its name."""
    for holder in [schema, *schema.get("definitions", {}).values(), *schema.get("$defs", {}).values()]:
        yield from holder.get("properties", {}).items()


def test_the_run_form_describes_every_parameter_and_none_is_typed_none():
    from prefect.utilities.callables import parameter_schema

    for deployment in DEPLOYMENTS:
        schema = parameter_schema(_flow(deployment).fn).model_dump()
        for name, prop in _properties(schema):
            if "$ref" in prop or "allOf" in prop:
                continue  # the params model itself: its fields are checked in its definition
            kinds = [prop.get("type")] + [option.get("type") for option in prop.get("anyOf", [])]
            assert "null" not in kinds, f"{deployment['name']}: {name} may be None"
            assert prop.get("description"), f"{deployment['name']}: {name} has no description"
        for model in ("RunParameters", "FleetParameters"):
            for name, prop in schema["definitions"].get(model, {}).get("properties", {}).items():
                assert prop.get("description"), f"{model}.{name} has no description"


def test_the_backfill_deployment_has_a_concurrency_limit():
    assert all(d.get("concurrency_limit") == 1 for d in DEPLOYMENTS)


def test_a_deployment_that_sets_a_filter_on_a_source_it_cannot_apply_to_is_refused():
    # the command line refuses --filter on a file; a deployment's parameters are the same model, so they refuse it too
    for model, extra in ((RunParameters, {"service": "svc"}), (FleetParameters, {})):
        for source in ("logs/app.ndjson", "bq-sink:proj.logs.run_googleapis_com_stderr"):
            with pytest.raises(ValidationError, match="logging_filter applies to cloud-logging: sources only"):
                model(source=source, logging_filter="severity>=ERROR", **extra)
        assert model(source="cloud-logging:proj", logging_filter="severity>=ERROR", **extra).logging_filter
        assert model(source="logs/app.ndjson", logging_filter=" ", **extra).source  # blank: no filter
