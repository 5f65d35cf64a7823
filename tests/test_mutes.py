"""Mutes and what people decide on the tracker: respected across runs, woken by escalation."""

import json
from datetime import UTC, datetime

import duckdb
import pytest
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.tasks.mutes import apply_mutes
from log_gardener.tasks.normalise import Window
from log_gardener.tasks.publish import kept_priority
from log_gardener.tasks.rules import Mute, Rules, load_rules
from log_gardener.tasks.trackers import LocalTracker
from log_gardener.tasks.vocabulary import Status
from log_gardener.tasks.warehouses import open_warehouse
from tests.cli_args import run_args
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
        ({"fingerprint": "f1", "until_escalating": True}, BEFORE, Status.ESCALATED, False),  # woken
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


def _run(sample_file, db, hour: int) -> dict:
    start, end = HOURS[hour]
    result = CliRunner().invoke(app, [*run_args(sample_file, start, end, f"duckdb:///{db}"), "--worklogs", str(db.parent), "--json"])
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


def test_a_misspelt_escalation_knob_in_a_service_override_is_an_error(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[base]]\nseverity = "ERROR"\npriority = "P1"\n\n[services."svc".escalation]\nratoi = 9\n', encoding="utf-8")
    with pytest.raises(ValueError, match="ratoi"):
        load_rules(path)


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
