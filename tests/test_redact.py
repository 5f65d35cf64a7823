"""Secrets, personal data, mentions and issue references never leave the machine: a corpus of real shapes."""

import json
import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from log_gardener.flows.cli import app
from log_gardener.tasks import rules as rules_module
from log_gardener.tasks.masking import mask
from log_gardener.tasks.redact import redact, redact_template

# name: (the secret, a log text that carries it)
SECRETS = {
    "aws key id": ("AKIAIOSFODNN7EXAMPLE", "key AKIAIOSFODNN7EXAMPLE used"),
    "aws session key id": ("ASIAY34FZKBOKMUTVV7A", "temporary ASIAY34FZKBOKMUTVV7A"),
    "aws secret": ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    "gcp private key": (
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n'
        '-----END PRIVATE KEY-----\\n", "client_email": "x@p.iam.gserviceaccount.com"}',
    ),
    "gcp private key id": ("3f2a9c1b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a", '"private_key_id": "3f2a9c1b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"'),
    **{
        f"github {prefix}": (f"{prefix}_16C7e42F292c6912E7710c838347Ae178B4a", f"token {prefix}_16C7e42F292c6912E7710c838347Ae178B4a")
        for prefix in ("ghp", "gho", "ghu", "ghs", "ghr")
    },
    "github pat": (
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
    ),
    "slack bot": (
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    "slack app": ("xapp-1-A0123456789-1234567890123-abcdef0123456789", "xapp-1-A0123456789-1234567890123-abcdef0123456789"),
    "slack webhook": (
        "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "posting to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX failed",
    ),
    "stripe live": ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    "stripe restricted": ("rk_live_4eC39HqLyjWDarjtT1zdp7dc", "rk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    "stripe webhook": ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    "jwt": (
        "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        "jwt=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    "bearer": ("mF_9.B5f-4.1JqM", "Authorization: Bearer mF_9.B5f-4.1JqM"),
    "basic": ("QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
    "url password": ("hunter2pass", "connect postgres://app:hunter2pass@db.internal:5432/app"),
    "kv password": ("Tr0ub4dor", "login with password=Tr0ub4dor&user=x"),
    "json password": ("c0rrect-horse", '{"user": "x", "password": "c0rrect-horse"}'),
    "json secret": ("s3cr3t-value", '{"client_secret": "s3cr3t-value"}'),
    "cookie": ("abc123sessionvalue", "Cookie: session=abc123sessionvalue; theme=dark"),
    "set-cookie": ("deadbeefsid", "Set-Cookie: sid=deadbeefsid; Path=/; HttpOnly"),
    "query token": ("tok3nvalue99", "GET https://api.example.com/v1/items?access_token=tok3nvalue99&page=2"),
    "api key header": ("k3y-abcdef123456", "x-api-key: k3y-abcdef123456"),
    "google api key": ("AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", "key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"),
    "email": ("jane.doe@example.com", "mail to jane.doe@example.com bounced"),
    "quoted cookie key": ("s3cr3tcookie", '{"Cookie": "_ga=GA1; auth_token_v2=s3cr3tcookie"}'),
    "password with spaces": ("p@ss w0rd with spaces", '"password": "p@ss w0rd with spaces"'),
    "secret with suffix": ("django-insecure-abc", "SECRET_KEY='django-insecure-abc'"),
    "openai key": (
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
        "OpenAI 401 for key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
    ),
    "sendgrid key": (
        "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",
        "SendGrid rejected 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",
    ),
    "azure account key": (
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
        "DefaultEndpointsProtocol=https;AccountName=acct;"
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net",
    ),
    "shared access signature": (
        "Jq4pDP2uR8pH5tRr0Ec",
        "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=Jq4pDP2uR8pH5tRr0Ec&se=2025",
    ),
    "secret named in a sentence": (
        "5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99",
        "HMAC secret is 5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99",
    ),
}


def _pieces(secret: str) -> list[str]:
    """What masking may leave of a secret in a template: its runs of six letters and digits or more, and the runs of
    five or more between the placeholders of the secret masked (words of the corpus's other text aside)."""
    words = " ".join([*SECRETS, *(text.replace(s, " ") for s, text in SECRETS.values())])
    masked = re.sub(r"<[A-Z*]+>", " ", mask(secret))
    found = re.findall(r"[A-Za-z0-9]{6,}", secret) + re.findall(r"[A-Za-z0-9]{5,}", masked)
    return [piece for piece in dict.fromkeys(found) if piece not in words]


@pytest.mark.parametrize("name", SECRETS)
def test_each_secret_of_the_corpus_is_redacted(name):
    secret, text = SECRETS[name]
    out = redact(text)
    assert secret not in out and "[REDACTED" in out


@pytest.mark.parametrize("name", SECRETS)
def test_each_secret_is_redacted_from_a_masked_template_too(name):
    # masking cuts a secret into pieces between placeholders; none of the pieces may survive
    secret, text = SECRETS[name]
    out = redact_template(mask(text))
    assert not [piece for piece in _pieces(secret) if piece in out], out


def test_private_keys_mentions_and_issue_refs_are_neutralised():
    out = redact("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- ping @octocat see #123")
    assert "MIIE" not in out
    assert "@octocat" not in out and "#123" not in out
    assert "octocat" in out and "123" in out  # still readable


@pytest.mark.parametrize(
    "text",
    [
        "session expired for user 42 after the token bucket refilled",
        "Session: closed by peer",
        "token: expired",
        "Authorization: missing header",
        "the token is expired",
        "worker 12 exited (sig=SIGKILL)",
        "deploy sk-worker-deployment-canary-blue failed",
        "region ASIAPACIFICSOUTHEAST1A",
    ],
)
def test_plain_words_stay_readable(text):
    assert redact(text) == text == redact_template(text)


@pytest.mark.parametrize(
    "template",
    [
        "token: <NUM>",
        "Limit slot released (token=<*>)",
        "session_id=<UUID> expired",
        "the token is <NUM>",
        "Failed to update FCM Access Token error=<*>.",
        "Bearer <*>",
        "Session <NUM> of user <*> opened",
        "retry <NUM> of <NUM> for key=<*> (#<NUM>)",
    ],
)
def test_a_placeholder_standing_alone_hides_no_secret(template):
    # only a placeholder glued to a secret's characters may be a piece of one; a whole value is left as it is
    assert redact_template(template) == template


def test_a_template_is_redacted_as_raw_text_is_and_left_clean():
    # a secret beside a tag of the log's own text is found by its edges, and a rule never leaves part of a stand-in
    assert redact_template("<TD>AKIAIOSFODNN7EXAMPLE</TD>") == redact("<TD>AKIAIOSFODNN7EXAMPLE</TD>") == "<TD>[REDACTED AWS KEY]</TD>"
    assert redact_template("Contact: jane@example.org<BR>Thanks") == "Contact: [REDACTED EMAIL]Thanks"


def _entries():
    base = {
        "timestamp": "2025-09-15T00:10:00Z",
        "severity": "ERROR",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "svc"}},
    }
    for i, (name, (_, text)) in enumerate(SECRETS.items()):
        traceback = f'Traceback (most recent call last):\n  File "app.py", line 3, in handler\nValueError: {text}'
        yield base | {"insertId": f"m{i}", "textPayload": f"request failed: {text}", "labels": {"note": text}}
        yield base | {"insertId": f"t{i}", "textPayload": traceback}
        yield base | {
            "insertId": f"h{i}",
            "httpRequest": {
                "requestMethod": "GET",
                "requestUrl": f"https://x.run.app/p?q={text}",
                "status": 500,
                "userAgent": text,
                "referer": text,
            },
        }
        yield base | {"insertId": f"j{i}", "jsonPayload": {"message": f"{name} rejected", "detail": text}}
        # the same message three times: a pattern of its own, whose template holds the masked secret
        for copy in range(3):
            yield base | {"insertId": f"r{i}-{copy}", "textPayload": text}


def test_no_secret_of_the_corpus_reaches_an_issue_a_comment_or_a_worklog(prefect_harness, tmp_path):
    source = tmp_path / "secrets.ndjson"
    source.write_text("\n".join(json.dumps(e) for e in _entries()) + "\n", encoding="utf-8")
    db = tmp_path / "g.duckdb"
    args = ["run", "--source", str(source), "--service", "svc", "--start", "2025-09-15T00:00:00Z", "--end", "2025-09-15T01:00:00Z"]
    # every pattern gets an issue, so every title is checked too
    rules = tmp_path / "rules.toml"
    default = (Path(rules_module.__file__).parent / "default_rules.toml").read_text(encoding="utf-8")
    rules.write_text(re.sub(r"(?m)^max_new_issues = \d+", "max_new_issues = 1000", default), encoding="utf-8")
    args += ["--rules", str(rules)]
    result = CliRunner().invoke(app, [*args, "--warehouse", f"duckdb:///{db}", "--worklogs", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db))
    published = [t + "\n" + b for t, b in con.execute("select title, body from tracker_issues").fetchall()]
    published += [b for (b,) in con.execute("select body from tracker_comments").fetchall()]
    published += [p.read_text(encoding="utf-8") for p in (tmp_path / "w").rglob("*.md")]
    assert len(published) > 5
    text = "\n".join(published)
    leaks = [name for name, (secret, _) in SECRETS.items() if secret in text]
    assert not leaks
    # nor a piece of one that masking cut off in a template, a title or a search link
    pieces = {name: found for name, (secret, _) in SECRETS.items() if (found := [p for p in _pieces(secret) if p in text])}
    assert not pieces
