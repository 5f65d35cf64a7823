"""Priority rules: configuration, not code (see tasks/default_rules.toml)."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from log_gardener.tasks import re2
from log_gardener.tasks.grouping_rules import GroupingRules
from log_gardener.tasks.normalise import SEVERITY_RANK
from log_gardener.tasks.problems import dotted, one_line
from log_gardener.tasks.vocabulary import Priority

DEFAULT_RULES_PATH = Path(__file__).resolve().parent / "default_rules.toml"


class BaseRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity: str
    min_rate_per_min: float = 0.0
    min_clients: int = Field(0, ge=0)  # distinct client addresses that hit the pattern in the window
    priority: Priority

    @field_validator("severity")
    @classmethod
    def _known_severity(cls, value: str) -> str:
        if value.upper() not in SEVERITY_RANK:
            raise ValueError(f"unknown severity {value!r}")
        return value.upper()


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt knob is an error, not a silent default
    ratio: float = Field(3.0, gt=1.0)
    min_rate_per_min: float = Field(1.0, ge=0.0)
    levels: int = Field(1, ge=1, le=4)
    baseline_windows: int = Field(24, ge=1, le=24 * 90)
    max_p_value: float = Field(0.001, gt=0.0, le=1.0)
    seasonal_days: int = Field(7, ge=0, le=90)
    seasonal_weeks: int = Field(4, ge=0, le=52)
    min_seasonal_windows: int = Field(3, ge=1)
    deescalate_after_windows: int = Field(6, ge=2)


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_similarity: float = Field(0.75, gt=0.0, le=1.0)


class TrackerRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    create_at_or_above: Priority = Priority.P3
    max_new_issues: int = Field(10, ge=0)
    title_prefix: str = "GCP-logs"
    link_min_similarity: float = Field(0.35, gt=0.0, le=1.0)
    quiet_after_windows: int = Field(3, ge=1)
    close_quiet: bool = False
    update_every_hours: float = Field(24.0, gt=0)


class Owner(BaseModel):
    """Who a pattern belongs to: a team (the label team:NAME), GitHub logins assigned on create, extra labels."""

    model_config = ConfigDict(extra="forbid")

    team: str | None = None
    assignees: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)


class OwnerRule(Owner):
    """An owner for the patterns whose module, logger name or request path matches `match` (a regular expression
    in the subset RE2 shares with Python: no lookaround or backreferences)."""

    match: str

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return re2.check(value, may_match_nothing=True)


class Mute(BaseModel):
    """`[[mutes]]`: patterns that are counted and shown but take no tracker action.

    Chosen by `fingerprint` or by `match` (a regular expression on the template); muted `until` a time, or
    `until_escalating`, or for good when neither is given. `until_escalating = true` ends the mute at the
    pattern's first escalation; a number (`until_escalating = 3`) ends it when the pattern's rate reaches that
    many times its rate in the window the mute began (and at least the escalation's `min_rate_per_min`). A
    mute that ended stays ended, though the rule is still in the file.
    """

    model_config = ConfigDict(extra="forbid")

    fingerprint: str | None = None
    match: str | None = None
    until: datetime | None = None
    until_escalating: bool | float = False
    reason: str = ""

    @field_validator("until_escalating")
    @classmethod
    def _factor(cls, value: bool | float) -> bool | float:
        if not isinstance(value, bool) and value <= 1:
            raise ValueError(f"until_escalating is true, false or a factor above 1, not {value!r}")
        return value

    @property
    def key(self) -> str:
        """Names this rule in `mute_events`: an edited rule is a new mute."""
        return hashlib.sha1(self.model_dump_json().encode()).hexdigest()[:12]

    @field_validator("until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        # an empty expression is refused below, with the fingerprint's: it would mute every pattern
        return re2.check(value) if value else value

    def model_post_init(self, _context) -> None:
        if (self.fingerprint is None) == (self.match is None):
            raise ValueError("a mute needs exactly one of fingerprint or match")
        if self.fingerprint is not None and not self.fingerprint.strip() or self.match == "":
            raise ValueError("a mute's fingerprint or match must not be empty (it would mute every pattern)")

    def applies(self, fingerprint: str, template: str, at: datetime) -> bool:
        chosen = fingerprint == self.fingerprint if self.fingerprint is not None else re2.search(self.match or "", template)
        return chosen and (self.until is None or at < self.until)

    def describe(self) -> str:
        if self.until:
            when = f"until {self.until:%Y-%m-%d %H:%M} UTC"
        elif self.until_escalating is True:
            when = "until it escalates"
        elif self.until_escalating:
            when = f"until its rate is {self.until_escalating:g}x the rate when it was muted"
        else:
            when = "for good"
        return f"muted by the rules file {when}" + (f" ({self.reason})" if self.reason else "")


class ServiceOverride(BaseModel):
    """`[services."NAME"]`: what one service does differently (thresholds, title prefix, owners)."""

    model_config = ConfigDict(extra="forbid")

    base: list[BaseRule] | None = None
    escalation: dict[str, Any] = Field(default_factory=dict)
    tracker: dict[str, Any] = Field(default_factory=dict)
    owners: list[OwnerRule] | None = None
    default_owner: Owner | None = None
    grouping: GroupingRules | None = None


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt section (`[escalaton]`) is an error, not ignored

    base: list[BaseRule]
    escalation: Escalation = Escalation()
    identity: Identity = Identity()
    tracker: TrackerRules = TrackerRules()
    owners: list[OwnerRule] = Field(default_factory=list)
    default_owner: Owner | None = None
    mutes: list[Mute] = Field(default_factory=list)
    grouping: GroupingRules = GroupingRules()
    services: dict[str, ServiceOverride] = Field(default_factory=dict)

    def for_service(self, service: str) -> Rules:
        """These rules with `[services."<service>"]` applied: its sections replace or update the fleet-wide ones."""
        override = self.services.get(service)
        if override is None:
            return self
        data = self.model_dump()
        if override.base is not None:
            data["base"] = [rule.model_dump() for rule in override.base]
        data["escalation"] |= override.escalation
        data["tracker"] |= override.tracker
        if override.owners is not None:
            data["owners"] = [rule.model_dump() for rule in override.owners]
        if override.default_owner is not None:
            data["default_owner"] = override.default_owner.model_dump()
        if override.grouping is not None:
            data["grouping"] = override.grouping.model_dump()
        data["services"] = {}
        return Rules.model_validate(data)

    def owner_of(self, *texts: str | None) -> Owner | None:
        """The first owner rule that matches one of `texts` (module, logger name, request path), else the default."""
        for rule in self.owners:
            if any(text and re2.search(rule.match, text) for text in texts):
                return rule
        return self.default_owner

    def base_priority(self, severity: str, rate_per_min: float, clients: int = 0) -> str:
        """The first base rule that the severity, rate and clients reach, else the least urgent priority."""
        rank = SEVERITY_RANK.get(severity, 0)
        for rule in self.base:
            if rank >= SEVERITY_RANK[rule.severity] and rate_per_min >= rule.min_rate_per_min and clients >= rule.min_clients:
                return rule.priority
        return Priority.P4

    def is_spike(self, rate: float, baseline: float | None, p_value: float | None = None) -> bool:
        """At least the minimum rate, `ratio` times the baseline, and unlikely under it (`p_value`, see measure.spike_p_value)."""
        if baseline is None or rate < self.escalation.min_rate_per_min:
            return False
        if p_value is not None and p_value > self.escalation.max_p_value:
            return False
        return baseline == 0 or self.reaches_ratio(rate, baseline)

    def reaches_ratio(self, rate: float, baseline: float) -> bool:
        """`rate` is at least `ratio` times `baseline`; exactly that many times counts (72 against 24 is x3, though
        1.2 < 3 * 0.4 in floating point)."""
        return rate * (1 + 1e-9) >= self.escalation.ratio * baseline

    def should_create(self, priority: str) -> bool:
        return more_urgent(priority, self.tracker.create_at_or_above) == priority


def more_urgent(a: str | None, b: str | None) -> Priority | None:
    """The more urgent of two priorities (None counts as no priority)."""
    return Priority.most_urgent(a, b)


def raise_priority(priority: str, levels: int = 1) -> Priority:
    return Priority(priority).raised(levels)


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and check a rules file; errors name the file and the bad field."""
    path = Path(path) if path else DEFAULT_RULES_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"rules file not found: {path}") from None
    except OSError as exc:  # a folder, a file this user may not read
        raise ValueError(f"rules file {path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"rules file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"rules file {path} is not valid TOML: {exc}") from None
    if "base" not in data and path != DEFAULT_RULES_PATH:
        # a file of mutes or owners alone keeps the bundled base priorities
        data["base"] = tomllib.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))["base"]
    try:
        rules = Rules.model_validate(data)
        for name in rules.services:
            rules.for_service(name)  # an override must make valid rules too
        return rules
    except ValidationError as exc:  # every bad field, one after the other on one line
        raise ValueError(f"rules file {path} is invalid: {one_line(exc, lambda loc: dotted(loc) if loc else 'file')}") from None
    except ValueError as exc:
        raise ValueError(f"rules file {path} is invalid: {exc}") from None
