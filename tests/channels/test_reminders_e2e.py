"""Deadline reminders and the calendar file through the real bot against the fake Bot API, on SQLite and PostgreSQL:
a due reminder arrives once, across a restart; /calendar and its button deliver a file calendar apps import."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.store.notices import NewNotice
from bot.store.sql import SqlChatStore
from handlers.reminders import BEIJING
from tests.channels.test_notices_e2e import insert_contacts
from tests.channels.test_telegram_e2e import Contact, api, database, running_bot  # noqa: F401 - fixtures
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio

CHAT = 93001
TRIAL = "jilin-1-clinical-trial"
TITLE = "新取得临床试验许可或注册申请受理书的医药健康产品奖励"
WHERE = "长春市科学技术局(测试受理窗口)"
# Reminders 7 days before, from midnight: whatever the hour the test runs at, the one below is due at once.
REMINDERS = {"REMINDER_DAYS": "7", "REMINDER_TIME": "00:00"}


async def open_call(url: str, closes: date) -> None:
    """An official's notice that opens an application call for the clinical-trial reward, closing on `closes`."""
    store = SqlChatStore.from_url(url)
    call = {"title": "临床试验奖励申报(测试)", "rules": [TRIAL], "closes": closes.isoformat(), "where": WHERE}
    try:
        await store.create_notice(NewNotice("call-test", "申报通知", {}, datetime.now(UTC), "test", [], call))
    finally:
        await store.close()


async def until(condition, timeout: float = 20.0) -> None:  # noqa: ANN001
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not hold in time")


def reminders_of(api: FakeBotApi, closes: date) -> list[str]:
    return [m["text"] for m in api.sends_to(CHAT) if "申报提醒" in m["text"] and closes.isoformat() in m["text"]]


async def outbox_settled(url: str) -> None:
    store = SqlChatStore.from_url(url)
    try:
        for _ in range(400):
            counts = await store.delivery_counts()
            if not counts.get("pending") and not counts.get("sending"):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the outbox did not empty: {counts}")
    finally:
        await store.close()


async def test_a_due_reminder_arrives_once_and_the_calendar_is_a_file_to_import(api: FakeBotApi, database: str):
    closes = datetime.now(BEIJING).date() + timedelta(days=7)
    profile = {"region": "吉林省/长春市", "industries": ["biologics"], "approvals": ["clinical_trial_permit"]}
    await insert_contacts(database, [(CHAT, profile, True, True)])
    await open_call(database, closes)
    contact = Contact(api, CHAT)
    async with running_bot(api, database, settings=REMINDERS):
        await until(lambda: reminders_of(api, closes))
        reminder = reminders_of(api, closes)[0]
        assert TITLE in reminder and f"截止日期:{closes.isoformat()}(还剩 7 天)" in reminder
        assert "金额:最高200万元(奖励)" in reminder and "第1条" in reminder and f"受理:{WHERE}" in reminder

        await contact.say("/calendar")
        await until(lambda: api.documents_to(CHAT))
        sent = api.documents_to(CHAT)[-1]
        assert sent["document"]["name"] == "deadlines.ics" and "申报截止日历" in sent["text"]
        calendar = Calendar.from_ical(sent["document"]["content"])
        assert str(calendar["method"]) == "PUBLISH" and str(calendar["version"]) == "2.0"
        events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
        event = events[f"{TRIAL}-{closes:%Y%m%d}@incentive-bot"]
        assert event.decoded("dtstart") == closes and str(event["summary"]) == f"申报截止:{TITLE}"
        assert WHERE in str(event["description"]) and "最高200万元" in str(event["description"])

        listing = await contact.say("/deadlines")
        assert closes.isoformat() in listing[0]["text"]
        await contact.press("cal")
        await until(lambda: len(api.documents_to(CHAT)) == 2)
        assert api.documents_to(CHAT)[1]["document"]["content"] == sent["document"]["content"]
        await outbox_settled(database)
    assert len(reminders_of(api, closes)) == 1

    # A restart finds the same reminder due and sends nothing more.
    async with running_bot(api, database, settings=REMINDERS):
        await contact.say("/help")
        await outbox_settled(database)
    assert len(reminders_of(api, closes)) == 1
