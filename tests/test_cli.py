"""The incentive-bot command as an admin uses it: rules check, match, chat."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_rules_check_passes_on_the_shipped_rules(capsys) -> None:
    code, out, err = run(["rules", "check"], capsys)
    assert code == 0, err
    assert out.startswith("OK: ") and "rule tests passed" in out


def test_rules_check_fails_with_file_line_and_column_on_a_broken_copy(rules_copy: Path, capsys) -> None:
    path = rules_copy / "policies" / "jilin-pharma.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("fact: revenue, first_more_than: 10亿")
    line, column = text[:start].count("\n") + 1, start - text.rfind("\n", 0, start) + len("fact: ")
    path.write_text(
        text.replace("fact: revenue, first_more_than: 10亿", "fact: revenu, first_more_than: 10亿"),
        encoding="utf-8",
    )
    code, out, err = run(["rules", "check", str(rules_copy)], capsys)
    assert code == 1
    assert f"jilin-pharma.yaml:{line}:{column}: unknown fact 'revenu' (did you mean 'revenue'?)" in err
    assert "the rules were not loaded" in err


def test_rules_check_fails_when_a_rule_test_expects_the_wrong_outcome(rules_copy: Path, capsys) -> None:
    path = rules_copy / "tests" / "jilin-pharma.yaml"
    text = path.read_text(encoding="utf-8")
    old = "jilin-13-big-variety-plan: eligible"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, "jilin-13-big-variety-plan: not_eligible", 1), encoding="utf-8")
    code, out, err = run(["rules", "check", str(rules_copy)], capsys)
    assert code == 1
    column = text.split("\n")[line - 1].index(old) + 1
    assert f"jilin-pharma.yaml:{line}:{column}: " in err and "expected not_eligible, got eligible" in err


def test_rules_check_fails_when_a_threshold_has_no_boundary_test(rules_copy: Path, capsys) -> None:
    path = rules_copy / "tests" / "jilin-pharma.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("big_variety_sales_increase: 5000万}", "big_variety_sales_increase: 6000万}"),
        encoding="utf-8",
    )
    code, out, err = run(["rules", "check", str(rules_copy)], capsys)
    assert code == 1
    # The threshold as the rule file writes it, never in float notation.
    assert "no boundary test with big_variety_sales_increase = 5000万" in err and "e+07" not in err


def test_match_json_has_exactly_the_documented_shape(capsys) -> None:
    code, out, err = run(
        [
            "match",
            "--profile",
            str(ROOT / "examples/tonghua-distributor.json"),
            "--date",
            "2026-11-22",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"eligible", "undetermined", "near_misses"}
    keys = {
        "rule",
        "title",
        "document",
        "clause",
        "kind",
        "max_amount_yuan",
        "min_amount_yuan",
        "estimate_yuan",
        "department",
        "deadlines",
        "why",
    }
    for record in result["eligible"]:
        assert set(record) == keys
    for record in result["undetermined"]:
        assert set(record) == keys | {"missing"}
    for record in result["near_misses"]:
        assert set(record) == keys | {"missing_condition"}
    by_id = {r["rule"]: r for r in result["eligible"]}
    interest = by_id["jilin-14-project-interest"]
    assert interest["estimate_yuan"] == 870_000 and interest["max_amount_yuan"] == 1_000_000
    assert interest["clause"] == "14" and interest["kind"] == "interest_subsidy"
    assert interest["deadlines"][0]["date"] == "2026-12-15"
    assert by_id["jilin-10-distribution-revenue"]["max_amount_yuan"] == 800_000
    assert any("35亿元 > 30亿元" in line for line in by_id["jilin-10-distribution-revenue"]["why"])


def test_match_prints_a_readable_result_by_default(capsys) -> None:
    code, out, err = run(
        ["match", "--profile", str(ROOT / "examples/changchun-biologics.yaml"), "--date", "2026-11-22"],
        capsys,
    )
    assert code == 0, err
    assert "可以申请" in out and "第1条" in out and "最高200万元" in out and "还剩 23 天" in out
    # The reward's own note (measure 12 names no amount per tier) is shown with the rule.
    assert "说明:一次性奖励;原文未写明各档对应金额" in out


@pytest.mark.parametrize(
    ("content", "fact"),
    [
        ("revenu: 12亿\n", "revenu"),
        ("revenue: 很多\n", "revenue"),
        ("industries: [火箭]\n", "industries"),
        ("region: 火星\n", "region"),
        ("produced_in_province: 也许\n", "produced_in_province"),
    ],
)
def test_a_bad_profile_exits_2_with_one_line_naming_the_fact(tmp_path: Path, capsys, content: str, fact: str) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(content, encoding="utf-8")
    code, out, err = run(["match", "--profile", str(profile)], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and f"{fact}:" in err


def test_an_unreadable_profile_exits_2(tmp_path: Path, capsys) -> None:
    code, out, err = run(["match", "--profile", str(tmp_path / "missing.yaml")], capsys)
    assert code == 2 and "cannot read" in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"region": ', encoding="utf-8")
    code, out, err = run(["match", "--profile", str(broken)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_chat_runs_an_interview_from_standard_input() -> None:
    answers = "長春\n生物制药\n臨床試驗許可,高新技术企业\n不清楚\n" + "不清楚\n" * 30
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--date", "2026-11-22"],
        input=answers,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "贵企业注册在哪里" in proc.stdout
    assert "新取得临床试验许可或注册申请受理书的医药健康产品奖励:最高200万元" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_chat_re_asks_a_question_it_cannot_understand() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--date", "2026-11-22"],
        input="12345\n/quit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout.count("贵企业注册在哪里") == 2


def test_the_main_module_runs_like_the_console_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "rules" in proc.stdout and "match" in proc.stdout and "chat" in proc.stdout


def test_chat_output_is_written_to_the_stream_given(engine) -> None:
    from argparse import Namespace

    from bot.cli import run_chat

    out, err = io.StringIO(), io.StringIO()
    args = Namespace(rules=None, data=None, date=None)
    assert run_chat(args, io.StringIO("广东省\n"), out, err) == 0
    assert "目前收录的政策都不适用于这个地区" in out.getvalue()


@pytest.mark.parametrize("content", ["", "\n", "# no facts yet\n"], ids=["empty", "blank line", "comment only"])
def test_an_empty_profile_exits_2_with_one_line_saying_it_is_empty(tmp_path: Path, capsys, content: str) -> None:
    profile = tmp_path / "empty.yaml"
    profile.write_text(content, encoding="utf-8")
    code, out, err = run(["match", "--profile", str(profile)], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "empty.yaml:1: the profile is empty" in err


HUGE = 100_000


@pytest.mark.parametrize(
    "content",
    [
        f"revenue: '{'1' * HUGE}'\n",
        f"revenue: '{'十二亿' * (HUGE // 3)}'\n",
        f"region: {'长' * HUGE}\n",
        f"region: {'changchun ' * (HUGE // 10)}\n",
        f"industries: [中药, {'x' * HUGE}]\n",
        f"industries: {'中药和' * (HUGE // 3)}x\n",
        f"produced_in_province: {'也许' * (HUGE // 2)}\n",
        f"loan_rate: '{'5%' * (HUGE // 2)}'\n",
        f"revenue: [{', '.join(['1'] * (HUGE // 3))}]\n",
        f"? {'x' * HUGE}\n: 1\n",
        f"{'y' * 1000}: 1\n",
        f"revenue: {'1' * 5000}\n",
    ],
    ids=[
        "digits",
        "numerals",
        "region",
        "latin region",
        "industry",
        "industry list",
        "yes or no",
        "rate",
        "wrong type",
        "fact name",
        "fact name of 1000 characters",
        "5000-digit number",
    ],
)
def test_an_error_about_a_huge_profile_value_is_one_short_line(tmp_path: Path, capsys, content: str) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(content, encoding="utf-8")
    code, out, err = run(["match", "--profile", str(profile)], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 300, lines[0][:500]


def test_chat_refuses_a_line_of_thousands_of_digits_with_a_hint_and_goes_on() -> None:
    digits = "1" * 5000
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--date", "2026-11-22"],
        input=f"{digits}\n長春\n{'9' * 4400}\n生物制药\n{digits}\n/quit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr and proc.stderr == ""
    assert "这个回答太长了,不像一个地名" in proc.stdout and "请写省、市或区县的名称" in proc.stdout
    assert proc.stdout.count("没看懂这个回答") == 3
    assert digits not in proc.stdout
    assert "本年度贵企业有以下哪些情况" in proc.stdout  # the interview went on after each refusal


def test_roles_and_audit_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    assert run(["roles", "grant", "42", "official"], capsys)[1].strip() == "user 42 now has the official role"
    assert run(["roles", "grant", "42", "official"], capsys)[1].strip() == "user 42 already has the official role"
    code, out, _ = run(["roles", "list"], capsys)
    assert code == 0 and out.startswith("42\tofficial\tcli:")
    assert run(["roles", "revoke", "42", "official"], capsys)[1].strip() == "user 42 no longer has the official role"
    code, out, _ = run(["audit", "--json"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["action"], r["user_id"], r["role"]) for r in records] == [
        ("grant", 42, "official"),
        ("revoke", 42, "official"),
    ]
    assert all(r["actor"].startswith("cli:") for r in records)
    assert run(["audit", "--since", "2999-01-01"], capsys)[1] == ""


def test_rules_check_lists_every_problem_once_in_file_line_and_column_order(rules_copy: Path, capsys) -> None:
    pharma = rules_copy / "policies" / "jilin-pharma.yaml"
    text = pharma.read_text(encoding="utf-8")
    pharma.write_text(
        text.replace("fact: revenue, first_more_than: 10亿", "fact: revenu, first_more_than: 10亿").replace(
            "clause:", "claus:", 1
        ),
        encoding="utf-8",
    )
    wuhan = rules_copy / "policies" / "wuhan-biopharma-2020.yaml"
    wuhan.write_text(wuhan.read_text(encoding="utf-8").replace("quote:", "quot:", 1), encoding="utf-8")
    code, out, err = run(["rules", "check", str(rules_copy), "--json"], capsys)
    assert code == 1 and err == ""
    problems = json.loads(out)
    assert all(list(p) == ["file", "line", "column", "message"] for p in problems)
    files = [Path(p["file"]).name for p in problems]
    assert files == sorted(files) and files.count("wuhan-biopharma-2020.yaml") == 2
    pharma_places = [(p["line"], p["column"]) for p in problems if p["file"].endswith("jilin-pharma.yaml")]
    assert pharma_places == sorted(pharma_places) and all(column > 0 for _, column in pharma_places)
    messages = [p["message"] for p in problems]
    assert messages.count("a rule needs 'clause': the measure number as in the source, e.g. \"12\"") == 1, "once"
    assert "unknown fact 'revenu' (did you mean 'revenue'?)" in messages
    assert "unknown key 'quot' in a rule (did you mean 'quote'?)" in messages
    code, text_out, err = run(["rules", "check", str(rules_copy)], capsys)
    assert code == 1 and err.strip().endswith(f"{len(problems)} error(s); the rules were not loaded.")
    assert run(["rules", "check", "--json"], capsys)[:2] == (0, "[]\n")


def test_match_piped_into_a_reader_that_stops_early_ends_quietly() -> None:
    """`incentive-bot match … | head -1`: the reader goes away before the output is written; the command ends
    without a traceback, with the status shells give a pipe closed early."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "match", "--profile", str(ROOT / "examples/changchun-biologics.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    proc.stdout.close()  # before the bot has started: every line it writes finds the pipe closed
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err
