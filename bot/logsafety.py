"""Keeps secrets and contacts' answers out of log lines: a formatter that redacts every line it writes."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote

SECRET_MARKER = "<secret>"
TOKEN_MARKER = "<token>"
ANSWER_MARKER = "***"

# Any bot token, configured or not ("bot" prefix or not, ':' escaped in a URL or not): a token from another
# setting or a test must not leak either. Telegram's tokens have 35 characters after the colon.
_TOKEN_PATTERN = re.compile(r"\d+(?::|%3[Aa])[A-Za-z0-9_-]{20,}")

# python-telegram-bot logs request parameters, responses and whole updates at DEBUG, as dict reprs
# ('text': '十二亿'), JSON ("text": "十二亿") and object reprs (text='十二亿'). What a contact typed or pressed
# sits in these fields; the bot's own texts there often quote the answers too.
_ANSWER_FIELDS = r"(?:text|caption|data|query)"
_ANSWER_PATTERN = re.compile(
    rf"""((['"]){_ANSWER_FIELDS}\2\s*:\s*|(?<![\w.]){_ANSWER_FIELDS}=)"""
    r"""('(?:[^'\\]|\\.)*(?:'|$)|"(?:[^"\\]|\\.)*(?:"|$))""",
    re.MULTILINE,
)


def _mask_answer(match: re.Match[str]) -> str:
    quote_mark = match.group(3)[0]
    return f"{match.group(1)}{quote_mark}{ANSWER_MARKER}{quote_mark}"


def _spellings(secret: str) -> set[str]:
    """The ways a secret can show up in a log line: as is, URL-encoded, or escaped inside a repr."""
    return {secret, quote(secret, safe=""), repr(secret)[1:-1]}


class RedactingFormatter(logging.Formatter):
    """Formats log records with secrets, bot tokens and answers removed from the message and any traceback."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt, datefmt)
        spellings = {spelling for secret in secrets if secret for spelling in _spellings(secret)}
        # Longest first, so a secret that contains another is replaced whole.
        alternatives = sorted(spellings, key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def redact(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(SECRET_MARKER, text)
        text = _TOKEN_PATTERN.sub(TOKEN_MARKER, text)
        return _ANSWER_PATTERN.sub(_mask_answer, text)

    def format(self, record: logging.LogRecord) -> str:
        # The whole formatted line: the message with its arguments, the exception text and the stack.
        return self.redact(super().format(record))
