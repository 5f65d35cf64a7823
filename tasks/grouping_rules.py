"""A person's corrections to grouping: `[[grouping.mask]]`, `[[grouping.merge]]` and `[[grouping.split]]`.

They act on the text a message is grouped by, before the built-in masking and before clustering:

- mask: a service's own ids (`ord_8FJ2KQ`) become a placeholder (`<ORDER>`), before the built-in rules
  could cut them into pieces;
- merge: every message the expression finds belongs to one pattern, named by the rule (`⟪upstream timeouts⟫`);
- split: a message the expression finds gets the value of its one group appended (`⟪status=502⟫`), and
  messages with different values never share a pattern.

Expressions are the subset of RE2 that Python shares (no look-around, no back-references), so the warehouse
computes exactly what `GroupingRules.key` computes: DuckDB's `group_message(s)` macro and the expression BigQuery
queries carry are built from the same rules (`GroupingRules.expression`). Without rules, it is the built-in masking.
"""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlglot import exp

from log_gardener.tasks import re2
from log_gardener.tasks.masking import MASK_RULES, MaskRule, mask_expression

MARK_OPEN, MARK_CLOSE = "⟪", "⟫"
MAX_SPLIT_VALUE = 40
_MARK = re.compile(f"{MARK_OPEN}[^{MARK_CLOSE}]*{MARK_CLOSE}")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 _.\-]{0,39}")


class GroupingRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    match: str

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"a grouping rule's name is a letter, then up to 39 letters, digits, spaces or _.- ; not {value!r}")
        return value

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return re2.check(value)

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.match, re.ASCII)  # RE2's classes are ASCII-only


class SplitRule(GroupingRule):
    @field_validator("match")
    @classmethod
    def _one_group(cls, value: str) -> str:
        if re.compile(re2.check(value)).groups != 1:
            raise ValueError(f"a split expression has exactly one group, whose value splits: {value!r}")
        return value


class GroupingRules(BaseModel):
    """`[grouping]` of the rules file."""

    model_config = ConfigDict(extra="forbid")

    mask: list[GroupingRule] = Field(default_factory=list)
    merge: list[GroupingRule] = Field(default_factory=list)
    split: list[SplitRule] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.mask or self.merge or self.split)

    @cached_property
    def mask_rules(self) -> tuple[MaskRule, ...]:
        """The rules' masks, then the built-in ones."""
        own = tuple(MaskRule(f"grouping.mask {r.name}", r.match, token(r.name)) for r in self.mask)
        return own + MASK_RULES

    def key(self, text: str) -> str:
        """What `text` (a message's grouped text) is grouped by: the SQL function `group_message` in Python."""
        return self.explain(text)[0]

    def explain(self, text: str) -> tuple[str, list[str]]:
        """The key of `text` and the rules that shaped it (grouping rules and masking rules, in order).

        A person's expressions are matched by RE2, as the warehouse matches them (an expression that backtracks
        without end in Python's engine takes linear time there); the built-in masks by Python's engine.
        """
        for rule in self.merge:
            if re2.search(rule.match, text):
                return merged(rule.name), [f"grouping.merge {rule.name}"]
        used, masked = [], text
        for rule in self.mask:
            changed = re2.replace(rule.match, masked, token(rule.name))
            if changed != masked:
                used.append(f"grouping.mask {rule.name}")
                masked = changed
        for rule in MASK_RULES:
            if rule.needed is not None and not rule.needed.search(masked):
                continue
            changed = rule.compiled.sub(rule.token, masked)
            if changed != masked:
                used.append(rule.name)
                masked = changed
        for rule in self.split:
            value = re2.group(rule.match, text)
            if value is not None:
                masked += split_mark(rule.name, value)
                used.append(f"grouping.split {rule.name}")
        return masked, used

    def expression(self, column: exp.Expression) -> exp.Expression:
        """`key` as a SQL expression (sqlglot tree) over `column`."""
        result: exp.Expression = mask_expression(column, self.mask_rules)
        for rule in self.split:
            value = exp.Substring(
                this=exp.Coalesce(this=_extract(column, rule.match), expressions=[exp.Literal.string("")]),
                start=exp.Literal.number(1),
                length=exp.Literal.number(MAX_SPLIT_VALUE),
            )
            mark = exp.DPipe(
                this=exp.DPipe(this=exp.Literal.string(f" {MARK_OPEN}{rule.name}="), expression=value),
                expression=exp.Literal.string(MARK_CLOSE),
            )
            suffix = exp.If(this=_contains(column, rule.match), true=mark, false=exp.Literal.string(""))
            result = exp.DPipe(this=result, expression=suffix)
        if self.merge:
            case = exp.Case()
            for rule in self.merge:
                case = case.when(_contains(column, rule.match), exp.Literal.string(merged(rule.name)))
            result = case.else_(result)
        return result


def _contains(column: exp.Expression, pattern: str) -> exp.Expression:
    return exp.RegexpLike(this=column.copy(), expression=exp.Literal.string(pattern))


def _extract(column: exp.Expression, pattern: str) -> exp.Expression:
    return exp.RegexpExtract(this=column.copy(), expression=exp.Literal.string(pattern), group=exp.Literal.number(1))


def token(name: str) -> str:
    """The placeholder of a `[[grouping.mask]]` rule: its name in capitals, letters only (`order id` -> `<ORDERID>`)."""
    return "<" + re.sub(r"[^A-Z]", "", name.upper()) + ">"


def merged(name: str) -> str:
    return f"{MARK_OPEN}{name}{MARK_CLOSE}"


def split_mark(name: str, value: str) -> str:
    return f" {MARK_OPEN}{name}={value[:MAX_SPLIT_VALUE]}{MARK_CLOSE}"


def marks(key: str) -> tuple[str, ...]:
    """The grouping rules' marks in a key: keys with different marks never share a pattern."""
    return tuple(_MARK.findall(key))


def is_merged(key: str) -> bool:
    return key.startswith(MARK_OPEN) and bool(marks(key))


def warehouse_key(text: str, rules: GroupingRules) -> str:
    """The key the warehouse gives `text` under `rules`, computed by DuckDB's RE2 (what `explain` shows: where
    Python's `re` reads an expression differently, the warehouse's reading is the one that groups)."""
    from log_gardener.tasks.masking import mask_function_sql

    with re2.scratch() as con:
        con.execute(mask_function_sql("duckdb"))
        con.execute(group_function_sql(rules))
        return con.execute("select group_message(?)", [text]).fetchone()[0]


def group_function_sql(rules: GroupingRules) -> str:
    """DDL for DuckDB's `group_message(s)` macro (temporary: each run has its service's rules). BigQuery gets the
    same expression in place of each call (`BigQueryWarehouse.qualify`)."""
    body = exp.Anonymous(this="mask_message", expressions=[exp.column("s")]) if rules.empty else rules.expression(exp.column("s"))
    return f"create or replace temp macro group_message(s) as {body.sql('duckdb')}"
