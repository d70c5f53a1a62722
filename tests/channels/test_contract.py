"""Every channel runs the same interview through the one update cycle: the same answers, the same questions."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import pytest

from bot.channels.terminal import run_terminal
from bot.dispatcher import Dispatcher
from bot.engine.engine import Engine
from bot.store.memory import MemoryChatStore
from handlers.enterprise import EnterpriseConversation
from tests.channels.test_telegram_e2e import Contact, running_bot
from tests.fakes.bot_api import FakeBotApi

ANSWERS = ["/start", "長春", "生物制药", "临床试验许可"]
# What the contact is asked after each answer above, in order.
QUESTIONS = ["贵企业注册在哪里", "贵企业属于哪些行业", "本年度贵企业有以下哪些情况", "本年度营业收入"]


async def through_the_terminal(engine: Engine, tmp_path: Path) -> str:
    dispatcher = Dispatcher(MemoryChatStore(), EnterpriseConversation(lambda: engine, lambda: date(2026, 11, 22)))
    out = io.StringIO()
    # The terminal sends /start itself, as a person starting `incentive-bot chat` expects.
    stdin = io.StringIO("\n".join(ANSWERS[1:]) + "\n")
    await asyncio.to_thread(run_terminal, dispatcher, stdin, out)
    return out.getvalue()


async def through_telegram(engine: Engine, tmp_path: Path) -> str:
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    async with FakeBotApi(token="123456789:AAH-fake-token-for-tests_0123456789") as api, running_bot(api, database):
        contact = Contact(api, 5150)
        transcript = []
        for answer in ANSWERS:
            transcript += [m["text"] for m in await contact.say(answer)]
    return "\n".join(transcript)


CHANNELS: dict[str, Callable[[Engine, Path], Awaitable[str]]] = {
    "terminal": through_the_terminal,
    "telegram": through_telegram,
}


@pytest.mark.asyncio
@pytest.mark.parametrize("channel", sorted(CHANNELS))
async def test_every_channel_asks_the_same_questions_for_the_same_answers(
    channel: str, engine: Engine, tmp_path: Path
) -> None:
    transcript = await CHANNELS[channel](engine, tmp_path)
    positions = [transcript.find(question) for question in QUESTIONS]
    assert -1 not in positions and positions == sorted(positions), (channel, positions)
    assert "不认识" not in transcript and "没看懂" not in transcript
