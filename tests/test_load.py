"""`load`: which rejections a run lists in its worklog, and which it names as listed by another run."""

from datetime import timedelta

import pandas as pd

from log_gardener.tasks.extract import Extracted, Rejection, _frame
from log_gardener.tasks.load import load
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.vocabulary import RunStatus
from log_gardener.tasks.warehouses import open_warehouse, records

HOUR = Window.parse("2025-09-15T00:00:00Z", "2025-09-15T01:00:00Z")
NEXT = Window.parse("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z")


def _run(wh, run_id, service, window, status, rejections=()):
    records.start_run(wh, run_id, service, window, "test", {})
    if rejections:
        load(wh, Extracted(_frame([]), list(rejections)), run_id, service, window, "test")
    if status != RunStatus.RUNNING:
        records.finish_run(wh, run_id, status)


def test_a_rejection_is_named_only_when_a_finished_run_of_another_window_listed_it(tmp_path):
    wh = open_warehouse(f"duckdb:///{tmp_path / 'g.duckdb'}")
    wh.setup()
    broken = [Rejection(f"r{i}", "malformed JSON", "{", f"line {i}") for i in range(4)]
    _run(wh, "dead", "svc-a", HOUR, RunStatus.RUNNING, broken[:1])  # died after load: its worklog was never written
    _run(wh, "failed", "svc-c", HOUR, RunStatus.FAILED, broken[1:2])
    _run(wh, "done", "svc-d", HOUR, RunStatus.COMPLETED, broken[2:4])
    later = load(wh, Extracted(_frame([]), broken), "next", "svc-b", NEXT, "test")["reported_before"]
    assert later == {rid: ("svc-d", HOUR.start, HOUR.end) for rid in ("r2", "r3")}  # r0 and r1: svc-b lists them
    assert load(wh, Extracted(_frame([]), broken), "again", "svc-d", HOUR, "test")["reported_before"] == {}  # a rerun lists its own
    # the dead run's window is run again and finishes: its worklog lists r0 (its window's), so r0 is listed now
    _run(wh, "rerun", "svc-a", HOUR, RunStatus.COMPLETED, broken[:1])
    later = load(wh, Extracted(_frame([]), broken), "next", "svc-b", NEXT, "test")["reported_before"]
    assert later["r0"] == ("svc-a", HOUR.start, HOUR.end) and "r1" not in later
    wh.close()


def test_a_rejection_stored_twice_by_runs_at_once_stays_the_list_of_the_run_that_has_it(tmp_path):
    # runs of two services at once (a fleet on BigQuery) may both store a line before either sees the other's row
    wh = open_warehouse(f"duckdb:///{tmp_path / 'g.duckdb'}")
    wh.setup()
    broken = [Rejection("r0", "malformed JSON", "{", "line 1")]
    for run_id, service in (("a", "svc-a"), ("b", "svc-b")):
        records.start_run(wh, run_id, service, HOUR, "test", {})
        records.finish_run(wh, run_id, RunStatus.COMPLETED)
    stored = pd.DataFrame(
        [
            {"rejection_id": "r0", "run_id": run_id, "service": None, "source": "t", "location": "line 1", "reason": "x", "raw_text": "{"}
            for run_id in ("b", "a")
        ]
    )
    wh.append("rejected_entries", stored.assign(rejected_at=HOUR.start + timedelta(minutes=5)))
    for service in ("svc-a", "svc-b"):  # each rerun lists its own, whichever row comes first
        assert load(wh, Extracted(_frame([]), broken), "again", service, HOUR, "test")["reported_before"] == {}
    # a third service names the earlier of the two runs
    assert load(wh, Extracted(_frame([]), broken), "c", "svc-c", HOUR, "test")["reported_before"] == {"r0": ("svc-a", HOUR.start, HOUR.end)}
    wh.close()
