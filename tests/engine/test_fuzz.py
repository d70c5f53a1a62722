"""Whatever a person types, up to Telegram's 4,096 characters, every answer parser gives Ok or a reasoned Invalid."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import parsing as p
from bot.engine.answers import parse_answer, parsing_options
from bot.engine.engine import Engine
from bot.loading import load_engine

MAX_TEXT = 4096
NUMERALS = "0123456789零〇一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟廿点"
UNITS = [
    "亿", "万", "元", "块", "%", "‰", "百分之", "千分之", "k", "m", "bn", "million", "人民币", "美元", "以上", "左右",
]  # fmt: skip
MIXED = (
    NUMERALS + "abcxyzABCXYZ .,;:/、,。!??-~—至到和及与%$€¥￥"
    "长春吉林省通化市东昌区中国广东中药生物制药化学药医疗器械临床试验许可高新技术企业是否有没不清楚跳过"
)

# Long runs of what parsers look at hardest: numerals and units over and over, and the 4,300-digit edge at
# which Python stops converting text to int.
repeated = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(["亿", "十二亿", "1", "9", "万", "一千", "3000万", "1,000", "0.", "中药、", "长春", "是", "/"]),
    st.integers(0, 1400),
).map(lambda text: text[:MAX_TEXT])
digit_runs = st.builds(
    lambda digits, unit: digits + unit,
    st.integers(4250, 4400).map(lambda n: "1" * n),
    st.sampled_from(["", "万", "亿", "元", "%", ".5"]),
)
numeral_text = st.text(alphabet=NUMERALS + ".,%万亿元 -~至", max_size=MAX_TEXT)
mixed_text = st.text(alphabet=MIXED, max_size=MAX_TEXT)
number_words = st.lists(
    st.one_of(st.sampled_from(UNITS), st.text(alphabet=NUMERALS, min_size=1, max_size=12)), max_size=40
).map("".join)
any_text = st.text(max_size=MAX_TEXT)  # every code point but surrogates, which no channel delivers
answers = st.one_of(any_text, mixed_text, numeral_text, number_words, repeated, digit_runs)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def shipped() -> Engine:
    return load_engine()


def assert_result(result: object) -> None:
    assert isinstance(result, p.Ok | p.Invalid)
    if isinstance(result, p.Invalid):
        assert result.problem in p.PROBLEMS
        assert result.problem != "unexpected", "a parser failed and its guard hid it"
        assert len(result.excerpt) <= p.EXCERPT_CHARS + 1
        assert len(result.candidates) <= 8


@FUZZ
@given(answers)
def test_money_number_and_rate_parsers_answer_anything_with_a_value_or_a_reason(text: str) -> None:
    for parse in (p.parse_money, p.parse_number, p.parse_fraction):
        assert_result(parse(text))


@FUZZ
@given(answers)
def test_yes_no_and_skip_answer_anything(text: str) -> None:
    assert_result(p.parse_bool(text))
    assert p.is_skip(text) in (True, False)


@FUZZ
@given(answers)
def test_choice_parsers_answer_anything_with_a_value_or_a_reason(shipped: Engine, text: str) -> None:
    catalogue = shipped.ruleset.catalogue
    for question in catalogue.questions.values():
        if question.type == "choice":
            assert_result(p.parse_choice(text, parsing_options(question)))
        elif question.type == "multi_choice":
            assert_result(p.parse_multi_choice(text, parsing_options(question)))


@FUZZ
@given(answers)
def test_the_region_parser_answers_anything_with_a_place_or_a_reason(shipped: Engine, text: str) -> None:
    assert_result(p.parse_region(text, shipped.regions))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), answers)
def test_every_question_of_the_shipped_catalogue_reads_any_text_answer(shipped: Engine, data, text: str) -> None:
    question = data.draw(st.sampled_from(list(shipped.ruleset.catalogue.questions.values())), label="question")
    assert_result(parse_answer(question, text, shipped.regions))


@FUZZ
@given(
    st.one_of(
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
        st.lists(st.one_of(st.text(max_size=50), st.integers()), max_size=10),
        st.dictionaries(st.text(max_size=10), st.integers(), max_size=3),
    ),
    st.data(),
)
def test_every_question_reads_any_typed_profile_value(shipped: Engine, value, data) -> None:
    question = data.draw(st.sampled_from(list(shipped.ruleset.catalogue.questions.values())), label="question")
    assert_result(parse_answer(question, value, shipped.regions))
