"""Two bot processes on one database get a chat's updates at once and out of order; every answer lands right."""

from __future__ import annotations

import asyncio
import html
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import date
from pathlib import Path

import pytest

from bot.channels.telegram import chat_key, coalesce
from bot.loading import load_engine
from bot.messages import Incoming
from bot.store.base import ChatState
from bot.store.sql import SqlChatStore
from handlers.enterprise import EnterpriseConversation
from tests.channels import test_telegram_e2e as e2e
from tests.channels.test_telegram_e2e import SECRET, bot_settings, free_port
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio

# The fixtures of the end-to-end tests: a fake Bot API, and each database (PostgreSQL required in CI).
api = e2e.api
database = e2e.database

ROOT = Path(__file__).resolve().parents[2]
# The first three questions answered; each answer only makes sense for its own question, so one applied out
# of order is stored under the wrong fact or not at all.
SCRIPT = ["/start", "長春", "生物制药", "临床试验许可"]
CHATS = 30
FIRST_CHAT = 8000
REPLAY_LOG = "an earlier update arrived late"


class BotProcess:
    """`python -m bot serve` in webhook mode as its own OS process, on its own port; its log goes to a file."""

    def __init__(self, api: FakeBotApi, database: str, log: Path, env: dict[str, str] | None = None) -> None:
        self.api, self.log = api, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram"
        self.env = {**bot_settings(api, database, self.port), "LOG_LEVEL": "INFO", **(env or {})}
        self.process: asyncio.subprocess.Process | None = None

    command = "serve"

    async def start(self) -> None:
        await self.spawn()
        await self.until_ready(lambda: any(m == "setWebhook" and p.get("url") == self.url for m, p in self.api.calls))

    async def spawn(self) -> None:
        """Starts `python -m bot <command>` with the settings, its stderr in the log file."""
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                self.command,
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )

    async def until_ready(self, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not ready():
            if self.process.returncode is not None or time.monotonic() > deadline:
                await self.stop()
                raise RuntimeError(f"`bot {self.command}` on port {self.port} did not start: {self.log_text()[-3000:]}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        with suppress(ProcessLookupError):  # it may have exited since
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def replays(self) -> int:
        """How many turns rolled a chat back because an earlier update arrived after later ones (INFO log)."""
        return self.log_text().count(REPLAY_LOG)


@asynccontextmanager
async def running(*bots: BotProcess) -> AsyncIterator[None]:
    """Starts the bots side by side (each loads its rules at the same time) and stops them all at the end."""
    try:
        await asyncio.gather(*(bot.start() for bot in bots))
        yield
    finally:
        await asyncio.gather(*(bot.stop() for bot in bots))


def sequential_interview(texts: list[str]) -> tuple[ChatState, list[list[str]]]:
    """What one process applying the updates one after another stores, and the message texts it sends for each,
    as the fake Bot API records them (HTML-escaped)."""
    engine = load_engine()
    conversation = EnterpriseConversation(lambda: engine, date.today)
    state = ChatState(chat_key(FIRST_CHAT))
    sent = []
    for update_id, text in enumerate(texts, 1):
        if text.startswith("/"):
            incoming = Incoming(state.key, command=text[1:], language_code="zh-hans", update_id=update_id)
        else:
            incoming = Incoming(state.key, text=text, language_code="zh-hans", update_id=update_id)
        reply = conversation.handle(incoming, state)
        state.new = False
        sent.append([html.escape(message.text) for message in coalesce(list(reply.messages)) if message.text])
    return state, sent


def missing_replies(api: FakeBotApi, chat_id: int, expected: list[list[str]]) -> Counter[str]:
    """The expected reply texts the chat has not received (as many times as expected)."""
    return Counter(text for texts in expected for text in texts) - Counter(m["text"] for m in api.sends_to(chat_id))


async def stored_states(database: str, chats: list[int]) -> dict[int, ChatState]:
    store = SqlChatStore.from_url(database)
    try:
        return {chat: await store.load(chat_key(chat)) for chat in chats}
    finally:
        await store.close()


async def test_a_chats_updates_posted_at_once_to_two_processes_are_each_stored_under_the_right_question(
    api: FakeBotApi, database: str, tmp_path: Path
) -> None:
    expected, replies = sequential_interview(SCRIPT)
    assert expected.answers == {
        "region": "吉林省/长春市",
        "industries": ["biologics"],
        "events": ["clinical_trial_permit"],
    }
    chats = list(range(FIRST_CHAT, FIRST_CHAT + CHATS))
    first, second = (
        BotProcess(api, database, tmp_path / "first.log"),
        BotProcess(api, database, tmp_path / "second.log"),
    )
    async with running(first, second):
        # Made in posting order, so each chat's update ids rise with its script; posted all at once.
        posts = [
            api.post_webhook((first, second)[index % 2].url, api.make_message(chat, text), SECRET)
            for chat in chats
            for index, text in enumerate(SCRIPT)
        ]
        assert set(await asyncio.gather(*posts)) == {200}
        deadline = time.monotonic() + 30
        while any(missing_replies(api, chat, replies) for chat in chats) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # replies still on their way would show up now
        replays = first.replays() + second.replays()
    lost = {chat: sorted(missing_replies(api, chat, replies).elements()) for chat in chats}
    assert not any(lost.values()), {chat: texts for chat, texts in lost.items() if texts}
    states = await stored_states(database, chats)
    wrong = {
        chat: (state.answers, state.current)
        for chat, state in states.items()
        if (state.answers, state.skipped, state.current) != (expected.answers, expected.skipped, expected.current)
    }
    assert not wrong, f"{len(wrong)} of {CHATS} chats stored other answers ({replays} replays): {wrong}"
    # Whatever was said in between, each contact is left looking at the question that is really open.
    last = {chat: api.sends_to(chat)[-1]["text"] for chat in chats}
    assert all(text == replies[-1][-1] for text in last.values()), last
