"""No log line shows a secret or what a contact answered, at any level, from our code or python-telegram-bot's."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from telegram import Bot, Update
from telegram.error import InvalidToken

from bot.service import configure_logging
from bot.settings import load_settings, secret_values
from tests.fakes.bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAH-real-looking-token_0123456789abcd"
TOKEN_SECRET_PART = TOKEN.split(":", 1)[1]
WEBHOOK_SECRET = "webhook-Secret_42-xyzzy"
PASSWORD = "db-pa55word-plugh"
DATABASE_URL = f"postgresql://bot:{PASSWORD}@db.example.org:5432/incentives"
ANSWERS = ("十二亿", "吉林省长春市东昌区", "我们有临床试验许可")
SECRETS = (TOKEN, TOKEN_SECRET_PART, WEBHOOK_SECRET, PASSWORD)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes the root logger for the whole process; the next test gets it back as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "aiosqlite")}
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    logging.captureWarnings(False)


def assert_clean(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output, f"{secret!r} is in the log"
    for answer in ANSWERS:
        assert answer not in output, f"{answer!r} is in the log"


def update_payload() -> dict:
    """An update as Telegram sends it, with answers in a message text, a caption and a button's data."""
    return {
        "update_id": 7,
        "message": {
            "message_id": 3,
            "date": 1_700_000_000,
            "chat": {"id": 42, "type": "private", "first_name": "Li"},
            "from": {"id": 42, "is_bot": False, "first_name": "Li"},
            "text": ANSWERS[0],
            "caption": ANSWERS[1],
            "reply_to_message": {
                "message_id": 2,
                "date": 1_700_000_000,
                "chat": {"id": 42, "type": "private"},
                "text": 'It\'s "quoted" ' + ANSWERS[2],
            },
        },
    }


def emit_like_python_telegram_bot(level: int) -> None:
    """The records python-telegram-bot writes, with their real arguments, at the given level."""
    bot_log = logging.getLogger("telegram.Bot")
    bot_log.log(level, "Set Bot API URL: %s", f"https://api.telegram.org/bot{TOKEN}")
    bot_log.log(
        level,
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "setWebhook",
        {"url": "https://bot.example.org/telegram", "secret_token": WEBHOOK_SECRET, "allowed_updates": ["message"]},
    )
    bot_log.log(
        level,
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "sendMessage",
        {"chat_id": 42, "text": f"没看懂这个回答:不认识“{ANSWERS[0]}”这个地方。", "parse_mode": "HTML"},
    )
    bot_log.log(
        level, "Call to Bot API endpoint `%s` finished with return value `%s`", "getUpdates", [update_payload()]
    )
    update = Update.de_json(update_payload(), Bot(TOKEN))
    logging.getLogger("telegram.ext.Application").log(level, "Processing update %s", update)
    callback = {
        "update_id": 8,
        "callback_query": {
            "id": "1",
            "chat_instance": "1",
            "from": {"id": 42, "is_bot": False, "first_name": "Li"},
            "data": f"a:region:{ANSWERS[1]}",
        },
    }
    logging.getLogger("telegram.ext.Application").log(
        level, "Processing update %s", Update.de_json(callback, Bot(TOKEN))
    )
    logging.getLogger("telegram.ext.Updater").log(level, "Webhook received data: %s", str(update_payload()))
    try:
        try:
            raise InvalidToken("Unauthorized")
        except InvalidToken as exc:
            raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.") from exc
    except InvalidToken:
        logging.getLogger("telegram.ext.Application").log(level, "start-up failed", exc_info=True)
    try:
        raise ConnectionError(f"cannot connect to {DATABASE_URL}")
    except ConnectionError:
        logging.getLogger("bot.store.sql").log(level, "connection failed", exc_info=True)


def test_secrets_and_answers_are_redacted_from_every_debug_line_and_traceback() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", SECRETS[:1] + SECRETS[2:], stream)
    emit_like_python_telegram_bot(logging.DEBUG)
    output = stream.getvalue()
    assert_clean(output)
    # The lines were written, with markers where the secrets and answers were.
    assert "Set Bot API URL: https://api.telegram.org/bot<secret>" in output
    assert "'secret_token': '<secret>'" in output
    assert "'text': '***'" in output and "'caption': '***'" in output
    assert "text='***'" in output and "data='***'" in output
    assert "Traceback" in output and "InvalidToken: The token `<secret>` was rejected" in output
    assert "postgresql://bot:<secret>@db.example.org" in output


def test_a_bot_token_nobody_configured_is_redacted_too() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", (), stream)
    emit_like_python_telegram_bot(logging.DEBUG)
    output = stream.getvalue()
    assert TOKEN not in output and TOKEN_SECRET_PART not in output
    assert all(answer not in output for answer in ANSWERS)
    assert "bot<token>" in output and "The token `<token>` was rejected" in output


def test_nothing_secret_or_answered_is_logged_at_info() -> None:
    stream = io.StringIO()
    configure_logging("INFO", SECRETS, stream)
    emit_like_python_telegram_bot(logging.DEBUG)
    assert stream.getvalue() == ""
    emit_like_python_telegram_bot(logging.INFO)
    output = stream.getvalue()
    assert_clean(output)
    assert output.count(" INFO ") >= 8


def test_warnings_go_through_the_redacting_log() -> None:
    stream = io.StringIO()
    configure_logging("INFO", SECRETS, stream)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"odd reply from https://api.telegram.org/bot{TOKEN}/getMe", UserWarning, stacklevel=1)
    assert "bot<secret>/getMe" in stream.getvalue()
    assert_clean(stream.getvalue())


def test_the_secrets_to_redact_are_the_secret_settings_and_the_database_password_only() -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "DATABASE_URL": DATABASE_URL,
        }
    )
    assert set(secret_values(settings)) == {TOKEN, WEBHOOK_SECRET, PASSWORD}
    escaped = load_settings({"DATABASE_URL": "postgresql://bot:pa%40ss@db/x"})
    assert set(secret_values(escaped)) == {"pa%40ss", "pa@ss"}
    assert secret_values(load_settings({})) == ()


@pytest.fixture()
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


async def test_python_telegram_bots_own_debug_lines_show_no_secret_or_answer(api: FakeBotApi) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", (TOKEN, WEBHOOK_SECRET), stream)
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        await bot.set_webhook("https://bot.example.org/telegram", secret_token=WEBHOOK_SECRET)
        await bot.send_message(42, f"您的营业收入:{ANSWERS[0]}")
        await bot.delete_webhook()
        api.push_update(api.make_message(42, ANSWERS[1]))
        await bot.get_updates(timeout=0)
    output = stream.getvalue()
    assert "Calling Bot API endpoint `setWebhook`" in output and "Calling Bot API endpoint `sendMessage`" in output
    assert_clean(output)


async def serve(env: dict[str, str], tmp_path: Path) -> asyncio.subprocess.Process:
    """`incentive-bot serve` as an operator starts it, with only these settings."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "DATABASE_"))}
    base |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", "PYTHONPATH": str(ROOT), "PORT": "0"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        env=base | env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("level", ["WARNING", "INFO", "DEBUG"])
async def test_a_token_telegram_rejects_stops_serve_with_one_line_and_never_shows_the_token(
    api: FakeBotApi, tmp_path: Path, level: str
) -> None:
    api.fail_next("getMe", error_code=401, description="Unauthorized")
    process = await serve(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.base_url, "LOG_LEVEL": level}, tmp_path
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    stderr = err.decode()
    assert process.returncode == 2, stderr
    assert ("getMe", {}) in api.calls  # it was Telegram (the fake) that refused the token
    assert TOKEN not in stderr + out.decode() and TOKEN_SECRET_PART not in stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert lines[-1] == "error: Telegram rejected TELEGRAM_BOT_TOKEN; copy the token from @BotFather again."
    if level == "WARNING":
        # At INFO and DEBUG the lines before it are the log of start-up (migrations), redacted like every line.
        assert len(lines) == 1, stderr


async def test_a_webhook_bot_at_debug_logs_no_secret_and_no_answer(api: FakeBotApi, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    webhook = f"http://127.0.0.1:{port}/telegram"
    process = await serve(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_WEBHOOK_URL": webhook,
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "DEBUG",
        },
        tmp_path,
    )
    try:
        for _ in range(600):
            if api.webhook_url == webhook or process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert api.webhook_url == webhook, "the bot did not start"
        assert await api.post_webhook(webhook, api.make_message(42, "/start"), WEBHOOK_SECRET) == 200
        await api.wait_for_messages(42, 1, timeout=20)
        assert await api.post_webhook(webhook, api.make_message(42, ANSWERS[0]), WEBHOOK_SECRET) == 200
        replies = await api.wait_for_messages(42, 2, timeout=20)
        assert ANSWERS[0] in replies[-1]["text"]  # the reply quotes the answer, so the request log would too
        markup = replies[-1]["reply_markup"] or {}
        skip = next(b["callback_data"] for row in markup["inline_keyboard"] for b in row)
        callback = api.make_callback(42, skip, replies[-1]["message_id"])
        assert await api.post_webhook(webhook, callback, WEBHOOK_SECRET) == 200
        await api.wait_for_messages(42, 3, timeout=20)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    stderr = err.decode()
    assert "Calling Bot API endpoint `sendMessage`" in stderr and "Processing update" in stderr
    assert "'secret_token': '<secret>'" in stderr
    assert_clean(stderr + out.decode())
    assert "Traceback" not in stderr
