"""Per-pattern measures of a window and its priority: counts, rates, baseline, status.

Everything here is computed from this window's grouped messages and the
stored counts of earlier windows, never from "now", so re-running a window
gives the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal

import pandas as pd
from scipy.stats import binom

from log_gardener.tasks.normalise import SEVERITY_RANK, Window, severity_name
from log_gardener.tasks.rules import Owner, Rules, more_urgent, raise_priority
from log_gardener.tasks.vocabulary import BaselineKind, IssueRef, Priority, Status


@dataclass
class PatternMeasure:
    fingerprint: str
    template: str
    count: int
    rate_per_min: float
    baseline_rate_per_min: float | None
    ratio: float | None
    severity: str
    warning_count: int
    error_count: int
    critical_count: int
    first_seen: object
    last_seen: object
    module: str | None
    function: str | None
    line: int | None
    sample_insert_ids: list[str]
    masked_messages: list[str]
    status: Status = Status.ONGOING
    priority: Priority = Priority.P4
    previous_priority: Priority | None = None
    base_priority: Priority = Priority.P4
    reason: str = ""
    issue: IssueRef = field(default_factory=IssueRef)
    baseline_kind: BaselineKind = BaselineKind.RECENT
    baseline_windows: int = 0
    first_revision: str | None = None  # the revision of its earliest entry in this window
    revisions: list[str] = field(default_factory=list)  # every revision it was seen in, in this window
    revision_first_seen: object = None  # when first_revision first logged anything (see tasks.deploys)
    revision_is_new: bool = False  # first_revision first logged in this window or the one before
    owner: Owner | None = None  # see tasks.owners
    mute: str | None = None  # why the pattern is muted in this window (see tasks.mutes); None: not muted
    unmuted: bool = False  # an escalation ended its mute in this window
    traces: int = 0  # distinct traces (requests) with this pattern
    clients: int = 0  # distinct client addresses, counted and never shown
    p_value: float | None = None  # see spike_p_value
    headline: str = ""  # what a title says (see headline.py); set once the samples are read
    search_terms: list[str] = field(default_factory=list)  # strings in every sample entry, for the console link
    regrouped_from: str | None = None  # the fingerprint the rules file's grouping rules split this pattern off
    regrouped_issue: int | None = None  # ... and its issue

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("first_seen", "last_seen"):
            value = data[key]
            data[key] = value.isoformat() if hasattr(value, "isoformat") else value
        return data


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _severity_max(row: pd.Series, top_rank: float | None = None) -> str:
    """CRITICAL (which counts ALERT and EMERGENCY too), ERROR or WARNING by the counts; below WARNING (a run
    with a lower `min_severity`), the name of the highest rank its messages were logged at."""
    if row.critical_count:
        return "CRITICAL"
    if row.error_count:
        return "ERROR"
    if row.warning_count:
        return "WARNING"
    if top_rank is not None and pd.notna(top_rank):
        return severity_name(int(top_rank))
    return "DEFAULT"


def aggregate(
    grouped: pd.DataFrame, fingerprint_of: Mapping[str, str], template_of: Mapping[str, str], window: Window
) -> list[PatternMeasure]:
    """Sum the distinct masked messages of this window into one measure per fingerprint."""
    if grouped.empty:
        return []
    frame = grouped.copy()
    frame["fingerprint"] = frame["masked_message"].map(fingerprint_of)
    measures = []
    for fp, rows in frame.groupby("fingerprint", sort=False):
        rows = rows.sort_values("entries", ascending=False)
        top = rows.iloc[0]
        samples = [s for s in (top.sample_1, top.sample_2, top.sample_3) if isinstance(s, str)]
        totals = rows[["entries", "warning_count", "error_count", "critical_count"]].sum()
        count = int(totals.entries)
        earliest = rows.sort_values(["first_seen", "masked_message"]).iloc[0]
        measures.append(
            PatternMeasure(
                fingerprint=fp,
                template=template_of[fp],
                count=count,
                rate_per_min=shown_rate(count / window.minutes),
                baseline_rate_per_min=None,
                ratio=None,
                severity=_severity_max(totals, rows.severity_rank.max() if "severity_rank" in rows else None),
                warning_count=int(totals.warning_count),
                error_count=int(totals.error_count),
                critical_count=int(totals.critical_count),
                first_seen=rows.first_seen.min(),
                last_seen=rows.last_seen.max(),
                module=top.module if isinstance(top.module, str) else None,
                function=top.function if isinstance(top.function, str) else None,
                line=int(top.line) if "line" in top and pd.notna(top.line) else None,
                sample_insert_ids=samples,
                masked_messages=list(rows.masked_message),
                first_revision=_text(earliest.get("first_revision")),
                revisions=sorted({r for text in rows.get("revisions", pd.Series(dtype=object)) if _text(text) for r in text.split(",")}),
                # per message variant, summed: exact for a pattern of one variant, at most that otherwise
                traces=int(rows["traces"].sum()) if "traces" in rows else 0,
                clients=int(rows["clients"].sum()) if "clients" in rows else 0,
            )
        )
    measures.sort(key=lambda m: (-SEVERITY_RANK[m.severity], -m.count, m.fingerprint))
    return measures


@dataclass
class History:
    """What earlier windows say about the patterns of a service."""

    baseline_minutes: float  # total minutes of the baseline windows (0 when none)
    baseline_counts: dict[str, int]  # fingerprint -> entries in the baseline windows
    previous_priority: dict[str, str]  # fingerprint -> priority in its latest earlier window
    seen_before: set[str]  # fingerprints counted in any earlier window
    going_quiet: set[str]  # fingerprints that go quiet in this window (see tasks.history)
    closed_issue: dict[str, int]  # fingerprint -> its tracker issue, closed (see tasks.history.closed_issues)
    templates: dict[str, str] = field(default_factory=dict)
    severities: dict[str, str] = field(default_factory=dict)  # fingerprint -> highest severity seen
    window_minutes: float = 60.0  # minutes of the window being measured
    baseline_kind: BaselineKind = BaselineKind.RECENT
    baseline_windows: int = 0  # how many windows make the baseline
    calm: set[str] = field(default_factory=set)  # fingerprints steady and within their baseline lately (see history)
    # the latest windows, for a pattern younger than the seasonal baseline (absent from it, present lately)
    recent_counts: dict[str, int] = field(default_factory=dict)
    recent_minutes: float = 0.0
    recent_windows: int = 0

    def for_pattern(self, fingerprint: str) -> tuple[BaselineKind, int, int, float]:
        """The baseline of one pattern: kind, windows, entries and minutes.

        A seasonal baseline speaks for patterns it has seen; a pattern absent from it but seen in the latest
        windows is younger than the cycle, and is measured against the latest windows, not against zero.
        """
        count = self.baseline_counts.get(fingerprint, 0)
        if self.baseline_kind != BaselineKind.RECENT and count == 0 and self.recent_counts.get(fingerprint, 0) > 0:
            return BaselineKind.RECENT, self.recent_windows, self.recent_counts[fingerprint], self.recent_minutes
        return self.baseline_kind, self.baseline_windows, count, self.baseline_minutes


def spike_p_value(count: int, window_minutes: float, baseline_count: int, baseline_minutes: float) -> float | None:
    """How likely a count at least this high is if the pattern kept its baseline rate (None without a baseline).

    The conditional test of two Poisson rates: given the entries of the window and of the baseline together,
    the window's share is binomial with the window's share of the time. It weighs a short or thin baseline
    as the little evidence it is: 2 entries an hour before and 7 now is chance; 300 and 900 is not.
    """
    if baseline_minutes <= 0 or window_minutes <= 0 or count <= 0:
        return None
    total = count + baseline_count
    share = window_minutes / (window_minutes + baseline_minutes)
    return float(binom.sf(count - 1, total, share))


def shown_rate(per_minute: float) -> float:
    """A rate as shown and stored: three decimals, or two significant digits for one too small to show in
    three (one entry in a week is 0.000099/min, not 0/min)."""
    return round(per_minute, 3) or float(f"{per_minute:.2g}")


def per_minute(rate: float) -> str:
    """A rate as a person reads it: `15.3/min`, `0.000029/min` (never `2.9e-05/min`), `1/min`."""
    return f"{Decimal(repr(float(rate))).normalize():f}/min"


def _ratio_text(ratio: float, rule: float, reached: bool) -> str:
    """`x2.4`; a ratio just under the rule keeps the decimals that show it under (`x2.996`, never `x3.0` below x3)."""
    text = f"{ratio:.1f}"
    if not reached and float(text) >= rule:
        text = f"{math.floor(ratio * 1000) / 1000:.3f}"
    return f"x{text}"


def _under(rate: float, floor: float) -> str:
    """A rate that is under `floor`, shown so that it reads under it (`0.999/min`, never `1/min` below 1/min)."""
    shown = shown_rate(rate)
    return per_minute(shown if shown < floor else math.floor(rate * 1000) / 1000)


BASELINE_NAMES = {
    BaselineKind.RECENT: "the latest {n} windows",
    BaselineKind.HOUR_OF_DAY: "the same hour on {n} earlier days",
    BaselineKind.HOUR_OF_WEEK: "the same hour of the week in {n} earlier weeks",
}
# the same, of a baseline of one window
BASELINE_NAME_OF_ONE = {
    BaselineKind.RECENT: "the latest window",
    BaselineKind.HOUR_OF_DAY: "the same hour the day before",
    BaselineKind.HOUR_OF_WEEK: "the same hour of the week a week before",
}


def baseline_name(kind: BaselineKind, windows: int) -> str:
    """`the latest 3 windows`, `the latest window`, `the same hour on 7 earlier days`."""
    return BASELINE_NAME_OF_ONE[kind] if windows == 1 else BASELINE_NAMES[kind].format(n=windows)


def baseline_phrase(kind: BaselineKind, windows: int, minutes: float) -> str:
    """How a reason names the baseline: `a 2-hour baseline`, else as the worklog does (`baseline_name`)."""
    return f"a {minutes / 60:g}-hour baseline" if kind == BaselineKind.RECENT else baseline_name(kind, windows)


def prioritise(measures: list[PatternMeasure], history: History, rules: Rules) -> list[PatternMeasure]:
    """Baseline, ratio, status and priority for each pattern; adds quiet patterns with count 0.

    A pattern seen before is escalated on a significant spike over its baseline (see `Rules.is_spike`), and
    de-escalated one level, never below its base priority, once it has been calm for
    `deescalate_after_windows` windows (see `History.calm`): priority is not sticky for ever.
    """
    for m in measures:
        m.baseline_kind, m.baseline_windows, baseline_count, baseline_minutes = history.for_pattern(m.fingerprint)
        # decisions and the ratio use the exact rates; the rounded ones are for reading (2 entries an hour
        # against 3 is x0.67, not the x0.66 of 0.033/min against 0.05/min)
        rate = m.count / history.window_minutes if history.window_minutes > 0 else m.rate_per_min
        baseline_rate = baseline_count / baseline_minutes if baseline_minutes > 0 else None
        if baseline_rate is not None:
            m.baseline_rate_per_min = shown_rate(baseline_rate)
            if baseline_rate > 0:
                m.ratio = round(rate / baseline_rate, 2)
        p = spike_p_value(m.count, history.window_minutes, baseline_count, baseline_minutes)
        m.p_value = float(f"{p:.3g}") if p is not None else None
        m.previous_priority = Priority.most_urgent(history.previous_priority.get(m.fingerprint))
        m.base_priority = rules.base_priority(m.severity, rate, m.clients)
        m.priority = more_urgent(m.base_priority, m.previous_priority)
        if m.fingerprint not in history.seen_before:
            m.status = Status.NEW
            m.reason = f"first seen in this window: {m.count} entries, {per_minute(m.rate_per_min)}"
        elif m.fingerprint in history.closed_issue:
            m.status = Status.REGRESSED
            m.reason = (
                f"came back after issue #{history.closed_issue[m.fingerprint]} was closed: {m.count} entries, {per_minute(m.rate_per_min)}"
            )
        elif rules.is_spike(rate, baseline_rate, p):
            m.status = Status.ESCALATED
            before = m.previous_priority or m.base_priority  # what the pattern's issue says now
            m.priority = raise_priority(m.priority, rules.escalation.levels)
            ratio = f"x{m.ratio:.1f}" if m.ratio else "from zero"
            over = baseline_phrase(m.baseline_kind, m.baseline_windows, baseline_minutes)
            m.reason = (
                f"{per_minute(m.baseline_rate_per_min)} to {per_minute(m.rate_per_min)}, {ratio} over {over}: {before} to {m.priority}"
            )
            if m.previous_priority and m.base_priority.rank < m.previous_priority.rank:
                m.reason += f" ({m.severity} at this rate is {m.base_priority} by the base rules, one more level for the spike)"
        else:
            m.status = Status.ONGOING
            # the reason names the rule that held the spike back, from the rates the decision used
            reached = bool(baseline_rate) and rules.reaches_ratio(rate, baseline_rate)
            shown = _ratio_text(rate / baseline_rate, rules.escalation.ratio, reached) if baseline_rate else ""
            floor = rules.escalation.min_rate_per_min
            if not baseline_rate:
                m.reason = "not seen in the baseline windows"
            elif not reached:
                m.reason = f"{shown} against the baseline, below the x{rules.escalation.ratio:g} spike rule"
            elif rate < floor:
                m.reason = f"{shown} against the baseline, but {_under(rate, floor)} is below the {per_minute(floor)} a spike needs"
            else:
                m.reason = f"{shown} against the baseline, but a count this size is chance (p={m.p_value:.2g})"
            settled = rules.escalation.deescalate_after_windows
            if m.fingerprint in history.calm and m.previous_priority and m.previous_priority.rank < m.base_priority.rank:
                m.priority = m.previous_priority.lowered()
                m.reason = (
                    f"within its baseline for {settled} windows ({per_minute(m.rate_per_min)}): {m.previous_priority} to {m.priority}"
                )
    present = {m.fingerprint for m in measures}
    for fp in sorted(history.going_quiet - present):
        measures.append(
            PatternMeasure(
                fingerprint=fp,
                template=history.templates.get(fp, ""),
                count=0,
                rate_per_min=0.0,
                baseline_rate_per_min=shown_rate(history.baseline_counts.get(fp, 0) / history.baseline_minutes)
                if history.baseline_minutes
                else None,
                ratio=0.0,
                severity=history.severities.get(fp, "DEFAULT"),
                warning_count=0,
                error_count=0,
                critical_count=0,
                first_seen=None,
                last_seen=None,
                module=None,
                function=None,
                line=None,
                sample_insert_ids=[],
                masked_messages=[],
                status=Status.QUIET,
                priority=Priority(history.previous_priority.get(fp, Priority.P4)),
                previous_priority=Priority.most_urgent(history.previous_priority.get(fp)),
                reason="silent since its last window with entries",
            )
        )
    return measures
