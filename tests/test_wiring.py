"""Wiring: prefect.yaml entrypoints, their parameters, and the command line all share one parameters model."""

import importlib
import inspect
from datetime import UTC, datetime
from pathlib import Path

import typer
import yaml

from log_gardener.flows.cli import app
from log_gardener.flows.parameters import RunParameters
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
        assert signature.parameters["params"].annotation in (RunParameters, "RunParameters")
        parameters = dict(deployment["parameters"])
        RunParameters.model_validate(parameters.pop("params"))
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
