"""Two webhook bot processes on one database get each chat's updates alternately, gap ms apart: applied right?"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.store.sql import migrate  # noqa: E402
from tests.channels.test_ordering import (  # noqa: E402
    BotProcess,
    missing_replies,
    running,
    sequential_interview,
    stored_states,
)
from tests.channels.test_telegram_e2e import SECRET, empty_database  # noqa: E402
from tests.fakes.bot_api import FakeBotApi  # noqa: E402

USAGE = """Each chat sends /start and then the first N answers of a fixed interview, update k posted k x gap ms after
the chat's first (0 ms: all at once), to the two processes in turn, so a later update can be handled before an
earlier one. Per gap it prints `gap_ms=0 chats=700 misapplied=0 lost=0`: misapplied counts chats whose stored
interview differs from the same answers applied one after another, lost counts updates whose reply never arrived.
Then throughput, p50/p99 of the time from a chat's first post to its last reply, how many turns the bots replayed
(their INFO log line), and the replies beyond the expected ones: repeats of an expected reply, and replies a
sequential interview never sends (an answer read against the wrong question)."""
TOKEN = "123456789:AAH-bench-token-for-the-driver_0123"
# /start, then answers each of which only fits its own question: applied out of order, it is misread or stored
# under another fact ("8亿" is last year's revenue, but this year's if it comes one question early).
INTERVIEW = ["/start", "長春", "生物制药", "临床试验许可", "生物药研发", "12亿", "8亿"]

# Ordering under load, not Telegram's 30 messages/s: the fake Bot API sets no limit either.
UNLIMITED = {"TELEGRAM_RATE_LIMIT": "0"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def run_gap(
    api: FakeBotApi,
    bots: list[BotProcess],
    database: str,
    gap_ms: int,
    chats: list[int],
    script: list[str],
    wait: float,
) -> None:
    expected, replies = sequential_interview(script)
    # Made now, in order: each chat's update ids rise with its script, whenever they are posted.
    updates = {chat: [api.make_message(chat, text) for text in script] for chat in chats}
    replays_before = sum(bot.replays() for bot in bots)
    started = time.monotonic()

    async def post(chat: int, index: int) -> None:
        await asyncio.sleep(max(0.0, started + index * gap_ms / 1000 - time.monotonic()))
        status = await api.post_webhook(bots[index % len(bots)].url, updates[chat][index], SECRET)
        if status != 200:
            raise RuntimeError(f"the webhook answered {status}")

    await asyncio.gather(*(post(chat, index) for chat in chats for index in range(len(script))))
    # Until every expected reply is in, or nothing new has come for `wait` seconds.
    count, quiet_since = len(api.sent), time.monotonic()
    while any(missing_replies(api, chat, replies) for chat in chats) and time.monotonic() - quiet_since < wait:
        await asyncio.sleep(0.2)
        if len(api.sent) != count:
            count, quiet_since = len(api.sent), time.monotonic()
    await asyncio.sleep(1.0)  # replies still on their way (a replay's) arrive now
    replays = sum(bot.replays() for bot in bots) - replays_before

    states = await stored_states(database, chats)
    wanted = (expected.answers, expected.skipped, expected.current)
    misapplied = sum((s.answers, s.skipped, s.current) != wanted for s in states.values())
    lost = sum(sum(missing_replies(api, chat, replies).values()) for chat in chats)
    expected_texts = Counter(text for texts in replies for text in texts)
    extra: Counter[str] = Counter()
    for chat in chats:
        extra += Counter(m["text"] for m in api.sends_to(chat)) - expected_texts
    # A repeat is an expected reply received once too often; any other extra reply was never true of the chat.
    repeats = sum(count for text, count in extra.items() if text in expected_texts)
    wrong = sum(extra.values()) - repeats
    not_last = sum(bool(api.sends_to(chat)) and api.sends_to(chat)[-1]["text"] != replies[-1][-1] for chat in chats)
    finished = [max(m["time"] for m in api.sends_to(chat)) for chat in chats if api.sends_to(chat)]
    per_chat = [moment - started for moment in finished]
    elapsed = max(finished) - started if finished else float("nan")
    total = len(chats) * len(script)
    print(f"gap_ms={gap_ms} chats={len(chats)} misapplied={misapplied} lost={lost}", flush=True)
    print(
        f"  {total} updates in {elapsed:.1f} s: {total / elapsed:.0f} updates/s; time to a chat's last reply "
        f"p50 {statistics.median(per_chat):.2f} s, p99 {percentile(per_chat, 0.99):.2f} s; replays={replays}; "
        f"extra replies: {repeats} repeated, {wrong} not in a sequential interview; "
        f"chats not left at the open question={not_last}",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=700)
    parser.add_argument("--answers", type=int, default=5, help=f"answers after /start, 1-{len(INTERVIEW) - 1}")
    parser.add_argument("--gaps", default="0,50,200", help="ms between a chat's updates, comma-separated")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"), help="default $TEST_DATABASE_URL")
    parser.add_argument("--sqlite", action="store_true", help="two processes on one SQLite file instead")
    parser.add_argument("--wait", type=float, default=60, help="give up after this long without a new reply (s)")
    args = parser.parse_args()
    if not 1 <= args.answers < len(INTERVIEW):
        parser.error(f"--answers must be 1-{len(INTERVIEW) - 1}")
    if not args.sqlite and not args.postgres:
        parser.error("give --postgres URL (or set TEST_DATABASE_URL), or --sqlite")
    script = INTERVIEW[: args.answers + 1]
    gaps = [int(gap) for gap in args.gaps.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}" if args.sqlite else args.postgres
        await migrate(database)
        if not args.sqlite:
            await empty_database(database)
        print(
            f"{'SQLite' if args.sqlite else 'PostgreSQL'}, two webhook processes, {args.chats} chats, "
            f"/start + {args.answers} answers each, alternating processes",
            flush=True,
        )
        async with FakeBotApi(token=TOKEN) as api:
            logs = Path(folder)
            first, second = (
                BotProcess(api, database, logs / "first.log", UNLIMITED),
                BotProcess(api, database, logs / "second.log", UNLIMITED),
            )
            async with running(first, second):
                for round_number, gap in enumerate(gaps):
                    chats = list(range(100_000 * (round_number + 1), 100_000 * (round_number + 1) + args.chats))
                    await run_gap(api, [first, second], database, gap, chats, script, args.wait)
                errors = [line for bot in (first, second) for line in bot.log_text().splitlines() if " ERROR " in line]
            if errors:
                print(f"the bots logged {len(errors)} error line(s), the first: {errors[0][:300]}")


if __name__ == "__main__":
    asyncio.run(main())
