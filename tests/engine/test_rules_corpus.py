"""Every kind of broken rule file, one file each under tests/rules_corpus/, dropped into a copy of the shipped rules:
the check the bot reloads with and `incentive-bot rules check` refuse it with its exact file:line:column messages,
and neither crashes.

A corpus file sits in the folder it goes into (policies/ or calls/) and lists what it must produce on lines
`# expect: LINE:COLUMN: message` (a place in the file itself) or `# expect: FOLDER/FILE:LINE:COLUMN: message` (a
place in a shipped file the broken one clashes with), in file, line and column order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from bot.loading import MAX_RULE_FILE_BYTES
from bot.reloading import check_rules

CORPUS = Path(__file__).resolve().parents[1] / "rules_corpus"
EXPECT = b"# expect: "
OWN_PLACE = re.compile(r"\d+:\d+: ")


@dataclass(frozen=True)
class BrokenFile:
    """One broken rule file: where it goes in the rules folder, its bytes, and every problem it must produce."""

    place: str  # "policies/tab-indentation.yaml"
    content: bytes
    expected: tuple[str, ...]  # "policies/tab-indentation.yaml:10:1: a tab in the indentation; indent with spaces"

    def install(self, rules_dir: Path) -> Path:
        path = rules_dir / self.place
        path.write_bytes(self.content)
        return path


def stored(path: Path) -> BrokenFile:
    place = f"{path.parent.name}/{path.name}"
    content = path.read_bytes()
    expected = []
    for line in content.splitlines():
        if line.startswith(EXPECT):
            text = line[len(EXPECT) :].decode("utf-8")
            expected.append(f"{place}:{text}" if OWN_PLACE.match(text) else text)
    assert expected, f"{place} says what it must produce on '# expect:' lines"
    return BrokenFile(place, content, tuple(expected))


def oversize() -> BrokenFile:
    """A rule file over the size limit (made here rather than kept in the repository): refused before it is read."""
    rule = (CORPUS / "policies" / "missing-clause.yaml").read_bytes().replace(b"# expect:", b"# was:")
    content = rule + b"# padding\n" * (MAX_RULE_FILE_BYTES // 10 + 1)
    message = (
        f"the file is {len(content):,} bytes; at most {MAX_RULE_FILE_BYTES:,} are read (split it into smaller files)"
    )
    return BrokenFile("policies/oversize.yaml", content, (f"policies/oversize.yaml:1:1: {message}",))


def corpus() -> list[BrokenFile]:
    return [stored(path) for path in sorted(CORPUS.glob("*/*.yaml"))] + [oversize()]


CASES = corpus()


def shown(problem: object, rules_dir: Path) -> str:
    """A problem as printed, with the rules folder's path left off every path in it."""
    return str(problem).replace(f"{rules_dir}/", "")


def test_the_corpus_has_a_file_for_every_kind_of_broken_rule_file() -> None:
    kinds = {
        "yaml-syntax", "tab-indentation", "duplicate-key", "unknown-key", "unknown-fact", "unknown-option",
        "wrong-type", "malformed-date", "malformed-amount", "missing-quote", "missing-clause",
        "quote-not-in-document", "duplicate-rule-id", "impossible-condition", "reward-min-over-cap",
        "formula-over-non-money", "deadline-outside-validity", "closes-outside-validity", "unknown-rule",
        "non-utf8", "oversize", "alias-bomb",
    }  # fmt: skip
    assert kinds <= {Path(case.place).stem for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.place for case in CASES])
def test_a_broken_file_is_refused_with_its_exact_messages_by_the_check_and_by_rules_check(
    case: BrokenFile, rules_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case.install(rules_copy)
    checked = check_rules(rules_copy, None)
    assert checked.engine is None and not checked.compiled
    assert [shown(problem, rules_copy) for problem in checked.problems] == list(case.expected)

    assert main(["rules", "check", str(rules_copy)]) == 1
    out, err = capsys.readouterr()
    *problems, summary = err.strip().split("\n")
    assert [shown(line, rules_copy) for line in problems] == list(case.expected)
    assert summary == f"{len(case.expected)} error(s); the rules were not loaded." and "Traceback" not in err


def reported_at_once(cases: list[BrokenFile], rules_dir: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Every problem `rules check --json` lists with all the cases in the rules folder at once."""
    for case in cases:
        case.install(rules_dir)
    assert main(["rules", "check", str(rules_dir), "--json"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    return [shown(f"{p['file']}:{p['line']}:{p['column']}: {p['message']}", rules_dir) for p in json.loads(out)]


def test_every_broken_file_at_once_is_refused_with_every_message_of_each_rule_file(
    rules_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The checker goes on past a broken file: one run reports the problems of all of them, for tools as JSON."""
    reported = reported_at_once(CASES, rules_copy, capsys)
    expected = [line for case in CASES if case.place.startswith("policies/") for line in case.expected]
    assert [line for line in expected if line not in reported] == []
    assert len(reported) == len(set(reported)), "each problem once"


def test_calls_are_checked_in_the_same_run_when_every_rule_file_could_be_parsed(
    rules_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rule file that cannot be read or parsed may hold any rule id, so only then are calls not checked."""
    unparsed = ("yaml-syntax", "tab-indentation", "alias-bomb", "non-utf8", "oversize")
    cases = [case for case in CASES if Path(case.place).stem not in unparsed]
    reported = reported_at_once(cases, rules_copy, capsys)
    assert [line for case in cases for line in case.expected if line not in reported] == []


def test_the_readme_shows_messages_exactly_as_the_corpus_gives_them() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    after = readme[readme.index("`incentive-bot rules check` reports every problem") :]
    example = after.split("```")[1]  # the first block after that sentence
    shown_there = [line.removeprefix("rules/") for line in example.strip().split("\n")]
    given = {line for case in CASES for line in case.expected}
    assert shown_there and [line for line in shown_there if line not in given] == []
