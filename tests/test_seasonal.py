"""Escalation that follows a service's daily cycle, and priorities that come back down: on DuckDB and on BigQuery."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from log_gardener.tasks.history import choose_baseline, load_history
from log_gardener.tasks.measure import prioritise
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.rules import load_rules
from log_gardener.tasks.vocabulary import BaselineKind, Priority, Status
from log_gardener.tasks.warehouses import open_warehouse
from tests.bigquery_emulator import Emulator
from tests.test_measure import history, pattern

RULES = load_rules()
DAY0 = datetime(2025, 9, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
BUSY_HOURS = range(6, 10)  # traffic, and the warning that follows it, peaks every morning


def hourly_rate(hour_of_day: int) -> int:
    return 300 if hour_of_day in BUSY_HOURS else 10


@pytest.fixture(params=["duckdb", "bigquery"])
def warehouse(request, monkeypatch, fresh_db):
    if request.param == "duckdb":
        yield fresh_db
        return
    with Emulator("acme-prod") as emulator:
        monkeypatch.setenv("GARDENER_BIGQUERY_API_ENDPOINT", emulator.url)
        wh = open_warehouse("bigquery:acme-prod.gardener")
        wh.setup()
        yield wh
        wh.close()


def _store(warehouse, windows: list[tuple[datetime, int, str, str]]) -> None:
    """Completed runs with one pattern `a` counted: (start, entries, status, priority) per hourly window."""
    runs = [
        {"run_id": f"r{i}", "service": "svc", "window_start": s, "window_end": s + HOUR, "started_at": s, "status": "completed"}
        for i, (s, *_) in enumerate(windows)
    ]
    counts = [
        {
            "run_id": f"r{i}",
            "service": "svc",
            "window_start": s,
            "window_end": s + HOUR,
            "fingerprint": "a",
            "entries": n,
            "status": st,
            "priority": p,
        }
        for i, (s, n, st, p) in enumerate(windows)
    ]
    warehouse.append("runs", pd.DataFrame(runs))
    warehouse.append("cluster_counts", pd.DataFrame(counts))


def _seven_ordinary_days(warehouse) -> None:
    _store(warehouse, [(DAY0 + h * HOUR, hourly_rate(h % 24), "ongoing", "P3") for h in range(7 * 24)])


def _measure(warehouse, count: int, seasonal: bool):
    window = Window(DAY0 + (7 * 24 + 7) * HOUR, DAY0 + (7 * 24 + 8) * HOUR)  # day eight, 07:00, a busy hour
    esc = RULES.escalation
    days, weeks = (esc.seasonal_days, esc.seasonal_weeks) if seasonal else (0, 0)
    hist = load_history(
        warehouse,
        "svc",
        window,
        esc.baseline_windows,
        seasonal_days=days,
        seasonal_weeks=weeks,
        min_seasonal_windows=esc.min_seasonal_windows,
    )
    m = pattern("a", count)
    (m,) = prioritise([m], hist, RULES)
    return m


def test_an_ordinary_busy_morning_is_no_escalation_against_the_same_hour_of_earlier_days(warehouse):
    _seven_ordinary_days(warehouse)
    seasonal = _measure(warehouse, hourly_rate(7), seasonal=True)
    assert (seasonal.baseline_kind, seasonal.baseline_windows, seasonal.baseline_rate_per_min) == (BaselineKind.HOUR_OF_DAY, 7, 5.0)
    assert seasonal.status == Status.ONGOING
    recent = _measure(warehouse, hourly_rate(7), seasonal=False)
    assert recent.baseline_kind == BaselineKind.RECENT and recent.status == Status.ESCALATED  # what the recent mean would do


def test_a_real_three_fold_anomaly_on_day_eight_is_escalated_against_the_same_hour(warehouse):
    _seven_ordinary_days(warehouse)
    m = _measure(warehouse, 3 * hourly_rate(7), seasonal=True)
    assert m.status == Status.ESCALATED and m.baseline_kind == BaselineKind.HOUR_OF_DAY
    assert m.reason.startswith("5/min to 15/min, x3.0 over the same hour on 7 earlier days: P3 to P1")


def test_the_same_hour_of_the_week_wins_once_three_weeks_exist():
    window = Window(DAY0 + 21 * 24 * HOUR, DAY0 + (21 * 24 + 1) * HOUR)
    spans = [(DAY0 + h * HOUR, DAY0 + (h + 1) * HOUR) for h in reversed(range(21 * 24))]
    kind, chosen = choose_baseline(spans, window, 24, seasonal_days=7, seasonal_weeks=4, min_seasonal_windows=3)
    assert kind == BaselineKind.HOUR_OF_WEEK and [s for s, _ in chosen] == [DAY0 + d * 24 * HOUR for d in (14, 7, 0)]
    kind, chosen = choose_baseline(spans[: 20 * 24], window, 24, seasonal_days=7, seasonal_weeks=4, min_seasonal_windows=3)
    assert kind == BaselineKind.HOUR_OF_DAY and len(chosen) == 7  # two weeks back only: the same hour of the day
    kind, chosen = choose_baseline(spans[:48], window, 24, seasonal_days=7, seasonal_weeks=4, min_seasonal_windows=3)
    assert kind == BaselineKind.RECENT and len(chosen) == 24  # two days of history: the recent mean
    assert choose_baseline(spans, window, 24)[0] == BaselineKind.RECENT  # seasonal kinds off


def test_a_calm_pattern_steps_down_one_level_never_below_its_base():
    calm = history(baseline_counts={"a": 20}, previous_priority={"a": "P1"}, seen_before={"a"}, calm={"a"})
    (m,) = prioritise([pattern("a", 10)], calm, RULES)
    assert (m.status, m.previous_priority, m.priority) == (Status.ONGOING, Priority.P1, Priority.P2)
    assert m.reason == "within its baseline for 6 windows (0.167/min): P1 to P2"
    at_base = history(baseline_counts={"a": 20}, previous_priority={"a": "P3"}, seen_before={"a"}, calm={"a"})
    (m,) = prioritise([pattern("a", 10)], at_base, RULES)
    assert m.priority == Priority.P3  # P3 is what a warning at this rate is anyway
    (m,) = prioritise([pattern("a", 10)], history(baseline_counts={"a": 20}, previous_priority={"a": "P1"}, seen_before={"a"}), RULES)
    assert m.priority == Priority.P1  # not calm long enough: it keeps its priority


def test_calm_means_ongoing_at_one_priority_for_the_last_windows(warehouse):
    start = DAY0
    escalated_then_calm = [(start, 400, "escalated", "P1")] + [(start + k * HOUR, 100, "ongoing", "P1") for k in range(1, 6)]
    _store(warehouse, escalated_then_calm)
    hist = load_history(warehouse, "svc", Window(start + 6 * HOUR, start + 7 * HOUR), 24, deescalate_after_windows=6)
    assert hist.calm == {"a"}  # five ongoing windows at P1 before this, the sixth
    hist = load_history(warehouse, "svc", Window(start + 5 * HOUR, start + 6 * HOUR), 24, deescalate_after_windows=6)
    assert hist.calm == set()  # the escalation is one of the last five


def _entries(warehouse, rows: list[tuple[datetime, str]]) -> None:
    frame = pd.DataFrame(
        [
            {
                "insert_id": f"e{i}",
                "timestamp": ts,
                "severity": "ERROR",
                "service": "svc",
                "revision": rev,
                "message": "m",
                "pattern_text": "m",
            }
            for i, (ts, rev) in enumerate(rows)
        ]
    )
    warehouse.append("log_entries", frame)


@pytest.mark.parametrize("old_last_seen, new", [(timedelta(minutes=-5), True), (timedelta(days=-3), False)])
def test_a_revision_is_new_when_it_takes_over_from_one_that_was_logging_just_before(fresh_db, old_last_seen, new):
    from log_gardener.tasks.deploys import mark_new_revisions

    window = Window(DAY0 + 10 * HOUR, DAY0 + 11 * HOUR)
    _entries(fresh_db, [(window.start + old_last_seen, "svc-00001-old"), (window.start + timedelta(minutes=2), "svc-00002-new")])
    m = pattern("a", 3, "ERROR")
    m.first_revision, m.status = "svc-00002-new", Status.NEW
    mark_new_revisions(fresh_db, "svc", window, [m])
    assert m.revision_is_new is new
    assert ("appeared with revision svc-00002-new" in m.reason) is new
