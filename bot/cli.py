"""The incentive-bot command: `rules check`, `match` and the terminal `chat`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from bot.channels.terminal import run_terminal
from bot.dispatcher import Dispatcher
from bot.engine.engine import Engine
from bot.engine.profile import ProfileError
from bot.engine.ruletests import coverage_gaps, run_rule_tests
from bot.engine.yamlsource import SourceErrors
from bot.loading import read_profile, read_sources, settle_heap
from bot.settings import SettingsError, describe_settings, load_settings
from bot.store.memory import MemoryChatStore
from handlers import phrases
from handlers.enterprise import EnterpriseConversation
from handlers.report import match_json, match_text
from handlers.texts import LANGUAGES

EXIT_OK, EXIT_RULES, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; write YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incentive-bot", description="Tells enterprises which government incentives they may apply for."
    )
    parser.add_argument(
        "--data", type=Path, default=None, help="folder with policies/ and regions.yaml (default: the shipped data)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    rules = commands.add_parser("rules", help="work with rule files")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_commands.add_parser("check", help="validate rule files and run the rule tests")
    check.add_argument("dir", nargs="?", type=Path, default=None, help="rules folder (default: the shipped rules)")

    match = commands.add_parser("match", help="match a profile file against the rules")
    match.add_argument("--profile", required=True, type=Path, help="YAML or JSON file of profile facts")
    match.add_argument("--date", type=_date, default=None, help="day to compute deadlines for (default: today)")
    match.add_argument("--json", action="store_true", help="print the machine-readable result")
    match.add_argument("--lang", choices=LANGUAGES, default="zh-Hans", help="language of the result (default: zh-Hans)")
    match.add_argument("--rules", type=Path, default=None, help="rules folder (default: the shipped rules)")

    commands.add_parser(
        "serve",
        help="run the Telegram bot (polling, or webhook when TELEGRAM_WEBHOOK_URL is set)",
        description="Settings come from environment variables:\n" + describe_settings(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply database migrations (DATABASE_URL, default SQLite file)")

    chat = commands.add_parser("chat", help="run the enterprise interview in the terminal")
    chat.add_argument("--date", type=_date, default=None, help="day to compute deadlines for (default: today)")
    chat.add_argument("--rules", type=Path, default=None, help="rules folder (default: the shipped rules)")
    return parser


def _load(rules_dir: Path | None, data_dir: Path | None, err: TextIO) -> tuple[Engine, Any] | None:
    """The engine and the texts it was compiled from, or None after printing every error."""
    try:
        sources = read_sources(rules_dir, data_dir)
        engine = Engine.build(sources)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=err)
        return None
    except SourceErrors as exc:
        for error in exc.errors:
            print(error, file=err)
        print(f"{len(exc.errors)} error(s); the rules were not loaded.", file=err)
        return None
    settle_heap()
    return engine, sources


def rules_check(rules_dir: Path | None, data_dir: Path | None, out: TextIO, err: TextIO) -> int:
    """Validates every file and runs the rule tests; prints file:line for each problem."""
    loaded = _load(rules_dir, data_dir, err)
    if loaded is None:
        return EXIT_RULES
    engine, sources = loaded
    report, coverage = run_rule_tests(sources.tests, engine.matcher)
    problems = report.failures + coverage_gaps(engine.ruleset.rules, coverage)
    for problem in problems:
        print(problem, file=err)
    ruleset = engine.ruleset
    summary = (
        f"{len(ruleset.rules)} rules from {len(ruleset.documents)} documents, {len(ruleset.calls)} application "
        f"calls, {report.cases} rule tests"
    )
    if problems:
        print(f"FAILED: {summary}; {len(problems)} problem(s).", file=err)
        return EXIT_RULES
    print(f"OK: {summary} passed.", file=out)
    return EXIT_OK


def run_match(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Matches one profile file; a bad profile exits 2 with one line naming the fact."""
    loaded = _load(args.rules, args.data, err)
    if loaded is None:
        return EXIT_RULES
    engine = loaded[0]
    try:
        raw = read_profile(args.profile)
        profile = engine.parse_profile(raw if raw is not None else {})
    except SourceErrors as exc:
        print(f"error: cannot read profile: {exc.errors[0]}", file=err)
        return EXIT_USAGE
    except ProfileError as exc:
        print(f"error: bad profile {args.profile}: {_profile_problem(engine, exc, args.lang)}", file=err)
        return EXIT_USAGE
    result = engine.match(profile, args.date or date.today())
    if args.json:
        print(json.dumps(match_json(result, args.lang), ensure_ascii=False, indent=2), file=out)
    else:
        print(match_text(result, args.lang), file=out)
    return EXIT_OK


def _profile_problem(engine: Engine, error: ProfileError, language: str) -> str:
    """One line naming the fact, what is wrong with its value and how to write it."""
    if error.problem is None or error.fact not in engine.ruleset.catalogue:
        return str(error)
    reason, hint = phrases.problem(error.problem, engine.ruleset.catalogue[error.fact], language)
    return f"{error.fact}: {reason}. {hint}"


def run_chat(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """The enterprise conversation in the terminal, on the same handler as Telegram."""
    loaded = _load(args.rules, args.data, err)
    if loaded is None:
        return EXIT_RULES
    engine = loaded[0]
    today = args.date or date.today()
    # The interview lives only as long as the session: an admin trying rules starts afresh each time.
    dispatcher = Dispatcher(MemoryChatStore(), EnterpriseConversation(lambda: engine, lambda: today))
    run_terminal(dispatcher, stdin, out)
    return EXIT_OK


def run_serve(err: TextIO) -> int:
    """Starts the bot with the environment's settings; a bad setting or bad rules stop it with a clear message."""
    from bot.service import configure_logging, run_bot

    try:
        settings = load_settings()
        configure_logging(settings.LOG_LEVEL)
        asyncio.run(run_bot(settings))
    except SettingsError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    except SourceErrors as exc:
        for error in exc.errors:
            print(error, file=err)
        print(f"{len(exc.errors)} error(s); the bot did not start.", file=err)
        return EXIT_RULES
    return EXIT_OK


def run_db_upgrade(out: TextIO, err: TextIO) -> int:
    from bot.paths import DEFAULT_DATABASE_FILE as DEFAULT_DATABASE
    from bot.store.sql import database_url, migrate

    try:
        settings = load_settings()
        url = database_url(settings.DATABASE_URL, DEFAULT_DATABASE)
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    asyncio.run(migrate(url))
    print("database is up to date", file=out)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "rules":
        return rules_check(args.dir, args.data, sys.stdout, sys.stderr)
    if args.command == "match":
        return run_match(args, sys.stdout, sys.stderr)
    if args.command == "serve":
        return run_serve(sys.stderr)
    if args.command == "db":
        return run_db_upgrade(sys.stdout, sys.stderr)
    return run_chat(args, sys.stdin, sys.stdout, sys.stderr)
