"""A broken rule file is refused with file:line:column errors and never replaces good rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.yamlsource import SourceErrors
from bot.loading import load_engine

JILIN = "policies/jilin-pharma.yaml"


def break_file(rules_dir: Path, relative: str, old: str, new: str) -> int:
    """Replaces text in a rules file and returns the 1-based line where the change is."""
    path = rules_dir / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def place(rules_dir: Path, relative: str, needle: str) -> str:
    """'line:column' (1-based) where needle starts in a rules file."""
    text = (rules_dir / relative).read_text(encoding="utf-8")
    start = text.index(needle)
    return f"{text.count(chr(10), 0, start) + 1}:{start - text.rfind(chr(10), 0, start)}"


def load_errors(rules_dir: Path) -> list[str]:
    with pytest.raises(SourceErrors) as caught:
        load_engine(rules_dir)
    return [str(e) for e in caught.value.errors]


def test_an_unknown_fact_is_reported_with_file_line_column_and_a_suggestion(rules_copy: Path) -> None:
    break_file(rules_copy, JILIN, "fact: project_investment, at_least", "fact: project_investmnt, at_least")
    at = place(rules_copy, JILIN, "project_investmnt")
    errors = load_errors(rules_copy)
    assert any(
        e.endswith(f"jilin-pharma.yaml:{at}: unknown fact 'project_investmnt' (did you mean 'project_investment'?)")
        for e in errors
    ), errors


def test_a_duplicate_key_is_an_error_naming_both_lines(rules_copy: Path) -> None:
    first = break_file(
        rules_copy, JILIN, "    title: 新取得临床试验许可", '    clause: "9"\n    title: 新取得临床试验许可'
    )
    again = place(rules_copy, JILIN, 'clause: "1"')
    errors = load_errors(rules_copy)
    assert any(
        e.endswith(f"jilin-pharma.yaml:{again}: duplicate key 'clause' (first on line {first}); keep one of them")
        for e in errors
    ), errors


def test_a_duplicate_key_does_not_hide_the_other_problems_of_its_file(rules_copy: Path) -> None:
    break_file(rules_copy, JILIN, "    title: 新取得临床试验许可", '    clause: "9"\n    title: 新取得临床试验许可')
    break_file(rules_copy, JILIN, "fact: project_investment, at_least", "fact: project_investmnt, at_least")
    errors = load_errors(rules_copy)
    assert any("duplicate key 'clause'" in e for e in errors) and any("project_investmnt" in e for e in errors)


def test_a_malformed_date_is_an_error(rules_copy: Path) -> None:
    line = break_file(rules_copy, "calls/example-jilin-2026.yaml", "closes: 2026-12-15", "closes: 2026-13-15")
    errors = load_errors(rules_copy)
    assert any(
        e.endswith(f"example-jilin-2026.yaml:{line}:13: 'closes' is not a date: '2026-13-15' (write YYYY-MM-DD)")
        for e in errors
    ), errors


def test_an_unknown_key_is_an_error(rules_copy: Path) -> None:
    line = break_file(rules_copy, JILIN, "    department: null\n", "    departmnet: null\n")
    errors = load_errors(rules_copy)
    assert any(f"jilin-pharma.yaml:{line}:5: unknown key 'departmnet' in a rule" in e for e in errors), errors


def test_a_quote_not_in_the_source_is_an_error(rules_copy: Path) -> None:
    line = break_file(rules_copy, JILIN, "最高给予200万元奖励。\n", "最高给予300万元奖励。\n")
    errors = load_errors(rules_copy)
    assert any(
        f"jilin-pharma.yaml:{line}:12: quote of rule 'jilin-1-clinical-trial' does not occur verbatim" in e
        and e.endswith(
            "closest in the source: '对新取得临床试验许可、注册申请受理书的医药健康产品,最高给予200万元奖励。'"
        )
        for e in errors
    ), errors


def test_an_unknown_option_value_is_an_error(rules_copy: Path) -> None:
    break_file(rules_copy, JILIN, "contains: consistency_evaluation", "contains: consistency_eval")
    at = place(rules_copy, JILIN, "consistency_eval")
    errors = load_errors(rules_copy)
    assert any(
        e.endswith(
            f"jilin-pharma.yaml:{at}: 'consistency_eval' is not an option of approvals "
            "(did you mean 'consistency_evaluation'?)"
        )
        for e in errors
    ), errors


def test_an_unreadable_amount_is_an_error(rules_copy: Path) -> None:
    break_file(rules_copy, JILIN, "cap: 500万", "cap: 500万美元")
    at = place(rules_copy, JILIN, "500万美元")
    errors = load_errors(rules_copy)
    assert any(f"jilin-pharma.yaml:{at}: 'cap' is not an amount" in e for e in errors), errors


def test_a_yaml_syntax_error_names_the_line(rules_copy: Path) -> None:
    line = break_file(rules_copy, JILIN, "  - id: jilin-4-pharmacopoeia", "  - id: [jilin-4-pharmacopoeia")
    errors = load_errors(rules_copy)
    assert len(errors) == 1 and "jilin-pharma.yaml:" in errors[0]
    assert int(errors[0].split(":")[1]) >= line and int(errors[0].split(":")[2]) >= 1


def test_every_error_of_a_file_is_reported_at_once(rules_copy: Path) -> None:
    break_file(rules_copy, JILIN, "fact: project_investment, at_least", "fact: project_investmnt, at_least")
    break_file(rules_copy, JILIN, "kind: cash_reward, cap: 50万", "kind: cash_rewardd, cap: 50万")
    errors = load_errors(rules_copy)
    assert any("project_investmnt" in e for e in errors) and any("cash_rewardd" in e for e in errors)


def test_a_duplicate_rule_id_is_an_error(rules_copy: Path) -> None:
    break_file(rules_copy, JILIN, "id: jilin-4-pharmacopoeia", "id: jilin-1-clinical-trial")
    errors = load_errors(rules_copy)
    used_twice = [e for e in errors if "rule id 'jilin-1-clinical-trial' is used twice" in e]
    assert len(used_twice) == 2, "both rules are named, each with where the other is"


def test_a_rule_id_too_long_for_button_data_is_an_error(rules_copy: Path) -> None:
    long_id = "jilin-1-clinical-trial-" + "x" * 50
    line = break_file(rules_copy, JILIN, "id: jilin-1-clinical-trial\n", f"id: {long_id}\n")
    errors = load_errors(rules_copy)
    assert any(f"jilin-pharma.yaml:{line}:9: rule id '{long_id}' is too long" in e for e in errors), errors


def test_a_rule_id_with_spaces_or_capitals_is_an_error(rules_copy: Path) -> None:
    line = break_file(rules_copy, JILIN, "id: jilin-4-pharmacopoeia", "id: Jilin 4")
    errors = load_errors(rules_copy)
    assert any(f"jilin-pharma.yaml:{line}:9: rule id 'Jilin 4' may use only" in e for e in errors), errors
