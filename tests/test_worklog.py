"""`worklog.render` against a golden file: every section a person reads, from fixed inputs.

Set GARDENER_UPDATE_GOLDEN=1 to rewrite the golden file after an intended change, then read the diff.
"""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from log_gardener.tasks import worklog
from log_gardener.tasks.extract import Rejection
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.vocabulary import Action, BaselineKind, IssueRef, Priority, Status
from tests.test_measure import pattern

GOLDEN = Path(__file__).parent / "golden" / "worklog.md"
WINDOW = Window.parse("2025-09-15T02:00:00Z", "2025-09-15T03:00:00Z")


def _measures():
    spike = pattern("5e55a0ff00000001", 918)
    spike.template = "Session access failed (middleware not installed?): SessionMiddleware must be installed to access request.session"
    spike.baseline_rate_per_min, spike.ratio = 5.1, 3.0
    spike.status, spike.previous_priority, spike.priority = Status.ESCALATED, Priority.P2, Priority.P1
    spike.reason = "5.1/min to 15.3/min, x3.0 over a 2-hour baseline: P2 to P1"
    spike.module, spike.function = "netra_backend.app.middleware", "get_session"
    spike.baseline_kind, spike.baseline_windows, spike.p_value = BaselineKind.RECENT, 2, 3.2e-41
    spike.first_revision, spike.revisions, spike.traces, spike.clients = (
        "netra-backend-staging-00645-l8x",
        ["netra-backend-staging-00645-l8x"],
        911,
        0,
    )
    spike.issue = IssueRef(2, Action.ESCALATE, "https://github.com/o/r/issues/2")
    new = pattern("4ed15c0000000002", 3, "ERROR")
    new.template = "[🔴] RACE CONDITION DETECTED: Startup phase <STR> did not reach <STR> within <NUM>s | pipes | escaped"
    new.status, new.priority, new.reason = Status.NEW, Priority.P1, "first seen in this window: 3 entries, 0.05/min"
    new.issue = IssueRef(5, Action.CREATE, "", already_applied=True)
    quiet = pattern("9e1e7c0000000003", 0)
    quiet.template, quiet.status, quiet.priority, quiet.first_seen = "POST /ws/beacon <NUM>", Status.QUIET, Priority.P3, None
    quiet.reason, quiet.issue = "silent since its last window with entries", IssueRef(4)
    return [new, spike, quiet]


def _render(**changed) -> str:
    """The golden worklog's inputs, with `changed` in place of some."""
    inputs = {
        "service": "netra-backend-staging",
        "window": WINDOW,
        "run_id": "run-1",
        "generated_at": datetime(2025, 9, 15, 3, 7, tzinfo=UTC),
        "source": "file:sample.ndjson",
        "tracker": "local",
        "stats": {"read": 1200, "kept": 921, "other_service": 40, "outside_window": 200, "below_severity": 37, "rejected": 2},
        "measures": _measures(),
        "samples": {"5e55a0ff00000001": ['{"severity": "WARNING", "textPayload": "Session access failed"}']},
        "context": [
            {"revision": "netra-backend-staging-00042", "location": "us-central1", "resource_type": "cloud_run_revision", "entries": 921}
        ],
        "rejections": [Rejection("x1", "malformed JSON: Expecting value", "{bro", "line 17")],
    }
    return worklog.render(**(inputs | changed))


def test_render_matches_the_golden_worklog():
    markdown = _render()
    if os.environ.get("GARDENER_UPDATE_GOLDEN"):
        GOLDEN.write_text(markdown, encoding="utf-8")
    assert markdown == GOLDEN.read_text(encoding="utf-8")


@pytest.mark.parametrize("floor, said", [("WARNING", "at WARNING or above"), ("info", "at INFO or above"), ("300", "at NOTICE or above")])
def test_the_summary_names_the_severity_floor_the_run_collected_at(floor, said):
    assert f"Collected 4 entries {said} (" in _render(min_severity=floor, stats={"kept": 4, "read": 4})


def test_one_pattern_is_one_pattern():
    active = [m for m in _measures() if m.count][:1]
    text = _render(measures=active)
    assert "They form 1 pattern: " in text and "1 pattern identified" in text


def test_placeholders_survive_a_commonmark_renderer():
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(GOLDEN.read_text(encoding="utf-8"))
    assert "<STR>" not in html and "<NUM>" not in html  # never taken as HTML tags
    assert html.count("&lt;STR&gt;") >= 4 and "&lt;NUM&gt;" in html  # shown as written, in headings, lists and the table
    assert "<h3>3. <code>POST /ws/beacon &lt;NUM&gt;</code></h3>" in html


def test_a_rejection_quoting_a_secret_is_redacted_in_the_worklog():
    # a reason quotes the value that could not be read: a password put where the time belongs, a token as a severity
    rejections = [
        Rejection("x1", "timestamp 'password=Hunter2Secret!' is not an ISO 8601 time", "{}", "line 3"),
        Rejection("x2", "unknown severity 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'", "{}", "line 4"),
    ]
    markdown = _render(rejections=rejections, stats={"read": 2, "kept": 0, "rejected": 2})
    assert "Hunter2Secret" not in markdown and "ghp_A1b2" not in markdown
    assert "- line 3: timestamp 'password=[REDACTED]' is not an ISO 8601 time" in markdown


def test_rejections_another_run_recorded_first_are_named_by_where_they_were_listed_not_listed_again():
    rejections = [Rejection(f"x{i}", "malformed JSON: Expecting value", "{bro", f"line {i}") for i in (1, 2, 3)]
    start = datetime(2025, 9, 15, 0, tzinfo=UTC)
    before = {
        "x1": ("svc-a", start, start + timedelta(hours=1)),
        "x2": ("svc-a", start, start + timedelta(hours=1)),
        "x3": (None, None, None),
    }
    text = _render(rejections=rejections, reported_before=before, stats={"read": 3, "kept": 0, "rejected": 3})
    assert "## Rejected input" not in text and "line 1" not in text
    assert (
        "- [x] No new rejected input; 3 rejected lines listed before, in the worklog of svc-a for 2025-09-15 00:00 to 01:00 UTC (2);"
        " an earlier run no longer on record (1)" in text
    )
    day = {"x1": ("svc-b", start, start + timedelta(days=1))}
    assert "in the worklog of svc-b for 2025-09-15 00:00 to 2025-09-16 00:00 UTC" in _render(rejections=rejections, reported_before=day)
    mixed = _render(rejections=rejections, reported_before={"x1": before["x1"]}, stats={"read": 3, "kept": 0, "rejected": 3})
    assert "- [ ] No new rejected input (2 rejected, see below); 1 rejected line listed before" in mixed and "- line 2:" in mixed


@pytest.mark.parametrize(
    "kind, windows, said",
    [
        (BaselineKind.RECENT, 1, "(the latest window)"),
        (BaselineKind.RECENT, 2, "(the latest 2 windows)"),
        (BaselineKind.HOUR_OF_DAY, 1, "(the same hour the day before)"),
        (BaselineKind.HOUR_OF_WEEK, 3, "(the same hour of the week in 3 earlier weeks)"),
    ],
)
def test_the_baseline_is_named_in_the_number_of_its_windows(kind, windows, said):
    measures = _measures()
    measures[1].baseline_kind, measures[1].baseline_windows = kind, windows
    assert f"baseline 5.1/min {said}" in _render(measures=measures)


def test_a_run_with_no_tracker_changes_says_so_in_words():
    measures = [m for m in _measures() if m.issue.action == Action.NONE]
    assert "- [x] Tracker updated: no actions" in _render(measures=measures)
