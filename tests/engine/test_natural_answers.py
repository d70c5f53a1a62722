"""Answers as people give them in a chat: "没有" where the question invites it, yes and no in any usual word,
amounts as they are said, and options named inside a sentence."""

from __future__ import annotations

import pytest

from bot.engine.answers import parse_answer
from bot.engine.engine import Engine
from bot.engine.parsing import Invalid, Ok

NONE_WORDS = ["没有", "无", "none", "no", "0", "没", "暂无", "没有。", "None", "都没有"]


def answer(engine: Engine, fact: str, text: str) -> object:
    return parse_answer(engine.ruleset.catalogue[fact], text, engine.regions)


@pytest.mark.parametrize("text", NONE_WORDS)
@pytest.mark.parametrize(
    "fact", ["idle_variety_sales", "big_variety_sales_increase", "project_investment", "loan_amount"]
)
def test_none_to_a_money_question_that_invites_it_is_zero(engine: Engine, fact: str, text: str) -> None:
    assert engine.ruleset.catalogue[fact].none_is_zero
    assert "没有" in engine.ruleset.catalogue[fact].text["zh-Hans"]  # the question says so
    assert answer(engine, fact, text) == Ok(0)


@pytest.mark.parametrize("text", NONE_WORDS)
@pytest.mark.parametrize("fact", ["events", "approvals", "projects"])
def test_none_to_a_choose_all_that_apply_question_is_an_empty_choice(engine: Engine, fact: str, text: str) -> None:
    assert answer(engine, fact, text) == Ok([])


@pytest.mark.parametrize("text", ["没有", "none", "暂无"])
def test_none_is_not_a_figure_where_the_question_does_not_invite_it(engine: Engine, text: str) -> None:
    # This year's revenue is never "none": the contact is asked again, not recorded as 0.
    assert isinstance(answer(engine, "revenue", text), Invalid)


@pytest.mark.parametrize("text", ["是的", "对", "有", "yes", "是", "Yes.", "有的", "对的"])
def test_yes_in_its_usual_words(engine: Engine, text: str) -> None:
    assert answer(engine, "produced_in_province", text) == Ok(True)


@pytest.mark.parametrize("text", ["否", "没有", "no", "不是", "无", "没", "No", "还没有"])
def test_no_in_its_usual_words(engine: Engine, text: str) -> None:
    assert answer(engine, "produced_in_province", text) == Ok(False)


@pytest.mark.parametrize(
    ("text", "yuan"),
    [("三个亿", 300_000_000), ("两亿五", 250_000_000), ("大概三个亿吧", 300_000_000), ("大概三千万吧", 30_000_000),
     ("约3000万", 30_000_000)],
)  # fmt: skip
def test_amounts_as_they_are_said(engine: Engine, text: str, yuan: int) -> None:
    assert answer(engine, "revenue", text) == Ok(yuan)


@pytest.mark.parametrize(
    ("fact", "text", "values"),
    [
        ("projects", "我们在做生物制品研发及产业化", ["biologics_rnd"]),
        ("events", "我们在做生物制品研发及产业化", ["biologics_rnd"]),
        ("events", "今年拿到了临床批件,还在做疫苗研发", ["clinical_trial_permit", "biologics_rnd"]),
        ("industries", "我们是做生物制药和医药流通的", ["biologics", "distribution"]),
    ],
)
def test_options_named_inside_a_sentence_are_read(engine: Engine, fact: str, text: str, values: list[str]) -> None:
    assert answer(engine, fact, text) == Ok(values)


@pytest.mark.parametrize(
    ("fact", "text", "problem"),
    [("events", "没有临床试验许可", "negated"), ("projects", "中药和西药", "unknown_option")],
)
def test_a_sentence_that_says_more_than_its_options_is_not_read_as_them(
    engine: Engine, fact: str, text: str, problem: str
) -> None:
    result = answer(engine, fact, text)
    assert isinstance(result, Invalid) and result.problem == problem
