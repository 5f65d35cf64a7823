"""Redaction of anything secret or personal before text leaves the machine.

Applied to every sample, template and message that goes into a worklog or an
issue. Also neutralises `@mentions` and `#123` references from log text, so a
log line can never ping a person or link an issue.

A template is masked before it is redacted, and masking cuts a secret into
pieces (`sk_live_4eC39Hq` reads `sk_live_<NUM>eC<NUM>Hq`): each placeholder
reads as a run of letters and digits while the rules run, so the pieces are
recognised, and redacted, as the secret they were.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, flags), replacement)
    for pattern, replacement, flags in (
        (r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", "[REDACTED PRIVATE KEY]", re.S),
        (r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=\-]{8,}", r"\1 [REDACTED]", re.I),
        (r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}", "[REDACTED JWT]", 0),
        (r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})", "[REDACTED GITHUB TOKEN]", 0),
        (r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|AIPA)[0-9A-Z]{16,}\b", "[REDACTED AWS KEY]", 0),
        (r"\bAIza[0-9A-Za-z_\-]{35}\b", "[REDACTED GOOGLE KEY]", 0),
        (r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}", "[REDACTED API KEY]", 0),
        (r"\bx(?:ox[abpors]|app)-[A-Za-z0-9\-]{10,}", "[REDACTED SLACK TOKEN]", 0),
        (r"\bhooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]+", "hooks.slack.com/[REDACTED WEBHOOK]", 0),
        (r"\bwhsec_[A-Za-z0-9]{10,}", "[REDACTED WEBHOOK SECRET]", 0),
        (r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\-]{20,}", "[REDACTED API KEY]", 0),
        (r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}", "[REDACTED API KEY]", 0),
        (r"\bglpat-[A-Za-z0-9_\-]{20,}", "[REDACTED GITLAB TOKEN]", 0),
        # an Azure connection string's key or a shared access signature
        (r"(?i)\b(AccountKey|SharedAccessKey|sig)=[^;&\s\"']+", r"\1=[REDACTED]", 0),
        # cookies: every value of a Cookie or Set-Cookie header, quoted key or not
        (r"(?i)(\b(?:set-)?cookie\\?[\"']?\s*[:=]\s*)([^\r\n]*)", r"\1[REDACTED COOKIE]", 0),
        # a quoted secret runs to its closing quote, spaces included
        (
            r"(?i)((?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|private[_-]?key)[A-Za-z0-9_\-]*\\?[\"']?\s*[:=]\s*(\\?[\"']))"
            r"(.*?)(\2)",
            r"\1[REDACTED]\4",
            0,
        ),
        # key=value and "key": "value" (quotes may come escaped, \", when the text is itself inside a JSON string)
        (
            r"(?i)((?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|client[_-]?secret|private[_-]?key[_-]?id)[A-Za-z0-9_\-]*"
            r"\\?[\"']?\s*[:=]\s*\\?[\"']?)([^\s\"',;&}\\]+)",
            r"\1[REDACTED]",
            0,
        ),
        # tokens and sessions are redacted when the value looks like a credential (a digit, or 16+ characters),
        # so "token: expired" or "Session: closed by peer" stay readable
        (
            r"(?i)((?:token|session|sid|authorization|auth)[A-Za-z0-9_\-]*\\?[\"']?\s*[:=]\s*\\?[\"']?)"
            r"((?=[^\s\"',;&}\\]*\d)[^\s\"',;&}\\]+|[^\s\"',;&}\\]{16,})",
            r"\1[REDACTED]",
            0,
        ),
        # "the secret is ...": the value after a secret's name and "is" or "was", when it looks like a credential
        (
            r"(?i)(\b(?:password|passwd|secret|api[ _-]?key|access[ _-]?key|token)s?\s+(?:is|was)\s+[\"']?)"
            r"((?=[^\s\"',;&}\\]*\d)[^\s\"',;&}\\]{6,}|[^\s\"',;&}\\]{16,})",
            r"\1[REDACTED]",
            0,
        ),
        (r"(\b[a-z][a-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@", r"\1[REDACTED]@", re.I),
        (r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", "[REDACTED EMAIL]", 0),
        # A zero-width joiner breaks GitHub's mention and issue-link parsing but reads the same.
        (r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9\-]*)", "@\u200d\\1", 0),
        (r"(?<![\w&#])#(\d+)\b", "#\u200d\\1", 0),
    )
)


_PLACEHOLDER = re.compile(r"<[A-Z*]+>")
# what a placeholder reads as while the rules run: letters and digits that every rule's secret may hold (upper case
# and digits only, as an AWS key id is), unlike any text of a log
_STAND_IN = re.compile(r"QZ7(\d+)7ZQ")


def redact(text: str | None) -> str:
    """`text` with secrets, emails, mentions and issue references made harmless; a masked template's too."""
    if not text:
        return text or ""
    placeholders: list[str] = []

    def stand_in(match: re.Match[str]) -> str:
        placeholders.append(match.group())
        return f"QZ7{len(placeholders) - 1}7ZQ"

    if "<" in text and not _STAND_IN.search(text):
        text = _PLACEHOLDER.sub(stand_in, text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    if placeholders:
        text = _STAND_IN.sub(lambda match: placeholders[int(match.group(1))], text)
    return text
