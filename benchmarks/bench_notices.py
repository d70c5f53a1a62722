"""One notice to 10,000 recipients under Telegram's send limits while contacts keep interviewing: how close does
the bot come to the limit, does every recipient get the notice exactly once, and do replies stay quick?

Run: python benchmarks/bench_notices.py [--recipients 10000] [--rates 30,300] [--contacts 20] [--postgres URL]

Per rate N, the bot runs in webhook mode as its own processes against a local fake Bot API in this process that
enforces Telegram's limits (N messages in any second, one a second per chat with bursts of 3, 20 a minute per
group) and answers 429 beyond them; the bot is told TELEGRAM_RATE_LIMIT=N. At N up to 30 one `serve` process sends
everything; above 30, `serve` plus one `worker` process share the broadcast, which needs PostgreSQL (--workers
changes this). The database is PostgreSQL when --postgres or TEST_DATABASE_URL is given (a scratch database is
created on that server and dropped at the end), else a SQLite file.

The recipients are inserted as subscribed contacts who finished their interview; the notice is then composed and
stored with the bot's own code, as an official's confirmation does (audience: every subscriber). Only then do the
interviewing contacts start, on chat ids outside the recipients' range, so the notice does not go to them. Each
runs bench_telegram.py's interview, waiting 1-2 s (at random) before each answer as a person does, so Telegram's
per-chat limit lets the replies through; at the end it sends /start, presses the start-over button and begins again.

Prints one line per N once the notice's status shows nothing pending:

    N=30 rate_fraction=0.96 duplicates=0 losses=0 reply_p99_ms=180 throttled=0 workers=1 seconds=352.0 ...

rate_fraction: messages the fake recorded per second (notices and replies alike, since they share the budget),
from the first notice message recorded to the last, over N. duplicates: recipients who got the notice more than
once. losses: recipients who got none. reply_p99_ms: 99th percentile of the time from posting a contact's update to
the bot's first message back, over updates posted during the broadcast. throttled: calls the fake refused, by limit.
workers: bot processes sending. seconds: from storing the notice until nothing of it is pending. Then the notice's
own counts (sent, ambiguous, failed) and whether the targets are met: rate_fraction >= 0.95 with no duplicates and
no losses at every N, and a reply p99 under 1 s at N up to 30.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from benchmarks.bench_telegram import SECRET, TOKEN, Driver, buttons, cpu_seconds  # noqa: E402
from bot.channels.telegram import chat_key  # noqa: E402
from bot.engine.engine import Engine  # noqa: E402
from bot.loading import load_engine  # noqa: E402
from bot.notices import NoticeDesk  # noqa: E402
from bot.store.base import ChatState  # noqa: E402
from bot.store.notices import NoticeStatus  # noqa: E402
from bot.store.sql import DEFAULT_DATABASE_PATH, SqlChatStore, database_url, migrate, open_engine  # noqa: E402
from bot.store.statements import ChatSql  # noqa: E402
from handlers.official import Audience  # noqa: E402
from tests.channels.test_ordering import BotProcess  # noqa: E402
from tests.channels.test_telegram_e2e import empty_database  # noqa: E402
from tests.fakes.bot_api import FakeBotApi  # noqa: E402

NOTICE = (
    "<b>2027年度申报通知</b>\n"
    "2027年度省级生物医药产业发展专项资金即日起接受申报,截止日期为2027年3月31日。"
    "符合条件的企业请通过 /results 查看可申报的项目。"
)
PROFILE = {"region": "吉林省/长春市", "industries": ["biologics"]}
FIRST_RECIPIENT = 1_000_000
FIRST_CONTACT = 500_000  # below the recipients: the notice never goes to an interviewing contact
THINK_SECONDS = (1.0, 2.0)
SINGLE_PROCESS_RATE = 30.0  # Telegram's usual broadcast limit; above it a second process helps send
STALL_SECONDS = 120.0  # the notice made no progress for this long: stop waiting and count what arrived
LATE_COPY_SECONDS = 2.0  # a second copy of a notice still on its way arrives within this
TARGET_FRACTION = 0.95
TARGET_P99_MS = 1000.0


class WorkerProcess(BotProcess):
    """`python -m bot worker` beside the serve process, with the same settings; ready once it has called getMe."""

    command = "worker"

    async def start(self) -> None:
        asked = sum(method == "getMe" for method, _ in self.api.calls)
        await self.spawn()
        await self.until_ready(lambda: sum(method == "getMe" for method, _ in self.api.calls) > asked)


class Stopped(Exception):
    """The broadcast is over: the contact stops talking."""


class Person(Driver):
    """One contact interviewing like a person: a pause before each answer, and a new interview after each."""

    def __init__(self, api: FakeBotApi, webhook: str, rng: random.Random):
        super().__init__(api, webhook)
        self.rng = rng
        self.timed: list[tuple[float, float]] = []  # (when the update was posted, seconds to the first reply)
        self.interviews = 0
        self.stalls: list[str] = []
        self.stopped = False

    async def step(self, chat_id: int, update: dict, ready: Callable[[list[dict]], bool]) -> None:
        await asyncio.sleep(self.rng.uniform(*THINK_SECONDS))
        if self.stopped:
            raise Stopped
        posted = time.monotonic()
        await super().step(chat_id, update, ready)
        self.timed.append((posted, self.latencies[-1]))

    async def start_over(self, chat_id: int, finished: bool = True) -> None:
        """/start offers to start over (after the results, or mid-interview); the button clears the answers.

        Not finished (after a step that got no reply): whatever /start brings, the next interview starts clean.
        """
        api = self.api
        before = len(api.messages_to(chat_id))

        def asked(new: list[dict]) -> bool:
            return any(b.startswith("s:region") for m in new for b in buttons(m))

        def offered(new: list[dict]) -> bool:
            restart = any("restart" in buttons(m) for m in new)
            return restart and any("结果(按" in m["text"] for m in new) if finished else restart or asked(new)

        await self.step(chat_id, api.make_message(chat_id, "/start"), offered)
        offers = [m for m in api.messages_to(chat_id)[before:] if "restart" in buttons(m)]
        if offers:
            await self.step(chat_id, api.make_callback(chat_id, "restart", offers[-1]["message_id"]), asked)

    async def keep_talking(self, chat_id: int) -> None:
        stalled = False
        while not self.stopped:
            try:
                if stalled:
                    await self.start_over(chat_id, finished=False)
                await self.interview(chat_id)
                self.interviews += 1
                await self.start_over(chat_id)
                stalled = False
            except (RuntimeError, AssertionError) as exc:
                self.stalls.append(str(exc)[:300])
                stalled = True
            except Stopped:
                return


@dataclass
class Result:
    rate: float
    workers: int
    status: NoticeStatus
    finished: bool
    seconds: float
    fraction: float
    duplicates: int
    losses: int
    p99_ms: float
    throttled: Counter[str]
    replies: int
    notes: list[str] = field(default_factory=list)

    @property
    def misses(self) -> list[str]:
        missed = []
        if not self.fraction >= TARGET_FRACTION:
            missed.append("rate_fraction")
        if self.duplicates:
            missed.append("duplicates")
        if self.losses:
            missed.append("losses")
        if self.rate <= SINGLE_PROCESS_RATE and not self.p99_ms < TARGET_P99_MS:
            missed.append("reply_p99_ms")
        return missed


async def add_recipients(database: str, chats: range) -> None:
    """The recipients as contacts who answered region and industry, inserted in one executemany."""
    engine = open_engine(database)
    try:
        sql = ChatSql(engine.dialect.name)
        stamp = sql.timestamp(datetime.now(UTC))
        rows = [
            ("telegram", chat, *sql.values(ChatState(chat_key(chat), answers=PROFILE)), 1, stamp, stamp)
            for chat in chats
        ]
        async with engine.begin() as connection:
            await connection.exec_driver_sql(sql.insert, rows)
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_database(server: str) -> AsyncIterator[str]:
    """A new database on the PostgreSQL server of the URL `server`, dropped at the end."""
    url = make_url(database_url(server, DEFAULT_DATABASE_PATH))
    name = f"bench_notices_{secrets.token_hex(4)}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


async def until_sent(store: SqlChatStore, notice_id: int) -> tuple[NoticeStatus, bool]:
    """The notice's status once nothing of it is pending, or when it made no progress for STALL_SECONDS."""
    progress, moved = -1, time.monotonic()
    while True:
        status = await store.notice_status(notice_id)
        if status.pending == 0:
            return status, True
        done = status.recipients - status.pending
        if done != progress:
            progress, moved = done, time.monotonic()
        elif time.monotonic() - moved > STALL_SECONDS:
            return status, False
        await asyncio.sleep(0.5)


async def stop_talking(people: list[Person], tasks: list[asyncio.Task]) -> None:
    """Cancels the contacts; one whose cancellation got lost (asyncio.wait_for before 3.12) stops at its next step."""
    for person in people:
        person.stopped = True
    while tasks:
        for task in tasks:
            task.cancel()
        _, pending = await asyncio.wait(tasks, timeout=1)
        tasks = list(pending)


def log_notes(processes: list[BotProcess]) -> list[str]:
    notes = []
    for process in processes:
        lines = process.log_text().splitlines()
        errors = [line for line in lines if " ERROR " in line or "Traceback" in line]
        warnings = [line for line in lines if " WARNING " in line]
        name = process.log.stem
        if errors:
            notes.append(f"{name} logged {len(errors)} error line(s), the first: {errors[0][:300]}")
        if warnings:
            kinds = Counter(line.split(" WARNING ", 1)[1].split(":", 1)[0] for line in warnings)
            notes.append(f"{name} logged {len(warnings)} warning(s) ({dict(kinds)}), the first: {warnings[0][:300]}")
    return notes


async def run_rate(
    engine: Engine, database: str, rate: float, workers: int, recipients: int, contacts: int, folder: Path
) -> Result:
    await migrate(database)
    if database.startswith("postgresql"):
        await empty_database(database)
    chats = range(FIRST_RECIPIENT, FIRST_RECIPIENT + recipients)
    await add_recipients(database, chats)
    async with FakeBotApi(token=TOKEN) as api:
        api.limit(per_second=rate, per_chat_per_second=1.0, per_chat_burst=3, group_per_minute=20)
        env = {
            "LOG_LEVEL": "WARNING",
            "REMINDER_DAYS": "off",
            "TELEGRAM_RATE_LIMIT": f"{rate:g}",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
        }
        label = f"{rate:g}"
        serve = BotProcess(api, database, folder / f"serve-N{label}.log", env)
        extra = [WorkerProcess(api, database, folder / f"worker{i}-N{label}.log", env) for i in range(1, workers)]
        processes: list[BotProcess] = [serve, *extra]
        store = SqlChatStore.from_url(database)
        people: list[Person] = []
        tasks: list[asyncio.Task] = []
        try:
            for process in processes:
                await process.start()
            composed = await NoticeDesk(store, lambda: engine).compose(NOTICE, Audience(), "bench")
            notice_id, _ = await store.create_notice(composed.notice)
            stored = time.monotonic()
            pids = {process.log.stem: process.process.pid for process in processes} | {"bench": os.getpid()}
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            rng = random.Random(int(rate))
            for index in range(contacts):
                person = Person(api, serve.url, random.Random(rng.random()))
                people.append(person)
                tasks.append(asyncio.create_task(person.keep_talking(FIRST_CONTACT + index)))
            status, finished = await until_sent(store, notice_id)
            seconds = time.monotonic() - stored
            busy = {name: (cpu_seconds(pid) - cpu_before[name]) / seconds for name, pid in pids.items()}
            await asyncio.sleep(LATE_COPY_SECONDS)
        finally:
            await stop_talking(people, tasks)
            await store.close()
            await asyncio.gather(*(process.stop() for process in processes))

        copies: Counter[int] = Counter()
        times = []
        for message in api.sent:
            if message["method"] == "sendMessage" and (message["text"] or "").startswith(NOTICE):
                copies[message["chat_id"]] += 1
                times.append(message["time"])
        first, last = (min(times), max(times)) if times else (0.0, 0.0)
        recorded = sum(first <= message["time"] <= last for message in api.sent)
        fraction = (recorded - 1) / (last - first) / rate if last > first else float("nan")
        latencies = sorted(latency for person in people for posted, latency in person.timed if first <= posted <= last)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else float("nan")
        result = Result(
            rate, workers, status, finished, seconds, fraction,
            duplicates=sum(count > 1 for count in copies.values()),
            losses=sum(copies[chat] == 0 for chat in chats),
            p99_ms=p99,
            throttled=Counter(reason for reason, _, _ in api.throttled),
            replies=len(latencies),
        )  # fmt: skip
        if not finished:
            result.notes.append(f"gave up: nothing of the notice moved for {STALL_SECONDS:.0f} s; {status.counts}")
        strangers = sorted(set(copies) - set(chats))
        if strangers:
            result.notes.append(f"the notice also went to {len(strangers)} chat(s) outside the recipients")
        stalls = [stall for person in people for stall in person.stalls]
        if stalls:
            result.notes.append(f"{len(stalls)} interview step(s) got no reply in time, the first: {stalls[0]}")
        interviews = sum(person.interviews for person in people)
        result.notes.append(
            f"{result.replies} contact updates during the broadcast, {interviews} interviews finished, "
            f"notice messages {len(times)} over {last - first:.1f} s"
        )
        result.notes.append(
            f"CPU while sending ({os.cpu_count()} cores): "
            + ", ".join(f"{name} {share:.0%}" for name, share in busy.items())
            + " of a core (bench: the fake Bot API and the contacts)"
        )
        result.notes += log_notes(processes)
        return result


def report(result: Result) -> None:
    counts = result.status.counts
    throttled = sum(result.throttled.values())
    reasons = ",".join(f"{reason}={count}" for reason, count in sorted(result.throttled.items()))
    missed = result.misses
    print(
        f"N={result.rate:g} rate_fraction={result.fraction:.3f} duplicates={result.duplicates} "
        f"losses={result.losses} reply_p99_ms={result.p99_ms:.0f} "
        f"throttled={throttled}{f'({reasons})' if reasons else ''} workers={result.workers} "
        f"seconds={result.seconds:.1f} sent={counts.get('sent', 0)} ambiguous={counts.get('ambiguous', 0)} "
        f"failed={counts.get('failed', 0) + counts.get('rejected', 0)} "
        f"targets={'ok' if not missed else 'MISSED:' + ','.join(missed)}",
        flush=True,
    )
    for note in result.notes:
        print(f"  {note}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rates", default="30,300", help="Telegram's limit N in messages/s, comma-separated")
    parser.add_argument(
        "--workers",
        help="bot processes sending at each rate, comma-separated (default: 1 up to 30/s, 2 above)",
    )
    parser.add_argument("--contacts", type=int, default=20, help="contacts interviewing during the broadcast")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL URL (default: $TEST_DATABASE_URL); a scratch database is made there; default: SQLite",
    )
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rates.split(",")]
    if args.workers:
        workers = [int(count) for count in args.workers.split(",")]
        if len(workers) != len(rates) or min(workers) < 1:
            parser.error("--workers needs one count of at least 1 per rate")
    else:
        workers = [1 if rate <= SINGLE_PROCESS_RATE else 2 for rate in rates]
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    engine = load_engine()
    print(
        f"{args.recipients} recipients, {args.contacts} contacts interviewing, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}; targets: rate_fraction >= {TARGET_FRACTION}, no duplicates, "
        f"no losses; reply p99 < {TARGET_P99_MS:.0f} ms at N <= {SINGLE_PROCESS_RATE:g}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        async with AsyncExitStack() as stack:
            server = await stack.enter_async_context(scratch_database(args.postgres)) if args.postgres else None
            for rate, count in zip(rates, workers, strict=True):
                if count > 1 and server is None:
                    print(
                        f"N={rate:g} skipped: {count} processes share a broadcast only on PostgreSQL "
                        "(give --postgres or TEST_DATABASE_URL)",
                        flush=True,
                    )
                    continue
                database = server or f"sqlite+aiosqlite:///{Path(folder) / f'bench-N{rate:g}.sqlite3'}"
                report(await run_rate(engine, database, rate, count, args.recipients, args.contacts, Path(folder)))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except asyncio.CancelledError:
        sys.exit(128 + signal.SIGTERM)
