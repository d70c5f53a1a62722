"""Settings and logging: a bad setting stops start-up with a clear message, and no secret reaches a log."""

from __future__ import annotations

import logging
import sys

import pytest

from bot.service import RedactingFormatter
from bot.settings import SettingsError, load_settings

TOKEN = "123456789:AAH-real-looking-token_0123456789abcd"


def test_defaults_need_nothing_but_give_no_token() -> None:
    settings = load_settings({})
    assert settings.TELEGRAM_BOT_TOKEN is None and settings.PORT == 8080
    assert settings.TELEGRAM_API_BASE_URL == "https://api.telegram.org/bot"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PORT": "eighty"}, ["PORT", "whole number"]),
        ({"PORT": "70000"}, ["PORT", "65535"]),
        ({"TELEGRAM_API_BASE_URL": "api.telegram.org"}, ["TELEGRAM_API_BASE_URL", "http(s) URL"]),
        ({"MAX_CONCURRENT_UPDATES": "0"}, ["MAX_CONCURRENT_UPDATES", "at least 1"]),
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram"}, ["TELEGRAM_WEBHOOK_SECRET", "must be set"]),
    ],
)
def test_a_malformed_setting_names_itself_and_says_what_to_write(env: dict, words: list[str]) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert all(word in str(caught.value) for word in words)


def test_a_malformed_secret_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"TELEGRAM_BOT_TOKEN": "not a token but secret-ish"})
    assert "secret-ish" not in str(caught.value) and "TELEGRAM_BOT_TOKEN" in str(caught.value)
    with pytest.raises(SettingsError) as caught:
        load_settings({"TELEGRAM_WEBHOOK_URL": "https://x.org/t", "TELEGRAM_WEBHOOK_SECRET": "has spaces in it!"})
    assert "has spaces" not in str(caught.value)


def test_bot_tokens_are_redacted_from_log_lines_and_tracebacks() -> None:
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        record = logging.LogRecord(
            "httpx", logging.ERROR, "", 0, "POST %s", (f"https://api.telegram.org/bot{TOKEN}/x",), sys.exc_info()
        )
    text = RedactingFormatter("%(message)s").format(record)
    assert TOKEN not in text
    assert "bot<token>/x" in text and "bot<token>/sendMessage failed" in text and "Traceback" in text
