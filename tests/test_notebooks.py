"""The analyst notebook runs top to bottom against a warehouse filled by real flow runs."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from tests.cli_args import run_args

ROOT = Path(__file__).resolve().parent.parent
HOURS = ["2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z", "2025-09-15T03:00:00Z"]


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs_on_the_demo_warehouse(prefect_harness, sample_file, tmp_path, monkeypatch, notebook):
    db = tmp_path / "gardener.duckdb"
    for start, end in zip(HOURS, HOURS[1:]):
        result = CliRunner().invoke(
            app,
            [
                *run_args(str(sample_file), start, end, f"duckdb:///{db}"),
                "--worklogs",
                str(tmp_path / "w"),
            ],
        )
        assert result.exit_code == 0, result.output
    monkeypatch.setenv("GARDENER_WAREHOUSE", f"duckdb:///{db}")
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) + str(o.get("data", {}).get("text/html", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "patterns over 3 hours" in outputs
    assert "Session access failed" in outputs  # the escalation table
    assert "P2" in outputs and "P1" in outputs
    assert "redis.exceptions.ConnectionError" in outputs  # new this week
    assert (tmp_path / "output" / "rates.png").stat().st_size > 1000
