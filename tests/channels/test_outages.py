"""Bot API outages against the real bot: held-up replies arrive once afterwards, stale ones are asked again."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.channels.telegram import chat_key
from bot.store.base import ChatState
from bot.store.sql import SqlChatStore
from handlers.texts import t
from tests.channels import test_telegram_e2e as e2e
from tests.channels.test_telegram_e2e import CHAT, started, wait_for_text
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio

# The fixtures of the end-to-end tests: a fake Bot API, and each database (PostgreSQL required in CI).
api = e2e.api
database = e2e.database

REGION_QUESTION = "贵企业注册在哪里"
INDUSTRY_QUESTION = "贵企业属于哪些行业"
APPROVAL_QUESTION = "本年度新取得"
APOLOGY = "抱歉"


async def stored_state(database: str) -> ChatState:
    store = SqlChatStore.from_url(database)
    try:
        return await store.load(chat_key(CHAT))
    finally:
        await store.close()


async def eventually(check, timeout: float, what: str) -> None:
    """Waits until check() (sync or async) is true, polling for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.mark.parametrize("kind", ["429", "502", "500", "hang"])
async def test_an_answer_given_during_an_outage_gets_its_next_question_once_soon_after_the_outage(
    api: FakeBotApi, database: str, kind: str
) -> None:
    async with started(api, database) as contact:
        outage = api.outage(kind, seconds=3)
        api.push_update(api.make_message(CHAT, "長春"))
        await eventually(lambda: outage.failed, 2, "the bot tried to reply during the outage")
        assert len(api.sends_to(CHAT)) == 1  # nothing got through while it lasted
        await outage.wait()
        reply = await wait_for_text(contact, INDUSTRY_QUESTION, timeout=8)
        # A retry waits at most 5 s (the backoff's cap) plus one poll of the delivery worker.
        assert reply["time"] - outage.ended < 6
        await asyncio.sleep(1)  # room for a second copy to show up
        texts = [message["text"] for message in api.sends_to(CHAT)]
        assert len(texts) == 2 and REGION_QUESTION in texts[0] and texts[1].split("\n", 1)[1].startswith(INDUSTRY_QUESTION), texts
        assert not any(APOLOGY in text for text in texts)
    state = await stored_state(database)
    assert state.answers == {"region": "吉林省/长春市"} and state.current == "industries"
    assert not state.undelivered


async def test_a_reply_not_deliverable_in_time_is_given_up_and_the_next_message_gets_the_question_again(
    api: FakeBotApi, database: str
) -> None:
    # Replies are given up after 2 s here instead of the default 15 minutes.
    async with started(api, database, settings={"REPLY_RETRY_SECONDS": "2"}) as contact:
        outage = api.outage("502")
        api.push_update(api.make_message(CHAT, "長春"))

        async def given_up() -> bool:
            return (await stored_state(database)).undelivered

        await eventually(given_up, 8, "the reply to 長春 was given up")
        outage.end()
        # Written for the question the contact never saw: not an answer to it.
        replies = await contact.say("生物制药")
        assert replies[0]["text"].startswith(t("undelivered", "zh-Hans"))
        assert INDUSTRY_QUESTION in replies[0]["text"]
        assert "industries" not in (await stored_state(database)).answers
        assert APPROVAL_QUESTION in (await contact.say("生物制药"))[0]["text"]
        await asyncio.sleep(0.5)  # the given-up reply must not arrive late after all
        texts = [message["text"] for message in api.sends_to(CHAT)]
        assert sum(INDUSTRY_QUESTION in text for text in texts) == 1, texts
        assert len(texts) == 3, texts
    state = await stored_state(database)
    assert state.answers == {"region": "吉林省/长春市", "industries": ["biologics"]}
    assert state.current == "approvals" and not state.undelivered
