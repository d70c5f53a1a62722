"""Notice broadcasts sent by `python -m bot worker` processes: a worker killed with SIGKILL mid-broadcast is finished
by the next without a duplicate (at most one message per kill in doubt, shown as ambiguous), two workers on one
PostgreSQL share a broadcast, and the rate limit holds for them together."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.loading import load_engine
from bot.notices import NoticeDesk
from bot.store.notices import NoticeStatus
from bot.store.sql import SqlChatStore, migrate
from handlers.official import Audience
from tests.channels import test_telegram_e2e as e2e
from tests.channels.test_notices_e2e import insert_contacts
from tests.channels.test_telegram_e2e import bot_settings, empty_database, postgres_url
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio

# The fixtures of the end-to-end tests: a fake Bot API, and each database (PostgreSQL required in CI).
api = e2e.api
database = e2e.database

NOTICE = "<b>申报通知</b> 第一批"
FIRST_CHAT = 300_001


@pytest.fixture()
async def postgresql() -> AsyncIterator[str]:
    """The machine's PostgreSQL, migrated and empty: several workers share only a PostgreSQL (required in CI)."""
    url = postgres_url()
    await migrate(url)
    await empty_database(url)
    yield url


async def seed_recipients(url: str, count: int) -> list[int]:
    """`count` subscribed contacts in Changchun; returns their chat ids."""
    chats = list(range(FIRST_CHAT, FIRST_CHAT + count))
    await insert_contacts(url, [(chat, {"region": "吉林省/长春市"}, True, True) for chat in chats])
    return chats


async def create_notice(url: str, recipients: int) -> int:
    """A notice to everyone, stored as an official's confirmation stores it; its id."""
    store = SqlChatStore.from_url(url)
    engine = load_engine()
    try:
        composed = await NoticeDesk(store, lambda: engine).compose(NOTICE, Audience(), "test")
        assert composed.count == recipients
        notice_id, created = await store.create_notice(composed.notice)
        assert created
        return notice_id
    finally:
        await store.close()


class Workers:
    """`python -m bot worker` processes on the fake Bot API and a database, each logging to its own file."""

    def __init__(self, api: FakeBotApi, url: str, logs: Path, settings: dict[str, str]):
        self.environment = os.environ | bot_settings(api, url) | settings
        self.logs, self.processes = logs, []

    async def start(self) -> asyncio.subprocess.Process:
        log = self.logs / f"worker-{len(self.processes) + 1}.log"
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "worker", env=self.environment, stdout=stderr, stderr=stderr
            )
        self.processes.append(process)
        return process

    async def stop_all(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.kill()
                await process.wait()

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(self.logs.glob("*.log")))


async def wait_for_sends(api: FakeBotApi, count: int, workers: Workers, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(api.sent) < count:
        assert time.monotonic() < deadline, f"only {len(api.sent)} sent of {count}\n{workers.output()}"
        await asyncio.sleep(0.005)


async def wait_until_done(url: str, notice_id: int, workers: Workers, timeout: float = 40) -> NoticeStatus:
    """The notice's status once nothing of it is pending or being sent."""
    store = SqlChatStore.from_url(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            status = await store.notice_status(notice_id)
            if status.pending == 0:
                return status
            assert time.monotonic() < deadline, f"still pending: {status.counts}\n{workers.output()}"
            await asyncio.sleep(0.2)
    finally:
        await store.close()


async def rows_in_state(url: str, notice_id: int, state: str) -> set[int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                text("SELECT chat_id FROM outbox WHERE notice_id = :notice AND state = :state"),
                {"notice": notice_id, "state": state},
            )
            return {chat_id for (chat_id,) in result}
    finally:
        await engine.dispose()


def received(api: FakeBotApi) -> Counter[int]:
    """How many times each chat received the notice; anything else the workers sent fails the test."""
    assert all("申报通知" in message["text"] for message in api.sent), [m["text"][:40] for m in api.sent]
    return Counter(message["chat_id"] for message in api.sent if message["method"] == "sendMessage")


def busiest_second(times: list[float]) -> int:
    """The most sends in any sliding window of one second."""
    times, most, first = sorted(times), 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_a_worker_killed_mid_broadcast_is_finished_by_the_next_without_duplicates(
    api: FakeBotApi, database: str, tmp_path: Path
) -> None:
    chats = await seed_recipients(database, 300)
    notice_id = await create_notice(database, len(chats))
    workers = Workers(api, database, tmp_path, {"TELEGRAM_RATE_LIMIT": "100", "DELIVERY_LEASE_SECONDS": "2"})
    try:
        for kill_at in (100, 200):  # two kills, at different points of the broadcast
            victim = await workers.start()
            await wait_for_sends(api, kill_at, workers)
            victim.kill()  # kill -9: no clean-up, claimed rows and the one being sent stay as they are
            await victim.wait()
        last = await workers.start()
        status = await wait_until_done(database, notice_id, workers)
        assert last.returncode is None, f"the last worker exited\n{workers.output()}"
    finally:
        await workers.stop_all()
    copies = received(api)
    ambiguous = await rows_in_state(database, notice_id, "ambiguous")
    kills = 2
    report = f"counts {status.counts}, ambiguous {sorted(ambiguous)}\n{workers.output()}"
    assert not {chat: n for chat, n in copies.items() if n > 1}, f"received twice: {report}"
    assert set(copies) <= set(chats)
    # Every contact got it exactly once, except a contact whose row is ambiguous (it got it once or not at all).
    missing = set(chats) - set(copies)
    assert missing <= ambiguous, f"never received and not ambiguous: {sorted(missing - ambiguous)}; {report}"
    assert status.counts.get("sent", 0) + status.counts.get("ambiguous", 0) == len(chats), report
    assert len(ambiguous) <= kills, report  # at most one message in doubt per killed worker
    assert status.state == "done"


async def test_two_workers_on_postgresql_share_a_broadcast_without_duplicates(
    api: FakeBotApi, postgresql: str, tmp_path: Path
) -> None:
    api.limit(per_second=200)
    chats = await seed_recipients(postgresql, 600)
    notice_id = await create_notice(postgresql, len(chats))
    workers = Workers(api, postgresql, tmp_path, {"TELEGRAM_RATE_LIMIT": "200", "DELIVERY_LEASE_SECONDS": "5"})
    try:
        both = [await workers.start(), await workers.start()]
        status = await wait_until_done(postgresql, notice_id, workers)
        assert all(process.returncode is None for process in both), f"a worker exited\n{workers.output()}"
    finally:
        await workers.stop_all()
    copies = received(api)
    report = f"counts {status.counts}, throttled {len(api.throttled)}\n{workers.output()}"
    assert not {chat: n for chat, n in copies.items() if n > 1}, f"received twice: {report}"
    assert set(copies) == set(chats), f"never received: {sorted(set(chats) - set(copies))}; {report}"
    assert status.counts == {"sent": len(chats)}, report
    # Every attempt counts, refused ones too: the workers together kept to the limit, and Telegram never said 429.
    attempts = [message["time"] for message in api.sent] + [moment for _, _, moment in api.throttled]
    assert busiest_second(attempts) <= 200, report
    assert not api.throttled, report


async def test_the_rate_limit_holds_across_two_workers(api: FakeBotApi, postgresql: str, tmp_path: Path) -> None:
    api.limit(per_second=20)
    chats = await seed_recipients(postgresql, 120)
    notice_id = await create_notice(postgresql, len(chats))
    workers = Workers(api, postgresql, tmp_path, {"TELEGRAM_RATE_LIMIT": "20", "DELIVERY_LEASE_SECONDS": "5"})
    try:
        await workers.start()
        await workers.start()
        status = await wait_until_done(postgresql, notice_id, workers)
    finally:
        await workers.stop_all()
    copies = received(api)
    report = f"counts {status.counts}, throttled {api.throttled[:5]}\n{workers.output()}"
    assert sorted(copies.elements()) == chats, report  # each exactly once
    assert status.counts == {"sent": len(chats)}, report
    times = [message["time"] for message in api.sent]
    attempts = times + [moment for _, _, moment in api.throttled]
    assert busiest_second(attempts) <= 20, report
    assert not api.throttled, report  # no 429 from Telegram
    # 120 messages at 20/s (less the 3 % margin) cannot go out in less than about 6 s.
    assert max(times) - min(times) >= 5.5, f"sent within {max(times) - min(times):.2f} s"
