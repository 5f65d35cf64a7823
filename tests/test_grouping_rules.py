"""`[grouping]` rules: mask, merge and split as documented, the same in Python, DuckDB and BigQuery SQL, and
fingerprints migrated on purpose (an issue kept, never a silent duplicate)."""

import json

import duckdb
import pytest
import sqlglot
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.tasks.grouping_rules import GroupingRules, group_function_sql
from log_gardener.tasks.identity import identify
from log_gardener.tasks.masking import mask_function_sql
from log_gardener.tasks.rules import DEFAULT_RULES_PATH, load_rules
from log_gardener.tasks.trackers import LocalTracker
from log_gardener.tasks.warehouses import open_warehouse
from log_gardener.tasks.warehouses.bigquery import BigQueryWarehouse
from tests.cli_args import run_args
from tests.deadline import within
from tests.test_flow import HOURS, by_template

RULES = GroupingRules.model_validate(
    {
        "mask": [{"name": "order", "match": r"ord_[A-Za-z0-9]{6,}"}],
        "merge": [{"name": "upstream timeouts", "match": r"timed out (calling|waiting for) \w+"}],
        "split": [
            {"name": "status", "match": r"upstream returned (\d{3})"},
            {"name": "exception", "match": r"^(\w+(?:Error|Exception))(?:: |$)"},
        ],
    }
)

KNOWN = [
    # a service's own id is one placeholder, not cut into <HEX> and <NUM> pieces by the built-in rules
    ("payment failed for ord_8FJ2KQ9Z after 3 attempts", "payment failed for <ORDER> after <NUM> attempts"),
    ("request timed out calling billing after 30s", "⟪upstream timeouts⟫"),
    ("job 41 timed out waiting for ledger", "⟪upstream timeouts⟫"),
    ("checkout: upstream returned 502 in 1200 ms", "checkout: upstream returned <NUM> in <NUM> ms ⟪status=502⟫"),
    ("checkout: upstream returned 503 in 90 ms", "checkout: upstream returned <NUM> in <NUM> ms ⟪status=503⟫"),
    ("KeyError: 'user_id'", "KeyError: <STR> ⟪exception=KeyError⟫"),
    ("an ordinary message with 12 items", "an ordinary message with <NUM> items"),
]


@pytest.mark.parametrize("text, key", KNOWN)
def test_each_kind_of_grouping_rule_shapes_the_key_as_documented(text, key):
    assert RULES.key(text) == key


BACKTRACKING_TEXT = "a" * 60 + "! " + "b" * 60 + "! " + "c" * 60 + "!"


def explain_under_backtracking_expressions() -> list[tuple[str, list[str]]]:
    rules = GroupingRules.model_validate(
        {
            "merge": [{"name": "as", "match": "(a+)+$"}],
            "mask": [{"name": "run", "match": "(b+)+$"}],
            "split": [{"name": "c", "match": "((?:c+)+)!$"}],
        }
    )
    return [rules.explain(text) for text in (BACKTRACKING_TEXT, "x aaa", "x bbb")]


def test_explaining_a_message_under_an_expression_that_backtracks_in_python_takes_linear_time():
    # `(a+)+$` against sixty a's and a mark: Python's engine would try 2^60 splits; `explain` matches as SQL does.
    # In a child process, so that a regression fails here after a minute instead of hanging the suite
    (key, used), (merged, _), (masked, _) = within(60, explain_under_backtracking_expressions)
    assert key == BACKTRACKING_TEXT + " ⟪c=" + "c" * 40 + "⟫" and used == ["grouping.split c"]
    assert merged == "⟪as⟫" and masked == "x <RUN>"


def test_the_warehouse_groups_by_exactly_the_key_python_computes():
    con = duckdb.connect()
    con.execute(mask_function_sql("duckdb"))
    con.execute(group_function_sql(RULES))
    for text, key in KNOWN:
        assert con.execute("select group_message(?)", [text]).fetchone()[0] == key
    con.execute(group_function_sql(GroupingRules()))  # no rules: the built-in masking
    assert (
        con.execute("select group_message('payment failed for ord_8FJ2KQ9Z')").fetchone()[0] == "payment failed for ord_<HEX>J<NUM>KQ<NUM>Z"
    )
    warehouse = BigQueryWarehouse.__new__(BigQueryWarehouse)  # qualify() needs no client
    warehouse.project, warehouse.dataset, warehouse.grouping = "acme-prod", "log_gardener", RULES
    inlined = warehouse.qualify("select group_message(pattern_text) as k from log_entries")
    assert "group_message" not in inlined and "⟪upstream timeouts⟫" in inlined and "`acme-prod`.log_gardener.log_entries" in inlined
    sqlglot.parse_one(inlined, read="bigquery")


@pytest.mark.parametrize(
    "rule, error",
    [
        ({"split": [{"name": "s", "match": r"status \d+"}]}, "exactly one group"),
        ({"split": [{"name": "s", "match": r"(a)(b)"}]}, "exactly one group"),
        ({"merge": [{"name": "m", "match": r"(?<=x)y"}]}, "lookaround"),
        ({"mask": [{"name": "m", "match": ""}]}, "empty expression"),
        ({"mask": [{"name": "1st", "match": "x"}]}, "name"),
        ({"merge": [{"name": "m", "match": "x", "extra": 1}]}, "extra"),
    ],
)
def test_a_bad_grouping_rule_is_refused_with_the_reason(rule, error):
    with pytest.raises(ValueError, match=error):
        GroupingRules.model_validate(rule)


def test_a_merge_inherits_the_fingerprint_of_its_largest_part_and_a_split_keeps_it_for_one_part_only():
    known_keys = {"a <NUM> timed out": "fa", "b timed out": "fb", "upload failed status <NUM>": "fs"}
    known_templates = {"fa": "a <NUM> timed out", "fb": "b timed out", "fs": "upload failed status <NUM>"}
    messages = ["⟪timeouts⟫", "upload failed status <NUM> ⟪status=500⟫", "upload failed status <NUM> ⟪status=502⟫"]
    aliases = {
        messages[0]: {"a <NUM> timed out": 40, "b timed out": 7},
        messages[1]: {"upload failed status <NUM>": 5},
        messages[2]: {"upload failed status <NUM>": 30},
    }
    templates = dict(enumerate(messages))
    found = identify("svc", messages, [47, 5, 30], [0, 1, 2], templates, known_keys, known_templates, 0.5, aliases)
    assert found.fingerprint_of[messages[0]] == "fa"  # the merge keeps the larger part's issue
    assert found.fingerprint_of[messages[2]] == "fs"  # the larger part of the split keeps the pattern
    split_off = found.fingerprint_of[messages[1]]
    assert split_off not in known_templates  # though similar enough to join "fs", it is a new pattern
    assert found.regrouped_from == {split_off: "fs"} and split_off in found.new_fingerprints
    assert found.template_of["fa"] == "⟪timeouts⟫"


def _run(sample_file, db, hour, rules=None):
    start, end = HOURS[hour]
    args = [*run_args(sample_file, start, end, f"duckdb:///{db}"), "--worklogs", str(db.parent), "--json"]
    result = CliRunner().invoke(app, args + (["--rules", str(rules)] if rules else []))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_rules_added_between_runs_merge_and_split_patterns_without_a_silent_duplicate(prefect_harness, sample_file, tmp_path):
    db = tmp_path / "g.duckdb"
    before = _run(sample_file, db, 0)
    race, wait = by_template(before, "RACE CONDITION"), by_template(before, "Cannot wait for startup")
    ssot = by_template(before, "SSOT validation")
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES_PATH.read_text(encoding="utf-8")
        + "\n[[grouping.merge]]\nname = \"startup\"\nmatch = 'RACE CONDITION DETECTED|Cannot wait for startup phase'\n"
        + "\n[[grouping.split]]\nname = \"user\"\nmatch = 'instances for user (\\S+) '\n",
        encoding="utf-8",
    )
    load_rules(rules)  # the documented syntax loads
    after = _run(sample_file, db, 1, rules)
    startup = by_template(after, "⟪startup⟫")
    assert startup["fingerprint"] in {race["fingerprint"], wait["fingerprint"]}  # merged: one of the two patterns goes on
    assert startup["issue"]["number"] in {race["issue"]["number"], wait["issue"]["number"]}
    parts = [c for c in after["clusters"] if "SSOT validation" in c["template"] and c["count"]]
    assert len(parts) > 1 and all("⟪user=" in c["template"] for c in parts)
    assert sum(c["fingerprint"] == ssot["fingerprint"] for c in parts) == 1  # one part keeps the pattern and its issue
    split_off = [c for c in parts if c["fingerprint"] != ssot["fingerprint"]]
    assert all(c["regrouped_from"] == ssot["fingerprint"] for c in split_off)
    wh = open_warehouse(f"duckdb:///{db}")
    tracker = LocalTracker(wh)
    for c in split_off:
        if c["issue"]["number"]:
            assert f"**Split off** pattern `{ssot['fingerprint']}` (#{ssot['issue']['number']})" in tracker.get(c["issue"]["number"]).body
    wh.close()
    assert _run(sample_file, db, 1, rules)["clusters"] == after["clusters"]  # a rerun groups and links the same way


def test_explain_shows_the_grouping_rule_and_the_pattern_a_regrouped_message_takes_over(prefect_harness, sample_file, tmp_path):
    db = tmp_path / "g.duckdb"
    race = by_template(_run(sample_file, db, 0), "RACE CONDITION")
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES_PATH.read_text(encoding="utf-8") + "\n[[grouping.merge]]\nname = \"startup\"\nmatch = 'RACE CONDITION'\n",
        encoding="utf-8",
    )
    message = "[🔴] RACE CONDITION DETECTED: Startup phase 'no_app_state' did not reach 'services' within 1.4s - this would cause WebSocket 1011 errors"
    result = CliRunner().invoke(
        app, ["explain", message, "--service", "netra-backend-staging", "--warehouse", f"duckdb:///{db}", "--rules", str(rules), "--json"]
    )
    assert result.exit_code == 0, result.output
    explained = json.loads(result.stdout)
    assert explained["masked"] == "⟪startup⟫" and explained["masking_rules"] == ["grouping.merge startup"]
    assert explained["fingerprint"] == race["fingerprint"] and explained["how"].startswith("regrouped")


def test_a_new_value_of_a_split_never_joins_the_part_that_kept_the_fingerprint():
    # window 1 split "status <NUM>" (fingerprint fs) into 502 (kept fs) and 503 (new); window 2 brings a first 504
    known_keys = {"status <NUM>": "fs", "status <NUM> ⟪s=502⟫": "fs", "status <NUM> ⟪s=503⟫": "f503"}
    known_templates = {"fs": "status <NUM> ⟪s=502⟫", "f503": "status <NUM> ⟪s=503⟫"}
    messages = ["status <NUM> ⟪s=502⟫", "status <NUM> ⟪s=504⟫"]
    aliases = {messages[1]: {"status <NUM>": 9}}
    found = identify("svc", messages, [5, 9], [0, 1], dict(enumerate(messages)), known_keys, known_templates, 0.5, aliases)
    assert found.fingerprint_of[messages[0]] == "fs"
    assert found.fingerprint_of[messages[1]] not in {"fs", "f503"}
    assert found.regrouped_from == {found.fingerprint_of[messages[1]]: "fs"}
    assert found.template_of["fs"] == "status <NUM> ⟪s=502⟫"


@pytest.mark.parametrize("expression", ["a*+", "(?x)a b", "[[:digit:]]+", "a{,3}", "x*", "(?>ab)", r"end\Z"])
def test_an_expression_python_and_re2_would_read_differently_is_refused_when_the_rules_load(expression):
    with pytest.raises(ValueError):
        GroupingRules.model_validate({"mask": [{"name": "m", "match": expression}]})
