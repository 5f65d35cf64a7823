"""Backfill: order, skipping done windows, no publishing, and the same answer as hourly runs."""

import json
from datetime import timedelta

import duckdb
import pytest
from typer.testing import CliRunner

from log_gardener.flows.backfill import parse_step, split_windows
from log_gardener.flows.cli import app
from log_gardener.sample import SERVICE, write_sample
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.vocabulary import RunStatus

HOUR = ["2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z", "2025-09-15T03:00:00Z", "2025-09-15T04:00:00Z"]


def test_steps_and_windows():
    assert parse_step("90m") == timedelta(minutes=90) and parse_step("1d") == timedelta(days=1)
    with pytest.raises(ValueError, match="30m, 1h or 1d"):
        parse_step("fortnight")
    windows = split_windows(Window.parse(HOUR[0], "2025-09-15T02:30:00Z"), timedelta(hours=1))
    assert [(w.start.hour, w.end.hour, w.end.minute) for w in windows] == [(0, 1, 0), (1, 2, 0), (2, 2, 30)]


@pytest.fixture(scope="module")
def four_hours(tmp_path_factory):
    path = tmp_path_factory.mktemp("four") / "logs.ndjson"
    write_sample(path, hours=4, fmt="ndjson")
    return path


def cli(*args):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def comparable(summary):
    return [
        (c["fingerprint"], c["count"], c["baseline_rate_per_min"], c["ratio"], c["status"], c["priority"], c["previous_priority"])
        for c in summary["clusters"]
    ]


def test_backfill_then_hourly_equals_four_hourly_runs(prefect_harness, four_hours, tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    common = ["--source", str(four_hours), "--service", SERVICE, "--worklogs", str(tmp_path / "w")]
    result = cli("backfill", *common, "--start", HOUR[0], "--end", HOUR[3], "--warehouse", f"duckdb:///{a}", "--json")
    assert (result["windows"], result["ran"], result["skipped"]) == (3, 3, 0)
    con = duckdb.connect(str(a))
    assert con.execute("select count(*) from tracker_issues").fetchone()[0] == 0  # nothing published
    assert [r[0].hour for r in con.execute("select window_start from runs order by started_at").fetchall()] == [0, 1, 2]
    con.close()
    after_backfill = cli("run", *common, "--start", HOUR[3], "--end", HOUR[4], "--warehouse", f"duckdb:///{a}", "--json")
    for start, end in zip(HOUR, HOUR[1:]):
        hourly = cli("run", *common, "--start", start, "--end", end, "--warehouse", f"duckdb:///{b}", "--json")
    assert comparable(after_backfill) == comparable(hourly)
    # the patterns the backfill found get their issues on the first publishing run
    assert {c["issue"]["action"] for c in after_backfill["clusters"]} == {"create"}

    again = cli("backfill", *common, "--start", HOUR[0], "--end", HOUR[4], "--warehouse", f"duckdb:///{a}", "--json")
    assert (again["ran"], again["skipped"]) == (0, 4)  # resumes: everything is done


def _completed(wh, service, start, end):
    from log_gardener.tasks.warehouses import records

    run_id = f"{service}-{start}"
    records.start_run(wh, run_id, service, Window.parse(start, end), "test", {})
    records.finish_run(wh, run_id, RunStatus.COMPLETED)


@pytest.mark.parametrize(
    "start, end, refused",
    [
        (HOUR[0], HOUR[1], False),  # the very same window: a rerun
        (HOUR[1], HOUR[2], False),  # the next hour: shares no instant (windows end before their end)
        ("2025-09-14T23:00:00Z", HOUR[0], False),  # the hour before
        ("2025-09-15T00:30:00Z", "2025-09-15T01:30:00Z", True),
        ("2025-09-15T00:00:00.500000Z", "2025-09-15T01:00:00.500000Z", True),  # half a second late
        ("2025-09-15T00:00:00Z", "2025-09-15T00:30:00Z", True),  # half of it
        ("2025-09-14T00:00:00Z", "2025-09-16T00:00:00Z", True),  # a day around it
    ],
)
def test_a_window_that_overlaps_a_completed_one_of_its_service_is_refused(tmp_path, start, end, refused):
    from log_gardener.tasks.warehouses import open_warehouse, records

    wh = open_warehouse(f"duckdb:///{tmp_path / 'g.duckdb'}")
    wh.setup()
    _completed(wh, SERVICE, HOUR[0], HOUR[1])
    _completed(wh, "other-service", "2025-09-15T00:30:00Z", "2025-09-15T01:30:00Z")  # another service's: its own baseline
    window = Window.parse(start, end)
    if refused:
        with pytest.raises(ValueError, match="overlaps its completed window 2025-09-15T00:00:00Z–2025-09-15T01:00:00Z"):
            records.check_no_overlap(wh, SERVICE, [window])
    else:
        records.check_no_overlap(wh, SERVICE, [window])
    wh.close()


def test_an_overlapping_run_or_backfill_is_refused_before_anything_runs(prefect_harness, four_hours, tmp_path):
    db = tmp_path / "g.duckdb"
    common = ["--source", str(four_hours), "--service", SERVICE, "--worklogs", str(tmp_path / "w"), "--warehouse", f"duckdb:///{db}"]
    cli("run", *common, "--start", HOUR[0], "--end", HOUR[1], "--json")
    for extra in (
        ["run", "--start", "2025-09-15T00:30:00Z", "--end", "2025-09-15T01:30:00Z"],
        ["backfill", "--start", HOUR[0], "--end", HOUR[2], "--step", "30m"],
    ):
        result = CliRunner().invoke(app, [extra[0], *common, *extra[1:]])
        assert result.exit_code == 2 and "overlaps its completed window" in result.output, result.output
        assert "Traceback" not in result.output
    con = duckdb.connect(str(db))
    assert con.execute("select count(*) from runs").fetchone()[0] == 1  # nothing else ran
    con.close()


def test_an_off_grid_run_that_blocks_the_hourly_ones_can_be_retired(prefect_harness, four_hours, tmp_path):
    db = tmp_path / "g.duckdb"
    common = ["--source", str(four_hours), "--service", SERVICE, "--worklogs", str(tmp_path / "w"), "--warehouse", f"duckdb:///{db}"]
    warehouse = ["--service", SERVICE, "--warehouse", f"duckdb:///{db}"]
    off_grid = ["--start", "2025-09-15T00:30:00Z", "--end", "2025-09-15T01:30:00Z"]
    manual = cli("run", *common, *off_grid, "--json")  # by hand, half an hour off the hourly grid
    for start, end in zip(HOUR, HOUR[1:3]):
        blocked = CliRunner().invoke(app, ["run", *common, "--start", start, "--end", end])
        assert blocked.exit_code == 2 and "gardener retire" in blocked.output, blocked.output

    for wrong in (["--start", HOUR[1], "--end", HOUR[2]], ["--start", "2025-09-15T00:30:00Z", "--end", "2025-09-15T01:00:00Z"]):
        refused = CliRunner().invoke(app, ["retire", *warehouse, *wrong])  # no completed window of exactly that time
        assert refused.exit_code == 2 and "completed windows that overlap it: 2025-09-15T00:" in refused.output, refused.output
    missing = CliRunner().invoke(app, ["retire", "--service", SERVICE, "--warehouse", f"duckdb:///{tmp_path / 'none.duckdb'}", *off_grid])
    assert missing.exit_code == 2 and "no warehouse at" in missing.output and not (tmp_path / "none.duckdb").exists()

    retired = CliRunner().invoke(app, ["retire", *warehouse, *off_grid])
    assert retired.exit_code == 0 and "Retired 1 run of" in retired.output, retired.output
    again = CliRunner().invoke(app, ["retire", *warehouse, *off_grid])
    assert again.exit_code == 2 and "has no completed window" in again.output  # nothing left to retire

    hour_one = cli("run", *common, "--start", HOUR[0], "--end", HOUR[1], "--json")
    # the issues the manual run opened stay its patterns' issues: none is opened twice
    assert {c["issue"]["action"] for c in hour_one["clusters"]} == {"none"}
    assert {c["issue"]["number"] for c in hour_one["clusters"]} == {c["issue"]["number"] for c in manual["clusters"]}
    hour_two = cli("run", *common, "--start", HOUR[1], "--end", HOUR[2], "--json")
    con = duckdb.connect(str(db))
    statuses = dict(con.execute("select strftime(window_start, '%H:%M'), status from runs").fetchall())
    assert statuses == {"00:00": "completed", "00:30": "retired", "01:00": "completed"}
    # the retired window's counts are gone, so the hour after it is measured against the first hour alone
    assert con.execute("select count(*) from cluster_counts where window_start = '2025-09-15 00:30:00+00'").fetchone()[0] == 0
    assert all(c["baseline_windows"] == 1 for c in hour_two["clusters"] if c["count"]), hour_two["clusters"]
    # the entries the manual run loaded stay, once: each hour that covers half of them added the other half
    loaded = con.execute("select count(*), count(distinct insert_id) from log_entries").fetchone()
    con.close()
    assert loaded[0] == loaded[1] == hour_one["entries"] + hour_two["entries"]
    assert 0 < hour_one["new_entries"] < hour_one["entries"] and 0 < hour_two["new_entries"] < hour_two["entries"]
    assert hour_one["entries"] + hour_two["entries"] - hour_one["new_entries"] - hour_two["new_entries"] == manual["entries"]


def test_a_retired_window_that_starts_with_the_hour_leaves_the_hour_its_own_tracker_actions(prefect_harness, tmp_path):
    # a ten-minute manual run at the start of an hour escalates (60 entries in 10 minutes against 1/min), is
    # retired, and the hour then runs: at 1/min it is no spike, and the manual run's escalation is not replayed
    def entry(i, minute):
        return json.dumps(
            {
                "insertId": f"e{i}",
                "timestamp": f"2025-09-15T{minute // 60:02d}:{minute % 60:02d}:{(i * 7) % 60:02d}Z",
                "severity": "ERROR",
                "textPayload": "Database timeout connecting to primary",
                "resource": {"type": "cloud_run_revision", "labels": {"service_name": SERVICE}},
            }
        )

    logs = tmp_path / "logs.ndjson"
    logs.write_text("\n".join([entry(i, i) for i in range(60)] + [entry(100 + i, 60 + i // 6) for i in range(60)]) + "\n")
    common = [
        "--source",
        str(logs),
        "--service",
        SERVICE,
        "--worklogs",
        str(tmp_path / "w"),
        "--warehouse",
        f"duckdb:///{tmp_path / 'g.duckdb'}",
    ]
    cli("run", *common, "--start", HOUR[0], "--end", HOUR[1], "--json")
    manual = cli("run", *common, "--start", HOUR[1], "--end", "2025-09-15T01:10:00Z", "--json")
    assert [c["issue"]["action"] for c in manual["clusters"]] == ["escalate"]
    retired = CliRunner().invoke(
        app, ["retire", "--service", SERVICE, "--warehouse", common[-1], "--start", HOUR[1], "--end", "2025-09-15T01:10:00Z"]
    )
    assert retired.exit_code == 0, retired.output
    hour = cli("run", *common, "--start", HOUR[1], "--end", HOUR[2], "--json")
    (pattern,) = hour["clusters"]
    assert pattern["status"] == "ongoing" and pattern["issue"]["action"] != "escalate", pattern
    con = duckdb.connect(str(tmp_path / "g.duckdb"))
    comments = con.execute("select count(*) from tracker_comments").fetchone()[0]
    con.close()
    assert comments == 1  # the manual run's escalation, once


def test_retire_refuses_what_is_no_warehouse_of_runs_and_leaves_it_as_it_was(tmp_path):
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("create table foo (x int)")
    con.close()
    window = ["--start", HOUR[0], "--end", HOUR[1]]
    for args, said in (
        (["--service", SERVICE, "--warehouse", f"duckdb:///{other}"], "is not a gardener warehouse: it has no runs table"),
        (["--service", " ", "--warehouse", f"duckdb:///{other}"], "--service must not be empty"),
        (["--service", SERVICE, "--warehouse", f"duckdb:///{other}?x=1"], "takes no options"),
        (["--service", SERVICE, "--warehouse", f"duckdb:///{tmp_path / 'none.duckdb'}"], "no warehouse at"),
    ):
        result = CliRunner().invoke(app, ["retire", *args, *window])
        assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output, result.output
    con = duckdb.connect(str(other))
    assert con.execute("show tables").fetchall() == [("foo",)]  # no gardener table was made in it
    con.close()
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.parametrize(
    "start, end, step, said",
    [
        (HOUR[0], "2025-09-15T01:30:00Z", "1h", "End it at 2025-09-15T01:00Z or 2025-09-15T02:00Z"),
        (HOUR[0], HOUR[2], "90m", "whole number of 90m steps"),
        (HOUR[0], HOUR[3], "1d", "whole number of 1d steps"),
    ],
)
def test_a_backfill_whose_last_window_would_be_short_is_refused(four_hours, tmp_path, start, end, step, said):
    # the short window, once completed, would be overlapped by the next whole step's window, refused for good
    result = CliRunner().invoke(
        app,
        ["backfill", "--source", str(four_hours), "--service", SERVICE, "--start", start, "--end", end, "--step", step]
        + ["--warehouse", f"duckdb:///{tmp_path / 'g.duckdb'}", "--worklogs", str(tmp_path / "w")],
    )
    assert result.exit_code == 2 and said in result.output, result.output
    assert not any(tmp_path.iterdir())


def test_backfill_bad_step_is_a_clear_error(four_hours):
    result = CliRunner().invoke(
        app, ["backfill", "--source", str(four_hours), "--service", SERVICE, "--start", HOUR[0], "--end", HOUR[1], "--step", "soon"]
    )
    assert result.exit_code == 2 and "step must look like" in result.output


def test_backfill_of_several_services_runs_each_in_turn(prefect_harness, four_hours, tmp_path):
    from log_gardener.sample import WORKER_SERVICE

    db = f"duckdb:///{tmp_path / 'g.duckdb'}"
    common = ["--source", str(four_hours), "--start", HOUR[0], "--end", HOUR[2], "--warehouse", db, "--worklogs", str(tmp_path)]
    result = cli("backfill", "--services", f"{SERVICE},{WORKER_SERVICE}", *common, "--json")
    assert {name: (r["windows"], r["ran"]) for name, r in result["services"].items()} == {SERVICE: (2, 2), WORKER_SERVICE: (2, 2)}
    again = cli("backfill", "--services", f"{SERVICE},{WORKER_SERVICE}", *common, "--json")
    assert all(r["skipped"] == 2 for r in again["services"].values())
    both = CliRunner().invoke(app, ["backfill", "--service", SERVICE, "--services", WORKER_SERVICE, *common])
    assert both.exit_code == 2 and "either --service NAME or --services" in both.output


def test_one_service_failing_in_a_backfill_of_several_does_not_stop_the_others(prefect_harness, four_hours, tmp_path):
    from log_gardener.sample import WORKER_SERVICE

    (tmp_path / SERVICE).write_text("a file where this service's worklog folder should go", encoding="utf-8")
    db = f"duckdb:///{tmp_path / 'g.duckdb'}"
    common = ["--source", str(four_hours), "--start", HOUR[0], "--end", HOUR[2], "--warehouse", db, "--worklogs", str(tmp_path)]
    result = CliRunner().invoke(app, ["backfill", "--services", f"{SERVICE},{WORKER_SERVICE}", *common, "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["failed"] == [SERVICE] and "error" in summary["services"][SERVICE]
    assert (summary["services"][WORKER_SERVICE]["windows"], summary["services"][WORKER_SERVICE]["ran"]) == (2, 2)
