"""The admins' commands on the command line: `roles grant|revoke|list` and `audit`, on the bot's database."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import TextIO

from bot.settings import SettingsError, load_settings
from bot.store.base import ROLES, AuditEntry, ChatStore, RoleChange

EXIT_OK, EXIT_USAGE = 0, 2


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Adds `roles` and `audit` to the incentive-bot command."""
    roles = commands.add_parser("roles", help="grant, revoke and list the roles of admins and officials")
    actions = roles.add_subparsers(dest="roles_command", required=True)
    for name, verb in (("grant", "give"), ("revoke", "take away")):
        action = actions.add_parser(name, help=f"{verb} a role (written to the audit log)")
        action.add_argument("user_id", type=int, help="the user's numeric Telegram id")
        action.add_argument("role", choices=ROLES)
    actions.add_parser("list", help="everyone who holds a role")
    audit = commands.add_parser("audit", help="the audit log of privileged actions")
    audit.add_argument("--since", type=date.fromisoformat, default=None, help="from this day on (YYYY-MM-DD)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Runs `roles …` or `audit` against DATABASE_URL (or the default SQLite file)."""
    return on_store(lambda store: _run(store, args, out), err)


def on_store(work: Callable[[ChatStore], Awaitable[int]], err: TextIO) -> int:
    """Runs work on the bot's store; a bad DATABASE_URL is one line on err and exit 2."""
    try:
        store = open_store()
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    return asyncio.run(work(store))


def open_store() -> ChatStore:
    """The bot's store at DATABASE_URL (or the default SQLite file)."""
    from bot.paths import DEFAULT_DATABASE_FILE
    from bot.store.sql import SqlChatStore, database_url

    settings = load_settings()
    return SqlChatStore.from_url(database_url(settings.DATABASE_URL, DEFAULT_DATABASE_FILE))


async def _run(store: ChatStore, args: argparse.Namespace, out: TextIO) -> int:
    from bot.store.sql import migrate

    try:
        if store.url.startswith("sqlite"):
            await migrate(store.url)  # one machine, one file: as `serve` does, keep it current
        if args.command == "audit":
            since = datetime.combine(args.since, datetime.min.time(), UTC) if args.since else None
            for entry in await store.audit_log(since):
                print(_audit_line(entry, args.json), file=out)
        elif args.roles_command == "list":
            for grant in await store.list_roles():
                print(f"{grant.user_id}\t{grant.role}\t{grant.granted_by}\t{grant.granted_at:%Y-%m-%d %H:%M}", file=out)
        else:
            grant = args.roles_command == "grant"
            actor = f"cli:{getpass.getuser()}"
            (changed,), _ = await store.change_roles([RoleChange(args.user_id, args.role, grant)], actor)
            state = (
                ("now has" if grant else "no longer has") if changed else ("already has" if grant else "did not have")
            )
            print(f"user {args.user_id} {state} the {args.role} role", file=out)
    finally:
        await store.close()
    return EXIT_OK


def _audit_line(entry: AuditEntry, as_json: bool) -> str:
    if as_json:
        record = {"at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action, **entry.detail}
        return json.dumps(record, ensure_ascii=False)
    detail = " ".join(f"{key}={value}" for key, value in entry.detail.items())
    return f"{entry.at:%Y-%m-%d %H:%M:%S} {entry.actor} {entry.action} {detail}"
