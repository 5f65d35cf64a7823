"""What issues and comments say, against a golden file: titles, an issue body, and the comment of every action.

Set GARDENER_UPDATE_GOLDEN=1 to rewrite the golden file after an intended change, then read the diff.
"""

import os
from datetime import UTC, datetime
from pathlib import Path

from log_gardener.tasks import issue_text
from log_gardener.tasks.headline import headline, search_terms
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.vocabulary import Action, Priority, Status
from tests.test_headline import SQLALCHEMY, _entry
from tests.test_measure import pattern

GOLDEN = Path(__file__).parent / "golden" / "issue_texts.md"
WINDOW = Window.parse("2025-09-15T02:00:00Z", "2025-09-15T03:00:00Z")
CONTEXT = {"revision": "payments-api-00231-xk2", "location": "us-central1"}
SAMPLE = '{\n  "severity": "ERROR",\n  "textPayload": "Charge could not be saved …"\n}'


def _traceback():
    m = pattern("7a3c000000000001", 721, "ERROR")
    m.template = "Charge could not be saved sqlalchemy.exc.OperationalError at session.py:commit < repository.py:save_charge"
    m.module, m.function, m.line = "repository.py", "save_charge", 142
    m.first_seen, m.last_seen = datetime(2025, 9, 15, 2, 0, 4, tzinfo=UTC), datetime(2025, 9, 15, 2, 59, 51, tzinfo=UTC)
    m.baseline_rate_per_min, m.ratio = 1.5, 8.0
    m.first_revision, m.revisions = "payments-api-00231-xk2", ["payments-api-00230-pq9", "payments-api-00231-xk2"]
    m.revision_first_seen, m.revision_is_new = datetime(2025, 9, 15, 1, 58, 40, tzinfo=UTC), True
    m.traces, m.clients = 702, 214
    m.status, m.previous_priority, m.priority = Status.ESCALATED, Priority.P1, Priority.P0
    m.reason = "1.5/min to 12.017/min, x8.0 over a 1-hour baseline: P1 to P0"
    entries = [_entry(SQLALCHEMY)]
    m.headline, m.search_terms = headline(m, entries), search_terms(m, entries)
    return m


def _startup():
    m = pattern("4ed15c0000000002", 3, "ERROR")
    m.template = (
        "[🔴] RACE CONDITION DETECTED: Startup phase <STR> did not reach <STR> within <NUM>s - this would cause WebSocket 1011 errors"
    )
    m.module, m.function = "netra_backend.app.core.gcp_initialization_validator", "_wait_for_phase"
    m.status, m.priority, m.reason = Status.NEW, Priority.P1, "first seen in this window: 3 entries, 0.05/min"
    m.headline = headline(m, [])
    return m


def render() -> str:
    traceback, startup = _traceback(), _startup()
    parts = ["# Titles", "", issue_text.title("GCP-logs", traceback), issue_text.title("GCP-logs", startup), ""]
    parts += ["# Issue body: traceback", "", issue_text.issue_body(traceback, "payments-api", CONTEXT, WINDOW, [SAMPLE], "acme-prod"), ""]
    reasons = {
        Action.LINK: "an existing issue describes this pattern (similarity 0.82)",
        Action.UPDATE: "no update for 24 hours; still 12.017/min",
    }
    regressed = _traceback()
    regressed.status, regressed.reason = Status.REGRESSED, "back after its issue was closed: 721 entries, 12.017/min: P1 to P0"
    quiet = _traceback()
    quiet.status, quiet.count, quiet.reason = Status.QUIET, 0, "silent since its last window with entries"
    calm = _traceback()
    calm.status, calm.previous_priority, calm.priority = Status.ONGOING, Priority.P0, Priority.P1
    calm.reason = "within its baseline for 6 windows (1.4/min): P0 to P1"
    for action, m in (
        (Action.ESCALATE, traceback),
        (Action.REOPEN, regressed),
        (Action.QUIET, quiet),
        (Action.DEESCALATE, calm),
        (Action.LINK, traceback),
        (Action.UPDATE, traceback),
    ):
        headline_text = issue_text.action_headline(action, m, reasons.get(action, m.reason), quiet_after_windows=3, close_quiet=False)
        parts += [
            f"# Comment: {action}",
            "",
            issue_text.comment_body(m, "payments-api", CONTEXT, WINDOW, [SAMPLE], "k" * 20, headline_text),
            "",
        ]
    return "\n".join(parts)


def test_issue_texts_match_the_golden_file():
    text = render()
    if os.environ.get("GARDENER_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_title_label_facts_and_comment_agree_on_the_priority():
    m = _traceback()
    assert issue_text.title("GCP-logs", m).split(" | ")[1] == "P0"
    assert "P0" in issue_text.labels(m, "payments-api")
    assert "| Priority | P0 (" in issue_text.facts_table(m, "payments-api", CONTEXT, WINDOW)
    sentence = issue_text.action_headline(Action.ESCALATE, m, m.reason, 3, False)
    assert sentence.count("P1") == 1 and sentence.count("P0") == 1
