from log_gardener.tasks.redact import redact


def test_secrets_are_redacted():
    text = (
        "auth failed: Authorization: Bearer abcdefghijklmnop123 password=hunter2 api_key: 'AKIAABCDEFGHIJKLMNOP' "
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU token ghp_abcdefghijklmnopqrstuvwxyz0123456789 "
        "db postgres://admin:s3cret@db.internal:5432/app mail jane@example.com"
    )
    out = redact(text)
    for secret in (
        "abcdefghijklmnop123",
        "hunter2",
        "AKIAABCDEFGHIJKLMNOP",
        "eyJhbGciOiJIUzI1NiJ9",
        "ghp_abc",
        "s3cret",
        "jane@example.com",
    ):
        assert secret not in out, secret
    assert "[REDACTED" in out


def test_private_keys_mentions_and_issue_refs_are_neutralised():
    out = redact("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- ping @octocat see #123")
    assert "MIIE" not in out
    assert "@octocat" not in out and "#123" not in out
    assert "octocat" in out and "123" in out  # still readable
