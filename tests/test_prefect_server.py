"""Deploy prefect.yaml to a real local Prefect server, trigger the backfill deployment, run it with a process worker."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from log_gardener.sample import SERVICE, write_sample

ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    env = os.environ | {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        # no scheduled hourly runs in the test: only the run it triggers
        "PREFECT_API_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    log = open(home / "server.log", "w")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home
    )
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                pytest.fail("prefect server exited: " + (home / "server.log").read_text()[-2000:])
            time.sleep(1)
        else:
            pytest.fail("prefect server did not start in 180 s")
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _prefect(env, *args, timeout=300):
    result = subprocess.run([PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"prefect {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_deployments_run_on_a_real_server(prefect_server, tmp_path):
    env = prefect_server
    api = env["PREFECT_API_URL"]
    logs = tmp_path / "logs.ndjson"
    write_sample(logs, hours=2, fmt="ndjson")
    _prefect(env, "work-pool", "create", "gardener", "--type", "process")
    _prefect(env, "--no-prompt", "deploy", "--all")
    deployments = httpx.post(f"{api}/deployments/filter", json={}).json()
    assert {d["name"] for d in deployments} == {"netra-backend-staging-hourly", "netra-frontend-staging-hourly", "fleet-hourly", "backfill"}
    hourly = next(d for d in deployments if d["name"] == "netra-backend-staging-hourly")
    assert [s["schedule"]["cron"] for s in hourly["schedules"]] == ["7 * * * *"]

    params = {
        "start": "2025-09-15T00:00:00Z",
        "end": "2025-09-15T02:00:00Z",
        "params": {
            "service": SERVICE,
            "source": str(logs),
            "warehouse": f"duckdb:///{tmp_path / 'g.duckdb'}",
            "worklog_dir": str(tmp_path / "worklogs"),
            "publish_issues": False,
        },
    }
    args = ["deployment", "run", "backfill/backfill", "--params", json.dumps(params)]
    _prefect(env, *args)
    _prefect(env, "worker", "start", "--pool", "gardener", "--run-once", timeout=600)

    runs = httpx.post(f"{api}/flow_runs/filter", json={}).json()
    states = sorted((run["name"], run["state"]["type"]) for run in runs)
    assert all(state == "COMPLETED" for _, state in states), states
    assert len(runs) == 3  # the backfill and its two hourly gardener runs
    artifacts = httpx.post(f"{api}/artifacts/filter", json={}).json()
    kinds = sorted({(a["key"], a["type"]) for a in artifacts})
    assert ("worklog-netra-backend-staging", "markdown") in kinds
    assert ("clusters-netra-backend-staging", "table") in kinds
    assert ("issues-netra-backend-staging", "markdown") in kinds
    assert len(list((tmp_path / "worklogs" / SERVICE).glob("*.md"))) == 2
    print("\n" + json.dumps({"flow_runs": states, "artifacts": kinds}, indent=1))
