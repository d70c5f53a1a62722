"""`rules diff`, `rules versions` and `rules uploads`: what changed between two rule sets (folders or versions
that were in use) and whose results it changes, which versions were in use, and the files admins uploaded."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import re
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.engine.deadlines import china_today
from bot.engine.engine import Engine
from bot.engine.yamlsource import SourceErrors
from bot.loading import build_engine, read_sources
from bot.reloading import (
    changed_contacts,
    check_rules,
    deciding_differently,
    diff_rulesets,
    sources_from_json,
    sources_to_json,
)
from bot.settings import SettingsError, load_settings
from bot.store.base import ChatStore
from bot.store.rulesets import NewVersion

EXIT_OK, EXIT_RULES, EXIT_USAGE = 0, 1, 2
COMMANDS = ("diff", "versions", "uploads")
_VERSION = re.compile(r"[0-9a-f]{4,12}")


def add_parsers(rules_commands: argparse._SubParsersAction) -> None:
    diff = rules_commands.add_parser(
        "diff",
        help="rules added, removed and changed between two rule sets, and how many stored profiles change outcome",
    )
    diff.add_argument("old", help="a rules folder, or a version that was in use (see `rules versions`)")
    diff.add_argument("new", help="a rules folder, or a version that was in use")
    diff.add_argument("--json", action="store_true", help="print the differences as JSON")
    diff.add_argument("--date", type=date.fromisoformat, default=None, help="day to match profiles on (default: today)")
    versions = rules_commands.add_parser("versions", help="the rule sets that were in use on the bot's database")
    versions.add_argument("--json", action="store_true", help="one JSON object per line")
    uploads = rules_commands.add_parser("uploads", help="the rule files admins sent to the bot; --remove takes one out")
    uploads.add_argument("--remove", metavar="NAME", help="e.g. policies/new.yaml; the rest is checked and put in use")
    uploads.add_argument("--rules", type=Path, default=None, help="rules folder (default: RULES_DIR, or the shipped)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.admin_cli import open_store

    needs_store = args.rules_command != "diff" or any(
        not Path(spec).is_dir() and _VERSION.fullmatch(spec) for spec in (args.old, args.new)
    )
    store: ChatStore | None = None
    try:
        store = open_store() if needs_store or _database_exists() else None
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    return asyncio.run(_run(store, args, out, err))


def _database_exists() -> bool:
    """Whether a diff of two folders has stored profiles to count (a default SQLite file is not created for it)."""
    from bot.paths import DEFAULT_DATABASE_FILE

    url = load_settings().DATABASE_URL
    return bool(url) or Path(DEFAULT_DATABASE_FILE).is_file()


async def _run(store: ChatStore | None, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        if store is not None and store.url.startswith("sqlite"):
            from bot.store.sql import migrate

            await migrate(store.url)
        if args.rules_command == "versions":
            return await _versions(store, args.json, out)
        if args.rules_command == "uploads":
            return await _uploads(store, args, out, err)
        return await _diff(store, args, out, err)
    finally:
        if store is not None:
            await store.close()


async def _versions(store: ChatStore, as_json: bool, out: TextIO) -> int:
    active = await store.active_rules()
    for entry in await store.rule_versions(50):
        in_use = active is not None and entry.version == active.version
        if as_json:
            record = {"version": entry.version, "loaded_at": entry.loaded_at.isoformat(), "loaded_by": entry.loaded_by,
                      "summary": entry.summary, "in_use": in_use}  # fmt: skip
            print(json.dumps(record, ensure_ascii=False), file=out)
        else:
            mark = "*" if in_use else " "
            when = f"{entry.loaded_at:%Y-%m-%d %H:%M}"
            print(f"{mark} {entry.version}  {when}  {entry.loaded_by}  {entry.summary}", file=out)
    return EXIT_OK


async def _uploads(store: ChatStore, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    uploads = await store.rule_uploads()
    if args.remove is None:
        for name, text in uploads.items():
            print(f"{name}\t{len(text.encode()):,} bytes", file=out)
        return EXIT_OK
    if args.remove not in uploads:
        print(f"error: no uploaded file {args.remove} (uploaded: {', '.join(uploads) or 'none'})", file=err)
        return EXIT_USAGE
    rest = {name: text for name, text in uploads.items() if name != args.remove}
    settings = load_settings()  # the folders the bot runs with, unless others are named
    rules_dir, data_dir = args.rules or settings.RULES_DIR, args.data or settings.DATA_DIR
    checked = await asyncio.to_thread(check_rules, rules_dir, data_dir, rest)
    if checked.engine is None:
        print(f"error: without {args.remove} the rules have {len(checked.problems)} problem(s); it stays:", file=err)
        for problem in checked.problems:
            print(f"  {problem}", file=err)
        return EXIT_RULES
    await store.remove_rule_upload(args.remove)
    actor = f"cli:{getpass.getuser()}"
    await store.activate_rules(NewVersion(checked.version, actor, checked.summary, sources_to_json(checked.sources)))
    await store.audit(actor, "upload_removed", {"file": args.remove, "version": checked.version})
    print(f"{args.remove} removed; version {checked.version} is in use (running bots follow it)", file=out)
    return EXIT_OK


async def _engine(spec: str, data: Path | None, store: ChatStore | None) -> tuple[Engine, str] | str:
    """The rule set a folder or a recorded version stands for, and its version; or why there is none."""
    if Path(spec).is_dir():
        sources = await asyncio.to_thread(read_sources, Path(spec), data)
    elif _VERSION.fullmatch(spec) and store is not None:
        matching = [v.version for v in await store.rule_versions(1000) if v.version.startswith(spec)]
        if len(matching) != 1:
            return f"{spec}: {'no recorded version' if not matching else 'more than one version'} starts so"
        files = await store.rule_files(matching[0])
        sources = sources_from_json(files)
    else:
        return f"{spec} is neither a rules folder nor a version that was in use (see `incentive-bot rules versions`)"
    try:
        engine = await asyncio.to_thread(build_engine, sources)
    except SourceErrors as exc:
        return f"{spec}: the rules cannot be loaded ({len(exc.errors)} problem(s); run incentive-bot rules check)"
    return engine, engine.version


async def _diff(store: ChatStore | None, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    built = [await _engine(spec, args.data, store) for spec in (args.old, args.new)]
    for result in built:
        if isinstance(result, str):
            print(f"error: {result}", file=err)
            return EXIT_USAGE
    (old, old_version), (new, new_version) = built  # type: ignore[misc]
    diff = diff_rulesets(old.ruleset, new.ruleset)
    profiles: dict[str, int] | None = None
    if store is not None and store.supports_notices:
        contacts = [c for c in await store.contacts() if c.chat.id > 0 and c.answers]
        only = deciding_differently(old, new)
        day = args.date or china_today()
        changes = [] if only == set() else await asyncio.to_thread(changed_contacts, old, new, contacts, day, only)
        profiles = {"stored": len(contacts), "changed": len(changes)}
    if args.json:
        record = {"old": {"spec": args.old, "version": old_version}, "new": {"spec": args.new, "version": new_version},
                  "rules": {"added": diff.added, "removed": diff.removed, "changed": diff.changed},
                  "calls": {"added": diff.calls_added, "removed": diff.calls_removed, "changed": diff.calls_changed},
                  "profiles": profiles}  # fmt: skip
        print(json.dumps(record, ensure_ascii=False, indent=2), file=out)
        return EXIT_OK
    print(f"{args.old} (version {old_version}) → {args.new} (version {new_version})", file=out)
    sections = (("rules", diff.added, diff.removed, diff.changed),
                ("calls", diff.calls_added, diff.calls_removed, diff.calls_changed))  # fmt: skip
    for what, added, removed, changed in sections:
        print(f"{what}: {len(added)} added, {len(removed)} removed, {len(changed)} changed", file=out)
        for key in added:
            print(f"  + {key}", file=out)
        for key in removed:
            print(f"  - {key}", file=out)
        for key, fields in changed.items():
            print(f"  ~ {key}: {', '.join(fields)}", file=out)
    if profiles is None:
        print("stored profiles: none (no database)", file=out)
    else:
        print(f"stored profiles: {profiles['changed']} of {profiles['stored']} change outcome", file=out)
    return EXIT_OK
