"""Every prefect.yaml entrypoint imports and names a flow."""

import importlib
from datetime import UTC, datetime
from pathlib import Path

import yaml

from log_gardener.flows.scheduled import last_full_hour

ROOT = Path(__file__).resolve().parent.parent


def test_prefect_yaml_entrypoints_import():
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    assert config["deployments"]
    for deployment in config["deployments"]:
        module_path, name = deployment["entrypoint"].split(":")
        module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
        assert hasattr(getattr(module, name), "fn"), f"{name} is not a Prefect flow"


def test_scheduled_window_is_the_previous_full_hour():
    start, end = last_full_hour(datetime(2025, 9, 15, 2, 7, 30, tzinfo=UTC))
    assert (start.hour, end.hour, end.minute) == (1, 2, 0)
