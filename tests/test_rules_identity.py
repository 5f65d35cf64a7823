import pytest

from log_gardener.tasks.clustering import PatternClusterer
from log_gardener.tasks.identity import identify, new_fingerprint
from log_gardener.tasks.masking import mask
from log_gardener.tasks.rules import load_rules, raise_priority


def test_default_rules_reproduce_the_reference_escalation():
    rules = load_rules()
    assert rules.base_priority("WARNING", 5.1) == "P2"
    assert rules.is_spike(15.3, 5.1)  # x3.0
    assert raise_priority("P2") == "P1"
    assert not rules.is_spike(15.3, 10.2)
    assert not rules.is_spike(0.9, 0.1)  # below the minimum rate
    assert rules.base_priority("WARNING", 0.1) == "P3"
    assert rules.base_priority("CRITICAL", 0.0) == "P0"


def test_bad_rules_file_is_a_clear_error(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[base]]\nseverity = "LOUD"\npriority = "P9"\n')
    with pytest.raises(ValueError, match="invalid"):
        load_rules(path)
    with pytest.raises(ValueError, match="not found"):
        load_rules(tmp_path / "missing.toml")


def _run(messages, known_keys, known_templates):
    masked = [mask(m) for m in messages]
    clusterer = PatternClusterer().fit(masked)
    return masked, identify("svc", masked, [1] * len(masked), clusterer.labels_, clusterer.templates_, known_keys, known_templates)


def test_identity_is_stable_across_windows():
    hour1 = ["Multiple manager instances for user demo-user-001 - potential duplication", "login failed: invalid password for bob"]
    masked1, ids1 = _run(hour1, {}, {})
    assert len(ids1.new_fingerprints) == 2
    # hour 2: a known message, a variant of a known pattern, and a new pattern
    hour2 = [hour1[0], "login failed: invalid password for alice", "login failed: account locked for bob"]
    masked2, ids2 = _run(hour2, ids1.fingerprint_of, ids1.template_of)
    assert ids2.fingerprint_of[masked2[0]] == ids1.fingerprint_of[masked1[0]]
    assert ids2.fingerprint_of[masked2[1]] == ids1.fingerprint_of[masked1[1]]
    assert ids2.fingerprint_of[masked2[2]] not in ids1.template_of
    assert ids2.new_fingerprints == {ids2.fingerprint_of[masked2[2]]}


def test_fingerprint_is_deterministic():
    assert new_fingerprint("svc", "a <*> b") == new_fingerprint("svc", "a <*> b") != new_fingerprint("other", "a <*> b")


def test_known_template_changes_only_when_variants_really_differ():
    hour1 = ["Connection to db-7.internal timed out after 3000ms while reading the replica state"]
    _, ids1 = _run(hour1, {}, {})
    (fp,) = ids1.new_fingerprints
    assert ids1.template_of[fp] == "Connection to db-<NUM>.internal timed out after <NUM>ms while reading the replica state"
    same, ids_same = _run(
        ["Connection to db-9.internal timed out after 12ms while reading the replica state"], ids1.fingerprint_of, ids1.template_of
    )
    assert ids_same.template_of[fp] == ids1.template_of[fp]  # masked the same: nothing changed
    new, ids2 = _run(
        ["Connection to cache.internal timed out after 20ms while reading the replica state"], ids1.fingerprint_of, ids1.template_of
    )
    assert ids2.fingerprint_of[new[0]] == fp  # the variant joins the known pattern
    assert ids2.template_of[fp] == "Connection to <*> timed out after <NUM>ms while reading the replica state"


def test_patterns_keep_their_fingerprints_when_the_grouping_method_changes():
    """Stored keys win over a new method: what it would join stays apart, what it would split stays one."""
    lines = ["Request to payments failed: timeout"] * 3 + ["Request to payments failed: connection reset by peer"]
    masked = [mask(m) for m in lines]
    # an earlier method filed the two error texts as two patterns, and joined the locked account into the login one
    login, locked = mask("login failed: invalid password for user bob"), mask("login failed: account locked for user bob")
    known_keys = {masked[0]: "f-timeout", masked[3]: "f-reset", login: "f-login", locked: "f-login"}
    known_templates = {"f-timeout": masked[0], "f-reset": masked[3], "f-login": "login failed: <*> for user bob"}
    errors = ["connection reset by peer", "TLS handshake error", "timeout"]
    elsewhere = [
        mask(f"{what}: {error}") for what in ("Cache refill aborted", "Ledger sync stopped", "Webhook delivery failed") for error in errors
    ]
    window = masked + [login, locked] + elsewhere + [mask("Request to payments failed: TLS handshake error")]
    counts = [1] * len(window)
    clusterer = PatternClusterer().fit(window, counts)
    assert clusterer.labels_[0] == clusterer.labels_[3]  # the new method joins the error texts ...
    assert clusterer.labels_[4] != clusterer.labels_[5]  # ... and splits the login statements
    ids = identify("svc", window, counts, clusterer.labels_, clusterer.templates_, known_keys, known_templates)
    assert ids.fingerprint_of[masked[0]] == "f-timeout" and ids.fingerprint_of[masked[3]] == "f-reset"
    assert ids.fingerprint_of[login] == ids.fingerprint_of[locked] == "f-login"
    # a message never seen before follows the pattern its cluster mostly belongs to; new fingerprints are for new patterns only
    assert ids.fingerprint_of[window[-1]] in {"f-timeout", "f-reset"}
    assert {ids.fingerprint_of[m] for m in elsewhere} == ids.new_fingerprints


def test_a_pattern_keeps_its_fingerprint_when_the_masking_of_its_values_changes():
    """A release that masks more (a double-quoted value of several words became <STR>) stores other keys for the
    same lines: the pattern the former keys were filed under is found again by its template, not filed anew."""
    lines = [f'Failed to load propagator: "{error}"' for error in ("connection reset by peer", "TLS handshake error", "timed out")]
    former = {line: "f-propagator" for line in lines}  # as the former masking left them: the quoted words as they are
    masked, ids = _run(lines + ["Disk quota exceeded on volume 7"], former, {"f-propagator": 'Failed to load propagator: "<*>"'})
    assert masked[0] == "Failed to load propagator: <STR>" and masked[0] not in former
    assert {ids.fingerprint_of[m] for m in masked[:3]} == {"f-propagator"}
    assert ids.new_fingerprints == {ids.fingerprint_of[masked[3]]}  # only the new statement is new
