"""A rule whose `all` no answer could ever meet is refused, at the test that closes the last way out; a rule that
some answer meets is never refused for it."""

from __future__ import annotations

import pytest

from bot.engine.engine import Engine
from bot.engine.loader import load_policy_file
from bot.engine.yamlsource import SourceErrors, SourceFile

RULE = """document: jilin-pharma
rules:
  - id: revenue-rule
    title: 年营业收入首次超过10亿元的医药健康企业奖励
    clause: "12"
    quote: 对年营业收入首次超过10亿元、20亿元、50亿元和100亿元的医药健康企业,一次性给予50—200万元奖励。
    reward: {kind: cash_reward, min: 50万, cap: 200万}
    when:
"""


def problems(engine: Engine, *conditions: str) -> list[str]:
    """The problems of a rule whose `when` is the given YAML lines (indented under `when:`)."""
    text = RULE + "".join(f"      {line}\n" for line in conditions)
    try:
        load_policy_file(SourceFile("p.yaml", text), engine.ruleset.catalogue, engine.ruleset.documents, engine.regions)
    except SourceErrors as exc:
        return [str(error) for error in exc.errors]
    return []


@pytest.mark.parametrize(
    "tests",
    [
        ["{fact: revenue, at_least: 10亿}", "{fact: revenue, at_most: 10亿}"],
        ["{fact: revenue, more_than: 5亿}", "{fact: revenue, less_than: 10亿}"],
        [
            "{fact: revenue, first_more_than: 10亿, previous: revenue_last_year}",
            "{fact: revenue_last_year, at_least: 5亿}",
        ],
        ["{fact: project_on_schedule, is: true}", "{not: {fact: project_on_schedule, is: false}}"],
        [
            "{fact: revenue, at_least: 10亿}",
            "{any: [{fact: revenue, less_than: 5亿}, {fact: revenue, at_least: 20亿}]}",
        ],
        [
            "{not: {all: [{fact: revenue, at_least: 10亿}, {fact: revenue, at_most: 20亿}]}}",
            "{fact: revenue, less_than: 5亿}",
        ],
        ["{fact: loan_rate, at_least: 0.04}", "{fact: loan_rate, less_than: 0.05}"],
    ],
    ids=["one value left", "an open range", "last year below the line", "is and not is-not", "any", "not all", "rates"],
)
def test_an_all_that_some_answer_meets_is_not_refused(engine: Engine, tests: list[str]) -> None:
    assert problems(engine, "all:", *(f"  - {test}" for test in tests)) == []


@pytest.mark.parametrize(
    ("tests", "message"),
    [
        (
            ["{fact: revenue, at_least: 10亿}", "{fact: revenue, less_than: 10亿}"],
            "'revenue' cannot be less_than 10亿 and at_least 10亿 (line 10) at once",
        ),
        (
            ["{fact: revenue, more_than: 10亿}", "{fact: revenue, at_most: 10亿}"],
            "'revenue' cannot be at_most 10亿 and more_than 10亿 (line 10) at once",
        ),
        (
            ["{fact: revenue, first_more_than: 10亿, previous: revenue_last_year}",
             "{fact: revenue_last_year, more_than: 20亿}"],
            "'revenue_last_year' cannot be more_than 20亿 and at_most 10亿 (line 10) at once",
        ),
        (
            ["{fact: project_on_schedule, is: true}", "{fact: project_on_schedule, is: false}"],
            "'project_on_schedule' cannot be is false and is true (line 10) at once",
        ),
        (
            ["{fact: revenue, at_least: 10亿}", "{not: {fact: revenue, at_least: 5亿}}"],
            "'revenue' cannot be less_than 5亿 and at_least 10亿 (line 10) at once",
        ),
        (
            ["{fact: loan_rate, more_than: 0.05}", "{fact: loan_rate, less_than: 0.04}"],
            "'loan_rate' cannot be less_than 0.04 and more_than 0.05 (line 10) at once",
        ),
    ],
    ids=["at the threshold", "excluded threshold", "last year above the line", "two values", "not", "rates"],
)  # fmt: skip
def test_an_all_that_no_answer_meets_is_refused_at_the_test_that_closes_it(
    engine: Engine, tests: list[str], message: str
) -> None:
    found = problems(engine, "all:", *(f"  - {test}" for test in tests))
    assert found == [f"p.yaml:11:11: {message}, so this 'all' can never be true; correct one of them (or use 'any' if "
                     "either is enough)"]  # fmt: skip


def test_an_all_inside_an_all_is_checked_with_it_and_reported_once(engine: Engine) -> None:
    found = problems(
        engine,
        "all:",
        "  - {fact: revenue, at_least: 10亿}",
        "  - all:",
        "      - {fact: project_investment, at_least: 3000万}",
        "      - {fact: revenue, less_than: 5亿}",
    )
    assert len(found) == 1 and found[0].startswith("p.yaml:13:15: 'revenue' cannot be less_than 5亿 and at_least 10亿")
