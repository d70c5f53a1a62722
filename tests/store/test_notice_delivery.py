"""How the delivery worker ends each notice row, whatever the platform answers: failures that certainly did not
arrive are retried up to a limit and then fail with the error kept; a send that may have arrived is never repeated,
and nothing more goes out until the platform answers again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.messages import ChatKey, Delivery, Outgoing
from bot.outbox import Deliverer, DeliveryPolicy, RetryLater
from bot.store.notices import NewNotice
from bot.store.sql import SqlChatStore, migrate

pytestmark = pytest.mark.asyncio
FAST = DeliveryPolicy(first_backoff_seconds=0.01, bulk_max_backoff_seconds=0.02, bulk_attempts=3, poll_seconds=0.05)


class ScriptedSender:
    """Answers each send with the next failure of its script for that chat, then succeeds; records what went out."""

    def __init__(self, failures: dict[int, list[Exception]], down_checks: int = 0) -> None:
        self.failures, self.down_checks = failures, down_checks
        self.sent: list[int] = []
        self.attempts: list[int] = []
        self.checks = 0

    async def send(self, delivery: Delivery) -> None:
        self.attempts.append(delivery.chat.id)
        script = self.failures.get(delivery.chat.id)
        if script:
            raise script.pop(0)
        self.sent.append(delivery.chat.id)

    async def check(self) -> None:
        self.checks += 1
        if self.checks <= self.down_checks:
            raise RetryLater("still down")


@pytest.fixture()
async def store(tmp_path: Path) -> AsyncIterator[SqlChatStore]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await migrate(url)
    opened = SqlChatStore.from_url(url)
    yield opened
    await opened.close()


async def broadcast(store: SqlChatStore, chats: list[int], sender: ScriptedSender) -> dict[str, int]:
    recipients = [(ChatKey("telegram", chat), Outgoing("申报通知", html=True)) for chat in chats]
    notice = NewNotice("token", "申报通知", {}, datetime.now(UTC), "test", recipients)
    notice_id, _ = await store.create_notice(notice)
    deliverer = Deliverer(store, {"telegram": sender}, FAST)
    stop = asyncio.Event()
    worker = asyncio.create_task(deliverer.run(stop))
    try:
        for _ in range(400):
            status = await store.notice_status(notice_id)
            if status.pending == 0:
                break
            await asyncio.sleep(0.025)
    finally:
        stop.set()
        await worker
    status = await store.notice_status(notice_id)
    assert status.pending == 0, status.counts
    return {**status.counts, "errors": list(status.errors)}


async def test_a_failure_that_never_arrived_is_retried_then_fails_with_its_error(store: SqlChatStore) -> None:
    down = [RetryLater("NetworkError: Bad Gateway") for _ in range(5)]
    sender = ScriptedSender({1: [RetryLater("NetworkError: Bad Gateway")], 2: down})
    counts = await broadcast(store, [1, 2, 3], sender)
    assert sorted(sender.sent) == [1, 3], "retried once and sent; the other never got through"
    assert sender.attempts.count(2) == 3, "as many tries as the policy allows, no more"
    assert counts == {"sent": 2, "failed": 1, "errors": ["NetworkError: Bad Gateway"]}


async def test_a_send_that_may_have_arrived_is_ambiguous_and_never_repeated(store: SqlChatStore) -> None:
    sender = ScriptedSender({2: [RetryLater("TimedOut", maybe_sent=True)]}, down_checks=2)
    counts = await broadcast(store, [1, 2, 3], sender)
    assert sender.attempts.count(2) == 1 and sorted(sender.sent) == [1, 3]
    assert counts["sent"] == 2 and counts["ambiguous"] == 1
    assert sender.checks == 3, "nothing more went out until the platform answered again"


async def store_notice(store: SqlChatStore, token: str, chats: list[int], send_at: datetime | None = None) -> int:
    recipients = [(ChatKey("telegram", chat), Outgoing(f"通知 {token}", html=True)) for chat in chats]
    notice_id, _ = await store.create_notice(NewNotice(token, token, {}, send_at or datetime.now(UTC), "t", recipients))
    return notice_id


async def test_a_notice_scheduled_for_later_does_not_hold_up_one_due_now(store: SqlChatStore) -> None:
    await store_notice(store, "later", [1, 2], datetime.now(UTC) + timedelta(days=7))
    now = await store_notice(store, "now", [1, 2])
    claimed = await store.claim_bulk("worker", 10, 30, (3.0, 1.0))
    assert sorted(d.chat.id for d in claimed) == [1, 2] and all(d.outgoing.text == "通知 now" for d in claimed)
    assert (await store.notice_status(now)).pending == 2


async def test_a_chat_waits_a_second_and_a_group_three_after_its_last_message(store: SqlChatStore) -> None:
    await store_notice(store, "first", [7, -7])
    for delivery in await store.claim_bulk("worker", 10, 30, (3.0, 1.0)):
        assert await store.start_sending(delivery.id, "worker", 30) == "sending"
        await store.finish_bulk(delivery.id, "worker", "sent")
    await store_notice(store, "second", [7, -7])
    assert await store.claim_bulk("worker", 10, 30, (3.0, 1.0)) == [], "both got a message just now"
    await asyncio.sleep(1.1)
    assert [d.chat.id for d in await store.claim_bulk("worker", 10, 30, (3.0, 1.0))] == [7], "the private chat"
    await asyncio.sleep(2.0)
    assert [d.chat.id for d in await store.claim_bulk("other", 10, 30, (3.0, 1.0))] == [-7], "then the group"


async def test_a_cancel_stops_a_message_whose_send_failed_meanwhile(store: SqlChatStore) -> None:
    notice_id = await store_notice(store, "x", [1])
    (delivery,) = await store.claim_bulk("worker", 10, 30, (3.0, 1.0))
    assert await store.start_sending(delivery.id, "worker", 30) == "sending"
    cancelled, _ = await store.cancel_notice(notice_id, "official")
    assert cancelled
    await store.retry_bulk(delivery.id, "worker", 0.0, "NetworkError: Bad Gateway")
    assert await store.claim_bulk("other", 10, 30, (3.0, 1.0)) == []
    assert (await store.notice_status(notice_id)).counts == {"cancelled": 1}


async def test_a_429_gives_its_attempt_back(store: SqlChatStore) -> None:
    slow = [RetryLater("Telegram asks to slow down (429)", after=0.01) for _ in range(5)]
    sender = ScriptedSender({1: slow})
    counts = await broadcast(store, [1], sender)
    assert sender.sent == [1] and counts["sent"] == 1, "five 429s are no failure, with three attempts allowed"
