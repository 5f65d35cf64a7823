"""Known-answer grouping tests with real log lines, and the `gardener cluster` CLI contract."""

import csv
import gc
import io
import random
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.flows.cluster_command import plain_arguments
from log_gardener.tasks.cluster_lines import cluster_lines
from log_gardener.tasks.clustering import (
    WILDCARD,
    PatternClusterer,
    collection_paused,
    generalise,
    is_variable,
    merge_template,
    quoted_texts,
    render_template,
    same_statement,
    statement_shape,
    tail_as_one_value,
    tokenize,
    tokens_and_commas,
)

REFERENCE = [
    # (message, expected group)
    ("Session access failed (middleware not installed?): SessionMiddleware must be installed to access request.session", "session"),
    ("Session access failed (middleware not installed?): SessionMiddleware must be installed to access request.session", "session"),
    (
        "[🔴] RACE CONDITION DETECTED: Startup phase 'no_app_state' did not reach 'services' within 2.1s - this would cause WebSocket 1011 errors",
        "race",
    ),
    (
        "[🔴] RACE CONDITION DETECTED: Startup phase 'no_app_state' did not reach 'services' within 4.7s - this would cause WebSocket 1011 errors",
        "race",
    ),
    ("Cannot wait for startup phase - no app_state available", "wait"),
    ("SSOT validation issues (non-blocking): ['Multiple manager instances for user demo-user-001 - potential duplication']", "ssot"),
    ("SSOT validation issues (non-blocking): ['Multiple manager instances for user usr_8f3a2b1c - potential duplication']", "ssot"),
    ("POST /ws/beacon 405", "beacon"),
    ("login failed: invalid password for user bob.smith", "password"),
    ("login failed: invalid password for user alice.jones", "password"),
    ("login failed: account locked for user bob.smith", "locked"),
    ("Connection to db-7.internal timed out after 3000ms", "timeout"),
    ("Connection to db-12.internal timed out after 150ms", "timeout"),
    ("Deleted 3 expired sessions for tenant acme-eu in 0.2s", "expired"),
    ("Deleted 41 expired sessions for tenant globex-us in 1.9s", "expired"),
]


def partition(labels, truth):
    groups = {}
    for label, expected in zip(labels, truth):
        groups.setdefault(label, set()).add(expected)
    return groups


def test_reference_messages_group_as_a_person_would():
    labels, templates = cluster_lines([m for m, _ in REFERENCE])
    truth = [g for _, g in REFERENCE]
    # every predicted group holds one true group, and every true group is one predicted group
    assert all(len(v) == 1 for v in partition(labels, truth).values())
    assert all(len(v) == 1 for v in partition(truth, labels).values())
    ssot = templates[labels[5]]
    assert ssot.startswith("SSOT validation issues (non-blocking): ['Multiple manager instances for user <*>")


def test_templates_keep_constants_and_mark_variables():
    messages = ["Connection to db-<NUM>.internal timed out after <NUM>ms", "Connection to cache.internal timed out after <NUM>ms"]
    tokens = merge_template([tokenize(m) for m in messages])
    assert render_template(messages[0], tokens) == "Connection to <*> timed out after <NUM>ms"
    labels, templates = cluster_lines(
        ["Deleted 3 expired sessions for tenant acme-eu in 0.2s", "Deleted 41 expired sessions for tenant globex-us in 1.9s"] * 2
    )
    assert len(set(labels)) == 1
    assert templates[labels[0]] == "Deleted <NUM> expired sessions for tenant <*> in <NUM>s"


def test_plain_words_with_few_values_are_statement_words_and_many_values_a_field():
    few = [
        f"[instance: 3f2a9c1b-1234-4abc-8def-0123456789a{i}] VM {event} (Lifecycle Event)"
        for i, event in enumerate(["Resumed", "Paused", "Started", "Stopped"])
    ]
    labels, _ = cluster_lines(few)
    assert len(set(labels)) == 4  # even with one message each
    names = ["".join(chr(97 + (i * 7 + j * 3) % 26) for j in range(6)) for i in range(20)]
    many = [f"Session opened for user {name} from the web console" for name in names]
    labels, templates = cluster_lines(many)
    assert len(set(labels)) == 1
    assert templates[labels[0]] == "Session opened for user <*> from the web console"


USERS = ["root", "admin", "guest", "oracle"]


def _failed_passwords() -> list[str]:
    return [f"Failed password for {user} from 10.{n}.7.{n * 3} port {40000 + n} ssh2" for n, user in enumerate(USERS * 3)]


def test_a_few_user_names_are_one_statement_when_unrelated_statements_print_the_same_names():
    sessions = [f"session opened for user {user} by (uid={n})" for n, user in enumerate(USERS * 3)]
    labels, templates = cluster_lines(_failed_passwords() + sessions)
    assert len(set(labels[:12])) == 1 and len(set(labels[12:])) == 1 and labels[0] != labels[12]
    assert templates[labels[0]] == "Failed password for <*> from <IP> port <NUM> ssh<NUM>"
    assert templates[labels[12]] == "session opened for user <*> by (uid=<NUM>)"


def test_a_value_that_ends_a_sentence_is_known_with_its_full_stop():
    # systemd ends the line with the user name and a full stop: "root." is the value "root" as the other statement
    # prints it, so the sessions are one statement (and so are the failed passwords, which print the same names)
    sessions = [f"Started Session {n} of user {user}." for n, user in enumerate(USERS * 3)]
    labels, templates = cluster_lines(_failed_passwords() + sessions)
    assert len(set(labels[:12])) == 1 and len(set(labels[12:])) == 1 and labels[0] != labels[12]
    assert templates[labels[12]] == "Started Session <NUM> of user <*>"


def test_known_values_free_a_position_that_another_statement_of_the_block_holds_other_text_at():
    # HTTP methods, printed by two unrelated statements; a third prints one of them per line, each line word for
    # word alike, beside a statement of the same length and opening word whose last token is no word
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
    lines = [f"Cannot get stack range, reason: {method} {n}" for n, method in enumerate(methods * 2)]
    lines += [f"Form URL {method} rejected cert_verify {n}" for n, method in enumerate(methods * 2)]
    rpc = [f"Received response to rpc {method}." for method in methods for _ in range(3)]
    # the other statement first: its last token is the first the block reads there
    labels, templates = cluster_lines(lines + ["Received 7 initiating graceful shutdown..."] + rpc)
    assert len(set(labels[25:])) == 1, templates
    assert labels[24] != labels[25]


PROGRAMS = ["chrome.exe", "firefox.exe", "svchost.exe", "Dropbox.exe", "java", "outlook.exe", "iexplore.exe", "git.exe"]
HOSTS = ["clients4.google.com:443", "proxy.cse.example.edu:5070", "www.example.com", "imap.example.net:993", "10.2.7.14:8080"]


def _proxy_lines(mark: str) -> list[str]:
    """A proxy's connection log of two statements: each line opens with the program, then `mark` (empty: none)."""
    closes = [
        f"{program}{mark} connection to {HOSTS[n % len(HOSTS)]} closed, {n * 97} bytes sent, {n * 311} bytes received"
        for n, program in enumerate(PROGRAMS * 3)
    ]
    opens = [f"{program}{mark} connection to {host} opened through proxy proxy.example.org:8080" for program in PROGRAMS for host in HOSTS]
    return closes + opens


def test_a_program_that_is_a_plain_word_opening_a_line_before_a_mark_is_a_value_as_the_other_programs():
    # "java" is a word that both statements print, the other programs are names with a dot: the lines that
    # "java - " opens are the statements the others open
    lines = _proxy_lines(" -")
    labels, templates = cluster_lines(lines)
    closes = len(PROGRAMS) * 3
    assert len(set(labels[:closes])) == 1 and len(set(labels[closes:])) == 1 and labels[0] != labels[closes]
    assert templates[labels[0]] == "<*> - connection to <*> closed, <NUM> bytes sent, <NUM> bytes received"


def test_a_source_tag_joins_only_a_statement_with_a_rest_of_two_words_or_more():
    # "java - exited" / "chrome.exe - exited": one word after the mark is too little to call it the same statement
    exits = [f"{program} - exited" for program in PROGRAMS * 3]
    lines = _proxy_lines(" -") + exits
    labels, _ = cluster_lines(lines)
    java = {label for line, label in zip(lines, labels) if line == "java - exited"}
    assert java.isdisjoint(label for line, label in zip(lines, labels) if line.endswith(" - exited") and line != "java - exited")


def _levelled_lines(mark: str) -> list[str]:
    """Payments and cache lines opened by three log levels, then payments opened by a worker's name; `mark` after each."""
    lines = []
    for level in ("ERROR", "WARNING", "INFO"):
        lines += [f"{level}{mark} payment for order {n} failed after {n % 5} retries" for n in range(3)]
        lines += [f"{level}{mark} cache warmed in {n} ms" for n in range(2)]
    return lines + [f"worker-{n}{mark} payment for order {n * 7} failed after {n} retries" for n in range(3)]


def test_log_levels_before_a_mark_stay_words_when_few_lines_open_with_a_value():
    # most lines of the statement open with a level, a few with a worker's name: the levels are words of their
    # statements, not source tags
    labels, templates = cluster_lines(_levelled_lines(" -"))
    assert len({labels[0], labels[5], labels[10], labels[15]}) == 4, templates


def test_a_program_with_its_process_id_after_other_tags_is_a_value_whatever_most_programs_are_named():
    # the kernel reports a crash of any program, named and numbered as syslog tags are, after its own tag and
    # time: most of these programs are plain words, yet each is a value of the one statement
    programs = ["nginx", "node", "java", "mysqld", "python3", "php-fpm7.4"]
    lines = [
        f"kernel: [{n}.{n * 7919 % 999983:06d}] {program}[{300 + n}]: segfault at {n * 4099:x} ip {n * 65537:016x} "
        f"sp {n * 257:016x} error 4 in libc-2.31.so[{n * 31:x}+{n * 17:x}]"
        for n, program in enumerate(programs * 3, start=1)
    ]
    lines += [f"kernel: [{n}.000100] usb 1-{n}: new high-speed USB device number {n + 2} using ehci-pci" for n in range(1, 5)]
    labels, templates = cluster_lines(lines)
    assert len(set(labels[:18])) == 1, templates
    assert labels[0] != labels[-1]
    # programs with their ids join the statement; tags without one that would join it too are judged apart, by
    # the majority (here log levels, which stay words)
    lines = _levelled_lines(":") + [
        f"{program}[{400 + n}]: payment for order {n * 3} failed after {n} retries" for n, program in enumerate(["billing", "checkout"])
    ]
    labels, templates = cluster_lines(lines)
    assert labels[-1] == labels[-2] == labels[15], templates
    assert len({labels[0], labels[5], labels[10], labels[15]}) == 4, templates


def test_a_bracket_that_a_value_opens_closes_in_it():
    assert statement_shape(tokenize("kernel: python3[4242]: segfault"))[0] == ("kernel", ":", WILDCARD, ":", "segfault")
    assert statement_shape(tokenize("error 4 in libc-2.31.so[7f3a+1b]"))[0] == ("error", WILDCARD, "in", WILDCARD)
    assert statement_shape(tokenize("item a1[2[3]] ok"))[0] == ("item", WILDCARD, "ok")
    # a bracket opened before the value is not the value's to close
    assert statement_shape(tokenize("session (id 42) ok"))[0] == ("session", "(", "id", WILDCARD, ")", "ok")


def test_a_number_before_a_mark_is_no_process_id_and_log_levels_before_it_stay_words():
    # "%(levelname)s %(process)d - %(message)s": the id is no part of a program's tag, so the levels stay words
    labels, templates = cluster_lines(_levelled_lines(" 4242 -"))
    assert len({labels[0], labels[5], labels[10], labels[15]}) == 4, templates
    # nor is an index that a later part of the message prints as a program's tag would be
    lines = [f"{level} 4242 - bad value in row[{n}]: expected int, got str" for level in ("ERROR", "WARNING", "INFO") for n in range(3)]
    lines += [f"worker-{n} 4242 - bad value in row[{n * 7}]: expected int, got str" for n in range(3)]
    labels, templates = cluster_lines(lines)
    assert len({labels[0], labels[3], labels[6], labels[9]}) == 4, templates
    # nor is a counter or a status code
    lines = [f"Attempt {n}: could not connect to database primary" for n in range(1, 4)]
    lines += [f"HTTP {code}: could not connect to database primary" for code in (500, 502)]
    lines += [f"db-{n}.internal: could not connect to database primary" for n in range(1, 3)]
    labels, templates = cluster_lines(lines)
    assert len({labels[0], labels[3], labels[5]}) == 3, templates


def test_lines_without_a_tag_after_a_time_are_no_value_tagged_statement():
    # the time before a tag would take a value there in: "<TS> - payment ..." has no tag at all
    lines = []
    for level in ("ERROR", "WARNING"):
        lines += [f"2024-05-01T10:0{n}:17Z {level} - payment for order {n} failed after {n % 5} retries" for n in range(3)]
    lines += [f"2024-05-01T11:0{n}:45Z - payment for order {n * 7} failed after {n} retries" for n in range(7)]
    labels, templates = cluster_lines(lines)
    assert len({labels[0], labels[3], labels[6]}) == 3, templates
    # the same with a process id after the level: a number, not a program's id in brackets
    labels, templates = cluster_lines([line.replace(" - ", " 4242 - ", 1) for line in lines])
    assert len({labels[0], labels[3], labels[6]}) == 3, templates


def test_log_levels_after_a_time_stay_words_when_few_lines_hold_a_value_there():
    # a tag may follow a value (the time): the levels there are still words of their statements
    lines = []
    for level in ("ERROR", "WARNING"):
        lines += [f"2024-05-01T10:0{n}:17Z {level} - payment for order {n} failed after {n % 5} retries" for n in range(4)]
        lines += [f"2024-05-01T10:1{n}:02Z {level} - cache warmed in {n} ms" for n in range(2)]
    lines += [f"2024-05-01T11:0{n}:45Z worker-{n} - payment for order {n * 7} failed after {n} retries" for n in range(2)]
    labels, templates = cluster_lines(lines)
    assert labels[0] != labels[6], templates


THREADS = ["main", "DataStreamer", "pool-2-thread-7", "pool-2-thread-3", "IPC Server handler 3 on 8020", "worker-12"]


def _threaded_lines(opening: str = "") -> list[str]:
    """Two statements of a Java service, each line after `opening` and the thread's name in brackets."""
    lines = [
        f"{opening}[{thread}] Receiving block blk_{n * 7919} src: /10.0.{n}.7:50010 dest: /10.0.{n}.9:50010"
        for n, thread in enumerate(THREADS * 4)
    ]
    return lines + [
        f"{opening}[{thread}] Deleting block blk_{n * 104729} file /data/dfs/current/blk_{n}" for n, thread in enumerate(THREADS * 2)
    ]


def test_a_threads_name_in_brackets_opening_the_line_is_a_value_whatever_words_it_holds():
    # most threads have a number in their name; "main" and "DataStreamer" are plain words, and the handler's name
    # holds words and numbers: all are the one value that opens each line of a statement
    lines = _threaded_lines()
    labels, templates = cluster_lines(lines)
    assert len(set(labels[:24])) == 1 and len(set(labels[24:])) == 1 and labels[0] != labels[24], templates
    # after a time, in the layout of most Java loggers (the time takes the brackets in), and after a mark
    for opening in ("2024-05-01 10:00:00,123 ", "billing - "):
        labels, templates = cluster_lines(_threaded_lines(opening))
        assert len(set(labels[:24])) == 1 and len(set(labels[24:])) == 1 and labels[0] != labels[24], (opening, templates)


def test_a_threads_name_in_brackets_before_a_value_is_a_value_too():
    # a value after the brackets takes the closing one in ("[worker-12] 10.0.3.7" reads as "[" and one value), and
    # a number in the name takes it in with the rest ("8020] 10.0.3.7")
    lines = [
        f'[{thread}] 10.11.{n}.1 "GET /v2/servers/{n * 31}/detail HTTP/1.1" status: 200 len: {1800 + n} time: 0.{n + 1}'
        for n, thread in enumerate(THREADS * 4)
    ]
    labels, templates = cluster_lines(lines)
    assert len(set(labels)) == 1, templates


def test_the_quoted_message_of_a_logfmt_line_is_text_not_one_value():
    # `msg="..."`: the words after `msg=` are the statement's, the first of them no value because a key precedes it
    line = 'level=warn thread=main msg="Received block blk_<NUM> of size <NUM> from /<IP> after retries"'
    tokens = tokenize(line)
    quoted = quoted_texts(line, tokens)
    assert [tokens[i] for i in quoted] == ["Received"]
    assert statement_shape(tokens, quoted=quoted)[0][:8] == ("level", "=", WILDCARD, "thread", "=", WILDCARD, "msg", "=")
    assert statement_shape(tokens, quoted=quoted)[0][8] == "Received"
    # a value after `key=` without quotes is still one value, whatever it is
    assert statement_shape(tokenize("user=bob logged in"))[0] == ("user", "=", WILDCARD, "logged", "in")


def test_log_levels_in_brackets_stay_words_of_their_statements():
    lines = []
    for level in ("ERROR", "WARNING", "INFO"):
        lines += [f"[{level}] payment for order {n} failed after {n % 5} retries" for n in range(4)]
    # a few lines with a worker's name there: the levels are still words
    labels, templates = cluster_lines(lines + [f"[worker-{n}] payment for order {n * 7} failed after {n} retries" for n in range(3)])
    assert len({labels[0], labels[4], labels[8]}) == 3, templates
    # after a time, lines without any tag read like lines with a value there, and say nothing of the levels, even
    # beside a line of their shape that prints one
    lines = [f"2024-05-01 10:00:0{n % 10},123 {line}" for n, line in enumerate(lines)]
    lines += [f"2024-05-01 11:00:{n:02d},456 payment for order {n * 7} failed after {n} retries" for n in range(15)]
    labels, templates = cluster_lines([*lines, "2024-05-01 11:00:59,456 [worker-1] payment for order 8 failed after 1 retries"])
    assert len({labels[0], labels[4], labels[8]}) == 3, templates
    # one letter is a level too
    lines = [f"[{level}] connection refused by upstream 10.0.0.{n}" for level in "EW" for n in range(5)]
    labels, templates = cluster_lines([*lines, "[worker-1] connection refused by upstream 10.0.0.9"])
    assert labels[0] != labels[5], templates


def test_lines_opened_by_a_word_that_other_rules_joined_to_a_value_count_as_opened_by_a_word():
    # "ACCEPT: ..." joined "fw01: ..." before: that pattern opens with a value, yet most of its lines open with a
    # word, so "DROP: ..." is not joined to it
    lines = [f"{verdict}: inbound connection from 10.0.0.{n} to port {8000 + n}" for verdict in ("ACCEPT", "DROP") for n in range(4)]
    lines += [f"{verdict}: rule {n} matched" for verdict in ("ACCEPT", "DROP") for n in range(2)]
    lines += ["fw01: inbound connection from 10.0.0.9 to port 8009"]
    labels, _ = cluster_lines(lines)
    assert labels[0] != labels[4]
    # the same after a time, where the lines of that pattern hold their verdict or name second
    labels, templates = cluster_lines([f"2024-05-01T10:00:{n:02d}Z {line}" for n, line in enumerate(lines)])
    assert labels[0] != labels[4], templates


def test_an_opening_word_without_a_mark_after_it_stays_a_word_of_its_statement():
    # "java connection to ... closed" could be a statement of its own: no mark shows "java" to be a source tag
    lines = _proxy_lines("")
    labels, _ = cluster_lines(lines)
    java = {label for line, label in zip(lines, labels) if line.startswith("java ")}
    assert java.isdisjoint(label for line, label in zip(lines, labels) if not line.startswith("java "))


def test_a_few_user_names_that_only_one_statement_prints_still_tell_statements_apart():
    # the same lines alone: nothing shows that the four words are values, so they are words, as "VM Paused" is
    labels, _ = cluster_lines(_failed_passwords())
    assert len(set(labels)) == len(USERS)


def _sessions_and_cron_jobs(users: list[str], times: int) -> list[str]:
    """Two unrelated statements, each printing every one of `users` `times` times."""
    sessions = [f"session opened for user {user} by uid {n}" for n, user in enumerate(users * times)]
    return sessions + [f"cron job started for {user} at boot" for user in users * times]


def test_words_known_as_values_do_not_split_a_statement_that_takes_only_two_of_them():
    # two unrelated statements take three user names: the failed passwords, which take two of them, are one statement
    failed = [line for line in _failed_passwords() if " root " in line or " admin " in line]
    labels, templates = cluster_lines(failed + _sessions_and_cron_jobs(["root", "admin", "guest"], 2))
    assert len(set(labels[:6])) == 1
    assert templates[labels[0]] == "Failed password for <*> from <IP> port <NUM> ssh<NUM>"


def test_two_statements_that_share_only_two_words_do_not_make_them_values():
    # a field is known by three shared words at least: two statements each taking the same two stay split by them
    labels, _ = cluster_lines(_sessions_and_cron_jobs(["root", "admin"], 3))
    assert len(set(labels)) == 4


def test_a_statement_of_fewer_than_two_constant_words_shows_no_field():
    # "now Paused" / "now Resumed" / "now Stopped" hold one constant word: they make no field of the VM events
    events = ["Paused", "Resumed", "Stopped"]
    labels, _ = cluster_lines([f"now {event}" for event in events] + [f"VM {event} by scheduler" for event in events])
    assert len(set(labels)) == 6


def test_the_alternatives_of_a_family_of_statements_stay_words_of_each():
    # two statements take the same three verbs, but share most of their words: a family written alike, not a field
    # that unrelated statements print
    unique = "Detected {} unique constraint 'ck_{}' on table 'orders_{}'"
    check = "Detected {} check constraint 'ck_{}' on table 'orders_{}' in schema 'billing_{}'"
    lines = [form.format(verb, n, n, n) for n in range(2) for form in (unique, check) for verb in ("added", "removed", "changed")]
    labels, _ = cluster_lines(lines)
    assert len(set(labels)) == 6
    assert labels[:6] == labels[6:]


def test_a_two_letter_word_is_a_plain_word_too():
    # one statement per answer, as with "VM Paused" / "VM Resumed" (and so for two-letter units or codes: "KB" / "MB")
    host = "on the main board of host alpha"
    lines = [
        f"Power source information for battery {n} {host}: external power connected {flag}" for n, flag in enumerate(["No", "Yes"] * 3)
    ]
    labels, templates = cluster_lines(lines)
    assert labels == [0, 1, 0, 1, 0, 1]
    assert templates[0].endswith("external power connected No")
    # one plain word in place of another, "NO" as much as "YES"
    assert not same_statement(("updating", "enabled", ":", "NO"), ("updating", "enabled", ":", "YES"), lambda token: True)


def test_similar_but_different_statements_stay_apart():
    # among the other messages of a window, as the flow sees them
    lines = [
        "login failed: invalid password for user bob",
        "login failed: account locked for user bob",
    ]
    labels, _ = cluster_lines(lines + [m for m, _ in REFERENCE])
    assert len(set(labels[:2])) == 2


def test_long_unicode_and_empty_messages_never_crash():
    lines = ["ü" * 50_000, "x " * 10_000, "", "   ", "日本語のエラー 42", "\x00\x01"]
    labels, templates = cluster_lines(lines)
    assert len(labels) == len(lines)
    assert all(len(t) <= 1_000 for t in templates.values())


def test_cli_contract_order_and_stdin(tmp_path):
    lines = [m for m, _ in REFERENCE]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["cluster", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["line", "cluster_id", "template"]
    assert [int(r["line"]) for r in rows] == list(range(1, len(lines) + 1))
    piped = CliRunner().invoke(app, ["cluster", "-"], input="\n".join(lines) + "\n")
    assert piped.exit_code == 0
    assert list(csv.DictReader(io.StringIO(piped.stdout))) == rows


@pytest.mark.parametrize("ending, odd", [(b"\n", b"disk sdb2 full"), (b"\r\n", b"disk sdb2 full\rdisk sdc3 full")])
def test_cli_reads_a_file_as_utf8_text_with_bad_bytes_replaced_and_any_line_ending(tmp_path, ending, odd):
    # a bad byte, a sequence cut short before the end of a line, a lone CR (a line end in text mode), no final newline
    raw = ending.join([b"disk sda1 full", b"caf\xc3 not \xff served", odd, "日本 42".encode(), b"last"])
    source = tmp_path / "in.txt"
    source.write_bytes(raw)
    result = CliRunner().invoke(app, ["cluster", str(source)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    with open(source, encoding="utf-8", errors="replace", newline="") as handle:
        expected_lines = [line.rstrip("\r\n") for line in handle]
    assert len(rows) == len(expected_lines) == 5 + odd.count(b"\r")
    labels, templates = cluster_lines(expected_lines)
    assert [(int(r["cluster_id"]), r["template"]) for r in rows] == [(label, templates[label]) for label in labels]
    assert any("caf\ufffd not \ufffd served" in r["template"] for r in rows)
    # stdin is read as the file is: the same lines, numbered alike
    piped = CliRunner().invoke(app, ["cluster", "-"], input=raw)
    assert piped.exit_code == 0 and piped.stdout == result.stdout


def test_a_byte_order_mark_is_no_part_of_the_first_line(tmp_path):
    source = tmp_path / "in.txt"
    source.write_bytes("\ufeffdisk sda1 full on node 1\ndisk sdb2 full on node 2\ndisk sdc3 full on node 3\n".encode())
    result = CliRunner().invoke(app, ["cluster", str(source)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len({r["cluster_id"] for r in rows}) == 1 and "\ufeff" not in rows[0]["template"]


def test_the_console_script_runs_a_plain_cluster_command_without_the_framework_and_writes_the_same_csv(tmp_path):
    lines = [m for m, _ in REFERENCE]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    by_framework = CliRunner().invoke(app, ["cluster", str(source)])
    probe = (
        "import sys, log_gardener.flows.console as c; c.main(); "
        "print(sorted(m for m in sys.modules if m.startswith(('typer', 'rich', 'pydantic'))), file=sys.stderr)"
    )
    for arguments in (
        ["cluster", str(source), "-o", str(tmp_path / "a.csv")],
        ["cluster", "--output", str(tmp_path / "b.csv"), str(source)],
    ):
        done = subprocess.run([sys.executable, "-c", probe, *arguments], capture_output=True, text=True, check=True)
        assert done.stderr.strip().endswith("[]")  # neither typer, nor rich, nor pydantic was imported
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == (tmp_path / "b.csv").read_text(encoding="utf-8") == by_framework.stdout
    # anything else goes to the framework, which explains it
    missing = subprocess.run([sys.executable, "-m", "log_gardener", "cluster", str(tmp_path / "none.txt")], capture_output=True, text=True)
    assert missing.returncode == 2 and "input file not found" in missing.stderr
    # an output that cannot be written is one clear line either way, before any clustering
    gardener = [sys.executable, "-m", "log_gardener", "cluster", str(source)]
    unwritable = subprocess.run([*gardener, "-o", str(tmp_path)], capture_output=True, text=True)
    assert unwritable.returncode == 2 and unwritable.stderr.startswith(f"error: cannot write {tmp_path}")
    framework = CliRunner().invoke(app, ["cluster", str(source), "--output", str(tmp_path)])
    assert framework.exit_code == 2 and f"cannot write {tmp_path}" in framework.output
    # a reader that goes away early (`| head -1`) ends it quietly
    many = tmp_path / "many.txt"
    many.write_text("".join(f"job {n} failed on node-{n % 7}\n" for n in range(200_000)), encoding="utf-8")
    head = subprocess.Popen([sys.executable, "-m", "log_gardener", "cluster", str(many)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert head.stdout.readline().startswith(b"line,cluster_id")
    head.stdout.close()
    assert head.wait(timeout=600) == 1 and b"Traceback" not in head.stderr.read()


def test_plain_cluster_arguments_are_read_only_in_the_usual_forms(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("a\n", encoding="utf-8")
    assert plain_arguments(["cluster", str(source)]) == (str(source), None)
    assert plain_arguments(["cluster", "-"]) == ("-", None)
    assert plain_arguments(["cluster", str(source), "-o", "x.csv"]) == (str(source), Path("x.csv"))
    assert plain_arguments(["cluster", "--output", "x.csv", str(source)]) == (str(source), Path("x.csv"))
    for other in (
        [],
        ["run", str(source)],
        ["cluster"],
        ["cluster", "--help"],
        ["cluster", str(source), "--help"],
        ["cluster", str(tmp_path / "missing.txt")],
        ["cluster", str(source), "--output"],
        ["cluster", str(source), "--outptu", "x.csv"],
        ["cluster", str(source), "-o", "--help"],
        ["cluster", str(source), str(source)],
        ["cluster", str(source), "--output=x.csv"],
        ["cluster", str(source), "-ox.csv"],
        ["cluster", "--", str(source)],
        ["cluster", str(source), "-o", "-"],
    ):
        assert plain_arguments(other) is None, other


# -- the rules of the method, each on its own -----------------------------------------------------------------------


def test_a_value_with_digits_paths_or_after_equals_is_one_wildcard_of_any_length():
    shape, spans = statement_shape(tokenize("Connection closed after 01:02:03 by peer 00:1a:2b:ee:4d:5e user=bob at /srv/app/main.py"))
    assert shape == ("Connection", "closed", "after", "<*>", "by", "peer", "<*>", "user", "=", "<*>", "at", "<*>")
    assert spans[3] == (3, 4)  # 01:02:03, one token: parts glued by colons around a number
    assert tokenize("key session:7513:profile on db-2:5432 at 10:00") == ["key", "session:7513:profile", "on", "db-2:5432", "at", "10:00"]
    assert tokenize("Unknown option: retries") == ["Unknown", "option", ":", "retries"]  # no number: the colon stays a token
    assert statement_shape(tokenize("Connection closed after 5 by peer 00:1a:2b:ee:4d:5e user=alice at /srv/x"))[0] == shape


def test_a_long_run_of_parts_glued_by_colons_is_read_part_by_part_and_loses_nothing():
    # a line as long as `gardener cluster` may be handed: each part is looked at once, not the rest of the run from each
    run = "ab:" * 200_000
    tokens = tokenize(run, max_tokens=10**6)
    assert tokens[:4] == ["ab", ":", "ab", ":"] and "".join(tokens) == run
    # the number that glues a run into one token is looked for near the part it follows
    assert tokenize("id " + "ab:" * 5 + "7 done") == ["id", "ab:ab:ab:ab:ab:7", "done"]


def test_an_error_or_an_object_printed_with_its_one_argument_is_one_value():
    # masked messages: `KeyError('region')` is printed as `KeyError(<STR>)`
    assert tokenize("Skipped for KeyError(<STR>): done") == ["Skipped", "for", "KeyError(<STR>)", ":", "done"]
    assert tokenize("body: ConnectionRefusedError(<NUM>)") == ["body", ":", "ConnectionRefusedError(<NUM>)"]
    assert statement_shape(tokenize("Checking was skipped for HTTPError(<STR>) in <PATH>"))[0] == (
        "Checking", "was", "skipped", "for", "<*>", "in", "<*>",
    )  # fmt: skip
    # a process and its id are not: the name says which program (`Sandbox: mdworker(123) deny(1) file-read-data`)
    assert tokenize("Sandbox: mdworker(<NUM>) deny(<NUM>)")[:6] == ["Sandbox", ":", "mdworker", "(", "<NUM>", ")"]


def test_free_text_after_a_mark_that_ends_both_templates_is_one_value():
    # only the first word of each text follows many words (a value's opening); the others follow one word each
    opens = {"timed", "server", "process", "replacing", WILDCARD}.__contains__
    a = ("Connection", "file", "not", "found", ":", "timed", "out")
    b = ("Connection", "file", "not", "found", ":", "server", "closed", "the", "connection", "unexpectedly")
    assert same_statement(a, b, is_value=opens)
    # without a mark before them, the words are the statements' own
    assert not same_statement(
        ("Loading", "cache", "file", "timed", "out"), ("Loading", "cache", "file", "server", "closed", "the", "connection"), is_value=opens
    )
    # nor is a dash, the other label's mark; a bar or an arrow is no label's
    for mark, joins in (("-", True), ("|", False), ("->", False)):
        label = ("Upload", "of", "batch", "<*>", "failed", mark)
        long = (*label, "server", "closed", "the", "connection", "unexpectedly")
        assert same_statement((*label, "timed", "out"), long, is_value=opens) is joins, mark
    # a closing bracket is no label's mark
    child = ("Child", "(", "pid", WILDCARD, ")")
    assert not same_statement(
        (*child, "exited", "normally"), (*child, "was", "killed", "by", "the", "kernel"), is_value={"exited", "was"}.__contains__
    )
    # a text with a number, a name or a mark of its own is a statement of its own after a source tag
    assert not same_statement(
        ("pydev", "debugger", ":", "process", WILDCARD, "is", "connecting"),
        ("pydev", "debugger", ":", "replacing", "to", "client"),
        is_value=opens,
    )


def test_a_host_in_a_countrys_domain_is_a_host_like_any_other():
    assert all(is_variable(t) for t in ("mail.yandex.ru", "scanner.isp.cn", "smtp.web.de"))
    # a dotted name of code that ends in two letters is a field, and two labels may be a module and its attribute
    assert not any(
        is_variable(t) for t in ("mapred.task.id", "self.instance.pk", "self.cfg.tz", "request.state.ok", "torch.nn", "Config.Retry.no")
    )
    # reverse lookups of scanners: each host is seen many times, from many addresses
    hosts = ["mail.example.org", "scanner.isp.cn", "dsl.telecom-net.de", "gw.corp.local", "vps.hosting.ru"]
    lines = [
        f"reverse mapping checking getaddrinfo for {host} [203.0.113.{n}] failed - POSSIBLE BREAK-IN ATTEMPT!"
        for host in hosts
        for n in range(1, 7)
    ]
    labels, templates = cluster_lines(lines)
    assert len(set(labels)) == 1
    assert templates[labels[0]] == "reverse mapping checking getaddrinfo for <*> failed - POSSIBLE BREAK-IN ATTEMPT!"


def test_localhost_is_a_host_like_any_other():
    assert is_variable("localhost") and is_variable("LOCALHOST") and not is_variable("local")
    hosts = ["api.example.com", "localhost", "db.internal", "localhost", "cache.example.org"]
    labels, templates = cluster_lines([f"Skipping {host} due to {count} stale records" for host in hosts for count in (3, 12)])
    assert len(set(labels)) == 1 and templates[labels[0]] == "Skipping <*> due to <NUM> stale records"


def test_one_hyphenated_name_on_each_side_inside_the_templates_is_a_value():
    # names seen in a few messages follow too few words to read as free text: only their place makes them values
    moved = ("Moving", "billing-api", "shard", "to", "orders-db", "after", "rebalance")
    assert same_statement(moved, ("Moving", "auth-proxy", "shard", "to", "search-indexer", "after", "rebalance"))
    # plain words in that place are words of the statement; two names against one are not one name each
    assert not same_statement(moved, ("Moving", "primary", "shard", "to", "secondary", "after", "rebalance"))
    assert not same_statement(
        (*moved, "<*>"), ("Moving", "auth-proxy", "shard", "to", "search-indexer", "cart-cache", "after", "rebalance", "<*>")
    )
    # a class's or a function's name is as often a word of its statement
    classes = ("Worker", "failed", ":", "requests.exceptions.ReadTimeout", "while", "fetching", "rows")
    assert not same_statement(classes, ("Worker", "failed", ":", "sqlalchemy.exc.OperationalError", "while", "fetching", "rows"))
    assert not same_statement(("Handler", "purge_sessions", "failed", "on", "retry"), ("Handler", "send_mail", "failed", "on", "retry"))
    # a name that is the first or the last token is left to the other rules
    opened = ("billing-api", "finished", "in", "the", "shutdown", "phase")
    assert not same_statement(opened, ("orders-db", "finished", "in", "the", "shutdown", "phase"))
    ended = ("shutdown", "phase", "finished", "in", "billing-api")
    assert not same_statement(ended, ("shutdown", "phase", "finished", "in", "orders-db"))


def test_same_statement_needs_anchored_words_and_a_substitution():
    free_text = {"<*>", "connection", "reset", "by", "peer", "timeout"}.__contains__
    a = ("Request", "to", "payments", "failed", ":", "<*>")
    assert same_statement(a, ("Request", "to", "payments", "failed", ":", "connection", "reset", "by", "peer"), free_text)
    # a wildcard on one side is evidence enough: the other template fills in that value
    assert same_statement(a, ("Request", "to", "payments", "failed", ":", "connection", "reset", "by", "peer"))
    b = ("Request", "to", "payments", "failed", ":", "timeout")
    assert not same_statement(b, ("Request", "to", "payments", "failed", ":", "connection", "reset", "by", "peer"))  # no evidence
    # an opening bracket does not hide the value behind it: [Errno <*>] opens with a value word
    errno = ("Request", "to", "payments", "failed", ":", "[", "Errno", "<*>", "]", "Connection", "refused")
    assert same_statement(b, errno, lambda token: free_text(token) or token == "Errno")
    assert not same_statement(b, errno, free_text)
    # two values, one landmark word between them
    assert same_statement(
        ("Fetching", "token", "from", "<*>", "using", "client", "<*>"),
        ("Fetching", "token", "from", "connection", "reset", "using", "client", "timeout"),
        free_text,
    )
    # words on one side only belong to another statement
    assert not same_statement(
        ("Failed", "password", "for", "<*>", "from", "<*>"),
        ("Failed", "password", "for", "invalid", "user", "<*>", "from", "<*>"),
        free_text,
    )
    # one plain word in place of another is a word of the statement
    assert not same_statement(
        ("VM", "Paused", "(", "Lifecycle", "Event", ")"), ("VM", "Resumed", "(", "Lifecycle", "Event", ")"), lambda token: True
    )
    # too little in common
    assert not same_statement(("Failed", "to", "open", "config", "file"), ("Failed", "to", "reach", "the", "metadata", "server"), free_text)
    # words that are not free text keep the statements apart
    assert not same_statement(
        ("Took", "<*>", "seconds", "to", "build", "instance"),
        ("Took", "<*>", "seconds", "to", "deallocate", "network", "for", "instance"),
        free_text,
    )


def test_a_value_that_ends_the_shorter_template_holds_the_words_the_longer_one_has_more():
    received = ("Received", "command", ":")
    assert same_statement((*received, "<*>"), (*received, "[", "Errno", "<*>", "]", "reset", "by", "<*>"))
    assert same_statement((*received, "<*>", "."), (*received, "timed", "out", "<*>", "."))
    # ... and what the longer one has more after it, when it ends the shorter one
    status = ("Request", "completed", "with", "status")
    assert same_statement((*status, "<*>"), (*status, "<*>", "export", "."))
    assert not same_statement((*status, "<*>"), (*status, "<*>", "!", "<*>"))  # a sign says something of its own
    # not when a word follows that value: the words before it are then the other statement's own
    assert not same_statement((*received, "<*>", "now"), (*received, "timed", "out", "<*>", "now"))
    assert not same_statement((*received, "now"), (*received, "now", "export", "."))
    # nor a value inside the template, between two common words
    assert not same_statement(
        ("Failed", "password", "for", "<*>", "from", "<*>", "port", "<*>"),
        ("Failed", "password", "for", "invalid", "user", "<*>", "from", "<*>", "port", "<*>", "ssh2"),
    )
    assert not same_statement(
        ("Connection", "from", "<*>", "closed", "after", "<*>", "s"),
        ("Connection", "from", "untrusted", "host", "<*>", "closed", "after", "idle", "s"),
    )
    # end to end: a path alone, or after an error text of a few words, is one statement's closing value
    messages = [f"Received command: /srv/jobs/task_{n}.py" for n in range(12)]
    messages += ["Received command: connection reset by peer /srv/jobs/export_7.csv", "Received command: [Errno 110] timed out /tmp/a_1"]
    clusterer = PatternClusterer().fit(messages, [1] * len(messages))
    assert len(set(clusterer.labels_.tolist())) == 1
    messages = [f"Request completed with status /srv/jobs/task_{n}.py" for n in range(12)]
    messages += ["Request completed with status /srv/jobs/task_1.py export.", "Request completed with status /srv/jobs/task_2.py export."]
    clusterer = PatternClusterer().fit(messages, [1] * len(messages))
    assert len(set(clusterer.labels_.tolist())) == 1


@pytest.mark.parametrize(
    "errors",
    [
        ["broken pipe", "timeout", "connection reset by peer", "permission denied", "deadline exceeded", "no route to host"],
        # the words that end "connection reset by peer" are not values: they run on into the statement's own words
        ["timeout", "read timeout", "write timeout", "disk timeout", "connection reset by peer", "net timeout"],
    ],
)
def test_a_statement_between_two_free_text_values_is_met_by_its_own_words(errors):
    # the opening and the closing tokens are values of other lengths in each message: only the words in between
    # bring the messages together
    settings = ["refused", "order export", "timed out waiting", "disk full", "bad gateway upstream", "quota"]
    statement = [f"{e}: Invalid retry budget; it should be a positive number; it is set to {v}" for e, v in zip(errors, settings)]
    elsewhere = [
        f"{what} {e}" for e in errors + settings for what in ("Sync step stopped with", "worker said", "retrying after", "upload ended:")
    ]
    labels, _ = cluster_lines(statement + elsewhere)
    assert len(set(labels[: len(statement)])) == 1
    assert not set(labels[: len(statement)]) & set(labels[len(statement) :])


def test_error_text_of_another_length_joins_the_statement_it_follows():
    errors = ["connection reset by peer", "TLS handshake error", "timeout"]
    # error texts are values: each follows many different words across the window
    elsewhere = [
        f"{what}: {error}" for what in ("Cache refill aborted", "Ledger sync stopped", "Webhook delivery failed") for error in errors
    ]
    lines = ["Request to payments failed: timeout"] * 5 + [
        "Request to payments failed: connection reset by peer",
        "Request to payments failed: TLS handshake error",
        "Upstream payments answered 503 for order 8812",
    ]
    labels, templates = cluster_lines(lines + elsewhere)
    assert len(set(labels[:7])) == 1 and labels[7] != labels[0]
    assert templates[labels[0]].startswith("Request to payments failed:")
    # in a window with no such evidence, a rarer variant stays a pattern of its own
    labels, _ = cluster_lines(["Request to payments failed: timeout"] * 5 + ["Request to payments failed: connection reset by peer"])
    assert labels[0] != labels[5]


def test_two_well_supported_variants_stay_two_patterns():
    # each variant is seen many times with its own words: they are two statements, not one with a value
    lines = ["Took 19.84 seconds to build instance."] * 5 + ["Took 0.48 seconds to deallocate network for instance."] * 5
    labels, _ = cluster_lines(lines)
    assert len(set(labels)) == 2


def test_a_value_in_first_place_does_not_split_a_statement():
    names = ["scheduler", "worker-alpha", "worker-beta", "ingest.daily", "billing", "mailer", "exporter", "janitor", "indexer", "reaper"]
    lines = [f"{name}: heartbeat missed, last seen {n}s ago" for n, name in enumerate(names)]
    labels, templates = cluster_lines(lines + ["Session access failed (middleware not installed?)"])
    assert len(set(labels[:10])) == 1 and labels[10] != labels[0]
    assert templates[labels[0]] == "<*>: heartbeat missed, last seen <NUM>s ago"


def test_quoted_values_of_a_few_words_are_masked_and_apostrophes_are_not_quotes():
    labels, _ = cluster_lines(
        [
            "Consumer retrieved an exception: 'connection reset by peer'",
            "Consumer retrieved an exception: 'timeout'",
            "It isn't ready yet, don't retry",
        ]
    )
    assert labels[0] == labels[1] != labels[2]


def test_generalise_keeps_common_words_and_makes_each_gap_one_value():
    a = ("Export", "failed", ":", "forbidden")
    b = ("Export", "failed", ":", "connection", "reset", "by", "peer")
    assert generalise(a, b) == ("Export", "failed", ":", WILDCARD)
    assert generalise(("copy", "<*>", "to", "a", "b"), ("copy", "x", "y", "to", "c")) == ("copy", WILDCARD, "to", WILDCARD)


def test_a_one_word_value_joins_a_statement_whose_value_varied_in_length_whichever_came_first():
    # "forbidden" and "refused" alone read like two statements ("VM Paused" / "VM Resumed"); once the statement
    # has taken reasons of several words, the position is a value, even for the clusters compared before that
    reasons = [
        "forbidden",
        "forbidden",
        "refused",
        "refused",
        "connection reset by peer",
        "deadline exceeded",
        "no route to host",
        "broken pipe",
        "permission denied",
        "quota exceeded for project",
    ]
    lines = [f"Export of the nightly report failed: {reason}" for reason in reasons]
    for word in ("forbidden", "refused", "connection", "deadline", "broken", "permission", "quota", "no"):
        # the reasons' words are free text elsewhere in the log too
        lines += [f"Sync step {i} stopped with {word}" for i in range(3)] + [f"worker said {word}", f"retrying after {word}"]
    labels, templates = cluster_lines(lines)
    assert len(set(labels[: len(reasons)])) == 1
    assert templates[labels[0]] == "Export of the nightly report failed: <*>"


def test_a_unit_glued_to_a_number_is_part_of_the_value():
    # "367.0MB" and "12KB" are one value each, not a number and a word of the statement
    lines = [
        "Upload of the export finished: 367.0MB in 2.1s",
        "Upload of the export finished: 12KB in 35ms",
        "Upload of the export finished: 5GB in 1.2s",
    ]
    labels, templates = cluster_lines(lines)
    assert len(set(labels)) == 1
    assert tokenize("finished: <NUM>MB") == ["finished", ":", "<NUM>MB"]


def test_statements_one_name_apart_are_one_statement_but_one_plain_word_apart_are_two():
    lines = [
        "Lag on db_main too high",
        "Lag on db-replica-eu too high",
        "Scheduler moved VM Paused to the drain queue",
        "Scheduler moved VM Resumed to the drain queue",
    ]
    labels, _ = cluster_lines(lines)
    assert labels[0] == labels[1]
    assert labels[2] != labels[3]


def test_two_busy_patterns_are_one_statement_only_when_one_holds_free_text_where_the_other_holds_a_value():
    messages = [
        "cache miss for key alpha beta in shard <NUM>",
        "cache miss for key <NUM> in shard <NUM>",
        "cache miss for key <NUM> gamma <NUM> in shard <NUM>",  # seen once: it joins the first, whose template widens
        "unrelated one alpha here",
        "unrelated two things alpha there",
        "other three words then alpha",
        "gamma ray one",
        "x two gamma",
        "dog cat gamma",
    ]
    counts = [100, 50, 1, 5, 5, 5, 5, 5, 5]
    # "alpha" follows many words, a different one each time: free text where the other pattern holds a number
    clusterer = PatternClusterer().fit(messages, counts)
    assert clusterer.labels_[0] == clusterer.labels_[1]
    # "delta" follows "key" alone: a word of its statement, so two busy patterns stay two, even once the rare
    # variant has widened the first one's template to equal the second one's
    messages[0] = "cache miss for key delta beta in shard <NUM>"
    messages[2] = "cache miss for key <NUM> delta <NUM> in shard <NUM>"
    clusterer = PatternClusterer().fit(messages, counts)
    assert clusterer.labels_[0] != clusterer.labels_[1]


def test_a_closing_value_does_not_hold_the_words_a_busy_pattern_kept_beside_its_own_value():
    rng = random.Random(2)
    failed = [f"Pool pre-ping on connection {rng.randint(1000, 999999)} failed, will invalidate pool" for _ in range(20)]
    bare = [f"Pool pre-ping on connection {rng.randint(10, 9999)}.{rng.randint(10, 9999)}" for _ in range(2)]
    labels, templates = cluster_lines(failed + bare)
    assert len(set(labels[:20])) == 1 and len(set(labels[20:])) == 1 and labels[0] != labels[20]
    assert templates[labels[20]] == "Pool pre-ping on connection <NUM>"
    # one message repeated word for word shows nothing: its words may be the text of the other's value
    labels, _ = cluster_lines([failed[0]] * 20 + bare)
    assert len(set(labels)) == 1
    longer = ("Pool", "pre-ping", "on", "connection", "<*>", "failed", ",", "will", "invalidate", "pool")
    shorter = ("Pool", "pre-ping", "on", "connection", "<*>")
    assert same_statement(longer, shorter) and not same_statement(longer, shorter, a_is_busy=True)
    # a busy pattern whose own side of the gap is the lone wildcard kept nothing there, and words without its own value
    # beside them may be the text of the other's value
    assert same_statement(shorter, longer, a_is_busy=True)
    assert same_statement(("Retry", "<*>", "after", "connection", "reset"), ("Retry", "<*>", "after", "<*>"), a_is_busy=True)
    # nor do they when a value outside the gap may be the one that varied: the same error text each time is a value
    refused = ("Connect", "to", "<*>", "failed", ":", "[", "Errno", "<*>", "]", "Connection", "refused")
    assert same_statement(refused, ("Connect", "to", "<*>", "failed", ":", "<*>"), a_is_busy=True)
    hosts = [f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(22)]
    labels, _ = cluster_lines(
        [f"Connect to {host} failed: [Errno 111] Connection refused" for host in hosts[:20]]
        + [f"Connect to {host} failed: 'peer closed'" for host in hosts[20:]]
    )
    assert len(set(labels)) == 1
    # nor after a label's mark: the text after it is the value's own, numbers and all
    labels, _ = cluster_lines(
        [f"Health check failed: timeout after {rng.randint(1, 60)}s" for _ in range(12)] + ["Health check failed: 'connection refused'"]
    )
    assert len(set(labels)) == 1


def test_two_busy_patterns_stay_two_when_one_kept_words_beside_all_its_values():
    rng = random.Random(5)
    bare = [f"Failed to clean up lease {uuid.UUID(int=rng.getrandbits(128))}" for _ in range(20)]
    aborted = [f"Failed to clean up lease {uuid.UUID(int=rng.getrandbits(128))} during abort" for _ in range(5)]
    # other statements make "during" a word that follows many words: free text that could fill a value
    stalls = ["Cache miss", "Timeout", "Retry", "Stall", "Backoff", "Eviction"]
    during = [
        f"{stall} during {rng.choice(['startup', 'shutdown', 'sync'])} of shard {rng.randint(1, 99)}" for stall in stalls for _ in range(2)
    ]
    labels, templates = cluster_lines(bare + aborted + during)
    assert len(set(labels[:20])) == 1 and len(set(labels[20:25])) == 1 and labels[0] != labels[20]
    assert templates[labels[20]] == "Failed to clean up lease <UUID> during abort"


def test_busy_statements_one_name_apart_stay_two():
    busy = ["Lag on db_main too high"] * 40 + ["Lag on db-replica-eu too high"] * 40
    labels, _ = cluster_lines(busy)
    assert labels[0] != labels[40]  # both seen often with their own name: two statements
    labels, _ = cluster_lines(busy[:40] + ["Lag on db-replica-eu too high"])
    assert labels[0] == labels[-1]  # a rare variant joins the busy one


def test_a_unit_name_repeated_word_for_word_is_not_a_busy_statement():
    # each line is printed word for word many times: the repetition says nothing of the unit, which is a value
    lines = ["Reloaded nginx.service with new config"] * 40 + ["Reloaded haproxy.service with new config"] * 40
    labels, _ = cluster_lines(lines)
    assert labels[0] == labels[40]
    # in many texts each, the names are the statements' own
    lines = [f"Reloaded nginx.service with config {n}" for n in range(40)] + [
        f"Reloaded haproxy.service with config {n}" for n in range(40)
    ]
    labels, _ = cluster_lines(lines)
    assert labels[0] != labels[40]


def test_a_dotted_name_is_a_value_in_a_short_statement_and_an_identifier_is_not():
    # systemd names its units: "Starting <unit>..." is one statement whatever the unit, though it has one word
    units = ["apt-daily.service", "snapd.service", "cron.service", "ssh.service", "docker.service"]
    lines = [f"Starting {unit}..." for unit in units for _ in range(20)] + [f"Stopped {unit}." for unit in units for _ in range(20)]
    labels, templates = cluster_lines(lines)
    assert len(set(labels[:100])) == 1, templates
    assert len(set(labels[100:])) == 1, templates
    assert labels[0] != labels[100]
    # a function's name before two words is the statement's own (two statements of a macOS kernel log)
    lines = [
        "hibernate_teardown_pmap_structs done: last_valid_compact_indx 282563",
        "hibernate_teardown_pmap_structs done: last_valid_compact_indx 315096",
        "hibernate_rebuild_pmap_structs done: last_valid_compact_indx 285862",
    ]
    labels, templates = cluster_lines(lines)
    assert labels[0] == labels[1] != labels[2], templates
    # so is a class's name, and two words that lack a space after a full stop
    for lines in (
        ["com.acme.OrderService initialised"] * 2 + ["com.acme.PaymentService initialised"] * 2,
        ["Sync finished.Exiting", "Sync finished.Restarting"],
    ):
        labels, templates = cluster_lines(lines)
        assert labels[0] != labels[-1], templates


def test_a_word_that_ends_a_sentence_is_not_a_name():
    # a full stop does not make a name of a word: one text each, repeated, so neither is busy
    lines = ["Solver for this problem cannot handle bounds."] * 10 + ["Solver for this problem cannot handle constraints."] * 10
    labels, templates = cluster_lines(lines)
    assert labels[0] != labels[10], templates


def test_one_word_that_ends_a_sentence_in_place_of_another_is_another_statement():
    a = ("Method", WILDCARD, "cannot", "handle", "bounds.")
    b = ("Method", WILDCARD, "cannot", "handle", "constraints.")
    # even when both words follow many words across the input, as a value's first word does
    assert not same_statement(a, b, is_value=lambda token: True)
    assert same_statement(a, ("Method", WILDCARD, "cannot", "handle", WILDCARD))


def test_an_empty_value_after_equals_is_a_value_and_the_next_key_stays_a_word():
    # PAM writes `ruser=` with nothing after it; the next key must not be read as its value, or a host
    # written as a word (`rhost=gateway`) and one written as an address would make two statements
    shape = statement_shape(tokenize("authentication failure; logname= uid=0 tty=ssh ruser= rhost=gateway"))[0]
    assert shape[2:8] == ("logname", "=", WILDCARD, "uid", "=", WILDCARD)
    assert shape[-6:] == ("ruser", "=", WILDCARD, "rhost", "=", WILDCARD)
    assert statement_shape(tokenize("limit="))[0] == ("limit", "=", WILDCARD)
    lines = [
        f"authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={host}"
        for host in ("gateway", "10.0.0.7", "relay.example.net", "db-3.internal", "bastion")
    ] + [f"authentication failure; logname=ops uid=0 euid=0 tty=ssh ruser=ops rhost={host}" for host in ("gateway", "10.0.0.9")]
    labels, templates = cluster_lines(lines)
    assert len(set(labels)) == 1, templates


def test_a_boolean_printed_into_a_message_is_a_value_but_other_words_still_split():
    lines = [f"Feature flag new-checkout enabled for tenant: {flag}" for flag in ("True", "False", "true", "false")]
    lines += ["VM Paused on host", "VM Resumed on host"]
    labels, _ = cluster_lines(lines)
    assert len(set(labels[:4])) == 1
    assert labels[4] != labels[5]


def test_an_empty_value_at_the_end_and_a_template_over_empty_values_keep_their_wildcards():
    # two empty values end the line: the last key is still a key, not the first one's value
    assert statement_shape(tokenize("auth failure ruser= rhost="))[0] == statement_shape(tokenize("auth failure ruser= rhost=gw"))[0]
    # the most frequent message has the empty value: the template still marks a value there
    labels, templates = cluster_lines(["login user= host=alpha"] * 3 + [f"login user={u} host=alpha" for u in ("bob", "carol", "dave")])
    assert len(set(labels)) == 1 and templates[labels[0]] == "login user=<*> host=alpha"


def test_one_word_alone_in_parentheses_is_a_name_and_the_parentheses_stay_in_the_template():
    # the OOM killer names the process it killed: one statement whatever the process
    lines = [
        f"Out of memory: Killed process {pid} ({name}) total-vm:{vm}kB"
        for pid, name, vm in ((4242, "java", 81234), (977, "postgres", 5120), (31337, "nginx", 20480), (5, "python3", 640))
    ]
    labels, templates = cluster_lines(lines)
    assert len(set(labels)) == 1
    assert templates[labels[0]] == "Out of memory: Killed process <NUM> (<*>) total-vm:<NUM>kB"
    # words outside parentheses still split statements, and a bracket glued to a word is left as it is
    assert statement_shape(tokenize("link (primary) up")) == (("link", WILDCARD, "up"), ((0, 1), (2, 3), (4, 5)))
    assert statement_shape(tokenize("WWEN[enable]"))[0] == ("WWEN", "[", "enable", "]")
    labels, _ = cluster_lines(["VM Paused (admin)", "VM Resumed (admin)", "VM Paused (ops)"])
    assert labels[0] == labels[2] != labels[1]


def test_host_names_and_file_names_are_values_but_other_dotted_names_are_words():
    # which program reached which host is a value: a proxy client's lines are one statement
    lines = [
        f"{program} - {host}:443 close, {sent} bytes sent, {received} bytes received, lifetime 00:{seconds:02d}"
        for program, host, sent, received, seconds in (
            ("chrome.exe", "www.google.com", 1190, 1671, 2),
            ("Dropbox.exe", "client.dropbox.com", 850, 4096, 31),
            ("svchost.exe", "update.example.co.uk", 403, 12, 5),
            ("firefox.exe", "10.2.3.4", 66, 9000, 59),
        )
    ]
    labels, templates = cluster_lines(lines)
    assert len(set(labels)) == 1
    assert templates[labels[0]] == "<*> - <*> close, <NUM> bytes sent, <NUM> bytes received, lifetime <NUM>:<NUM>"
    assert all(is_variable(t) for t in ("mail.example.org", "proxy.cs.univ.edu.hk", "libssl.so", "app.log"))
    # a dotted name that is neither names the statement's own method or setting
    assert not any(is_variable(t) for t in ("NameSystem.delete", "mapred.task.id", "com.apple.xpc.launchd", "example.internals"))
    # nor are names of code: a package, a framework, a method
    assert not any(is_variable(t) for t in ("java.io", "org.apache.hadoop.io", "ASP.NET", "Socket.IO", "logger.info", "mutex.lock"))
    labels, _ = cluster_lines(
        [f"BLOCK* NameSystem.{method}: blk_{block} is added" for method in ("addStoredBlock", "delete") for block in (11, 22, 33)]
    )
    assert labels[0] == labels[2] != labels[3] == labels[5]


_PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar"]
_PLACES = ["archive", "billing", "reports", "uploads", "backups", "exports", "invoices", "ledger", "media", "staging", "vault", "scratch"]


def test_a_name_opening_a_message_is_a_value_even_when_other_statements_print_it_too():
    # the names are shared words (another statement prints them), so the first blocking word is the name itself:
    # blocked again past it, the name's position is seen to vary
    opened = [f"{person} opened a support ticket from the help page" for person in _PEOPLE]
    closed = [f"ticket closed by {person}" for person in _PEOPLE]
    labels, templates = cluster_lines(opened + closed)
    assert len(set(labels[:12])) == 1 and len(set(labels[12:])) == 1 and labels[0] != labels[12]
    assert templates[labels[0]] == "<*> opened a support ticket from the help page"
    # blocked again by "opened", another statement shares the block and varies where this one holds "support":
    # what counts is what varies among the statement's own lines
    about = [f"{person} opened a support ticket about {place} from the portal" for person, place in zip(_PEOPLE, _PLACES)]
    other = [
        f"{person} opened the {place} ticket for {q} from the portal"
        for person, place, q in zip(_PEOPLE, _PLACES[4:] + _PLACES[:4], _PEOPLE[5:] + _PEOPLE[:5])
    ]
    labels, templates = cluster_lines(about + other)
    assert len(set(labels[:12])) == 1 and not set(labels[:12]) & set(labels[12:])


def test_a_position_free_in_a_mixed_block_keeps_the_words_of_each_statement():
    # three statements of one length open with `user`: positions 1, 2, 3 and 6 each vary across them, which would
    # free more words than each keeps; a word seen in many shapes at such a position is a word of its statement
    denied = [f"user {p} denied read access on {b}" for p, b in zip(_PEOPLE, _PLACES)]
    closed = [f"user session for {p} closed by {q}" for p, q in zip(_PEOPLE, _PEOPLE[3:] + _PEOPLE[:3])]
    quota = [f"user quota {b} exceeded for tenant {p}" for p, b in zip(_PEOPLE, _PLACES[5:] + _PLACES[:5])]
    labels, templates = cluster_lines(denied + closed + quota)
    assert [len(set(labels[i : i + 12])) for i in (0, 12, 24)] == [1, 1, 1]
    assert len({labels[0], labels[12], labels[24]}) == 3
    assert templates[labels[0]] == "user <*> denied read access on <*>"


def test_statements_pooled_by_a_common_word_keep_the_words_that_tell_them_apart():
    # blocked again past "Transitioning", these lines meet many "<verb> to <x>" warnings of the same length: the
    # position of "active" varies across that pool, yet it takes two values among the transitions themselves
    lines = ["Transitioning to active state", "Transitioning to standby state"] * 3
    lines += [f"Failed to {verb} /data/{n}/edits" for verb in ("open", "write", "flush", "sync", "close") for n in (1, 2)]
    lines += [f"Unable to {verb} nn{n}.corp.internal" for verb in ("reach", "resolve", "contact", "ping") for n in (1, 2)]
    labels, _ = cluster_lines(lines)
    assert labels[0] == labels[2] != labels[1] == labels[3]
    # the word after the first can be a value too ("api"): it never frees the event that follows it
    projects = ["api", "web", "billing", "search", "auth", "mailer", "gateway", "ledger", "reports", "scheduler"]
    events = ["started", "succeeded", "failed", "cancelled", "timedout", "skipped", "requeued", "aborted", "paused"]
    labels, templates = cluster_lines([f"build {project} {event}" for project in projects for event in events])
    assert len({(templates[label]) for label in labels[:9]}) == 9
    # the opening varies and so does a word with two values: the word still tells two statements apart
    themes = ["dark", "light", "solarized", "nord", "dracula", "monokai", "gruvbox", "paper", "ocean", "forest", "sunset", "contrast"]
    modes = [f"{person} switched to {mode} mode" for mode in ("active", "standby") for person in _PEOPLE]
    labels, _ = cluster_lines(modes + [f"{person} switched to {theme} theme" for person, theme in zip(_PEOPLE, themes)])
    assert not set(labels[:12]) & set(labels[12:24])


def test_a_word_few_shapes_hold_in_a_mixed_block_still_tells_statements_apart():
    # the block of test_a_position_free_in_a_mixed_block_... with two rare statements: an admin's grant and
    # revocation are too rare for their word to be held, and freeing it would make them one
    denied = [f"user {p} denied read access on {b}" for p, b in zip(_PEOPLE, _PLACES)]
    closed = [f"user session for {p} closed by {q}" for p, q in zip(_PEOPLE, _PEOPLE[3:] + _PEOPLE[:3])]
    quota = [f"user quota {b} exceeded for tenant {p}" for p, b in zip(_PEOPLE, _PLACES[5:] + _PLACES[:5])]
    granted = ["user peggy granted read access on vault", "user trent granted read access on media"]
    revoked = ["user victor revoked read access on ledger", "user walter revoked read access on archive"]
    labels, _ = cluster_lines(denied + closed + quota + granted + revoked)
    assert len(set(labels[:12])) == 1
    assert not set(labels[36:38]) & set(labels[38:40])


def test_a_common_word_of_statements_does_not_begin_a_value():
    # "parse" and "remove" each follow three different words, but each time "unable to parse ..." or "unable to
    # remove ..." is printed they follow "to" again: words of statements, not free text, so the rare "remove"
    # statement is not read as the "parse" one with another value in its place
    names = ["ledger", "invoice", "refund", "payout", "tenant", "webhook", "session", "catalog", "voucher", "profile"]
    names += ["account", "order", "basket", "coupon", "receipt", "shipment", "warehouse", "supplier", "contract", "budget"]
    lines = [f"unable to parse {name} payload" for name in names] + [f"unable to remove {name} lock" for name in names]
    lines += ["cannot parse header", "will parse body", "cannot remove marker", "will remove stale marker"]
    # one message five times: no value varied beside "parse", so nothing else tells it from a value (see
    # test_a_plain_word_every_message_of_a_busy_pattern_holds_is_not_a_value_of_a_rarer_template)
    lines += ["Failed to parse json config job-17 at startup"] * 5 + ["Failed to remove config job-4 at startup"]
    labels, _ = cluster_lines(lines)
    assert labels[-1] != labels[-2]
    # counted by how many words they follow alone, both would begin values, and the two statements join
    labels, _ = cluster_lines(lines, clusterer=PatternClusterer(min_context_share=0.0))
    assert labels[-1] == labels[-2]


def test_a_value_of_other_length_after_two_words_meets_its_statement():
    # the error texts are values (each follows many words, a different one each time); "Unclosed socket <*>"
    # and "Unclosed socket connection reset by peer" share only the two words before the value
    errors = ["connection reset by peer", "broken pipe on write", "handshake aborted by client"]
    elsewhere = [
        f"{what}: {error}" for what in ("Cache refill aborted", "Ledger sync stopped", "Webhook delivery failed") for error in errors
    ]
    single = ["refused", "timeout", "closed", "reset", "aborted", "dropped", "expired", "stalled", "rejected", "killed"]
    lines = [f"Unclosed socket {word}" for word in single] + ["Unclosed socket connection reset by peer"]
    labels, templates = cluster_lines(lines + elsewhere)
    assert len(set(labels[: len(single) + 1])) == 1
    assert templates[labels[0]].startswith("Unclosed socket")


def test_a_busy_message_of_many_words_is_not_a_value_of_a_busy_pattern():
    # "the" follows many words here, so it can open a value; but nine words are a message, not a value
    elsewhere = ["opened the file", "closed the socket", "reached the limit", "read the header", "skipped the row"]
    elsewhere += ["Payment for the order failed", "Timeout waiting for the lock"]
    hosts = [f"Connection to 10.0.{i}.{j} closed" for i in range(3) for j in range(5)]
    long = ["Connection to the primary replica of the billing database in region west closed"] * 20
    short = ["Connection to the primary replica closed"] * 20
    labels, _ = cluster_lines(elsewhere + hosts + long)
    assert labels[len(elsewhere)] != labels[-1]
    labels, _ = cluster_lines(elsewhere + hosts + short)
    assert labels[len(elsewhere)] == labels[-1]  # four words in place of the address: a value


def test_a_plain_word_every_message_of_a_busy_pattern_holds_is_not_a_value_of_a_rarer_template():
    # "read" and "import" follow many different words here, so either could open a value; but six messages that
    # all say "read" where their path varies show it is a word of their statement
    verbs = ["read", "import", "write", "parse", "load"]
    elsewhere = [f"{who} could not {verb} the ledger" for who in ("worker", "scheduler", "exporter") for verb in verbs]
    elsewhere += [f"Retry {verb} of batch {n}" for n, verb in enumerate(verbs)]
    busy = [f"Failed to read /srv/app/conf/service-{n}.yaml" for n in range(6)]
    rare = ["Failed to import tax /srv/app/rules/vat.json"]
    labels, templates = cluster_lines(busy + rare + elsewhere)
    assert len(set(labels[:6])) == 1 and labels[6] != labels[0]
    assert templates[labels[0]] == "Failed to read <PATH>"
    # two rare messages of another length join first, and their widened template is met again in the second pass,
    # where the busy pattern is the one compared with it
    rare += ["Failed to import tax rules from /srv/app/rules/vat.json"]
    labels, _ = cluster_lines(busy + rare + elsewhere)
    assert len(set(labels[:6])) == 1 and labels[6] == labels[7] != labels[0]
    # seen twice, "read" is no such evidence: the rarer message still reads as the statement with other values
    labels, _ = cluster_lines(busy[:2] + rare[:1] + elsewhere)
    assert labels[2] == labels[0]
    read, other = ("Failed", "to", "read", "<*>"), ("Failed", "to", "import", "tax", "<*>")
    assert same_statement(read, other, lambda token: True)
    assert not same_statement(read, other, lambda token: True, a_is_busy=True)
    assert not same_statement(other, read, lambda token: True, b_is_busy=True)
    # a wildcard in the busy pattern's gap still holds any text
    assert same_statement(("Failed", "to", "<*>", "config"), ("Failed", "to", "read", "tax", "config"), lambda token: True, a_is_busy=True)
    # a busy pattern without a value shows no value varying beside its words: a failure repeated with the same
    # error text is still the statement whose error text can change
    timeout = ("Connection", "to", "payments", "failed", ":", "timeout")
    reset = ("Connection", "to", "payments", "failed", ":", "connection", "reset", "by", "peer")
    assert same_statement(timeout, reset, lambda token: True, a_is_busy=True)
    errors = ["timeout", "connection reset by peer", "deadline exceeded", "broken pipe"]
    elsewhere = [f"{what}: {e}" for what in ("Cache refill aborted", "Ledger sync stopped", "Queue drain halted") for e in errors]
    lines = ["Connection to payments failed: timeout"] * 50 + ["Connection to payments failed: connection reset by peer"]
    labels, _ = cluster_lines(lines + elsewhere)
    assert labels[0] == labels[50]
    # nor does one holding a value that never changed: fifty times the same address is one text, not fifty
    lines = [line.replace("payments", "payments at 10.0.0.5") for line in lines]
    labels, _ = cluster_lines(lines + elsewhere)
    assert labels[0] == labels[50]


def test_a_busy_pattern_counts_the_texts_of_the_patterns_that_joined_it():
    # two paths and a longer variant: three different texts with "read" in one pattern, so "write tax" is another
    # statement; counted apart (two, then one), neither would be evidence
    verbs = ["read", "import", "write", "parse", "load"]
    elsewhere = [f"{who} could not {verb} the ledger" for who in ("worker", "scheduler", "exporter") for verb in verbs]
    elsewhere += [f"Retry {verb} of batch {n}" for n, verb in enumerate(verbs)]
    busy = [f"Failed to read /srv/app/conf/service-{n}.yaml" for n in range(2)] + ["Failed to read cached copy of /srv/app/conf/x.yaml"]
    labels, _ = cluster_lines(busy + ["Failed to write tax /srv/app/rules/vat.json"] + elsewhere)
    assert labels[:4] == [0, 0, 0, 1]


def test_a_busy_variant_that_sorts_first_still_meets_the_statement_widened_after_it():
    # "connection" always follows "the" elsewhere, so it does not open a value: "failed: connection reset by
    # peer" only joins the statement once another cluster's template has widened to "failed: <*>". It is
    # compared first (same support, earlier text), before that template widened, and must meet it all the same
    values = ["refused", "deadline", "broken", "permission", "no"]
    elsewhere = [f"{what} {word}" for word in values for what in ("Sync step stopped with", "worker said", "retrying after")]
    elsewhere += [f"closed the connection to shard {name}" for name in ("alpha", "beta", "gamma", "delta")]
    statement = "Export of the nightly report failed:"
    messages = [f"{statement} connection reset by peer", f"{statement} refused"]
    messages += [f"{statement} {reason}" for reason in ("deadline exceeded", "broken pipe", "permission denied", "no route to host")]
    counts = [2, 2, 1, 1, 1, 1] + [1] * len(elsewhere)
    clusterer = PatternClusterer().fit(messages + elsewhere, counts)
    assert len(set(clusterer.labels_[:6].tolist())) == 1


def test_a_closing_value_with_punctuation_or_a_port_is_still_one_value():
    # the host printed alone or with its port, the name quoted in two ways with a full stop after it
    assert same_statement(("Not", "handling", "<*>"), ("Not", "handling", "<*>", ":", "<*>"))
    assert same_statement(("Sent", "the", "digest", "to", "<*>"), ("Sent", "the", "digest", "to", "<*>", "."))
    # a value after the last word, or a full stop alone, is not the same statement
    assert not same_statement(("Disk", "is", "full"), ("Disk", "is", "full", ":", "<*>"))
    assert not same_statement(("Disk", "is", "full", "again"), ("Disk", "is", "full", "again", "."))
    messages = ["Sent the weekly digest to <STR>.", 'Sent the weekly digest to "<NUM> <NUM>".', "Sent the weekly digest to <STR>"]
    clusterer = PatternClusterer().fit(messages, [20, 5, 5])  # each seen often enough to stand on its own
    assert len(set(clusterer.labels_.tolist())) == 1


def test_two_busy_patterns_join_when_one_holds_a_value_in_brackets_where_the_other_holds_it_bare():
    shapes = [("Installed", "version", "(", "<*>", ")", "is", "the", "newest"), ("Installed", "version", "<*>", "is", "the", "newest")]
    joined = PatternClusterer()._join_value_lengths(shapes, np.array([0, 1]), np.array([20.0, 5.0]))
    assert joined[0] == joined[1]
    # a word in the brackets is not a value of the other: "(ignored)" is a word of its statement
    shapes[0] = ("Installed", "version", "(", "ignored", ")", "is", "the", "newest")
    joined = PatternClusterer()._join_value_lengths(shapes, np.array([0, 1]), np.array([20.0, 5.0]))
    assert joined[0] != joined[1]


def test_only_values_and_marks_after_the_last_word_read_as_one_value():
    # a word in another script, a status sign or an arrow at the end says something of its own
    for pair in (
        ["Backup job 1 завершён", "Backup job 2 провален"],
        ["Deploy step 1 ✅", "Deploy step 2 ❌"],
        ["Replica sync 1 -> 2", "Replica sync 3 <- 4"],
        ["Balance check 1 == 1", "Balance check 2 != 3"],
    ):
        labels, _ = cluster_lines(pair)
        assert labels[0] != labels[1], pair
    assert tail_as_one_value(("Not", "handling", "<*>", ":", "<*>")) == ("Not", "handling", "<*>")
    assert tail_as_one_value(("Deploy", "step", "<*>", "✅")) == ("Deploy", "step", "<*>", "✅")


def test_words_that_many_statements_print_anchor_less_than_a_statements_own():
    phrase = ("server", "closed", "the", "connection", "unexpectedly")
    shapes = [("Worker", "channel", "disabled", ":", *phrase), ("Rev", "options", "<*>", ",", "branch_name", *phrase)]
    # an error message that many statements end with, and openings that follow many words, as values do
    shapes += [(f"Task{n}", "ended", ":", *phrase) for n in range(10)]
    shapes += [(word, opening) for word in ("saw", "lost", "new") for opening in ("Worker", "Rev")]
    joined = PatternClusterer()._join_value_lengths(shapes, np.arange(len(shapes)), np.ones(len(shapes)))
    # five words in common, three of each statement's own: by count they would be one statement
    assert joined[0] != joined[1]
    assert same_statement(shapes[0], shapes[1], is_value={"Worker", "Rev", WILDCARD}.__contains__)


def test_templates_that_open_with_their_own_words_and_share_a_common_error_are_two_statements():
    error = ("server", "closed", "the", "connection", "unexpectedly")
    missing = ("no", "such", "file", "or", "directory")
    shapes = [
        ("Skipping", "existing", "file", *error),
        ("Found", "executable", *error),
        ("timeout", "spawning", "launcher", "via", "<*>", "request."),
        (*missing, "spawning", "launcher", "via", "<*>", "request."),
    ]
    # many statements end with the error texts, after many different words, as values are printed; the openings
    # follow other words too (a worker's name before them), so each reads as a value that may open free text
    shapes += [(f"Job{n}", *error) for n in range(6)]
    shapes += [(f"Open{n}", *missing) for n in range(6)]
    shapes += [(f"Call{n}", "timeout") for n in range(6)]
    shapes += [(f"step{n}", word) for n in range(4) for word in ("Skipping", "Found")]
    joined = PatternClusterer()._join_value_lengths(shapes, np.arange(len(shapes)), np.ones(len(shapes)))
    # five words in common, more than half of each template's words even by weight: the error text is no anchor
    assert joined[0] != joined[1]
    # an error text in place of another one that opens the statement: its words are commoner than the statement's
    assert joined[2] == joined[3]


def test_two_names_side_by_side_opening_a_statement_of_common_words_are_its_values():
    rest = ("timeout", "stalled", "request", "dropped")
    shapes = [("aaywowje", "ggadcy", *rest), ("beoomszq", "nhhm", *rest)]
    # every word of the statement is common (other statements print them), each name is rare, and the names follow
    # many different words elsewhere, as values do
    shapes += [(f"Job{n}", word, f"end{n}") for n in range(4) for word in rest]
    shapes += [(f"step{n}", name) for n in range(4) for name in ("aaywowje", "ggadcy", "beoomszq", "nhhm")]
    joined = PatternClusterer()._join_value_lengths(shapes, np.arange(len(shapes)), np.ones(len(shapes)))
    # openings of as many tokens are fields in the same places of one shape: rare words there weigh nothing
    assert joined[0] == joined[1]


def test_in_the_second_pass_a_widened_cluster_meets_the_other_widened_templates():
    # each of the two pairs widens its own template in the first pass; the widened ones are one statement
    shapes = [
        ("Sync", "of", "<*>", "for", "to", "for", "failed"),
        ("Sync", "of", "<*>", "user", "user", "failed"),
        ("Sync", "of", "user", "for", "shard"),
        ("Sync", "of", "user", "<*>"),
    ]
    # the other statements of the input print "for", "to" and "user" too, not "Sync of": the words the pairs share
    # are the rarer ones (see same_statement's weights)
    shapes += [(f"Cache{n}", "miss", "for", "user", "to", f"region{n}") for n in range(8)]
    # neither pair is seen min_support times in all: a busy one would keep its plain words (see same_statement)
    joined = PatternClusterer()._join_value_lengths(shapes, np.arange(12), np.array([1.0, 0.5, 2.0, 0.5] + [1.0] * 8))
    assert len(set(joined.tolist()[:4])) == 1


def test_fit_pauses_the_garbage_collector_and_leaves_it_as_it_was():
    seen = []

    class Watching(PatternClusterer):
        def _fit(self, messages, counts, variants):
            seen.append(gc.isenabled())
            return super()._fit(messages, counts, variants)

    assert gc.isenabled()
    Watching().fit(["disk full on node-1", "disk full on node-2"])
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        Watching().fit(["disk full on node-3"])
        assert not gc.isenabled()  # a caller that had paused it finds it paused still
    finally:
        gc.enable()


def test_overlapping_pauses_hold_the_collector_off_until_the_last_one_ends():
    first, second = collection_paused(), collection_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first pause ends while the second still runs
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_value_after_equals_runs_on_to_a_comma_before_the_next_key():
    def shape_of(message):
        return statement_shape(*tokens_and_commas(message))[0]

    message = "Pickling new array (shape=missing required field, dtype=float64) at 0x7f3a"
    shape, spans = statement_shape(*tokens_and_commas(message))
    assert tokens_and_commas(message)[0] == tokenize(message)
    assert shape == ("Pickling", "new", "array", "(", "shape", "=", "<*>", "dtype", "=", "<*>", ")", "at", "<*>")
    assert spans[6] == (6, 9)  # missing required field
    assert shape_of("Pickling new array (shape=timeout, dtype=int8) at 0x7f3a") == shape
    # without a comma the words before the next key are the statement's: two statements stay two
    assert shape_of("user=bob logged in from host=h1") == ("user", "=", "<*>", "logged", "in", "from", "host", "=", "<*>")
    labels, _ = cluster_lines([f"row id={n} {verb} table=t{n}" for n in range(6) for verb in ("deleted from", "inserted into")])
    assert labels[0] == labels[2] != labels[1] == labels[3]
    # nor across a mark, nor over more than five words, nor without a message's commas
    assert shape_of("Disk prune (ns=jobs, clean=yes) removed dir") == (
        "Disk", "prune", "(", "ns", "=", "<*>", "clean", "=", "<*>", ")", "removed", "dir",
    )  # fmt: skip
    assert shape_of("Set x=a (b), y=2")[:4] == ("Set", "x", "=", "<*>") and len(shape_of("Set x=a (b), y=2")) > 7
    assert shape_of("Got x=one two three four five six, y=2")[3:5] == ("<*>", "two")
    assert statement_shape(tokenize(message))[0][6:8] == ("<*>", "required")


def test_free_text_one_template_has_more_next_to_a_shared_value_is_that_values_own():
    free_text = {"<*>", "connection", "refused", "not", "found", "JSON", "payload"}.__contains__
    retry = ("Exception", "<*>", "while", "reading", "result", "retry")
    # words before the value that open free text: "connection refused/2024-05-17" is one value
    assert same_statement((*retry, "<*>", "in", "<*>"), (*retry, "connection", "<*>", "in", "sessions"), free_text)
    # words after it that read as free text go on with it: "invalid JSON payload"
    download = ("Attempting", "to", "resume", "incomplete", "download", "(")
    assert same_statement(
        (*download, "<*>", "attempt", "<*>", ")"), (*download, "<*>", "JSON", "payload", "attempt", "<*>", ")"), free_text
    )
    # words of the statement do not: "for <*> from" / "for invalid user <*> from" stay apart (see above), and so
    # do these once the words are not free text
    assert not same_statement((*retry, "<*>", "in", "<*>"), (*retry, "connection", "<*>", "in", "sessions"))
    assert not same_statement(
        (*download, "<*>", "attempt", "<*>", ")"), (*download, "<*>", "JSON", "body", "attempt", "<*>", ")"), free_text
    )


def test_a_template_meets_the_statement_by_its_rarest_shared_words_when_its_ends_are_values():
    busy = ("Exception", "<*>", "while", "reading", "result", "retry", "<*>", "in", "<*>")
    # opens, closes and has its longest run of words broken by other values than the busy template's
    rare = ("Exception", "not", "found", "while", "reading", "result", "retry", "<*>", "in", "rediss")
    # elsewhere "reading", "not" and "step" follow many different words: they read as free text
    filler = [(verb, word, "done") for verb in ("Stopped", "Resumed", "Paused", "Queued") for word in ("reading", "not", "step")]
    shapes = [busy, rare, *filler]
    weights = np.array([20.0, 1.0] + [1.0] * len(filler))
    joined = PatternClusterer()._join_value_lengths(shapes, np.arange(len(shapes)), weights)
    assert joined[0] == joined[1]


def test_only_a_rare_template_looks_for_candidates_by_its_rarest_word():
    # a busy one meets busy candidates by its ends and its core; the rarest word is how a rare one finds its statement
    templates = {0: ("Sync", "of", "<*>", "failed"), 1: ("Sync", "of", "user", "failed")}
    by_key = {("rare", "Sync"): [0]}
    for support, expected in ((1.0, 0), (5.0, None)):
        found = PatternClusterer()._first_match(
            1, templates[1], [("rare", "Sync")], by_key, templates, {0: 9.0, 1: support}, {0: 9.0, 1: support},
            lambda *_: True, lambda *_: True, set(),
        )  # fmt: skip
        assert found == expected


def _statements_of_one_length(count: int = 400) -> list[str]:
    """Messages of many statements that open alike and have one length, so that they make one large block."""
    verbs = "opened closed reset dropped refused stalled expired".split()
    objects = "socket session cache replica shard queue".split()
    return [
        f"worker {verbs[i % len(verbs)]} {objects[(i // 7) % len(objects)]} after {i % 13} tries on node-{i % 37}.example.org"
        for i in range(count)
    ]


def test_a_large_block_is_compared_whole_so_a_one_letter_value_keeps_its_statement_together():
    # 300 shapes of one length with one first word: DBSCAN compares them all, as a part of the block would not see
    # across "A" / "B" (a one-letter value, neither a statement word nor a name the block's rules would join)
    names = [f"{a}{b}" for a in "bcdfghjklmnpqrstvwxz" for b in ("ora", "ela", "ina", "uno", "ato", "ike", "ava", "ent")][:150]
    messages = [
        f"worker {letter} finished the nightly compaction job for tenant {name} in region west" for name in names for letter in "AB"
    ]
    clusterer = PatternClusterer().fit(messages)
    assert clusterer.n_clusters_ == 1


def test_a_fit_leaves_no_reference_cycles_behind_for_the_paused_collector():
    # the collector is off while clustering: whatever a fit leaves in a cycle stays in memory until it runs again.
    # In a process of its own, where no thread of another test (a server's, an event loop's) makes garbage meanwhile
    script = f"""
import gc
from log_gardener.tasks.clustering import PatternClusterer, collection_paused
messages = {_statements_of_one_length(2_000)!r}
gc.collect()
with collection_paused():
    PatternClusterer(max_block=50).fit(messages)
    print(gc.collect())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
