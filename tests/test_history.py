"""`load_history` and `known_issues` on a real (in-memory) warehouse with the real sql/."""

from datetime import UTC, datetime, timedelta

import pandas as pd

from log_gardener.tasks.history import known_issues, load_history
from log_gardener.tasks.normalise import Window

T0 = datetime(2025, 9, 15, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _window(warehouse, hour: int, counts: dict[str, tuple[int, str]], status: str = "completed") -> None:
    start = T0 + hour * HOUR
    warehouse.append(
        "runs",
        pd.DataFrame(
            [
                {
                    "run_id": f"r{hour}",
                    "service": "svc",
                    "window_start": start,
                    "window_end": start + HOUR,
                    "started_at": start,
                    "status": status,
                }
            ]
        ),
    )
    rows = [
        {
            "run_id": f"r{hour}",
            "service": "svc",
            "window_start": start,
            "window_end": start + HOUR,
            "fingerprint": fp,
            "entries": n,
            "priority": p,
        }
        for fp, (n, p) in counts.items()
    ]
    if rows:
        warehouse.append("cluster_counts", pd.DataFrame(rows))


def test_baseline_priorities_and_quiet_patterns_come_from_completed_earlier_windows(fresh_db):
    _window(fresh_db, 0, {"a": (60, "P3"), "b": (10, "P3")})
    _window(fresh_db, 1, {"a": (120, "P2")})
    _window(fresh_db, 2, {"c": (999, "P0")}, status="failed")  # a failed run is no baseline
    now = Window(T0 + 3 * HOUR, T0 + 4 * HOUR)
    history = load_history(fresh_db, "svc", now, baseline_windows=24, quiet_after_windows=1, closed_issues={"a": 7})
    assert history.baseline_minutes == 120.0
    assert history.baseline_counts == {"a": 180, "b": 10}
    assert history.previous_priority == {"a": "P2", "b": "P3", "c": "P0"}
    assert history.seen_before == {"a", "b", "c"}
    assert history.going_quiet == {"a"}  # counted one window ago, nothing since
    assert history.closed_issue == {"a": 7}
    assert load_history(fresh_db, "svc", now, baseline_windows=24, quiet_after_windows=2).going_quiet == {"b"}


def test_the_baseline_takes_at_most_the_configured_number_of_windows(fresh_db):
    for hour in range(5):
        _window(fresh_db, hour, {"a": (60 * (hour + 1), "P3")})
    history = load_history(fresh_db, "svc", Window(T0 + 5 * HOUR, T0 + 6 * HOUR), baseline_windows=2)
    assert history.baseline_minutes == 120.0 and history.baseline_counts == {"a": 300 + 240}


def test_no_earlier_window_means_no_baseline(fresh_db):
    history = load_history(fresh_db, "svc", Window(T0, T0 + HOUR), baseline_windows=24)
    assert (history.baseline_minutes, history.baseline_counts, history.seen_before, history.going_quiet) == (0.0, {}, set(), set())


def test_known_issues_by_pattern_and_by_module(fresh_db):
    rows = [
        {"fingerprint": "a", "service": "svc", "template": "t", "module": "auth", "issue_number": 3},
        {"fingerprint": "b", "service": "svc", "template": "t", "module": "auth", "issue_number": 4},
        {"fingerprint": "c", "service": "svc", "template": "t", "module": "db", "issue_number": None},
    ]
    fresh_db.append("clusters", pd.DataFrame(rows))
    assert known_issues(fresh_db, "svc") == ({"a": 3, "b": 4}, {"auth": {3, 4}})


def test_closed_issues_counts_only_issues_closed_on_the_tracker_and_survives_one_that_is_gone(fresh_db):
    from log_gardener.tasks.history import closed_issues
    from log_gardener.tasks.trackers import LocalTracker

    tracker = LocalTracker(fresh_db)
    open_, closed = tracker.create("t", "b", []), tracker.create("t", "b", [])
    tracker.close(closed.number)
    issues = {"open": open_.number, "closed": closed.number, "gone": 999, "absent": closed.number}
    assert closed_issues(tracker, issues, {"open", "closed", "gone"}, {}) == ({"closed": closed.number}, set())


def test_a_person_mutes_by_closing_as_not_planned_or_by_label_and_that_is_no_regression(fresh_db):
    from log_gardener.tasks.history import closed_issues
    from log_gardener.tasks.trackers import LocalTracker

    tracker = LocalTracker(fresh_db)
    wontfix, labelled, fixed = tracker.create("a", "b", []), tracker.create("b", "b", ["gardener:mute"]), tracker.create("c", "b", [])
    tracker.close(wontfix.number, reason="not_planned")
    tracker.close(fixed.number)
    issues = {"wontfix": wontfix.number, "labelled": labelled.number, "fixed": fixed.number}
    closed, muted = closed_issues(tracker, issues, set(issues), {})
    assert closed == {"fixed": fixed.number} and muted == {"wontfix", "labelled"}


def test_the_calm_check_survives_windows_in_which_nothing_was_counted(fresh_db):
    for hour in range(6):
        _window(fresh_db, hour, {})  # completed windows without entries: a quiet night
    history = load_history(fresh_db, "svc", Window(T0 + 6 * HOUR, T0 + 7 * HOUR), 24, deescalate_after_windows=6)
    assert history.calm == set()


def test_an_issue_closed_as_a_duplicate_mutes_rather_than_regresses(fresh_db):
    from log_gardener.tasks.history import closed_issues
    from log_gardener.tasks.trackers import LocalTracker

    tracker = LocalTracker(fresh_db)
    duplicate = tracker.create("a", "b", [])
    tracker.close(duplicate.number, reason="duplicate")
    assert closed_issues(tracker, {"dup": duplicate.number}, {"dup"}, {}) == ({}, {"dup"})
