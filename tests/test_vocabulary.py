"""The vocabulary is shared with SQL: every status, action and state the statements compare with is a member."""

import re

from log_gardener.tasks.vocabulary import Action, ActionState, Priority, RunStatus, Status
from log_gardener.tasks.warehouses.sqlfiles import all_sql_names, bigquery_sql

WORDS = {str(member) for enum in (Status, Action, ActionState, RunStatus, Priority) for member in enum}


def test_every_literal_the_sql_compares_with_is_a_word_of_the_vocabulary():
    found = set()
    for name in all_sql_names():
        found |= set(re.findall(r"\b(?:status|action|state|priority)\s*(?:=|!=|<>)\s*'([^']*)'", bigquery_sql(name)))
    assert found and found <= WORDS, found - WORDS


def test_members_equal_the_strings_stored_in_the_warehouse():
    assert Status.ESCALATED == "escalated" and Action.REOPEN == "reopen" and RunStatus.INTERRUPTED == "interrupted"
    assert Priority.P2.raised() == Priority.P1 and Priority.P0.raised() == Priority.P0 and Priority.P4.lowered() == Priority.P4
    assert Priority.most_urgent("P3", None, "P1") == Priority.P1 and Priority.most_urgent(None) is None
