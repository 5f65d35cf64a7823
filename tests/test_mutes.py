"""Mutes and what people decide on the tracker: respected across runs, woken by escalation."""

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.tasks.mutes import MuteState, apply_mutes
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.publish import kept_priority
from log_gardener.tasks.rules import DEFAULT_RULES_PATH, Mute, OwnerRule, Rules, load_rules
from log_gardener.tasks.trackers import LocalTracker
from log_gardener.tasks.vocabulary import Status
from log_gardener.tasks.warehouses import open_warehouse
from tests.cli_args import run_args
from tests.deadline import within
from tests.test_flow import HOURS, by_template
from tests.test_measure import pattern

RULES = load_rules()
BEFORE, AFTER = Window.parse("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z"), Window.parse("2025-09-15T03:00:00Z", "2025-09-15T04:00:00Z")


def _rules(**mute) -> Rules:
    return RULES.model_copy(update={"mutes": [Mute(**mute)]})


@pytest.mark.parametrize(
    "mute, window, status, muted",
    [
        ({"match": "^POST /ws", "until": datetime(2025, 9, 15, 2, tzinfo=UTC)}, BEFORE, Status.ONGOING, True),
        ({"match": "^POST /ws", "until": datetime(2025, 9, 15, 2, tzinfo=UTC)}, AFTER, Status.ONGOING, False),  # expired
        ({"fingerprint": "f1", "until_escalating": True}, BEFORE, Status.ONGOING, True),
        ({"fingerprint": "f1", "until_escalating": True}, BEFORE, Status.ESCALATED, True),  # begins now: only a later window wakes it
        ({"fingerprint": "f1"}, BEFORE, Status.ESCALATED, True),  # for good: even an escalation stays quiet
        ({"fingerprint": "other"}, BEFORE, Status.ONGOING, False),
    ],
)
def test_each_kind_of_rules_file_mute_silences_and_wakes_at_the_right_window(mute, window, status, muted):
    m = pattern("f1", 9)
    m.template, m.status = "POST /ws/beacon <NUM>", status
    apply_mutes([m], _rules(**mute), window, set())
    assert (m.mute is not None) == muted
    assert m.unmuted == (status == Status.ESCALATED and not muted)


def test_a_mute_needs_one_way_to_choose_its_patterns():
    with pytest.raises(ValueError, match="exactly one of fingerprint or match"):
        Mute(until_escalating=True)


def _run(sample_file, db, hour: int, *extra: str) -> dict:
    start, end = HOURS[hour]
    args = [*run_args(sample_file, start, end, f"duckdb:///{db}"), "--worklogs", str(db.parent), "--json", *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_what_people_decide_on_issues_is_respected_and_an_escalation_wakes_a_mute(prefect_harness, sample_file, tmp_path):
    db = tmp_path / "g.duckdb"
    first = _run(sample_file, db, 0)
    number = {text: by_template(first, text)["issue"]["number"] for text in ("SSOT validation", "POST /ws/beacon", "Session access failed")}
    wh = open_warehouse(f"duckdb:///{db}")
    tracker = LocalTracker(wh)
    tracker.close(number["SSOT validation"], reason="not_planned")  # a person decided to live with it
    tracker.close(number["POST /ws/beacon"])  # a person shipped a fix
    tracker.set_labels(number["Session access failed"], [*tracker.get(number["Session access failed"]).labels, "gardener:mute"])
    wh.close()

    second = _run(sample_file, db, 1)
    ssot, beacon, session = (by_template(second, text) for text in ("SSOT validation", "POST /ws/beacon", "Session access failed"))
    assert ssot["muted"] and ssot["status"] == "ongoing" and ssot["issue"]["action"] == "none"
    assert beacon["status"] == "regressed" and beacon["issue"]["action"] == "reopen"
    assert session["status"] == "escalated" and session["muted"] is None and session["issue"]["action"] == "escalate"
    with duckdb.connect(str(db), read_only=True) as con:
        states = dict(con.execute("select number, state from tracker_issues").fetchall())
        session_labels = json.loads(
            con.execute("select labels from tracker_issues where number = ?", [number["Session access failed"]]).fetchone()[0]
        )
    assert states[number["SSOT validation"]] == "closed" and states[number["POST /ws/beacon"]] == "open"
    assert "gardener:mute" not in session_labels and "P1" in session_labels  # the escalation ended the mute
    worklog = open(second["worklog"], encoding="utf-8").read()
    assert "muted on the tracker" in worklog and "(muted)" in worklog
    assert _run(sample_file, db, 1)["clusters"] == second["clusters"]  # a rerun decides the same


def test_a_mute_for_good_keeps_the_priority_of_an_escalating_pattern_where_it_was():
    m = pattern("f1", 900)
    m.status, m.base_priority, m.previous_priority, m.priority = Status.ESCALATED, "P2", "P2", "P1"
    apply_mutes([m], _rules(fingerprint="f1"), BEFORE, set())
    assert m.mute and m.priority == "P2"


def test_a_stricter_rules_file_mute_is_not_loosened_by_the_tracker():
    m = pattern("f1", 900)
    m.status = Status.ESCALATED
    apply_mutes([m], _rules(fingerprint="f1"), BEFORE, {"f1"})
    assert m.mute and not m.unmuted


def test_an_empty_fingerprint_or_pattern_mutes_nothing_because_it_is_refused():
    with pytest.raises(ValueError, match="must not be empty"):
        Mute(fingerprint="")
    with pytest.raises(ValueError, match="must not be empty"):
        Mute(match="")


def mute_and_owner_under_a_backtracking_expression() -> tuple[bool, bool, bool, str | None]:
    template = "a" * 60 + "!"
    mute = Mute(match="(a+)+$")
    owners = RULES.model_copy(update={"owners": [OwnerRule(match="(a+)+$", team="a-team")]})
    return (
        mute.applies("f1", template, BEFORE.start),
        mute.applies("f1", "aaa", BEFORE.start),
        owners.owner_of(template, template) == RULES.default_owner,
        owners.owner_of("worker", "aaaa").team,
    )


def test_a_rule_expression_that_backtracks_exponentially_in_python_is_matched_in_linear_time():
    # `(a+)+$` on 60 a's and a mark: Python's engine would try 2^60 ways to split the a's before it gives up; RE2
    # reads the text once. Every run meets each template, so one such rule would stall every run. In a child
    # process, so that a regression fails here after a minute instead of hanging the suite
    assert within(60, mute_and_owner_under_a_backtracking_expression) == (False, True, True, "a-team")


def test_owners_and_mutes_ask_re2_once_per_expression_not_once_per_pattern(monkeypatch):
    from log_gardener.tasks import re2
    from log_gardener.tasks.owners import assign_owners

    rules = RULES.model_copy(update={"owners": [OwnerRule(match=rf"^svc\.jobs\.step{i}\b", team=f"t{i}") for i in range(3)]})
    muting = rules.model_copy(update={"mutes": [Mute(match="worker-3 failed$"), Mute(match="^job 1 ")]})
    measures = []
    for i in range(300):
        m = pattern(f"f{i}", 5)
        m.template, m.module = f"job {i} of worker-{i % 7} failed", f"svc.jobs.step{i}"
        measures.append(m)
    asked = []
    connection = re2._connection()
    monkeypatch.setattr(
        re2, "_connection", lambda: type("Counting", (), {"execute": lambda self, *a: asked.append(a) or connection.execute(*a)})()
    )
    monkeypatch.setattr(re2, "_KNOWN", {})
    assign_owners(measures, rules)
    assert [m.owner.team if m.owner else None for m in measures[:4]] == ["t0", "t1", "t2", None]
    assert len(asked) == 3  # one query per owner rule, over every pattern's texts
    apply_mutes(measures, muting, BEFORE, set())
    assert len(asked) == 5
    assert {m.fingerprint for m in measures if m.mute} == {f"f{i}" for i in range(300) if i % 7 == 3 or i == 1}


@pytest.mark.parametrize("match", ["(?<=x)y", r"(a)\1", "[[:alpha:]]", "a{,3}", "x*"])
def test_a_mute_expression_python_and_re2_would_read_apart_or_that_matches_everything_is_refused(match):
    with pytest.raises(ValueError):
        Mute(match=match)


def test_a_misspelt_escalation_knob_in_a_service_override_is_an_error(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[base]]\nseverity = "ERROR"\npriority = "P1"\n\n[services."svc".escalation]\nratoi = 9\n', encoding="utf-8")
    with pytest.raises(ValueError, match="ratoi"):
        load_rules(path)


def test_a_misspelt_section_is_an_error_and_every_problem_is_named_on_one_line(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[base]]\nseverity = "ERROR"\npriority = "P1"\n\n[escalaton]\nratio = 9\n\n[escalation]\nratio = "x"\n', encoding="utf-8"
    )
    with pytest.raises(ValueError) as raised:
        load_rules(path)
    message = str(raised.value)
    assert "escalaton: Extra inputs are not permitted" in message and "escalation.ratio:" in message and "\n" not in message


def test_a_rules_file_of_mutes_alone_keeps_the_bundled_base_priorities(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[mutes]]\nmatch = "^POST /ws/beacon"\n', encoding="utf-8")
    rules = load_rules(path)
    assert rules.base == RULES.base and [m.match for m in rules.mutes] == ["^POST /ws/beacon"]


@pytest.mark.parametrize(
    "labels, gardener_set, wanted, kept",
    [
        (["P2", "bug"], "P2", "P1", "P1"),  # the gardener's own label follows its priority
        (["P0"], "P2", "P1", "P0"),  # a person raised it: an escalation to P1 is not above P0
        (["P3"], "P2", "P1", "P1"),  # a person lowered it: the escalation goes above it
        (["P1"], "P2", "P3", "P1"),  # a person's label is not lowered by a de-escalation
        (["P2"], "P2", "P3", "P3"),  # the gardener's own label is
        (["bug"], None, "P2", "P2"),  # no priority label yet
        (["P1"], None, "P2", "P1"),  # a person's issue, linked: its label stays
    ],
)
def test_a_persons_priority_label_is_kept_unless_the_gardener_escalates_above_it(labels, gardener_set, wanted, kept):
    assert kept_priority(labels, gardener_set, wanted) == kept


@pytest.mark.parametrize("persons_label, expected", [("P0", "P0"), ("P3", "P1")])
def test_an_escalation_keeps_a_persons_more_urgent_label_on_the_local_tracker(
    prefect_harness, sample_file, tmp_path, persons_label, expected
):
    db = tmp_path / "g.duckdb"
    number = by_template(_run(sample_file, db, 0), "Session access failed")["issue"]["number"]
    wh = open_warehouse(f"duckdb:///{db}")
    tracker = LocalTracker(wh)
    issue = tracker.get(number)
    tracker.set_labels(number, [label for label in issue.labels if label != "P2"] + [persons_label])  # a person relabels
    wh.close()
    session = by_template(_run(sample_file, db, 1), "Session access failed")
    assert (session["status"], session["priority"], session["issue"]["action"]) == ("escalated", "P1", "escalate")
    wh = open_warehouse(f"duckdb:///{db}")
    issue = LocalTracker(wh).get(number)
    wh.close()
    assert [label for label in issue.labels if label[0] == "P" and len(label) == 2] == [expected]
    assert f"| {expected} |" in issue.title


def test_a_mute_until_a_factor_over_its_rate_when_muted_wakes_when_the_rate_gets_there():
    rules = _rules(fingerprint="f1", until_escalating=3)
    key = rules.mutes[0].key
    m = pattern("f1", 120)  # 2/min when the mute begins
    events = apply_mutes([m], rules, BEFORE, set())
    assert m.mute and [(e.event, e.rate_per_min) for e in events] == [("start", 2.0)]
    began = {("f1", key): MuteState(BEFORE.start, 2.0, None)}
    m = pattern("f1", 300)  # 5/min: not yet 3x
    assert apply_mutes([m], rules, AFTER, set(), began) == [] and m.mute
    m = pattern("f1", 360)  # 6/min: 3x, though the pattern's status is only ongoing
    events = apply_mutes([m], rules, AFTER, set(), began)
    assert not m.mute and m.unmuted and "3x its rate when muted" in m.reason and [e.event for e in events] == ["end"]


def test_a_mute_ended_by_an_escalation_stays_ended_though_the_rule_is_still_in_the_file():
    rules = _rules(fingerprint="f1", until_escalating=True)
    ended = {("f1", rules.mutes[0].key): MuteState(BEFORE.start - timedelta(hours=1), 0.1, BEFORE.start)}
    calm = pattern("f1", 9)
    assert apply_mutes([calm], rules, AFTER, set(), ended) == [] and calm.mute is None and not calm.unmuted
    rerun = pattern("f1", 9)  # a rerun of the window the mute ended in reports it ended there
    assert apply_mutes([rerun], rules, BEFORE, set(), ended) == [] and rerun.unmuted
    edited = _rules(fingerprint="f1", until_escalating=True, reason="edited")  # an edited rule is a new mute
    again = pattern("f1", 9)
    assert [e.event for e in apply_mutes([again], edited, AFTER, set(), ended)] == ["start"] and again.mute


def test_a_mute_factor_must_be_above_one():
    with pytest.raises(ValueError, match="factor above 1"):
        Mute(fingerprint="f1", until_escalating=0.5)


def test_a_rules_file_mute_that_an_escalation_ended_does_not_come_back_in_later_windows(prefect_harness, sample_file, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        (DEFAULT_RULES_PATH.read_text(encoding="utf-8")) + '\n[[mutes]]\nmatch = "Session access failed"\nuntil_escalating = true\n',
        encoding="utf-8",
    )
    db = tmp_path / "g.duckdb"

    def run(hour):
        start, end = HOURS[hour]
        args = [*run_args(sample_file, start, end, f"duckdb:///{db}"), "--rules", str(rules), "--worklogs", str(tmp_path), "--json"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        return by_template(json.loads(result.stdout.strip().splitlines()[-1]), "Session access failed")

    first = run(0)
    assert first["muted"] and first["issue"]["action"] == "none"
    second = run(1)
    # muted in hour 0, it has no issue yet: the escalation files one
    assert second["status"] == "escalated" and not second["muted"] and second["issue"]["action"] == "create"
    assert run(1) == second  # a rerun of the waking window decides the same
    third = run(2)
    assert not third["muted"]  # the mute ended in hour 1 and stays ended
    with duckdb.connect(str(db), read_only=True) as con:
        assert sorted(e for (e,) in con.execute("select event from mute_events").fetchall()) == ["end", "start"]


def test_a_rerun_of_an_older_window_never_reopens_an_issue_a_person_closed_since(prefect_harness, sample_file, tmp_path):
    db = tmp_path / "g.duckdb"
    for hour in (0, 1, 2):
        number = by_template(_run(sample_file, db, hour), "Session access failed")["issue"]["number"]
    wh = open_warehouse(f"duckdb:///{db}")
    LocalTracker(wh).close(number)  # fixed, after hour 2
    wh.close()
    older = by_template(_run(sample_file, db, 1), "Session access failed")  # a rerun of hour 1: the issue was open then
    assert older["status"] != "regressed" and older["issue"]["action"] != "reopen"
    wh = open_warehouse(f"duckdb:///{db}")
    assert LocalTracker(wh).get(number).state == "closed"
    wh.close()
    newest = by_template(_run(sample_file, db, 2), "Session access failed")  # the newest hour: it is back after the fix
    assert (newest["status"], newest["issue"]["action"]) == ("regressed", "reopen")


def test_a_mute_wakes_only_in_a_window_after_it_began_and_its_course_is_kept_apart_from_older_windows():
    rules = _rules(fingerprint="f1", until_escalating=3)
    key = rules.mutes[0].key
    began = {("f1", key): MuteState(AFTER.start, 2.0, None)}
    older = pattern("f1", 900)  # a rerun of a window before the mute began, busy then
    assert apply_mutes([older], rules, BEFORE, set(), began) == [] and older.mute  # muted, nothing recorded
    quiet = pattern("f1", 0)  # a first window without entries gives the factor no base
    assert apply_mutes([quiet], rules, BEFORE, set()) == [] and quiet.mute
    escalating = pattern("f1", 900)
    escalating.status = Status.ESCALATED
    woken = apply_mutes(
        [escalating],
        _rules(fingerprint="f1", until_escalating=True),
        AFTER,
        set(),
        {("f1", _rules(fingerprint="f1", until_escalating=True).mutes[0].key): MuteState(BEFORE.start, 1.0, None)},
    )
    assert escalating.unmuted and [e.event for e in woken] == ["end"]


def test_once_a_rules_file_mute_ended_the_tracker_still_mutes():
    rules = _rules(fingerprint="f1", until_escalating=True)
    ended = {("f1", rules.mutes[0].key): MuteState(BEFORE.start - timedelta(hours=2), 1.0, BEFORE.start - timedelta(hours=1))}
    m = pattern("f1", 9)
    apply_mutes([m], rules, AFTER, {"f1"}, ended)  # a person closed its issue as not planned since
    assert m.mute and "tracker" in m.mute


def test_an_escalation_in_an_older_window_published_late_does_not_reopen_an_issue_closed_since(prefect_harness, sample_file, tmp_path):
    db = tmp_path / "g.duckdb"
    number = by_template(_run(sample_file, db, 0), "Session access failed")["issue"]["number"]
    _run(sample_file, db, 1, "--no-publish")  # hour 1's run did not publish (its tracker was down)
    _run(sample_file, db, 2)
    wh = open_warehouse(f"duckdb:///{db}")
    LocalTracker(wh).close(number)  # fixed, after hour 2
    wh.close()
    late = by_template(_run(sample_file, db, 1), "Session access failed")  # hour 1 published late: it escalated then
    assert late["status"] == "escalated" and late["issue"]["action"] == "none"
    wh = open_warehouse(f"duckdb:///{db}")
    issue = LocalTracker(wh).get(number)
    wh.close()
    assert issue.state == "closed" and "P2" in issue.labels  # not reopened, not relabelled
