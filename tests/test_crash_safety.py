"""A run killed outright (SIGKILL) at any stage, and two runs of one window at once, end as one clean run.

Real `gardener run` processes in Prefect's local mode on one DuckDB file: the killed run is finished by the
next run of its window, which leaves the same entries, patterns, counts and issues as an uninterrupted run.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from log_gardener.sample import SERVICE, write_sample
from tests.snapshots import run_outcome

GARDENER = Path(sys.executable).with_name("gardener")
WINDOW = ("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z")


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    logs = folder / "logs.ndjson"
    write_sample(logs, hours=1, fmt="ndjson", corrupt=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")} | {
        "PREFECT_HOME": str(folder / "prefect"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    clean = folder / "clean.duckdb"
    assert _start(logs, clean, env).wait(timeout=600) == 0
    return logs, env, snapshot(clean)


def _start(logs, db, env, kill_at=None):
    args = [str(GARDENER), "run", "--source", str(logs), "--service", SERVICE, "--start", WINDOW[0], "--end", WINDOW[1]]
    args += ["--warehouse", f"duckdb:///{db}", "--worklogs", str(db.parent / "worklogs"), "--json"]
    extra = {"GARDENER_KILL_AT": kill_at} if kill_at else {}
    # a session of its own, so the local Prefect server it starts can be stopped with it
    return subprocess.Popen(args, env=env | extra, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _reap(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def snapshot(db: Path) -> dict:
    """What a run leaves behind, without ids and clocks."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return run_outcome(lambda sql: con.execute(sql).fetchall()) | {
            "completed runs": con.execute("select count(*) from runs where status = 'completed'").fetchone()[0],
        }
    finally:
        con.close()


@pytest.mark.parametrize("stage", ["loaded", "identified", "publishing", "saved"])
def test_a_run_killed_at_any_stage_is_completed_by_the_next_run_exactly(setting, tmp_path, stage):
    logs, env, clean = setting
    db = tmp_path / "g.duckdb"
    killed = _start(logs, db, env, kill_at=stage)
    try:
        assert killed.wait(timeout=600) == -signal.SIGKILL
    finally:
        _reap(killed)
    rerun = _start(logs, db, env)
    try:
        assert rerun.wait(timeout=600) == 0, rerun.stderr.read().decode()[-2000:]
    finally:
        _reap(rerun)
    assert snapshot(db) == clean
    statuses = duckdb.connect(str(db), read_only=True).execute("select status from runs order by started_at").fetchall()
    assert statuses == [("interrupted",), ("completed",)]  # the killed run is recognised, not left running


def test_two_runs_of_one_window_at_once_leave_one_set_of_rows_and_actions(setting, tmp_path):
    logs, env, clean = setting
    db = tmp_path / "g.duckdb"
    runs = [_start(logs, db, env), _start(logs, db, env)]
    try:
        codes = [run.wait(timeout=900) for run in runs]
    finally:
        for run in runs:
            _reap(run)
    assert codes == [0, 0]
    after = snapshot(db)
    assert after | {"completed runs": 1} == clean and after["completed runs"] == 2
