"""Contacts answer while the Bot API is down (429, 5xx, hanging): are their replies lost or delivered twice?"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.store.sql import migrate  # noqa: E402
from tests.channels.test_ordering import BotProcess, running, sequential_interview, stored_states  # noqa: E402
from tests.channels.test_telegram_e2e import SECRET, empty_database  # noqa: E402
from tests.fakes.bot_api import OUTAGE_KINDS, FakeBotApi  # noqa: E402

USAGE = """The bot runs as its own process in webhook mode (SQLite, or PostgreSQL with --postgres) against a local
fake Bot API. Per outage duration and kind, fresh contacts get to the second question, the outage starts (every
send fails in that way; updates still come in), each contact answers during its first half, and the outage ends.
A contact's reply is lost if it has not arrived --wait seconds after the end, and duplicated if it arrived more
than once. Prints one line per duration and kind, then one per duration summing the kinds:

    outage=30s kind=502 replies_lost=0 duplicates=0 recovered_after_s=1.2
    outage=30s replies_lost=0 duplicates=0

recovered_after_s is the time from the end of the outage to the last reply arriving."""
TOKEN = "123456789:AAH-bench-token-for-the-driver_0123"
BEFORE = ["/start", "長春"]  # gets a contact to the industries question
ANSWER = "生物制药"  # given during the outage; its reply is the approvals question
REPLY_RETRY_SECONDS = 900  # the bot's default; an outage must be shorter, or its replies are given up by design


class Round:
    """One outage of one kind and duration, and what its contacts got."""

    def __init__(self, kind: str, seconds: int, lost: int, duplicates: int, recovered: float, notes: list[str]):
        self.kind, self.seconds, self.lost, self.duplicates = kind, seconds, lost, duplicates
        self.recovered, self.notes = recovered, notes


async def post(api: FakeBotApi, bot: BotProcess, update: dict) -> None:
    status = await api.post_webhook(bot.url, update, SECRET)
    if status != 200:
        raise RuntimeError(f"the webhook answered {status}")


async def until_received(api: FakeBotApi, chat: int, text: str, count: int, deadline: float) -> bool:
    """Waits (until the monotonic deadline) for the chat to have received text `count` times."""
    while time.monotonic() < deadline:
        if sum(m["text"] == text for m in api.sends_to(chat)) >= count:
            return True
        await asyncio.sleep(0.1)
    return False


async def run_round(
    api: FakeBotApi, bot: BotProcess, database: str, kind: str, seconds: int, chats: list[int], wait: float
) -> Round:
    expected, replies = sequential_interview([*BEFORE, ANSWER])
    reply = replies[-1][-1]

    async def get_ready(chat: int) -> None:
        for text, wanted in zip(BEFORE, replies, strict=False):
            await post(api, bot, api.make_message(chat, text))
            if not await until_received(api, chat, wanted[-1], 1, time.monotonic() + 30):
                raise RuntimeError(f"chat {chat} got no reply to {text!r} before the outage: {api.sends_to(chat)}")

    await asyncio.gather(*(get_ready(chat) for chat in chats))
    before = {chat: len(api.sends_to(chat)) for chat in chats}
    outage = api.outage(kind, seconds)
    spread = seconds / 2

    async def answer(index: int, chat: int) -> None:
        await asyncio.sleep(spread * index / len(chats))
        await post(api, bot, api.make_message(chat, ANSWER))

    await asyncio.gather(*(answer(index, chat) for index, chat in enumerate(chats)))
    await outage.wait()
    deadline = time.monotonic() + wait
    await asyncio.gather(*(until_received(api, chat, reply, 1, deadline) for chat in chats))
    await asyncio.sleep(2)  # a second copy of a reply would come within this

    lost = duplicates = 0
    arrivals = []
    unexpected: Counter[str] = Counter()
    for chat in chats:
        after = api.sends_to(chat)[before[chat] :]
        copies = [m for m in after if m["text"] == reply]
        lost += not copies
        duplicates += max(0, len(copies) - 1)
        arrivals += [m["time"] for m in copies[:1]]
        unexpected.update(m["text"][:40] for m in after if m["text"] != reply)
    recovered = max(arrivals) - outage.ended if arrivals else float("nan")
    states = await stored_states(database, chats)
    notes = []
    wrong = sum(state.answers != expected.answers or state.current != expected.current for state in states.values())
    if wrong:
        notes.append(f"{wrong} contact(s) stored other answers than {expected.answers}")
    if unexpected:
        notes.append(f"messages other than the reply: {dict(unexpected)}")
    early = sum(m["time"] < outage.ended for chat in chats for m in api.sends_to(chat)[before[chat] :])
    if early:
        notes.append(f"{early} message(s) recorded during the outage")
    return Round(kind, seconds, lost, duplicates, recovered, notes)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--durations", default="5,30,120", help="outage lengths in seconds, comma-separated")
    parser.add_argument("--kinds", default="429,500,502,hang", help=f"of {', '.join(OUTAGE_KINDS)}")
    parser.add_argument("--postgres", help="PostgreSQL URL; default: a SQLite file")
    parser.add_argument("--wait", type=float, default=30, help="how long after an outage a reply may take (s)")
    args = parser.parse_args()
    durations = [int(seconds) for seconds in args.durations.split(",")]
    kinds = args.kinds.split(",")
    if unknown := set(kinds) - set(OUTAGE_KINDS):
        parser.error(f"unknown kinds {sorted(unknown)}")
    if max(durations) >= REPLY_RETRY_SECONDS:
        parser.error(f"outages must be shorter than REPLY_RETRY_SECONDS ({REPLY_RETRY_SECONDS} s)")
    with tempfile.TemporaryDirectory() as folder:
        database = args.postgres or f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        await migrate(database)
        if args.postgres:
            await empty_database(database)
        print(
            f"{'PostgreSQL' if args.postgres else 'SQLite'}, one webhook process, {args.contacts} contacts per outage",
            flush=True,
        )
        env = {
            "LOG_LEVEL": "WARNING",
            "REMINDER_DAYS": "off",
            "REPLY_RETRY_SECONDS": str(REPLY_RETRY_SECONDS),
            "TELEGRAM_RATE_LIMIT": "0",
        }
        bot_log = Path(folder) / "bot.log"
        async with FakeBotApi(token=TOKEN) as api:
            bot = BotProcess(api, database, bot_log, env)
            async with running(bot):
                first_chat = 200_000
                for seconds in durations:
                    rounds = []
                    for kind in kinds:
                        chats = list(range(first_chat, first_chat + args.contacts))
                        first_chat += args.contacts
                        result = await run_round(api, bot, database, kind, seconds, chats, args.wait)
                        rounds.append(result)
                        print(
                            f"outage={seconds}s kind={kind} replies_lost={result.lost} duplicates={result.duplicates} "
                            f"recovered_after_s={result.recovered:.1f}",
                            flush=True,
                        )
                        for note in result.notes:
                            print(f"  {note}", flush=True)
                    lost = sum(result.lost for result in rounds)
                    duplicates = sum(result.duplicates for result in rounds)
                    print(f"outage={seconds}s replies_lost={lost} duplicates={duplicates}", flush=True)
                errors = [line for line in bot.log_text().splitlines() if " ERROR " in line]
                if errors:
                    print(f"the bot logged {len(errors)} error line(s), the first: {errors[0][:300]}")


if __name__ == "__main__":
    asyncio.run(main())
