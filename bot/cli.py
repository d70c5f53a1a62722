"""The incentive-bot command: `rules check`, `match` and the terminal `chat`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.engine.engine import Engine, settle_heap
from bot.engine.loader import DEFAULT_DATA_DIR, DEFAULT_RULES_DIR, TESTS_DIR
from bot.engine.profile import ProfileError
from bot.engine.ruletests import coverage_gaps, run_rule_tests
from bot.engine.yamlsource import SourceErrors, read_yaml
from bot.report import match_json, match_text
from handlers.enterprise import Interview, InterviewState

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
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="folder with policies/ and regions.yaml")
    commands = parser.add_subparsers(dest="command", required=True)

    rules = commands.add_parser("rules", help="work with rule files")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_commands.add_parser("check", help="validate rule files and run the rule tests")
    check.add_argument("dir", nargs="?", type=Path, default=DEFAULT_RULES_DIR, help="rules folder (default: rules/)")

    match = commands.add_parser("match", help="match a profile file against the rules")
    match.add_argument("--profile", required=True, type=Path, help="YAML or JSON file of profile facts")
    match.add_argument("--date", type=_date, default=None, help="day to compute deadlines for (default: today)")
    match.add_argument("--json", action="store_true", help="print the machine-readable result")
    match.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR, help="rules folder (default: rules/)")

    chat = commands.add_parser("chat", help="run the enterprise interview in the terminal")
    chat.add_argument("--date", type=_date, default=None, help="day to compute deadlines for (default: today)")
    chat.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR, help="rules folder (default: rules/)")
    return parser


def _load(rules_dir: Path, data_dir: Path, err: TextIO) -> Engine | None:
    try:
        engine = Engine.load(rules_dir, data_dir)
    except SourceErrors as exc:
        for error in exc.errors:
            print(error, file=err)
        print(f"{len(exc.errors)} error(s); the rules were not loaded.", file=err)
        return None
    settle_heap()
    return engine


def rules_check(rules_dir: Path, data_dir: Path, out: TextIO, err: TextIO) -> int:
    """Validates every file and runs the rule tests; prints file:line for each problem."""
    engine = _load(rules_dir, data_dir, err)
    if engine is None:
        return EXIT_RULES
    report, coverage = run_rule_tests(rules_dir / TESTS_DIR, engine.matcher)
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
    engine = _load(args.rules, args.data, err)
    if engine is None:
        return EXIT_RULES
    try:
        raw = read_yaml(args.profile)
        profile = engine.parse_profile(raw if raw is not None else {})
    except SourceErrors as exc:
        print(f"error: cannot read profile: {exc.errors[0]}", file=err)
        return EXIT_USAGE
    except ProfileError as exc:
        print(f"error: bad profile {args.profile}: {exc}", file=err)
        return EXIT_USAGE
    result = engine.match(profile, args.date or date.today())
    if args.json:
        print(json.dumps(match_json(result), ensure_ascii=False, indent=2), file=out)
    else:
        print(match_text(result), file=out)
    return EXIT_OK


def run_chat(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """The interview in the terminal: type answers, 不清楚 to skip, /results to see results now, /quit."""
    engine = _load(args.rules, args.data, err)
    if engine is None:
        return EXIT_RULES
    interview = Interview(engine, args.date or date.today())
    state = InterviewState()
    print(
        "您好!回答几个问题,我来告诉您可以申请哪些奖励和补助。输入 /results 随时查看结果,/quit 退出。\n",
        file=out,
    )
    reply = interview.ask_next(state)
    print(reply.text, file=out)
    while reply.question is not None:
        out.write("> ")
        out.flush()
        line = stdin.readline()
        if not line or line.strip() == "/quit":
            print("\n再见。", file=out)
            return EXIT_OK
        if line.strip() == "/results":
            print(interview.results(state), file=out)
            print("\n" + reply.text, file=out)
            continue
        reply = interview.answer(state, line)
        print("\n" + reply.text, file=out)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "rules":
        return rules_check(args.dir, args.data, sys.stdout, sys.stderr)
    if args.command == "match":
        return run_match(args, sys.stdout, sys.stderr)
    return run_chat(args, sys.stdin, sys.stdout, sys.stderr)
