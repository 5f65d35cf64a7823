"""`publish.plan`: one tracker action per pattern, decided from its status and its issue."""

from datetime import UTC, datetime, timedelta

from log_gardener.tasks.normalise import Window
from log_gardener.tasks.publish import PlannedAction, action_key, plan
from log_gardener.tasks.rules import load_rules
from log_gardener.tasks.vocabulary import Action, Priority, Status
from tests.test_measure import pattern

RULES = load_rules()
WINDOW = Window.parse("2025-09-15T02:00:00Z", "2025-09-15T03:00:00Z")


def measure(fingerprint, status, priority="P2", count=10):
    m = pattern(fingerprint, count)
    m.status, m.priority, m.reason = Status(status), Priority(priority), f"because {fingerprint}"
    return m


def actions(measures, issues=None, **kwargs):
    return {p.fingerprint: p for p in plan(measures, issues or {}, RULES, "svc", WINDOW, **kwargs)}


def test_each_status_maps_to_its_action():
    planned = actions(
        [
            measure("new", "new"),
            measure("esc", "escalated"),
            measure("reg", "regressed"),
            measure("q", "quiet", count=0),
            measure("on", "ongoing"),
        ],
        {"esc": 1, "reg": 2, "q": 3, "on": 4},
    )
    assert {fp: p.action for fp, p in planned.items()} == {
        "new": Action.CREATE,
        "esc": Action.ESCALATE,
        "reg": Action.REOPEN,
        "q": Action.QUIET,
        "on": Action.NONE,
    }
    assert planned["esc"].reason == "because esc" and planned["esc"].issue_number == 1
    assert planned["q"].reason == "silent for 3 window(s)"


def test_a_person_filed_issue_is_linked_instead_of_a_duplicate():
    planned = actions([measure("a", "new")], matches={"a": (42, 0.61)})
    assert planned["a"].action == Action.LINK and planned["a"].issue_number == 42
    assert planned["a"].reason == "an existing issue describes this pattern (similarity 0.61)"


def test_below_the_create_threshold_nothing_is_filed():
    assert actions([measure("a", "new", priority="P4")])["a"].action == Action.NONE


def test_at_most_the_configured_number_of_new_issues_per_run():
    planned = plan([measure(f"f{i}", "new") for i in range(12)], {}, RULES, "svc", WINDOW)
    assert [p.action for p in planned].count(Action.CREATE) == RULES.tracker.max_new_issues == 10
    assert planned[-1].reason == "over the limit of 10 new issues per run; next run"


def test_an_ongoing_pattern_gets_a_periodic_update_only_when_due():
    due = WINDOW.start - timedelta(hours=24)
    recent = WINDOW.start - timedelta(hours=23)
    planned = actions([measure("a", "ongoing"), measure("b", "ongoing")], {"a": 1, "b": 2}, last_touched={"a": due, "b": recent})
    assert planned["a"].action == Action.UPDATE and planned["b"].action == Action.NONE
    assert planned["a"].reason == "no update for 24 hours; still 0.167/min"


def test_a_quiet_pattern_without_an_issue_files_nothing():
    assert actions([measure("a", "quiet", count=0)])["a"].action == Action.NONE


def test_action_keys_are_stable_and_differ_by_window_pattern_and_action():
    key = action_key("svc", WINDOW, "a", Action.CREATE)
    assert key == action_key("svc", WINDOW, "a", "create")
    later = Window.parse("2025-09-15T03:00:00Z", "2025-09-15T04:00:00Z")
    assert (
        len(
            {
                key,
                action_key("svc", later, "a", "create"),
                action_key("svc", WINDOW, "b", "create"),
                action_key("svc", WINDOW, "a", "escalate"),
            }
        )
        == 4
    )


def test_only_the_gardeners_own_title_format_gets_a_new_priority():
    from log_gardener.tasks.issue_text import retitled

    assert retitled("GCP-logs | P2 | Session access failed", "GCP-logs", "P1") == "GCP-logs | P1 | Session access failed"
    assert retitled("GCP-logs | P1 | Session access failed", "GCP-logs", "P1") is None  # already right
    assert retitled("Session middleware broken (P2)", "GCP-logs", "P1") is None  # a person's title is left alone
    assert retitled("GCP-staging | P2 | Session", "GCP-logs", "P1") is None


def test_plan_reads_no_clock():
    # the same inputs plan the same actions at any time (reruns and backfills agree)
    first = plan([measure("a", "new")], {}, RULES, "svc", WINDOW)
    assert first == plan([measure("a", "new")], {}, RULES, "svc", WINDOW)
    assert datetime.now(UTC) > WINDOW.end


def test_reopening_a_quiet_issue_sets_the_new_priority_and_drops_quiet_in_one_label_set(fresh_db):
    from log_gardener.tasks.publish import PlannedAction, _apply_one
    from log_gardener.tasks.trackers import LocalTracker

    tracker = LocalTracker(fresh_db)
    issue = tracker.create("GCP-logs | P3 | Payment provider timeout", "body", ["P3", "log-gardener", "quiet"])
    tracker.close(issue.number)
    m = measure("a", "regressed", priority="P2")
    planned = PlannedAction(action_key("svc", WINDOW, "a", "reopen"), "a", Action.REOPEN, issue.number, "because a")
    _apply_one(tracker, planned, m, "svc", WINDOW, {}, [], RULES, None, [])
    after = tracker.get(issue.number)
    assert (after.state, sorted(after.labels), after.title) == ("open", ["P2", "log-gardener"], "GCP-logs | P2 | Payment provider timeout")
    assert len(after.comments) == 1 and "Regressed" in after.comments[0]


def test_samples_in_issues_are_capped_below_githubs_body_limit():
    import json

    from log_gardener.tasks.issue_text import MAX_SAMPLE_CHARS, sample_json

    big = json.dumps({"textPayload": "Traceback " + "frame " * 20_000, "severity": "ERROR"})
    assert len(sample_json(big)) <= MAX_SAMPLE_CHARS + 40
    assert len(sample_json(big[:65_536])) <= MAX_SAMPLE_CHARS + 40  # a payload cut mid-JSON too


def test_a_calm_pattern_is_de_escalated_once_with_label_title_and_comment(fresh_db):
    from log_gardener.tasks.publish import _apply_one
    from log_gardener.tasks.trackers import LocalTracker

    m = measure("a", "ongoing", priority="P2")
    m.previous_priority, m.reason = Priority.P1, "within its baseline for 6 windows (0.167/min): P1 to P2"
    steady = measure("b", "ongoing", priority="P1")
    steady.previous_priority = Priority.P1
    planned = actions([m, steady], {"a": 1, "b": 2})
    assert (planned["a"].action, planned["b"].action) == (Action.DEESCALATE, Action.NONE)
    tracker = LocalTracker(fresh_db)
    issue = tracker.create("GCP-logs | P1 | Payment provider timeout", "body", ["P1", "log-gardener"])
    planned["a"].issue_number = issue.number
    _apply_one(tracker, planned["a"], m, "svc", WINDOW, {}, [], RULES, None, [])
    after = tracker.get(issue.number)
    assert (sorted(after.labels), after.title) == (["P2", "log-gardener"], "GCP-logs | P2 | Payment provider timeout")
    assert len(after.comments) == 1 and after.comments[0].startswith("**De-escalated**: within its baseline for 6 windows")


def test_a_muted_pattern_takes_no_action_even_when_it_goes_quiet_or_is_new():
    quiet = measure("q", "quiet", count=0)
    quiet.mute = "muted on the tracker"
    new = measure("n", "new")
    new.mute = "muted by the rules file for good"
    planned = actions([quiet, new], {"q": 3})
    assert (planned["q"].action, planned["n"].action) == (Action.NONE, Action.NONE)
    assert planned["q"].reason == "muted on the tracker"


def test_a_persons_label_equal_to_an_escalation_is_still_theirs_when_the_pattern_calms(fresh_db):
    from log_gardener.tasks.publish import _apply_one
    from log_gardener.tasks.trackers import LocalTracker

    tracker = LocalTracker(fresh_db)
    issue = tracker.create("GCP-logs | P2 | Payment provider timeout", "body", ["P1", "log-gardener"])  # a person said P1
    up = measure("a", "escalated", priority="P1")
    up.previous_priority = Priority.P2
    escalate = PlannedAction(action_key("svc", WINDOW, "a", "escalate"), "a", Action.ESCALATE, issue.number, "x3")
    assert _apply_one(tracker, escalate, up, "svc", WINDOW, {}, [], RULES, None, [], "P2")[2] is None  # wrote no label
    down = measure("a", "ongoing", priority="P2")
    down.previous_priority, down.reason = Priority.P1, "within its baseline for 6 windows (0.2/min): P1 to P2"
    deescalate = PlannedAction(action_key("svc", WINDOW, "a", "deescalate"), "a", Action.DEESCALATE, issue.number, "calm")
    _apply_one(tracker, deescalate, down, "svc", WINDOW, {}, [], RULES, None, [], "P2")  # the gardener last wrote P2
    after = tracker.get(issue.number)
    assert [label for label in after.labels if label.startswith("P")] == ["P1"]  # never lowered
    assert "The priority label P1, set by a person, stays." in after.comments[-1]


def test_the_local_tracker_reads_once_until_it_writes_and_then_sees_its_writes(fresh_db):
    from log_gardener.tasks.trackers import LocalTracker

    reads = []
    query = fresh_db.query

    def counted(name, **params):
        reads.append(name)
        return query(name, **params)

    fresh_db.query = counted
    tracker = LocalTracker(fresh_db)
    first = tracker.create("payments | P2 | Card declined", "body", ["P2"])
    assert [i.number for i in tracker.all_issues()] == [first.number]
    tracker.all_issues()
    tracker.candidates()
    assert reads.count("tracker/all_issues") == 1  # three questions, one read
    tracker.all_issues()[0].labels.append("changed by a caller")
    assert tracker.all_issues()[0].labels == ["P2"]  # a caller's change does not reach what was read
    tracker.comment(first.number, "seen again")
    tracker.set_labels(first.number, ["P1"])
    issue = tracker.get(first.number)
    assert issue.labels == ["P1"] and issue.comments == ["seen again"]  # its own writes are read back
