"""`prioritise`: each status, its reason and its priority, decided on its own."""

from datetime import UTC, datetime

import pytest

from log_gardener.tasks.measure import History, PatternMeasure, prioritise, spike_p_value
from log_gardener.tasks.rules import load_rules
from log_gardener.tasks.vocabulary import Priority, Status

RULES = load_rules()
T0 = datetime(2025, 9, 15, 2, tzinfo=UTC)


def pattern(fingerprint: str, count: int, severity: str = "WARNING") -> PatternMeasure:
    return PatternMeasure(
        fingerprint=fingerprint,
        template=f"template of {fingerprint}",
        count=count,
        rate_per_min=round(count / 60, 3),
        baseline_rate_per_min=None,
        ratio=None,
        severity=severity,
        warning_count=count if severity == "WARNING" else 0,
        error_count=count if severity == "ERROR" else 0,
        critical_count=0,
        first_seen=T0,
        last_seen=T0,
        module=None,
        function=None,
        line=None,
        sample_insert_ids=[],
        masked_messages=[],
    )


def history(**overrides) -> History:
    base = dict(
        baseline_minutes=120.0,
        baseline_counts={},
        previous_priority={},
        seen_before=set(),
        going_quiet=set(),
        closed_issue={},
        templates={},
        severities={},
    )
    return History(**(base | overrides))


def test_a_pattern_not_seen_before_is_new_with_its_rate_as_reason():
    (m,) = prioritise([pattern("a", 30)], history(), RULES)
    assert m.status == Status.NEW and m.priority == Priority.P3
    assert m.reason == "first seen in this window: 30 entries, 0.5/min"
    assert m.baseline_rate_per_min == 0.0 and m.ratio is None


def test_the_reference_spike_escalates_one_level_and_says_why():
    # 5.1/min over a 2-hour baseline, 15.3/min now: the reference worklog's P2 -> P1
    (m,) = prioritise([pattern("a", 918)], history(baseline_counts={"a": 612}, previous_priority={"a": "P2"}, seen_before={"a"}), RULES)
    assert m.status == Status.ESCALATED
    assert (m.previous_priority, m.priority) == (Priority.P2, Priority.P1)
    assert m.reason == "5.1/min to 15.3/min, x3.0 over a 2-hour baseline: P2 to P1"


def test_below_the_spike_ratio_is_ongoing_and_keeps_its_priority():
    (m,) = prioritise([pattern("a", 300)], history(baseline_counts={"a": 400}, previous_priority={"a": "P2"}, seen_before={"a"}), RULES)
    assert m.status == Status.ONGOING and m.ratio == 1.5
    assert m.priority == Priority.P2  # never below the priority it had
    assert m.reason == "x1.5 against the baseline, below the x3 spike rule"


def test_a_spike_below_the_minimum_rate_is_not_an_escalation():
    (m,) = prioritise([pattern("a", 30)], history(baseline_counts={"a": 2}, seen_before={"a"}), RULES)
    assert m.ratio > RULES.escalation.ratio and m.rate_per_min < RULES.escalation.min_rate_per_min
    assert m.status == Status.ONGOING


def test_a_known_pattern_absent_from_the_baseline_escalates_from_zero():
    (m,) = prioritise([pattern("a", 120, "ERROR")], history(seen_before={"a"}), RULES)
    assert m.status == Status.ESCALATED and (m.base_priority, m.priority) == (Priority.P1, Priority.P0)
    assert m.reason == "0/min to 2/min, from zero over a 2-hour baseline: P1 to P0"


def test_a_pattern_whose_issue_was_closed_regresses_even_when_it_spikes():
    measures = [pattern("a", 918)]
    (m,) = prioritise(measures, history(baseline_counts={"a": 60}, seen_before={"a"}, closed_issue={"a": 12}), RULES)
    assert m.status == Status.REGRESSED
    assert m.reason == "came back after issue #12 was closed: 918 entries, 15.3/min"


def test_a_new_pattern_never_regresses():
    (m,) = prioritise([pattern("a", 5)], history(closed_issue={"a": 12}), RULES)
    assert m.status == Status.NEW


def test_silent_patterns_are_added_as_quiet_with_their_last_priority():
    measures = prioritise(
        [pattern("a", 5)],
        history(
            seen_before={"a", "b"}, going_quiet={"a", "b"}, previous_priority={"b": "P1"}, templates={"b": "tb"}, severities={"b": "ERROR"}
        ),
        RULES,
    )
    assert [m.fingerprint for m in measures] == ["a", "b"]  # a has entries: not quiet
    quiet = measures[1]
    assert (quiet.status, quiet.count, quiet.priority, quiet.template, quiet.severity) == (Status.QUIET, 0, Priority.P1, "tb", "ERROR")


def test_base_priority_follows_severity_and_rate():
    error, critical = prioritise(
        [pattern("e", 60, "ERROR"), pattern("c", 1, "CRITICAL")], history(seen_before={"e", "c"}, baseline_counts={"e": 120, "c": 2}), RULES
    )
    assert error.priority == Priority.P1 and critical.priority == Priority.P0


def test_a_small_count_jump_is_chance_not_an_escalation():
    # 2 entries an hour before, 7 now: x3.5, and with the rate floor lifted only the significance test holds it back
    rules = RULES.model_copy(update={"escalation": RULES.escalation.model_copy(update={"min_rate_per_min": 0.0})})
    (m,) = prioritise([pattern("a", 7)], history(baseline_minutes=60.0, baseline_counts={"a": 2}, seen_before={"a"}), rules)
    assert m.ratio > 3 and m.p_value == 0.0898
    assert m.status == Status.ONGOING
    assert m.reason == "x3.5 against the baseline, but a count this size is chance (p=0.09)"


def test_a_large_jump_of_the_same_ratio_is_an_escalation():
    (m,) = prioritise([pattern("a", 900)], history(baseline_minutes=60.0, baseline_counts={"a": 300}, seen_before={"a"}), RULES)
    assert m.status == Status.ESCALATED and m.p_value < 1e-60


def test_the_p_value_is_the_conditional_test_of_two_poisson_rates():
    # the window's share of 9 entries is binomial(9, 1/2) when both hours have the same rate: P(X >= 7) = 46/512
    assert spike_p_value(7, 60, 2, 60) == 46 / 512
    assert spike_p_value(7, 60, 48, 24 * 60) < spike_p_value(7, 60, 2, 60)  # a long baseline is surer evidence
    assert spike_p_value(5, 60, 0, 0) is None  # no baseline, no test


def test_an_error_that_reaches_many_clients_is_p0_by_the_base_rules():
    assert RULES.base_priority("ERROR", 0.1, clients=50) == Priority.P0
    assert RULES.base_priority("ERROR", 0.1, clients=49) == Priority.P1
    assert RULES.base_priority("WARNING", 0.1, clients=500) == Priority.P3  # the rule is for errors


def test_the_worst_status_of_a_run_skips_muted_patterns():
    from log_gardener.flows.gardener import worst_status

    escalated, new = pattern("a", 10), pattern("b", 10)
    escalated.status, new.status = Status.ESCALATED, Status.NEW
    assert worst_status([new, escalated]) == Status.ESCALATED
    escalated.mute = "muted by the rules file for good"
    assert worst_status([new, escalated]) == Status.NEW
    assert worst_status([escalated]) is None


def test_the_ratio_is_computed_from_the_exact_rates_not_the_rounded_ones():
    # 2 entries an hour against 3: two thirds (0.033/min over 0.05/min, as shown, would be x0.66)
    (m,) = prioritise([pattern("a", 2)], history(baseline_counts={"a": 6}, seen_before={"a"}), RULES)
    assert (m.rate_per_min, m.baseline_rate_per_min, m.ratio) == (0.033, 0.05, 0.67)


def test_a_rate_exactly_at_the_spike_ratio_escalates_whatever_the_rounding_of_its_baseline():
    # 122 entries in 2 hours (1.01666.../min, shown 1.017) and 183 in this hour (3.05/min): exactly x3, the rule's
    # ratio; against the rounded baseline it would be 3.05 < 3.051 and the worklog would say "x3.0 ... below the rule"
    (m,) = prioritise([pattern("a", 183)], history(baseline_counts={"a": 122}, previous_priority={"a": "P2"}, seen_before={"a"}), RULES)
    assert m.ratio == 3.0 and m.baseline_rate_per_min == 1.017
    assert m.status == Status.ESCALATED, m.reason


def test_a_reason_names_a_baseline_of_one_day_or_week_in_the_singular():
    from log_gardener.tasks.measure import baseline_phrase
    from log_gardener.tasks.vocabulary import BaselineKind

    assert baseline_phrase(BaselineKind.HOUR_OF_DAY, 1, 60) == "the same hour the day before"
    assert baseline_phrase(BaselineKind.HOUR_OF_DAY, 7, 420) == "the same hour on 7 earlier days"
    assert baseline_phrase(BaselineKind.HOUR_OF_WEEK, 1, 60) == "the same hour of the week a week before"
    assert baseline_phrase(BaselineKind.RECENT, 2, 120) == "a 2-hour baseline"


def test_a_rate_exactly_at_the_spike_ratio_escalates_though_floating_point_makes_it_a_hair_less():
    # 72 entries an hour against 24: exactly x3, yet 72/60 < 3 * (24/60) in floating point
    (m,) = prioritise([pattern("a", 72)], history(baseline_minutes=60.0, baseline_counts={"a": 24}, seen_before={"a"}), RULES)
    assert m.status == Status.ESCALATED, m.reason


@pytest.mark.parametrize(
    "count, baseline, minutes, reason",
    [
        # x2.997 is below the rule: it says so, with the decimals that show it (not "x3.0 ... chance")
        (899, 300, 60.0, "x2.996 against the baseline, below the x3 spike rule"),
        # x3 at 0.05/min: the minimum rate held it back, not the ratio
        (3, 1, 60.0, "x3.0 against the baseline, but 0.05/min is below the 1/min a spike needs"),
        (120, 100, 60.0, "x1.2 against the baseline, below the x3 spike rule"),
    ],
)
def test_an_ongoing_reason_names_the_rule_that_held_the_spike_back(count, baseline, minutes, reason):
    (m,) = prioritise([pattern("a", count)], history(baseline_minutes=minutes, baseline_counts={"a": baseline}, seen_before={"a"}), RULES)
    assert m.status == Status.ONGOING and m.reason == reason


def test_a_tiny_baseline_is_shown_with_its_significant_digits_not_as_zero():
    # one entry in 48 hours against 240 in this hour
    (m,) = prioritise([pattern("a", 240)], history(baseline_minutes=2880.0, baseline_counts={"a": 1}, seen_before={"a"}), RULES)
    assert m.baseline_rate_per_min == 0.00035 and m.ratio == 11520.0


@pytest.mark.parametrize(
    "count, baseline, window_minutes, reason",
    [
        # exactly x3 (0.6 against 0.2 is 2.9999999999999996 in floating point): x3.0, held back by the minimum rate
        (36, 12, 60.0, "x3.0 against the baseline, but 0.6/min is below the 1/min a spike needs"),
        # 60 entries in a window of 60 minutes and a bit: just under 1/min, never shown as 1/min
        (60, 10, 60.01, "x6.0 against the baseline, but 0.999/min is below the 1/min a spike needs"),
    ],
)
def test_a_reason_never_shows_a_value_on_the_wrong_side_of_its_rule(count, baseline, window_minutes, reason):
    measures = [pattern("a", count)]
    seen = history(baseline_minutes=60.0, baseline_counts={"a": baseline}, seen_before={"a"}, window_minutes=window_minutes)
    (m,) = prioritise(measures, seen, RULES)
    assert m.status == Status.ONGOING and m.reason == reason


def test_rates_read_in_fixed_point_whatever_their_size():
    from log_gardener.tasks.measure import per_minute, shown_rate

    assert [per_minute(v) for v in (15.3, 1.0, 100.0, 0.0, shown_rate(1 / 34560))] == [
        "15.3/min",
        "1/min",
        "100/min",
        "0/min",
        "0.000029/min",
    ]


def test_the_base_rules_compare_the_exact_rate_not_the_one_shown():
    # 600 errors in 60 minutes and a second: 9.997/min, shown as 10/min, is under the 10/min of the P0 rule
    (m,) = prioritise([pattern("a", 600, "ERROR")], history(window_minutes=60 + 1 / 60), RULES)
    assert m.rate_per_min == 10.0 and m.base_priority == Priority.P1
    (m,) = prioritise([pattern("a", 600, "ERROR")], history(window_minutes=60.0), RULES)
    assert m.base_priority == Priority.P0
