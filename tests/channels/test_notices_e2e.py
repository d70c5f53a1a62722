"""Officials send notices through the real bot against the fake Bot API: refusals, the dialogue with its preview,
targeting, scheduling, cancelling, and what Telegram's answers (429, 403, 400) do to a broadcast."""

from __future__ import annotations

import asyncio
import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.loading import load_engine
from bot.notices import NoticeDesk
from bot.store.sql import SqlChatStore
from handlers.official import Audience
from tests.channels.test_telegram_e2e import Contact, api, buttons, database, running_bot  # noqa: F401 - fixtures
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio
ADMIN, OFFICIAL, STRANGER = 91001, 91002, 91003
SETTINGS = {"ADMIN_TELEGRAM_IDS": str(ADMIN)}
# Contacts whose interviews have reached these answers: id → (region, industries, subscribed, active)
PEOPLE = {
    92001: ("吉林省/长春市/朝阳区", ["biologics"], True, True),
    92002: ("吉林省/长春市", ["tcm"], True, True),
    92003: ("吉林省/通化市/东昌区", ["biologics", "tcm"], True, True),
    92004: ("吉林省/长春市", ["biologics"], False, True),  # opted out
    92005: ("吉林省/长春市", ["biologics"], True, False),  # blocked the bot
    92006: ("湖北省/武汉市", ["biologics"], True, True),
}


async def seed(url: str, people: dict = PEOPLE) -> None:
    rows = [
        (chat, {"region": region, "industries": industries}, subscribed, active)
        for chat, (region, industries, subscribed, active) in people.items()
    ]
    await insert_contacts(url, rows)


async def insert_contacts(url: str, contacts: list[tuple[int, dict, bool, bool]]) -> None:
    """Telegram contacts as an interview leaves them: (chat id, answers, subscribed, active) each."""
    engine = create_async_engine(url)
    now = datetime.now(UTC)
    rows = [
        {"chat_id": chat, "answers": json.dumps(answers, ensure_ascii=False), "subscribed": subscribed,
         "active": active, "now": now}
        for chat, answers, subscribed, active in contacts
    ]  # fmt: skip
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO chats (channel, chat_id, language, answers, skipped, current, pending_choices, "
                    "editing, subscribed, active, undelivered, draft, version, created_at, updated_at) VALUES "
                    "('telegram', :chat_id, 'zh-Hans', :answers, '[]', NULL, '[]', false, :subscribed, :active, "
                    "false, NULL, 1, :now, :now)"
                ),
                rows,
            )
    finally:
        await engine.dispose()


def notice_number(message: dict) -> int:
    return int(re.search(r"#(\d+)", message["text"])[1])


def notice_texts(api: FakeBotApi, chat: int, needle: str = "申报通知") -> list[dict]:
    return [m for m in api.sends_to(chat) if needle in m["text"]]


async def until(condition, timeout: float = 15.0) -> None:  # noqa: ANN001
    for _ in range(int(timeout / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not hold in time")


async def status_of(url: str, notice_id: int):  # noqa: ANN201
    store = SqlChatStore.from_url(url)
    try:
        return await store.notice_status(notice_id)
    finally:
        await store.close()


async def test_every_privileged_command_is_refused_to_a_contact_and_nothing_runs(
    api: FakeBotApi, database: str
) -> None:
    async with running_bot(api, database, settings=SETTINGS):
        stranger = Contact(api, STRANGER)
        refusals = {
            "/notice": "只有官员或管理员可以使用这个命令。",
            "/notices": "只有官员或管理员可以使用这个命令。",
            "/notice_status 1": "只有官员或管理员可以使用这个命令。",
            "/notice_cancel 1": "只有官员或管理员可以使用这个命令。",
            "/grant 91003 admin": "只有管理员可以使用这个命令。",
            "/revoke 91001 admin": "只有管理员可以使用这个命令。",
            "/roles": "只有管理员可以使用这个命令。",
            "/reload": "只有管理员可以使用这个命令。",
        }
        for command, refusal in refusals.items():
            assert (await stranger.say(command))[0]["text"] == refusal, command
        # A forged dialogue button does not send anything either.
        api.push_update(api.make_callback(STRANGER, "n:send", api.sends_to(STRANGER)[-1]["message_id"]))
        api.push_update(api.make_callback(STRANGER, "nc:1", api.sends_to(STRANGER)[-1]["message_id"]))
        await asyncio.sleep(0.5)
        assert "只有官员或管理员" in (await stranger.say("/notices"))[0]["text"]
    store = SqlChatStore.from_url(database)
    try:
        assert await store.recent_notices() == []
        assert (await store.load(ChatKeyTelegram(STRANGER))).draft is None
        assert await store.roles_of(STRANGER) == frozenset()
    finally:
        await store.close()


def ChatKeyTelegram(chat: int):  # noqa: ANN201, N802
    from bot.messages import ChatKey

    return ChatKey("telegram", chat)


async def test_an_official_writes_previews_and_sends_a_targeted_notice(api: FakeBotApi, database: str) -> None:
    await seed(database)
    async with running_bot(api, database, settings=SETTINGS):
        admin = Contact(api, ADMIN)
        await admin.say(f"/grant {OFFICIAL} official")
        official = Contact(api, OFFICIAL)
        assert "请发送通知正文" in (await official.say("/notice"))[0]["text"]
        bad = html.unescape((await official.say("<b>申报通知 未闭合"))[0]["text"])
        assert "Telegram 无法显示" in bad and "<b>" in bad
        asked = await official.say('<b>2027年度生物药申报通知</b>\n详见 <a href="https://example.org/a">公告</a>')
        assert "发给谁" in asked[0]["text"] and "n:all" in buttons(asked[0])
        unknown = await official.say("地区:火星市")
        assert "不认识地区“火星市”" in unknown[0]["text"] and "发给谁" in unknown[0]["text"]
        preview = await official.say("地区:长春市\n行业:生物药", replies=2)
        # Exactly what a recipient sees (HTML kept, the opt-out line and button), then whom it reaches.
        assert preview[0]["text"].startswith("<b>2027年度生物药申报通知</b>") and "/unsubscribe" in preview[0]["text"]
        assert preview[0]["parse_mode"] == "HTML" and buttons(preview[0]) == ["unsub"]
        assert "收件人:1 位" in preview[1]["text"] and "1 位已退订、1 位已屏蔽" in preview[1]["text"]
        assert "标题:" in (await official.press("n:call"))[0]["text"]
        call = "标题:2027年度生物药申报\n规则:jilin-6-biologics-rnd\n截止:2027-02-26"
        with_call = await official.say(call, replies=2)
        assert "附带申报窗口:2027年度生物药申报,截止 2027-02-26" in with_call[1]["text"]
        confirmed = await official.press("n:send")
        assert "已排队,共 1 位收件人" in confirmed[0]["text"]
        number = notice_number(confirmed[0])
        await until(lambda: _has(api, 92001))
        await asyncio.sleep(0.5)
        got = {chat for chat in PEOPLE if [m for m in api.sends_to(chat) if "生物药申报通知" in m["text"]]}
        assert got == {92001}, "only the Changchun biologics contact who is subscribed and reachable"
        received = [m for m in api.sends_to(92001) if "生物药申报通知" in m["text"]][0]
        assert buttons(received) == ["unsub"] and "不想再收到通知" in received["text"]
        # Pressing the button under the notice opts out.
        contact = Contact(api, 92001)
        assert "已退订" in (await contact.press("unsub"))[0]["text"]
        status = (await official.say("/notices"))[0]["text"]
        assert f"#{number} 已完成 已发送 1/1" in status
        detail = (await official.say(f"/notice_status {number}"))[0]["text"]
        assert "收件人 1:已发送 1,待发送 0,失败 0" in detail and "1 位已退订,1 位已屏蔽机器人" in detail
    store = SqlChatStore.from_url(database)
    try:
        assert (await store.load(ChatKeyTelegram(92001))).subscribed is False
        actions = [entry.action for entry in await store.audit_log()]
        assert actions == ["grant", "notice"]
        assert (await store.notice_calls())[0][1]["rules"] == ["jilin-6-biologics-rnd"]
    finally:
        await store.close()


async def _has(api: FakeBotApi, chat: int) -> bool:
    return bool(api.sends_to(chat))


async def test_a_scheduled_notice_can_be_cancelled_and_sends_nothing(api: FakeBotApi, database: str) -> None:
    await seed(database)
    async with running_bot(api, database, settings=SETTINGS):
        admin = Contact(api, ADMIN)
        await admin.say("/notice")
        await admin.say("申报通知:明年一月开始")
        await admin.press("n:all", replies=2)
        assert "北京时间" in (await admin.press("n:later"))[0]["text"]
        past = (await admin.say("2020-01-01 09:00"))[0]["text"]
        assert "已经过去" in past
        when = (datetime.now(UTC) + timedelta(days=3)).astimezone().strftime("%Y-%m-%d 09:00")
        preview = await admin.say(when, replies=2)
        # The four subscribed, reachable contacts and the admin's own chat.
        assert "09:00(北京时间)" in preview[1]["text"] and "收件人:5 位" in preview[1]["text"]
        queued = (await admin.press("n:send"))[0]
        assert "已排队,共 5 位收件人" in queued["text"]
        number = notice_number(queued)
        assert "已定时" in (await admin.say(f"/notice_status {number}"))[0]["text"]
        cancelled = await admin.press(f"nc:{number}")
        assert "已取消:尚未发送的 5 条不再发送" in cancelled[0]["text"]
        assert "无法再取消" in (await admin.say(f"/notice_cancel {number}"))[0]["text"]
        await asyncio.sleep(0.5)
        assert not any(notice_texts(api, chat) for chat in PEOPLE)
    status = await status_of(database, number)
    assert status.state == "cancelled" and status.counts == {"cancelled": 5}


async def compose_and_store(url: str, body: str, send_at: datetime | None = None) -> int:
    store = SqlChatStore.from_url(url)
    try:
        engine = load_engine()
        composed = await NoticeDesk(store, lambda: engine).compose(body, Audience(), "test", send_at)
        notice_id, created = await store.create_notice(composed.notice)
        assert created
        return notice_id
    finally:
        await store.close()


async def test_a_notice_scheduled_for_later_goes_out_at_its_time(api: FakeBotApi, database: str) -> None:
    await seed(database)
    async with running_bot(api, database, settings=SETTINGS):
        send_at = datetime.now(UTC) + timedelta(seconds=2)
        notice_id = await compose_and_store(database, "定时的申报通知", send_at)
        await asyncio.sleep(1.0)
        assert not any(api.sends_to(chat) for chat in PEOPLE), "nothing before its time"
        await until(lambda: _done(database, notice_id))
        first = min(m["time"] for chat in PEOPLE for m in api.sends_to(chat))
        assert first > 0
    status = await status_of(database, notice_id)
    assert status.counts == {"sent": 4} and status.excluded == {"opted_out": 1, "blocked": 1}


async def _done(url: str, notice_id: int) -> bool:
    status = await status_of(url, notice_id)
    return status is not None and status.pending == 0


async def test_a_429_is_waited_out_and_a_400_fails_with_telegrams_words(api: FakeBotApi, database: str) -> None:
    await seed(database)
    api.fail_next("sendMessage", 429, retry_after=2)
    api.fail_next("sendMessage", 400, "Bad Request: can't parse entities: Unsupported start tag")
    async with running_bot(api, database, settings=SETTINGS):
        started = asyncio.get_running_loop().time()
        notice_id = await compose_and_store(database, "申报通知:第二批")
        await until(lambda: _done(database, notice_id), timeout=20)
        took = asyncio.get_running_loop().time() - started
    status = await status_of(database, notice_id)
    assert status.counts == {"sent": 3, "rejected": 1}, status.counts
    assert status.errors == ("Can't parse entities: unsupported start tag",), "Telegram's words, as PTB passes them"
    assert took >= 2.0, "the 429's retry_after was waited out"
    assert all(len(notice_texts(api, chat)) <= 1 for chat in PEOPLE), "nobody twice"


async def test_a_403_marks_the_contact_blocked_and_the_row_failed_for_good(api: FakeBotApi, database: str) -> None:
    await seed(database)
    api.block_chat(92003)
    async with running_bot(api, database, settings=SETTINGS):
        notice_id = await compose_and_store(database, "申报通知:第三批")
        await until(lambda: _done(database, notice_id), timeout=20)
        again = await compose_and_store(database, "申报通知:第四批")
    status = await status_of(database, notice_id)
    assert status.counts == {"sent": 3, "blocked": 1}, status.counts
    store = SqlChatStore.from_url(database)
    try:
        assert (await store.load(ChatKeyTelegram(92003))).active is False
        assert (await store.notice_status(again)).excluded["blocked"] == 2, "never chosen again"
    finally:
        await store.close()
