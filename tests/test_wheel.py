"""The package installs like any other: a wheel built from the repository runs the demo outside it."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from log_gardener.sample import SERVICE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # a copy of the sources, so no build/ left in the checkout (or stale there) ends up in the wheel
    source = tmp_path_factory.mktemp("src") / "log-gardener"
    ignore = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "demo", "worklogs")
    shutil.copytree(ROOT, source, ignore=ignore)
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("log_gardener-*.whl")
    return built


def test_wheel_carries_the_sql_and_the_default_rules_and_no_top_level_tasks_or_flows(wheel):
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "log_gardener/sql/schema/log_entries.sql" in names
    assert "log_gardener/sql/analyst/escalation_history.sql" in names
    assert "log_gardener/tasks/default_rules.toml" in names
    assert "log_gardener/tasks/sources/cloud_logging.py" in names
    assert not [n for n in names if n.split("/")[0] in {"tasks", "flows", "sql", "config"}]


def test_wheel_in_a_fresh_virtualenv_runs_the_demo_outside_the_repository(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    # the dependencies come from the test environment (no download); the package itself only from the wheel
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PREFECT_HOME": str(tmp_path / "prefect")}
    probe = subprocess.run(
        [str(python), "-c", "import importlib.util as u, log_gardener as g; print(g.__file__, u.find_spec('tasks'), u.find_spec('flows'))"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert str(site) in probe.stdout and probe.stdout.strip().endswith("None None")
    demo = subprocess.run(
        [str(venv / "bin" / "gardener"), "demo", "--hours", "2", "--folder", "out"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    worklogs = sorted((work / "out" / "worklogs" / SERVICE).glob("*.md"))
    assert len(worklogs) == 2
    assert "## Summary" in worklogs[-1].read_text()
    digests = sorted((work / "out" / "worklogs" / "_fleet").glob("*.md"))
    assert len(digests) == 2 and "## What needs a look" in digests[-1].read_text()
