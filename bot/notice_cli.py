"""The officials' commands on the command line: `notice send|status|list|cancel`, on the bot's database."""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.engine.yamlsource import SourceErrors
from bot.settings import load_settings
from bot.store.base import ChatStore

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
MAX_NOTICE_FILE_BYTES = 64 * 1024


def _notice_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) < 16):
        raise argparse.ArgumentTypeError(f"'{text[:30]}' is not a notice id (see: incentive-bot notice list)")
    return int(text)


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Adds `notice` to the incentive-bot command."""
    notice = commands.add_parser("notice", help="send policy notices and application calls, and follow them")
    actions = notice.add_subparsers(dest="notice_command", required=True)
    send = actions.add_parser(
        "send",
        help="send a notice to the contacts matching every filter given",
        description="FILE holds the text (Telegram HTML allowed), or YAML with 'text:' and an optional 'call:' "
        "(title, rules, opens, closes, where, contact). Repeat a filter for several values; filters of different "
        "kinds must all match. --all sends to every subscriber.",
    )
    send.add_argument("file", type=Path)
    send.add_argument("--region", action="append", default=[], help="a region; everything below it is included")
    send.add_argument("--industry", action="append", default=[], help="an industry (value or name)")
    send.add_argument("--rule", action="append", default=[], help="a rule id: contacts eligible or still open for it")
    send.add_argument("--all", action="store_true", help="every subscriber (when no filter is given)")
    send.add_argument("--at", default=None, help="send time in Beijing time, e.g. '2026-12-01 09:00' (default: now)")
    send.add_argument("--dry-run", action="store_true", help="print the recipient count and the text; send nothing")
    status = actions.add_parser("status", help="where a notice stands")
    status.add_argument("id", type=_notice_id)
    status.add_argument("--json", action="store_true")
    listing = actions.add_parser("list", help="the recent notices")
    listing.add_argument("--json", action="store_true")
    cancel = actions.add_parser("cancel", help="cancel what is not yet sent of a notice")
    cancel.add_argument("id", type=_notice_id)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Runs `notice …` against DATABASE_URL (or the default SQLite file) and the configured rules."""
    from bot.admin_cli import on_store

    return on_store(lambda store: _run(store, args, out, err), err)


async def _run(store: ChatStore, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.notices import describe
    from bot.store.sql import migrate
    from handlers import official

    try:
        if store.url.startswith("sqlite"):
            await migrate(store.url)  # one machine, one file: as `serve` does, keep it current
        command = args.notice_command
        if command == "send":
            return await _send(store, args, out, err)
        if command == "list":
            for status in await store.recent_notices(20):
                print(json.dumps(describe(status), ensure_ascii=False) if args.json else
                      official.list_message([status], "en")[0].text.splitlines()[1], file=out)  # fmt: skip
            return EXIT_OK
        status = await store.notice_status(args.id)
        if status is None:
            print(f"error: there is no notice #{args.id}", file=err)
            return EXIT_PROBLEM
        if command == "status":
            print(json.dumps(describe(status), ensure_ascii=False, indent=2) if args.json else
                  official.status_text(status, "en"), file=out)  # fmt: skip
            return EXIT_OK
        cancelled, _ = await store.cancel_notice(args.id, f"cli:{getpass.getuser()}")
        if not cancelled:
            print(f"notice #{args.id} has finished or was cancelled already", file=out)
            return EXIT_PROBLEM
        print(f"notice #{args.id} cancelled: {status.pending} messages not yet sent will not be", file=out)
        return EXIT_OK
    finally:
        await store.close()


async def _send(store: ChatStore, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.loading import load_engine, read_text_file
    from bot.notices import NoticeDesk, read_notice_file
    from handlers import official

    settings = load_settings()
    try:
        engine = load_engine(settings.RULES_DIR, settings.DATA_DIR)
        text, call = read_notice_file(read_text_file(args.file, MAX_NOTICE_FILE_BYTES), engine)
    except SourceErrors as exc:
        print(f"error: {exc}", file=err)
        return EXIT_PROBLEM
    audience = official.audience_from(args.region, args.industry, args.rule, engine)
    if isinstance(audience, official.AudienceProblem):
        print(f"error: {official.t(audience.key, 'en', **audience.values)}", file=err)
        return EXIT_USAGE
    if audience.everyone and not args.all:
        print("error: give --region, --industry or --rule, or --all to send to every subscriber", file=err)
        return EXIT_USAGE
    send_at = None
    if args.at:
        send_at = official.parse_send_time(args.at, datetime.now(UTC))
        if isinstance(send_at, str):
            print(f"error: --at: {official.t(send_at, 'en', days=official.MAX_SCHEDULE_DAYS)}", file=err)
            return EXIT_USAGE
    desk = NoticeDesk(store, lambda: engine)
    composed = await desk.compose(text, audience, f"cli:{getpass.getuser()}", send_at, call)
    excluded = composed.excluded
    summary = (
        f"{composed.count} recipients ({official.audience_text(audience.to_json(), 'en')}); left out: "
        f"{excluded.get('opted_out', 0)} opted out, {excluded.get('blocked', 0)} blocked the bot"
    )
    if args.dry_run:
        print(summary, file=out)
        if call:
            print(f"carries the call: {call['title']} (closes {call['closes']}, rules {', '.join(call['rules'])})",
                  file=out)  # fmt: skip
        print("--- as recipients see it (zh-Hans) ---", file=out)
        print(official.recipient_copy(text, "zh-Hans").text, file=out)
        print("nothing was sent (dry run)", file=out)
        return EXIT_OK
    notice_id, _ = await store.create_notice(composed.notice)
    print(f"notice #{notice_id} queued: {summary}", file=out)
    print(f"the running bot sends it; follow it with: incentive-bot notice status {notice_id}", file=out)
    return EXIT_OK
