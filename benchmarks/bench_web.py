"""Drives simulated contacts through whole interviews over the web chat's JSON API and prints throughput and latency
beside a bare aiohttp handler measured in the same run.

Run: python benchmarks/bench_web.py [--contacts 1000] [--concurrency 20] [--postgres URL] [--quick]

The bot runs as its own process (`incentive-bot serve` without a token: the web chat alone, SQLite by default);
each contact opens a session, sends /start and answers every question with one of the options it offers (or a
typed answer, sometimes 不清楚) until the results, waiting for each reply before the next update, without pausing
to think. Latency is from posting an update to the response that carries its replies. The same driver then posts
as many updates to a bare aiohttp process whose one route echoes the JSON it is sent: the ceiling of the web
server and the driver themselves. Targets: p99 under 100 ms at 20 concurrent contacts, and at least half the bare
handler's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_telegram import cpu_seconds, free_port  # noqa: E402
from tests.channels.web_driver import WebContact, interview  # noqa: E402

P99_TARGET_MS = 100.0
SHARE_TARGET = 0.5


class TimedContact(WebContact):
    """A WebContact that times every update it posts."""

    def __init__(self, http: aiohttp.ClientSession, base: str, latencies: list[float]):
        super().__init__(http, base)
        self.latencies = latencies

    async def send(self, **body):
        started = time.perf_counter()
        replies = await super().send(**body)
        self.latencies.append(time.perf_counter() - started)
        if not replies:
            raise RuntimeError(f"no reply to {body}")
        return replies


class Run:
    def __init__(self, name: str):
        self.name = name
        self.latencies: list[float] = []
        self.elapsed = self.cpu = self.own_cpu = 0.0

    @property
    def updates(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

    def report(self) -> None:
        p50 = statistics.median(self.latencies) * 1000
        p99 = self.percentile(0.99)
        verdict = "ok" if p99 < P99_TARGET_MS else "OVER"
        print(
            f"{self.name:<28} {self.updates:>6} updates in {self.elapsed:6.1f} s  {self.rate:7.1f} updates/s  "
            f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  (p99 target < {P99_TARGET_MS:.0f} ms: {verdict})\n"
            f"{'':<28} CPU per update: server {self.cpu * 1000 / self.updates:.2f} ms, "
            f"driver {self.own_cpu * 1000 / self.updates:.2f} ms"
        )


async def drive(run: Run, pid: int, contacts: int, concurrency: int, step) -> None:
    """Runs `step(http, index)` for every contact, `concurrency` at a time, timing the whole and the CPU used."""
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def contact(index: int) -> None:
            async with gate:
                await step(http, index)

        cpu_before, own_before = cpu_seconds(pid), cpu_seconds(os.getpid())
        started = time.monotonic()
        await asyncio.gather(*(contact(i) for i in range(contacts)))
        run.elapsed = time.monotonic() - started
        run.cpu, run.own_cpu = cpu_seconds(pid) - cpu_before, cpu_seconds(os.getpid()) - own_before


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


async def until_listening(base: str, process: subprocess.Popen) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped at start-up (exit {process.returncode})")
        try:
            async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


async def bench_bot(name: str, database: str, contacts: int, concurrency: int) -> Run:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"DATABASE_URL": database, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "WARNING",
           "WEB_RATE_LIMIT": "0"}  # fmt: skip
    env["TELEGRAM_BOT_TOKEN"] = ""  # the web chat alone
    # BENCH_SERVE runs the bot another way, e.g. "python -m cProfile -o prof.out -m bot serve".
    process = start(os.environ.get("BENCH_SERVE", f"{sys.executable} -m bot serve").split(), env)
    run = Run(name)
    try:
        await until_listening(base, process)

        async def step(http: aiohttp.ClientSession, index: int) -> None:
            contact = await TimedContact(http, base, run.latencies).open()
            await interview(contact, random.Random(index))

        await drive(run, process.pid, contacts, concurrency, step)
    finally:
        stop(process)
    run.report()
    return run


async def bench_bare(updates_per_contact: int, contacts: int, concurrency: int) -> Run:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start([sys.executable, __file__, "--serve-bare", str(port)], {})
    run = Run("bare aiohttp JSON echo")
    try:
        await until_listening(base, process)

        async def step(http: aiohttp.ClientSession, index: int) -> None:
            for number in range(updates_per_contact):
                started = time.perf_counter()
                async with http.post(f"{base}/api/messages", json={"text": f"{index}:{number}"}) as response:
                    await response.json()
                run.latencies.append(time.perf_counter() - started)

        await drive(run, process.pid, contacts, concurrency, step)
    finally:
        stop(process)
    run.report()
    return run


def serve_bare(port: int) -> None:
    """The ceiling: aiohttp answering each post with the JSON it was sent, and nothing else."""
    from aiohttp import web

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"messages": [{"id": 1, "text": (await request.json())["text"]}]})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/api/messages", echo)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20, help="contacts talking at the same time")
    parser.add_argument("--postgres", default=None, help="also run on this PostgreSQL URL (its tables are emptied)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40 contacts")
    parser.add_argument("--serve-bare", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    contacts = 40 if args.quick else args.contacts
    print(f"{contacts} contacts, {args.concurrency} at a time, whole interviews over the JSON API\n")
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        runs.append(await bench_bot("web chat, SQLite", sqlite, contacts, args.concurrency))
    if args.postgres:
        from bot.store.sql import migrate
        from tests.channels.test_telegram_e2e import empty_database

        await migrate(args.postgres)
        await empty_database(args.postgres)
        runs.append(await bench_bot("web chat, PostgreSQL", args.postgres, contacts, args.concurrency))
    per_contact = round(runs[0].updates / contacts)
    bare = await bench_bare(per_contact, contacts, args.concurrency)
    print()
    for run in runs:
        share = run.rate / bare.rate
        print(
            f"{run.name}: {share:.0%} of the bare aiohttp handler's throughput "
            f"(target ≥ {SHARE_TARGET:.0%}: {'ok' if share >= SHARE_TARGET else 'UNDER'}); "
            f"p99 {run.percentile(0.99):.1f} ms (target < {P99_TARGET_MS:.0f} ms: "
            f"{'ok' if run.percentile(0.99) < P99_TARGET_MS else 'OVER'})"
        )
        # The driver runs on the same machine, in one thread: the CPU it spends on each update (reading the real
        # replies, choosing answers) caps the rate whatever the server does.
        ceiling = run.updates / run.own_cpu if run.own_cpu else float("inf")
        print(
            f"{'':<4}the driver alone, at {run.own_cpu * 1000 / run.updates:.2f} ms CPU per update, caps this run at "
            f"{ceiling:,.0f} updates/s = {ceiling / bare.rate:.0%} of the bare handler's; the server spends "
            f"{run.cpu * 1000 / run.updates:.2f} ms CPU per update against the bare handler's "
            f"{bare.cpu * 1000 / bare.updates:.2f} ms"
        )


if __name__ == "__main__":
    options = arguments()
    if options.serve_bare is not None:
        serve_bare(options.serve_bare)
    else:
        asyncio.run(main(options))
