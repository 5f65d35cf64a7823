"""Redaction of anything secret or personal before text leaves the machine.

Applied to every sample, template and message that goes into a worklog or an
issue. Also neutralises `@mentions` and `#123` references from log text, so a
log line can never ping a person or link an issue.

A template is masked before it is redacted, and masking cuts a secret into
pieces (`sk_live_4eC39Hq` reads `sk_live_<NUM>eC<NUM>Hq`): `redact_template`
reads each placeholder glued to a letter, a digit, `_` or `-` as a run of
letters and digits while the rules run, so the pieces are recognised, and
redacted, as the secret they were; a placeholder that stands alone (`token:
<NUM>`) hides no secret and is left as it is. The rules then run once more
over the text with its placeholders back.
"""

from __future__ import annotations

import re
from functools import lru_cache

# what a placeholder glued to a secret's characters reads as in `redact_template`: ten letters and digits (upper case
# and digits only, as an AWS key id is), unlike any text of a log
_STAND_IN = re.compile(r"QZ7(\d{4})7ZQ")
_CUT_STAND_IN = re.compile(r"(?<=\])(?:Z?7?\d{0,4}7ZQ|Z?7?\d{0,4}7Z|ZQ)|(?:QZ7?\d{0,4}7?Z?)(?=\[REDACTED)")
_SPAN = r"[0-9A-Z]*QZ7\d{4}7ZQ"  # a run of an AWS key id's characters up to a stand-in
_SPAN_W = r"[0-9A-Za-z_\-]*QZ7\d{4}7ZQ"

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, flags), replacement)
    for pattern, replacement, flags in (
        (r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", "[REDACTED PRIVATE KEY]", re.S),
        (r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=\-]{8,}", r"\1 [REDACTED]", re.I),
        (r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}", "[REDACTED JWT]", 0),
        (r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})", "[REDACTED GITHUB TOKEN]", 0),
        # an AWS key id and a Google API key have one length; cut by masking (a stand-in inside), any length
        (rf"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|AIPA)(?:[0-9A-Z]{{16}}|(?={_SPAN}){_SPAN}[0-9A-Z]*)\b", "[REDACTED AWS KEY]", 0),
        (rf"\bAIza(?:[0-9A-Za-z_\-]{{35}}|(?={_SPAN_W}){_SPAN_W}[0-9A-Za-z_\-]*)\b", "[REDACTED GOOGLE KEY]", 0),
        (r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}", "[REDACTED API KEY]", 0),
        (r"\bx(?:ox[abpors]|app)-[A-Za-z0-9\-]{10,}", "[REDACTED SLACK TOKEN]", 0),
        (r"\bhooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]+", "hooks.slack.com/[REDACTED WEBHOOK]", 0),
        (r"\bwhsec_[A-Za-z0-9]{10,}", "[REDACTED WEBHOOK SECRET]", 0),
        # a key mixes digits and capitals; a name such as sk-worker-deployment does not
        (r"\bsk-(?:proj-|svcacct-|admin-|ant-)?(?=[\w\-]*\d)(?=[\w\-]*[A-Z])[A-Za-z0-9_\-]{20,}", "[REDACTED API KEY]", 0),
        (r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}", "[REDACTED API KEY]", 0),
        (r"\bglpat-[A-Za-z0-9_\-]{20,}", "[REDACTED GITLAB TOKEN]", 0),
        # an Azure connection string's key, and a shared access signature in a URL's query (not `sig=SIGKILL`)
        (r"(?i)\b(AccountKey|SharedAccessKey)=[^;&\s\"']+", r"\1=[REDACTED]", 0),
        (r"(?<=[?&])(sig)=[^;&\s\"']+", r"\1=[REDACTED]", 0),
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


# a placeholder glued to a character a secret may hold, on either side
_GLUED_PLACEHOLDER = re.compile(r"(?<=[A-Za-z0-9_\-])<[A-Z*]+>|<[A-Z*]+>(?=[A-Za-z0-9_\-])")


def redact(text: str | None) -> str:
    """`text` with secrets, emails, mentions and issue references made harmless."""
    if not text:
        return text or ""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


@lru_cache(maxsize=1 << 12)  # a pattern's template is shown in its title, its issue, its link and the worklog
def redact_template(text: str | None) -> str:
    """`redact` for a masked text (a template, a masked message), whose placeholders may cut a secret in pieces."""
    if not text or "<" not in text or _STAND_IN.search(text):
        return redact(text)
    placeholders: list[str] = []

    def stand_in(match: re.Match[str]) -> str:
        placeholders.append(match.group())
        return f"QZ7{len(placeholders) - 1:04d}7ZQ"

    text = _GLUED_PLACEHOLDER.sub(stand_in, text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    if placeholders:
        text = _STAND_IN.sub(lambda match: placeholders[int(match.group(1))] if int(match.group(1)) < len(placeholders) else "", text)
        # a stand-in a rule cut short goes with what the rule redacted beside it
        text = _CUT_STAND_IN.sub("", text)
    # once more with the placeholders back: a secret a stand-in glued to its neighbour is found by its own edges
    return redact(text)
