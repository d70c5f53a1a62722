"""The incentive-bot command: `rules check`, `match` and the terminal `chat`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from bot import admin_cli, drafting, notice_cli, rules_cli
from bot.channels.terminal import run_terminal
from bot.dispatcher import Dispatcher
from bot.engine.deadlines import china_today
from bot.engine.engine import Engine
from bot.engine.profile import ProfileError
from bot.engine.yamlsource import SourceError, SourceErrors
from bot.loading import build_engine, read_profile, read_sources, settle_heap
from bot.logsafety import RedactingFormatter
from bot.reloading import check_rules, ordered_problems
from bot.settings import SettingsError, describe_settings, load_settings, secret_values
from bot.store.memory import MemoryChatStore
from handlers import phrases
from handlers.enterprise import EnterpriseConversation
from handlers.report import match_json, match_text
from handlers.texts import LANGUAGES

EXIT_OK, EXIT_RULES, EXIT_USAGE = 0, 1, 2
EXIT_FAILURE = 1  # the bot could not run for a reason outside its input (network, database, a bug)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it
EXIT_BROKEN_PIPE = 141  # the reader closed the pipe (SIGPIPE), as shells report it


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
        "--data", type=Path, default=None, help="folder with policies/ and regions.csv (default: the shipped data)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    rules = commands.add_parser("rules", help="work with rule files")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_commands.add_parser("check", help="validate rule files and run the rule tests")
    check.add_argument("dir", nargs="?", type=Path, default=None, help="rules folder (default: the shipped rules)")
    check.add_argument("--json", action="store_true", help="print the problems as a JSON list for tools and editors")
    drafting.add_parser(rules_commands)
    rules_cli.add_parsers(rules_commands)

    match = commands.add_parser("match", help="match a profile file against the rules")
    match.add_argument("--profile", required=True, type=Path, help="YAML or JSON file of profile facts")
    match.add_argument("--date", type=_date, default=None, help="day to compute deadlines for (default: today)")
    match.add_argument("--json", action="store_true", help="print the machine-readable result")
    match.add_argument("--lang", choices=LANGUAGES, default="zh-Hans", help="language of the result (default: zh-Hans)")
    match.add_argument("--rules", type=Path, default=None, help="rules folder (default: the shipped rules)")

    commands.add_parser(
        "serve",
        help="run the web chat on HOST:PORT (127.0.0.1:8080), and the Telegram bot when TELEGRAM_BOT_TOKEN is set",
        description="Settings come from environment variables:\n" + describe_settings(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands.add_parser(
        "worker",
        help="run a delivery worker alone: sends the outbox's replies, notices and reminders (same settings as serve)",
        description="Settings come from environment variables:\n" + describe_settings(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    admin_cli.add_parsers(commands)
    notice_cli.add_parsers(commands)
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
        engine = build_engine(sources)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=err)
        return None
    except SourceErrors as exc:
        _report_problems(exc.errors, "the rules were not loaded", err, err, as_json=False)
        return None
    settle_heap()
    return engine, sources


def rules_check(rules_dir: Path | None, data_dir: Path | None, out: TextIO, err: TextIO, as_json: bool = False) -> int:
    """Validates every file and runs the rule tests; prints every problem as file:line:column, ordered by file, line
    and column (with --json: one JSON list of {"file", "line", "column", "message"} on stdout, empty when all is
    well; a column of 0 means only the line is known)."""
    try:
        checked = check_rules(rules_dir, data_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_RULES
    if checked.problems:
        return _report_problems(checked.problems, checked.summary, out, err, as_json, checked.compiled)
    print("[]" if as_json else f"OK: {checked.summary} passed.", file=out)
    return EXIT_OK


def _report_problems(
    problems: list[SourceError], summary: str, out: TextIO, err: TextIO, as_json: bool, compiled: bool = False
) -> int:
    ordered = ordered_problems(problems)
    if as_json:
        listed = [{"file": p.path, "line": p.line, "column": p.column, "message": p.message} for p in ordered]
        print(json.dumps(listed, ensure_ascii=False, indent=1), file=out)
        return EXIT_RULES
    for problem in ordered:
        print(problem, file=err)
    if compiled:
        print(f"FAILED: {summary}; {len(ordered)} problem(s).", file=err)
    else:
        print(f"{len(ordered)} error(s); {summary}.", file=err)
    return EXIT_RULES


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
    result = engine.match(profile, args.date or china_today())
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
    today = args.date or china_today()
    # The interview lives only as long as the session: an admin trying rules starts afresh each time.
    dispatcher = Dispatcher(MemoryChatStore(), EnterpriseConversation(lambda: engine, lambda: today))
    run_terminal(dispatcher, stdin, out)
    return EXIT_OK


def run_serve(err: TextIO, worker_only: bool = False) -> int:
    """Starts the bot (or a delivery worker alone) with the environment's settings; a bad setting or bad rules
    stop it with a clear message.

    A failure the operator can act on (a rejected token, an unreachable Bot API or database, a port in use)
    is one line; anything else is logged with its traceback first. Every line is redacted like the log.
    """
    from bot.service import configure_logging, run_bot, run_worker

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    secrets = secret_values(settings)
    configure_logging(settings.LOG_LEVEL, secrets)
    redact = RedactingFormatter(secrets=secrets).redact
    try:
        asyncio.run(run_worker(settings) if worker_only else run_bot(settings))
    except SourceErrors as exc:
        for error in exc.errors:
            print(error, file=err)
        print(f"{len(exc.errors)} error(s); the bot did not start.", file=err)
        return EXIT_RULES
    except Exception as exc:
        message, code = _startup_failure(exc)
        if message is None:
            # A bug: the traceback goes to the log (redacted, at any level), the summary to the operator.
            logging.getLogger("bot").critical("the bot stopped on an unexpected error", exc_info=True)
            message = f"{type(exc).__name__}: {exc}; see the log above"
        print(f"error: {_one_line(redact(message))}", file=err)
        return code
    return EXIT_OK


def _startup_failure(exc: Exception) -> tuple[str | None, int]:
    """What to tell the operator about a failure they can act on, and the exit code; None for a bug."""
    from sqlalchemy.exc import SQLAlchemyError
    from telegram.error import InvalidToken, NetworkError, TelegramError

    if isinstance(exc, SettingsError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, InvalidToken):
        # PTB's message quotes the token, so it is not passed on.
        return "Telegram rejected TELEGRAM_BOT_TOKEN; copy the token from @BotFather again.", EXIT_USAGE
    if isinstance(exc, NetworkError):
        return f"cannot reach the Bot API (TELEGRAM_API_BASE_URL): {exc}", EXIT_FAILURE
    if isinstance(exc, TelegramError):
        return f"the Bot API refused to start the bot: {exc}", EXIT_FAILURE
    if isinstance(exc, OSError | SQLAlchemyError):
        # A port in use, a database that cannot be reached or written: the operator's to fix, not a bug.
        return f"{type(exc).__name__}: {exc}", EXIT_FAILURE
    return None, EXIT_FAILURE


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def run_db_upgrade(out: TextIO, err: TextIO) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.paths import DEFAULT_DATABASE_FILE as DEFAULT_DATABASE
    from bot.store.sql import database_url, mask_password, migrate

    try:
        settings = load_settings()
        url = database_url(settings.DATABASE_URL, DEFAULT_DATABASE)
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    redact = RedactingFormatter(secrets=secret_values(settings)).redact
    try:
        asyncio.run(migrate(url))
    except (OSError, SQLAlchemyError) as exc:
        # An unreachable server, a wrong password, a file that cannot be written: one line for the operator.
        problem = _one_line(redact(f"{type(exc).__name__}: {exc}"))
        shown = mask_password(settings.DATABASE_URL or url)
        print(f"error: cannot migrate the database at DATABASE_URL {shown!r}: {problem}", file=err)
        return EXIT_FAILURE
    print("database is up to date", file=out)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Other unexpected errors keep their traceback: match, chat and rules check are run by hand, and a
    # traceback is what a bug report needs; serve logs its own.
    try:
        if args.command == "rules" and args.rules_command == "extract":
            return drafting.run_extract(args, sys.stdout, sys.stderr)
        if args.command == "rules" and args.rules_command in rules_cli.COMMANDS:
            return rules_cli.run(args, sys.stdout, sys.stderr)
        if args.command == "rules":
            return rules_check(args.dir, args.data, sys.stdout, sys.stderr, args.json)
        if args.command == "match":
            return run_match(args, sys.stdout, sys.stderr)
        if args.command == "serve":
            return run_serve(sys.stderr)
        if args.command == "worker":
            return run_serve(sys.stderr, worker_only=True)
        if args.command == "db":
            return run_db_upgrade(sys.stdout, sys.stderr)
        if args.command in ("roles", "audit"):
            return admin_cli.run(args, sys.stdout, sys.stderr)
        if args.command == "notice":
            return notice_cli.run(args, sys.stdout, sys.stderr)
        return run_chat(args, sys.stdin, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`incentive-bot match … | head`): nothing left to say to it, and nothing wrong here.
        # Python would try to flush stdout once more at exit and fail again, so it is pointed at devnull.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
