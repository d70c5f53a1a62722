"""Drives simulated contacts through full interviews on the webhook and prints throughput and reply latency.

Run: python benchmarks/bench_telegram.py [--contacts 1000] [--concurrency 20] [--postgres URL]

The bot runs as a separate process (`incentive-bot serve`, webhook mode) against a local fake Bot API in this
process; each contact answers like a person: it waits for the bot's reply before its next update. Latency is
from posting an update to the first message the bot sends that chat in reply. The same driver then runs a bare
python-telegram-bot echo bot, the ceiling. Targets: p99 under 200 ms; at least half the echo bot's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.channels.test_telegram_e2e import empty_database  # noqa: E402
from tests.fakes.bot_api import FakeBotApi  # noqa: E402

SECRET = "bench-secret"
TOKEN = "123456789:AAH-bench-token-for-the-driver_0123"
START_CHAT = 10_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def buttons(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]


class Driver:
    """Posts updates for many contacts and times each reply."""

    def __init__(self, api: FakeBotApi, webhook: str):
        self.api, self.webhook = api, webhook
        self.latencies: list[float] = []
        self.updates = 0

    async def step(self, chat_id: int, update: dict, ready: Callable[[list[dict]], bool]) -> None:
        """Posts one update and waits until the chat's messages satisfy `ready`; records first-reply latency."""
        before = len(self.api.messages_to(chat_id))
        started = time.monotonic()
        status = await self.api.post_webhook(self.webhook, update, SECRET)
        if status != 200:
            raise RuntimeError(f"webhook answered {status}")
        self.updates += 1
        first = (await self.api.wait_for_messages(chat_id, before + 1, timeout=60))[before]
        self.latencies.append(first["time"] - started)
        deadline = time.monotonic() + 60
        while not ready(self.api.messages_to(chat_id)[before:]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"chat {chat_id} stalled: {[m['text'][:30] for m in self.api.messages_to(chat_id)]}")
            await self.api.wait_for_messages(chat_id, len(self.api.messages_to(chat_id)) + 1, timeout=60)

    async def interview(self, chat_id: int) -> None:
        """/start, a region, an industry by buttons, an approval in free text, then 不清楚 until the results."""
        api = self.api

        def has_button(prefix: str) -> Callable[[list[dict]], bool]:
            return lambda new: any(b.startswith(prefix) for m in new for b in buttons(m))

        def last_message() -> dict:
            return api.messages_to(chat_id)[-1]

        await self.step(chat_id, api.make_message(chat_id, "/start"), has_button("s:region"))
        await self.step(chat_id, api.make_message(chat_id, "長春"), has_button("t:industries"))
        question = last_message()["message_id"]
        await self.step(chat_id, api.make_callback(chat_id, "t:industries:biologics", question), bool)
        await self.step(chat_id, api.make_callback(chat_id, "d:industries", question), has_button("s:approvals"))
        await self.step(chat_id, api.make_message(chat_id, "临床试验许可"), has_button("s:projects"))
        for _ in range(30):
            skips = [b for b in buttons(last_message()) if b.startswith("s:")]
            if not skips:
                return

            def answered(new: list[dict]) -> bool:
                return any("结果(按" in m["text"] or any(b.startswith("s:") for b in buttons(m)) for m in new)

            await self.step(chat_id, api.make_callback(chat_id, skips[0], last_message()["message_id"]), answered)
        raise RuntimeError(f"chat {chat_id} never reached its results")

    async def echo(self, chat_id: int, count: int) -> None:
        for i in range(count):
            await self.step(chat_id, self.api.make_message(chat_id, f"echo {i}"), bool)


async def run_phase(api: FakeBotApi, webhook: str, contacts: int, concurrency: int, echo_updates: int = 0) -> Driver:
    driver = Driver(api, webhook)
    gate = asyncio.Semaphore(concurrency)

    async def contact(chat_id: int) -> None:
        async with gate:
            if echo_updates:
                await driver.echo(chat_id, echo_updates)
            else:
                await driver.interview(chat_id)

    started = time.monotonic()
    await asyncio.gather(*(contact(START_CHAT + i) for i in range(contacts)))
    driver.elapsed = time.monotonic() - started
    return driver


def start_process(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


async def wait_ready(api: FakeBotApi, process: subprocess.Popen) -> None:
    for _ in range(600):
        if api.webhook_url:
            return
        if process.poll() is not None:
            raise RuntimeError(f"the bot exited: {process.stderr.read().decode()[-2000:]}")
        await asyncio.sleep(0.05)
    raise RuntimeError("the bot did not register its webhook")


def stop_process(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to show where the work goes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, driver: Driver) -> float:
    lat = sorted(driver.latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    rate = driver.updates / driver.elapsed
    print(
        f"{name:<34} {driver.updates:>6} updates in {driver.elapsed:6.1f} s  {rate:7.1f} updates/s  "
        f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  (p99 target < 200 ms: {'ok' if p99 < 200 else 'OVER'})\n"
        f"{'':<34} CPU per update: bot {driver.cpu * 1000 / driver.updates:.1f} ms, "
        f"driver and fake Bot API {driver.own_cpu * 1000 / driver.updates:.1f} ms"
    )
    return rate


async def bench(
    name: str, command: list[str], env: dict[str, str], contacts: int, concurrency: int, echo_updates: int = 0
) -> tuple[float, int]:
    async with FakeBotApi(token=TOKEN) as api:
        port = free_port()
        webhook = f"http://127.0.0.1:{port}/telegram"
        env = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_WEBHOOK_URL": webhook,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "REMINDER_DAYS": "off",  # only interview replies are measured
            # The update cycle's own speed, not Telegram's 30 messages/s (bench_notices.py measures that).
            "TELEGRAM_RATE_LIMIT": "0",
            **env,
        }
        process = start_process(command, env)
        try:
            await wait_ready(api, process)
            cpu_before, own_before = cpu_seconds(process.pid), cpu_seconds(os.getpid())
            driver = await run_phase(api, webhook, contacts, concurrency, echo_updates)
            driver.cpu = cpu_seconds(process.pid) - cpu_before
            driver.own_cpu = cpu_seconds(os.getpid()) - own_before
        finally:
            stop_process(process)
        rate = report(name, driver)
        return rate, round(driver.updates / contacts)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20, help="contacts talking at the same time")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL URL (default: $TEST_DATABASE_URL); skipped when absent",
    )
    args = parser.parse_args()
    serve = os.environ.get("BENCH_SERVE", f"{sys.executable} -m bot serve").split()
    print(f"{args.contacts} contacts, {args.concurrency} at a time, bot in its own process, webhook mode\n")
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        rates = {
            "SQLite": await bench(
                "interview bot, SQLite", serve, {"DATABASE_URL": sqlite}, args.contacts, args.concurrency
            )
        }
    per_contact = rates["SQLite"][1]
    if args.postgres:
        from bot.store.sql import migrate

        await migrate(args.postgres)
        await empty_database(args.postgres)
        rates["PostgreSQL"] = await bench(
            "interview bot, PostgreSQL", serve, {"DATABASE_URL": args.postgres}, args.contacts, args.concurrency
        )
    else:
        print("interview bot, PostgreSQL: skipped (no --postgres / TEST_DATABASE_URL)")
    echo_rate, _ = await bench(
        "bare PTB echo bot (ceiling)",
        [sys.executable, "benchmarks/echo_bot.py"],
        {},
        args.contacts,
        args.concurrency,
        echo_updates=per_contact,
    )
    same_transport_rate, _ = await bench(
        "echo bot on the aiohttp transport",
        [sys.executable, "benchmarks/echo_bot.py", "--aiohttp"],
        {},
        args.contacts,
        args.concurrency,
        echo_updates=per_contact,
    )
    print()
    for name, (rate, _) in rates.items():
        share = rate / echo_rate
        verdict = "ok" if share >= 0.5 else "UNDER"
        print(
            f"{name}: {share:.0%} of the bare echo bot's throughput (target ≥ 50%: {verdict}); "
            f"{rate / same_transport_rate:.0%} of an echo bot on the same transport"
        )


if __name__ == "__main__":
    asyncio.run(main())
