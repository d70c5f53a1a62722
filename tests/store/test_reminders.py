"""Deadline reminders on SQLite and PostgreSQL: each queued once and sent once across restarts and processes, and
none sent for a deadline that moved, a reward that stopped matching, or a contact who opted out or was forgotten."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from bot.engine.engine import Engine
from bot.engine.yamlsource import SourceFile
from bot.loading import read_sources
from bot.messages import ChatKey, Delivery, Outgoing
from bot.outbox import Deliverer, DeliveryPolicy
from bot.reminders import ReminderScheduler
from bot.store.base import ChatState, ChatStore
from bot.store.reminders import ReminderKey
from handlers.reminders import BEIJING, ReminderPlan
from tests.store.conftest import POSTGRES

TRIAL = "jilin-1-clinical-trial"
CLOSES = date(2026, 12, 15)
BIOLOGICS_TRIAL = {"region": "吉林省/长春市", "industries": ["biologics"], "approvals": ["clinical_trial_permit"]}
ALICE, BOB = ChatKey("test", 501), ChatKey("test", 502)
SEVEN_DAYS_BEFORE = datetime(2026, 12, 8, 10, 0, tzinfo=BEIJING)


@pytest.fixture(params=["sqlite", POSTGRES])
def backend(request: pytest.FixtureRequest) -> str:
    """Reminders need a database store: SQLite and PostgreSQL (the memory store keeps none)."""
    return request.param


class Phone:
    """What contacts receive: each message the deliverer hands to the channel."""

    def __init__(self) -> None:
        self.received: list[Delivery] = []

    async def send(self, delivery: Delivery) -> None:
        self.received.append(delivery)

    async def check(self) -> None:
        return None

    def messages(self, outgoing: Outgoing) -> int:
        return 1

    def reminders_to(self, chat: ChatKey) -> list[str]:
        return [d.outgoing.text for d in self.received if d.chat == chat and d.kind == "reminder"]


class Process:
    """One bot process's reminder part: a scheduler and a deliverer on its own store, with the rules it runs."""

    def __init__(self, store: ChatStore, phone: Phone, rules: Engine, moment: datetime = SEVEN_DAYS_BEFORE):
        self.store, self.rules, self.moment = store, rules, moment
        self.deliverer = Deliverer(store, {"test": phone}, DeliveryPolicy(poll_seconds=0.05))
        self.scheduler = ReminderScheduler(store, lambda: self.rules, ReminderPlan(), lambda: self.moment)
        self.deliverer.confirm["reminder"] = self.scheduler.confirm

    async def deliver(self) -> None:
        """Runs the deliverer until the outbox holds nothing more to send."""
        stop = asyncio.Event()
        worker = asyncio.create_task(self.deliverer.run(stop))
        try:
            for _ in range(400):
                counts = await self.store.delivery_counts()
                if not counts.get("pending") and not counts.get("sending"):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"the outbox did not empty: {await self.store.delivery_counts()}")
        finally:
            stop.set()
            await worker


async def contact(store: ChatStore, chat: ChatKey, answers: dict, subscribed: bool = True, language: str = "zh-Hans"):
    await store.save(ChatState(chat, language=language, answers=dict(answers), subscribed=subscribed))


def moved(closes: str) -> Engine:
    """The shipped rules with the example call closing on another day, as after a rules reload."""
    sources = read_sources()
    calls = tuple(SourceFile(f.path, f.text.replace("closes: 2026-12-15", f"closes: {closes}")) for f in sources.calls)
    return Engine.build(dataclasses.replace(sources, calls=calls))


async def test_a_due_reminder_is_queued_and_sent_once_across_a_restart_and_a_second_process(
    open_store: Callable[[], ChatStore], engine: Engine
) -> None:
    phone = Phone()
    first = Process(open_store(), phone, engine)
    await contact(first.store, ALICE, BIOLOGICS_TRIAL)
    assert await first.scheduler.queue_due() > 0
    assert ReminderKey(ALICE, TRIAL, CLOSES, 7) in await first.store.queued_reminders(CLOSES)
    assert await first.scheduler.queue_due() == 0  # found due again a minute later: nothing more
    await first.deliver()
    trial = [text for text in phone.reminders_to(ALICE) if "新取得临床试验许可" in text]
    assert len(trial) == 1 and "截止日期:2026-12-15(还剩 7 天)" in trial[0]
    sent = len(phone.received)

    # A restart (a new store and scheduler on the same database), and a second process beside it.
    restarted, beside = Process(open_store(), phone, engine), Process(open_store(), phone, engine)
    assert await restarted.scheduler.queue_due() == 0 and await beside.scheduler.queue_due() == 0
    await restarted.deliver()
    assert len(phone.received) == sent

    # The next reminder of the deadline comes in its own time, once.
    restarted.moment = datetime(2026, 12, 14, 9, 30, tzinfo=BEIJING)
    assert await restarted.scheduler.queue_due() > 0
    await restarted.deliver()
    one_day = [text for text in phone.reminders_to(ALICE) if "新取得临床试验许可" in text][1:]
    assert len(one_day) == 1 and "还剩 1 天" in one_day[0]


async def test_a_reminder_queued_before_both_processes_look_is_queued_by_one_of_them(
    open_store: Callable[[], ChatStore], engine: Engine
) -> None:
    one, other = Process(open_store(), Phone(), engine), Process(open_store(), Phone(), engine)
    await contact(one.store, ALICE, BIOLOGICS_TRIAL)
    counts = await asyncio.gather(one.scheduler.queue_due(), other.scheduler.queue_due())
    assert sum(counts) == len(await one.store.queued_reminders(CLOSES)) > 0


async def test_a_deadline_that_moved_is_not_reminded_for_the_old_date_but_for_the_new(
    open_store: Callable[[], ChatStore], engine: Engine
) -> None:
    phone = Phone()
    process = Process(open_store(), phone, engine)
    await contact(process.store, ALICE, BIOLOGICS_TRIAL)
    await process.scheduler.queue_due()
    process.rules = moved("2026-12-20")  # a reload moves the call's deadline before the reminder went out
    await process.deliver()
    assert phone.reminders_to(ALICE) == []
    assert (await process.store.delivery_counts()).get("cancelled", 0) > 0
    await process.scheduler.queue_due()
    await process.deliver()
    trial = [text for text in phone.reminders_to(ALICE) if "新取得临床试验许可" in text]
    assert len(trial) == 1 and "2026-12-20(还剩 12 天)" in trial[0]


async def test_a_reward_that_stopped_matching_is_not_reminded(
    open_store: Callable[[], ChatStore], engine: Engine
) -> None:
    phone = Phone()
    process = Process(open_store(), phone, engine)
    await contact(process.store, ALICE, BIOLOGICS_TRIAL)
    await process.scheduler.queue_due()
    state = await process.store.load(ALICE)
    state.answers["region"] = "湖北省/武汉市"  # changed in /profile after the reminder was queued
    await process.store.save(state)
    await process.deliver()
    await process.scheduler.queue_due()
    await process.deliver()
    assert phone.reminders_to(ALICE) == []


async def test_a_contact_who_unsubscribed_or_was_forgotten_gets_no_reminder(
    open_store: Callable[[], ChatStore], engine: Engine
) -> None:
    phone = Phone()
    process = Process(open_store(), phone, engine)
    await contact(process.store, ALICE, BIOLOGICS_TRIAL, subscribed=False)
    await contact(process.store, BOB, BIOLOGICS_TRIAL)
    await process.scheduler.queue_due()
    assert {key.chat for key in await process.store.queued_reminders(CLOSES)} == {BOB}
    # Bob unsubscribes once his reminders are queued, and then asks to be forgotten.
    state = await process.store.load(BOB)
    state.subscribed = False
    await process.store.save(state)
    await process.deliver()
    assert phone.received == []
    await process.store.forget(BOB)
    assert await process.store.queued_reminders(CLOSES) == set()
    assert await process.scheduler.queue_due() == 0


async def test_reminders_are_worded_in_the_contacts_language(open_store: Callable[[], ChatStore], engine: Engine):
    phone = Phone()
    process = Process(open_store(), phone, engine)
    await contact(process.store, ALICE, BIOLOGICS_TRIAL, language="en")
    await process.scheduler.queue_due()
    await process.deliver()
    assert any("Closes: 2026-12-15 (7 days left)" in text for text in phone.reminders_to(ALICE))


async def test_between_the_days_turns_only_the_contacts_who_changed_are_matched_again(
    open_store: Callable[[], ChatStore], engine: Engine
) -> None:
    """Matching every contact every minute would cost a large database minutes of CPU an hour: the clock changes
    what is due only at 09:30 and midnight in China, so in between only chats saved since are looked at; a rules
    reload and those turns of the day look at everyone again."""
    phone = Phone()
    process = Process(open_store(), phone, engine)
    # No overlap: a chat saved before a look is not looked at again by the next (a minute's overlap in service).
    process.scheduler = ReminderScheduler(process.store, lambda: process.rules, ReminderPlan(), lambda: process.moment,
                                          overlap=timedelta(0))  # fmt: skip
    process.deliverer.confirm["reminder"] = process.scheduler.confirm
    for chat in (ChatKey("test", 600 + n) for n in range(5)):
        await contact(process.store, chat, {"region": "湖北省/武汉市"})
    await process.scheduler.queue_due()
    assert process.scheduler.last_matched == 5
    assert await process.scheduler.queue_due() == 0 and process.scheduler.last_matched == 0

    # A minute later Alice has finished her interview: she alone is matched, and her reminder queued at once.
    process.moment = SEVEN_DAYS_BEFORE.replace(minute=1)
    await contact(process.store, ALICE, BIOLOGICS_TRIAL)
    assert await process.scheduler.queue_due() > 0
    assert process.scheduler.last_matched == 1
    assert ReminderKey(ALICE, TRIAL, CLOSES, 7) in await process.store.queued_reminders(CLOSES)

    # At midnight in China every contact is matched again, and after a reload of the rules.
    process.moment = datetime(2026, 12, 9, 0, 0, tzinfo=BEIJING)
    await process.scheduler.queue_due()
    assert process.scheduler.last_matched == 6
    process.moment = datetime(2026, 12, 9, 0, 5, tzinfo=BEIJING)
    process.rules = moved("2026-12-20")
    await process.scheduler.queue_due()
    assert process.scheduler.last_matched == 6
    process.moment = datetime(2026, 12, 9, 0, 10, tzinfo=BEIJING)
    await process.scheduler.queue_due()
    assert process.scheduler.last_matched == 0
