"""The real python-telegram-bot Application, over HTTP, against a local fake Bot API, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.channels.telegram import chat_key
from bot.service import run_bot
from bot.settings import load_settings
from bot.store.sql import SqlChatStore, migrate
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio

CHAT = 7001
SECRET = "s3cret-Token_for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_url() -> str:
    """The machine's PostgreSQL from TEST_DATABASE_URL: skipped without it, except in CI, where that fails."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL must be set in CI so the PostgreSQL tests run")
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL tests run in CI)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: a SQLite file, or the machine's PostgreSQL (required in CI)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}" if request.param == "sqlite" else postgres_url()
    await migrate(url)
    if request.param == "postgresql":
        await empty_database(url)
    yield url


@pytest.fixture()
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token="123456789:AAH-fake-token-for-tests_0123456789") as fake:
        yield fake


def bot_settings(api: FakeBotApi, database: str, webhook_port: int | None = None) -> dict[str, str]:
    env = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": database,
        "LOG_LEVEL": "WARNING",
        # Off unless a test turns them on: the example call's dates fall near the real day, so reminders would
        # otherwise arrive in other tests' chats depending on the day and hour they run.
        "REMINDER_DAYS": "off",
        # The web chat runs beside Telegram: on a port of its own, never one another test or program holds.
        "PORT": "0",
    }
    if webhook_port is not None:
        env |= {
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{webhook_port}/telegram",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(webhook_port),
        }
    return env


@asynccontextmanager
async def running_bot(
    api: FakeBotApi, database: str, webhook_port: int | None = None, settings: dict[str, str] | None = None
) -> AsyncIterator[None]:
    """Runs the bot as `incentive-bot serve` would, until the block ends; `settings` adds to the environment."""
    stop = asyncio.Event()
    environment = bot_settings(api, database, webhook_port) | (settings or {})
    task = asyncio.create_task(run_bot(load_settings(environment), stop))
    webhook = bot_settings(api, database, webhook_port).get("TELEGRAM_WEBHOOK_URL")

    def started(method: str, params: dict) -> bool:
        # Another bot already running on this fake must not count: each waits for its own webhook.
        return method == "setWebhook" and params.get("url") == webhook if webhook else method == "getUpdates"

    for _ in range(400):
        if any(started(method, params) for method, params in api.calls) or task.done():
            break
        await asyncio.sleep(0.025)
    if task.done():
        task.result()  # surfaces a start-up failure
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def empty_database(url: str) -> None:
    """Deletes every chat, update, message, role, audit entry and notice, so a run starts from nothing."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            tables = (
                "chats inbox outbox roles audit notices send_budget rule_state rule_versions rule_uploads reminders"
            )
            for table in tables.split():
                await connection.execute(text(f"DELETE FROM {table}"))
    finally:
        await engine.dispose()


@asynccontextmanager
async def started(
    api: FakeBotApi, database: str, chat: int = CHAT, settings: dict[str, str] | None = None
) -> AsyncIterator[Contact]:
    """The bot running, and a contact who has sent /start and is asked for the region."""
    async with running_bot(api, database, settings=settings):
        contact = Contact(api, chat)
        await contact.say("/start")
        yield contact


class Contact:
    """One enterprise contact talking to the bot, in polling or webhook mode."""

    def __init__(self, api: FakeBotApi, chat_id: int, webhook: str | None = None, language: str = "zh-hans"):
        self.api, self.chat_id, self.webhook, self.language = api, chat_id, webhook, language

    async def _deliver(self, update: dict) -> None:
        if self.webhook:
            assert await self.api.post_webhook(self.webhook, update, SECRET) == 200
        else:
            self.api.push_update(update)

    async def say(self, text: str, replies: int = 1) -> list[dict]:
        before = len(self.api.messages_to(self.chat_id))
        await self._deliver(self.api.make_message(self.chat_id, text, language_code=self.language))
        return (await self.api.wait_for_messages(self.chat_id, before + replies))[before:]

    async def press(self, data: str, replies: int = 1) -> list[dict]:
        message_id = self.last_with_button(data)["message_id"]
        before = len(self.api.messages_to(self.chat_id))
        await self._deliver(self.api.make_callback(self.chat_id, data, message_id, language_code=self.language))
        return (await self.api.wait_for_messages(self.chat_id, before + replies))[before:]

    def last_with_button(self, data: str) -> dict:
        for message in reversed(self.api.messages_to(self.chat_id)):
            if data in buttons(message):
                return message
        return self.api.messages_to(self.chat_id)[-1]

    @property
    def last(self) -> dict:
        return self.api.messages_to(self.chat_id)[-1]


def buttons(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]


async def wait_for_text(contact: Contact, needle: str, timeout: float = 10) -> dict:
    """The first message to the contact that contains needle, waiting for it to arrive."""
    for _ in range(int(timeout / 0.02)):
        for message in contact.api.messages_to(contact.chat_id):
            if needle in message["text"]:
                return message
        await asyncio.sleep(0.02)
    raise AssertionError(
        f"no message with {needle!r}: {[m['text'][:40] for m in contact.api.messages_to(contact.chat_id)]}"
    )


async def interview(contact: Contact) -> dict:
    """A whole interview from /start to results, with button and free-text answers; returns the results."""
    replies = await contact.say("/start")
    # The welcome and the first question arrive as one message (one Bot API call).
    assert "奖励政策小助手" in replies[0]["text"] and "贵企业注册在哪里" in replies[0]["text"]
    # The answer is read back first (in the same message), so a misreading shows at once.
    read_back = (await contact.say("長春"))[0]
    assert read_back["text"].startswith("收到:所在地区 吉林省长春市") and "贵企业属于哪些行业" in read_back["text"]
    assert "e:region" in buttons(read_back)
    toggled = await contact.press("t:industries:biologics")
    assert toggled[0]["method"] == "editMessageText" and "✓ 生物药" in str(toggled[0]["reply_markup"])
    assert "本年度贵企业有以下哪些情况" in (await contact.press("d:industries"))[0]["text"]
    assert "本年度营业收入" in (await contact.say("临床试验许可"))[0]["text"]
    for _ in range(30):
        skips = [b for b in buttons(contact.last) if b.startswith("s:")]
        if not skips:
            break
        await contact.press(skips[0])
    return await wait_for_text(contact, "结果(按")


async def test_a_full_interview_by_polling_ends_with_results(api: FakeBotApi, database: str) -> None:
    async with running_bot(api, database):
        contact = Contact(api, CHAT)
        text = (await interview(contact))["text"]
        assert "✅ 可以申请" in text and "新取得临床试验许可或注册申请受理书的医药健康产品奖励" in text
        assert "最高200万元" in text and "第1条" in text
        assert "r:jilin-1-clinical-trial" in buttons(await wait_for_text(contact, "结果(按"))
        details = await contact.press("r:jilin-1-clinical-trial")
        assert "对新取得临床试验许可、注册申请受理书的医药健康产品,最高给予200万元奖励。" in details[0]["text"]
    assert api.commands[""] and api.commands["en"]
    assert all(m["parse_mode"] == "HTML" for m in api.sent if m["method"] == "sendMessage")


async def test_a_full_interview_on_the_webhook(api: FakeBotApi, database: str) -> None:
    port = free_port()
    async with running_bot(api, database, webhook_port=port):
        assert api.webhook_url == f"http://127.0.0.1:{port}/telegram" and api.webhook_secret == SECRET
        contact = Contact(api, CHAT, webhook=api.webhook_url)
        assert "✅ 可以申请" in (await interview(contact))["text"]


async def test_an_ambiguous_place_is_picked_by_button_and_a_place_no_policy_covers_ends_the_interview(
    api: FakeBotApi, database: str
) -> None:
    async with started(api, database) as contact:
        (asked,) = await contact.say("朝阳区")
        assert "可能是以下几个地方" in asked["text"] and "a:region:110105" in buttons(asked)
        (told,) = await contact.press("a:region:110105")  # 北京市朝阳区: no shipped policy covers it
        assert "目前收录的政策都不适用于这个地区" in told["text"] and "吉林省" in told["text"]
        assert buttons(told) == ["e:region", "restart"]
        (after,) = await contact.say("生物药")
        assert "没有需要回答的问题" in after["text"]


async def test_a_webhook_post_without_the_secret_is_refused_and_not_processed(api: FakeBotApi, database: str) -> None:
    port = free_port()
    async with running_bot(api, database, webhook_port=port):
        update = api.make_message(CHAT, "/start")
        assert await api.post_webhook(api.webhook_url, update, secret_token=None) == 403
        assert await api.post_webhook(api.webhook_url, update, secret_token="wrong") == 403
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200 and (await response.json())["status"] == "ok"
        await asyncio.sleep(0.3)
        assert api.messages_to(CHAT) == []


async def test_an_interview_survives_a_restart_and_continues_with_the_same_question(
    api: FakeBotApi, database: str
) -> None:
    contact = Contact(api, CHAT)
    async with running_bot(api, database):
        await contact.say("/start")
        await contact.say("吉林省长春市")
        assert "贵企业属于哪些行业" in contact.last["text"]
    async with running_bot(api, database):
        reply = await contact.say("生物制药")
        assert "本年度贵企业有以下哪些情况" in reply[0]["text"]
    store = SqlChatStore.from_url(database)
    state = await store.load(chat_key(CHAT))
    await store.close()
    assert state.answers == {"region": "吉林省/长春市", "industries": ["biologics"]}


async def test_profile_edit_updates_the_results_at_once(api: FakeBotApi, database: str) -> None:
    contact = Contact(api, CHAT)
    async with running_bot(api, database):
        await contact.say("/start")
        await contact.say("吉林省长春市")
        profile = await contact.say("/profile")
        assert "所在地区" in profile[0]["text"] and "e:region" in buttons(profile[0])
        await contact.press("e:region")
        replies = await contact.say("广东省")
        # No shipped policy covers 广东省: said at once, instead of results that are all out of reach.
        assert "目前收录的政策都不适用于这个地区" in replies[-1]["text"]


async def test_forget_deletes_everything_after_confirmation(api: FakeBotApi, database: str) -> None:
    contact = Contact(api, CHAT)
    async with running_bot(api, database):
        await contact.say("/start")
        await contact.say("吉林省长春市")
        confirm = await contact.say("/forget")
        assert "f:yes" in buttons(confirm[0])
        done = await contact.press("f:yes")
        assert "已删除" in done[0]["text"]
    store = SqlChatStore.from_url(database)
    state = await store.load(chat_key(CHAT))
    await store.close()
    assert state.new and state.answers == {}


async def test_a_forged_or_stale_button_gets_a_polite_answer(api: FakeBotApi, database: str) -> None:
    contact = Contact(api, CHAT)
    async with running_bot(api, database):
        await contact.say("/start")
        for data in ("a:revenu:1", "r:no-such-rule", "zzz", "a:produced_in_province:1"):
            update = api.make_callback(CHAT, data, contact.last["message_id"])
            api.push_update(update)
        for _ in range(200):
            if len(api.callback_answers) >= 4:
                break
            await asyncio.sleep(0.025)
        notices = [a.get("text", "") for a in api.callback_answers]
        assert len(notices) == 4 and all(("失效" in n or "无法识别" in n) for n in notices)
        assert not any("抱歉" in m["text"] for m in api.messages_to(CHAT))
        assert "贵企业注册在哪里" in (await contact.say("/start"))[0]["text"]


async def test_user_text_is_escaped_not_interpreted(api: FakeBotApi, database: str) -> None:
    contact = Contact(api, CHAT)
    async with running_bot(api, database):
        await contact.say("/start")
        replies = await contact.say("<b>火星</b>")
        assert "&lt;b&gt;" in replies[0]["text"] and "<b>" not in replies[0]["text"]


async def test_blocking_and_unblocking_the_bot_is_tracked(api: FakeBotApi, database: str) -> None:
    contact = Contact(api, CHAT)
    async with running_bot(api, database):
        await contact.say("/start")
        api.push_update(api.make_my_chat_member(CHAT, "kicked"))
        store = SqlChatStore.from_url(database)
        for _ in range(200):
            if not (await store.load(chat_key(CHAT))).active:
                break
            await asyncio.sleep(0.025)
        assert (await store.load(chat_key(CHAT))).active is False
        api.push_update(api.make_my_chat_member(CHAT, "member"))
        for _ in range(200):
            if (await store.load(chat_key(CHAT))).active:
                break
            await asyncio.sleep(0.025)
        state = await store.load(chat_key(CHAT))
        await store.close()
        assert state.active is True and state.answers == {}


async def test_two_processes_sharing_the_database_lose_no_answer(api: FakeBotApi, database: str) -> None:
    """Two bot processes get updates of the same chat at once; every toggle lands (no lost update)."""
    first, second = free_port(), free_port()
    async with running_bot(api, database, webhook_port=first), running_bot(api, database, webhook_port=second):
        contact = Contact(api, CHAT, webhook=f"http://127.0.0.1:{first}/telegram")
        await contact.say("/start")
        await contact.say("吉林省长春市")
        message_id = contact.last["message_id"]
        options = ["tcm", "biologics", "chemical_drugs", "medical_devices", "cosmetics", "distribution"]
        posts = [
            api.post_webhook(
                f"http://127.0.0.1:{(first, second)[i % 2]}/telegram",
                api.make_callback(CHAT, f"t:industries:{option}", message_id),
                SECRET,
            )
            for i, option in enumerate(options)
        ]
        assert await asyncio.gather(*posts) == [200] * len(options)
        for _ in range(400):
            if len(api.callback_answers) >= len(options):
                break
            await asyncio.sleep(0.025)
        store = SqlChatStore.from_url(database)
        state = await store.load(chat_key(CHAT))
        await store.close()
        assert sorted(state.pending_choices) == sorted(options)


async def test_an_unexpected_error_is_logged_with_the_update_id_and_the_user_gets_an_apology(
    api: FakeBotApi, database: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from handlers.enterprise import EnterpriseConversation

    real = EnterpriseConversation.handle

    def failing(self, incoming, state):
        if incoming.text == "boom":
            raise RuntimeError("something broke")
        return real(self, incoming, state)

    monkeypatch.setattr(EnterpriseConversation, "handle", failing)
    contact = Contact(api, CHAT)
    async with running_bot(api, database):
        await contact.say("/start")
        update = api.make_message(CHAT, "boom")
        api.push_update(update)
        apology = await wait_for_text(contact, "抱歉")
        assert "Traceback" not in apology["text"] and "something broke" not in apology["text"]
        assert "贵企业属于" not in apology["text"]
        assert "贵企业注册在哪里" in (await contact.say("/start"))[0]["text"]
    assert any(f"update {update['update_id']} failed" in r.getMessage() for r in caplog.records)
    assert api.token not in caplog.text


async def test_a_stopping_webhook_acknowledges_nothing_it_will_not_handle(api: FakeBotApi, database: str) -> None:
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(load_settings(bot_settings(api, database, port)), stop))
    for _ in range(400):
        if api.webhook_url or task.done():
            break
        await asyncio.sleep(0.025)
    url = api.webhook_url
    stop.set()
    statuses = []
    for _ in range(5):
        try:
            statuses.append(await api.post_webhook(url, api.make_message(CHAT, "/start"), SECRET))
        except aiohttp.ClientError:
            statuses.append("refused")
        await asyncio.sleep(0.05)
    await asyncio.wait_for(task, 10)
    assert 200 not in statuses or api.messages_to(CHAT), statuses


async def test_a_429_from_telegram_is_waited_out_and_the_reply_still_arrives(api: FakeBotApi, database: str) -> None:
    contact = Contact(api, CHAT)
    async with running_bot(api, database):
        await contact.say("/start")
        api.fail_next("sendMessage", error_code=429, retry_after=1)
        started = asyncio.get_running_loop().time()
        reply = await contact.say("吉林省长春市")
        assert "贵企业属于哪些行业" in reply[0]["text"]
        assert asyncio.get_running_loop().time() - started >= 0.9
        assert not any("抱歉" in m["text"] for m in api.messages_to(CHAT))
