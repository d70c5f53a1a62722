"""Tests for free-text answer parsing: what a person types and what the bot makes of it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import cn2an
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.engine import parsing
from bot.engine.model import ChoiceOption, Question
from bot.engine.parsing import (
    MATCH_THRESHOLD,
    PROBLEMS,
    Invalid,
    Ok,
    Option,
    is_skip,
    parse_bool,
    parse_choice,
    parse_fraction,
    parse_money,
    parse_multi_choice,
    parse_number,
    parse_region,
)
from bot.engine.regions import RegionIndex
from bot.loading import load_region_index
from handlers import phrases

INDUSTRIES = (
    Option("tcm", ("中药", "中医药", "tcm")),
    Option("biologics", ("生物药", "生物制药", "生物制品", "biologics")),
    Option("chemical_drugs", ("化学药", "化药", "化学制药")),
    Option("medical_devices", ("医疗器械", "器械")),
    Option("cosmetics", ("化妆品、日化", "化妆品", "日化")),
    Option("distribution", ("医药流通", "流通")),
    Option("other", ("其他",)),
)

# Any text, including CJK, numerals, currency signs and control characters.
any_text = st.text(
    st.one_of(
        st.characters(),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from("0123456789.,-%万亿千百十一二三四五六七八九零点两壹元¥$和、 /?"),
    )
)


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return load_region_index()


def _question(kind: str) -> Question:
    """A question of the kind a parser serves, for wording its refusals as a contact reads them."""
    options = tuple(ChoiceOption(o.value, {"zh-Hans": o.label}) for o in INDUSTRIES)
    texts = {"zh-Hans": "问题"}
    return Question("x", kind, texts, texts, texts, options if kind in ("choice", "multi_choice") else ())


@dataclass(frozen=True)
class Said:
    """A refusal and how the contact reads it (Simplified Chinese)."""

    invalid: Invalid
    reason: str
    hint: str


def said(result: object, kind: str) -> Said:
    assert isinstance(result, Invalid) and result.problem in PROBLEMS
    reason, hint = phrases.problem(result, _question(kind), "zh-Hans")
    return Said(result, reason, hint)


def assert_invalid_with_hint(result: object, kind: str) -> Said:
    refusal = said(result, kind)
    assert refusal.reason and refusal.hint
    return refusal


# --- money ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "yuan"),
    [
        ("3000万", 30_000_000),
        ("3000万元", 30_000_000),
        ("1.5亿", 150_000_000),
        ("1.5 亿元", 150_000_000),
        ("0.3亿", 30_000_000),
        ("三千万", 30_000_000),
        ("十二亿", 1_200_000_000),
        ("一亿五千万", 150_000_000),
        ("30,000,000", 30_000_000),
        ("30000000元", 30_000_000),
        ("3000 万", 30_000_000),
        ("￥3000万", 30_000_000),
        ("RMB 30,000,000", 30_000_000),
        ("12億", 1_200_000_000),
        ("壹亿", 100_000_000),
        ("2万5千", 25_000),
        ("2万5000", 25_000),
        ("1亿5000万", 150_000_000),
        ("一点五亿", 150_000_000),
        ("3千万", 30_000_000),
        ("三千五百万", 35_000_000),
        ("人民币3000万元", 30_000_000),
        ("  3000万。 ", 30_000_000),
        ("３０００万", 30_000_000),
        ("約3000萬元", 30_000_000),
        ("0", 0),
        ("3000.5元", 3001),
        ("1000000000000000", 10**15),
        # As people say them
        ("三个亿", 300_000_000),
        ("1.2个亿", 120_000_000),
        ("十个亿", 1_000_000_000),
        ("两亿五", 250_000_000),
        ("两万五", 25_000),
        ("2万5", 25_000),
        ("一万零五", 10_005),
        ("大概三个亿吧", 300_000_000),
        ("大概三千万吧", 30_000_000),
        ("三千万左右吧", 30_000_000),
        ("约3000万", 30_000_000),
        ("应该是五千万左右吧。", 50_000_000),
    ],
)
def test_parse_money_accepts_the_ways_people_write_amounts(text: str, yuan: int) -> None:
    assert parse_money(text) == Ok(yuan)


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("", "没有"),
        ("   ", "没有"),
        ("很多", "看不懂"),
        ("-3000万", "负"),
        ("3000万美元", "人民币"),
        ("$3,000", "人民币"),
        ("3000-5000万", "范围"),
        ("3000万到5000万", "范围"),
        ("3000多万", "确切"),
        ("3000万以上", "确切"),
        ("1000000000000001", "太大"),
        ("1e10", "看不懂"),
        ("3,00万", "看不懂"),
        ("2万5万", "看不懂"),
        ("三个", "看不懂"),
        ("5万3亿", "看不懂"),
    ],
)
def test_parse_money_refuses_what_is_not_one_amount_in_yuan(text: str, reason_part: str) -> None:
    result = assert_invalid_with_hint(parse_money(text), "money")
    assert reason_part in result.reason


def test_parse_money_says_how_to_write_an_amount() -> None:
    result = said(parse_money("很多"), "money")
    assert "3000万" in result.hint and "元" in result.hint


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**15))
def test_parse_money_reads_back_a_number_with_thousands_separators(n: int) -> None:
    assert parse_money(f"{n:,}") == Ok(n)
    assert parse_money(f"{n}元") == Ok(n)


@settings(max_examples=200)
@given(st.integers(min_value=1, max_value=10**15))
def test_parse_money_reads_back_an_amount_in_wan(n: int) -> None:
    written = f"{n / 10**4}"
    assume(Decimal(written) * 10**4 == n)
    assert parse_money(f"{written}万") == Ok(n)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["low", "up"]))
def test_parse_money_reads_back_an_amount_in_chinese_numerals(n: int, mode: str) -> None:
    # cn2an writes 30000000 as 三千万 and, in financial numerals, as 叁仟万.
    assert parse_money(cn2an.an2cn(n, mode)) == Ok(n)


@settings(max_examples=200)
@given(st.integers(min_value=1, max_value=10**7))
def test_parse_money_reads_back_an_amount_in_yi(n: int) -> None:
    written = f"{n / 10**4}"
    assume(Decimal(written) * 10**4 == n)
    assert parse_money(f"{written}亿") == Ok(n * 10**4)


# --- plain numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("3.5", 3.5), ("三千", 3000), ("十二", 12), ("1.2万", 12_000), ("1,200", 1200), ("-5", -5)],
)
def test_parse_number_accepts_digits_and_chinese_numerals(text: str, value: float) -> None:
    assert parse_number(text) == Ok(value)


@pytest.mark.parametrize("text", ["", "abc", "3-5", "十二个", "1.2.3"])
def test_parse_number_refuses_what_is_not_one_number(text: str) -> None:
    assert_invalid_with_hint(parse_number(text), "number")


# --- rates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fraction"),
    [
        ("4.35%", 0.0435),
        ("4.35 %", 0.0435),
        ("4.35％", 0.0435),
        ("百分之四点三五", 0.0435),
        ("百分之4.35", 0.0435),
        ("0.0435", 0.0435),
        ("4.35", 0.0435),
        ("100%", 1.0),
        ("100", 1.0),
        ("0", 0.0),
        ("5‰", 0.005),
        ("千分之五", 0.005),
    ],
)
def test_parse_fraction_reads_percentages_and_fractions(text: str, fraction: float) -> None:
    result = parse_fraction(text)
    assert isinstance(result, Ok)
    assert result.value == pytest.approx(fraction)


@pytest.mark.parametrize("text", ["", "-1%", "-0.5", "101", "101%", "百分之二百", "abc", "3%-5%", "1"])
def test_parse_fraction_refuses_impossible_or_unclear_rates(text: str) -> None:
    assert_invalid_with_hint(parse_fraction(text), "rate")


def test_parse_fraction_hint_explains_how_a_bare_number_is_read() -> None:
    result = said(parse_fraction("abc"), "rate")
    assert "4.35" in result.hint and "0.0435" in result.hint


@settings(max_examples=200)
@given(st.decimals(min_value=0, max_value=100, places=2))
def test_parse_fraction_reads_back_any_percentage(percent: Decimal) -> None:
    result = parse_fraction(f"{percent}%")
    assert isinstance(result, Ok)
    assert result.value == pytest.approx(float(percent) / 100)


# --- yes / no ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["是", "是的", "对", "有", "已经", "yes", "Y", "true", "1", "√", "是。", " 有 ", "對", "YES"]
)
def test_parse_bool_reads_yes(text: str) -> None:
    assert parse_bool(text) == Ok(True)


@pytest.mark.parametrize(
    "text", ["否", "不是", "没有", "无", "不", "no", "N", "false", "0", "×", "沒有", "無", "不是。"]
)
def test_parse_bool_reads_no(text: str) -> None:
    assert parse_bool(text) == Ok(False)


@pytest.mark.parametrize("text", ["", "也许", "是不是", "maybe", "2"])
def test_parse_bool_refuses_unclear_answers(text: str) -> None:
    assert_invalid_with_hint(parse_bool(text), "bool")


# --- choices -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("biologics", "biologics"),
        ("生物药", "biologics"),
        ("生物制药", "biologics"),
        ("Biologics", "biologics"),
        ("生物製藥", "biologics"),
        ("化妆品", "cosmetics"),
        ("化妆品、日化", "cosmetics"),
        ("我们主要做中药饮片", "tcm"),
        ("我们是做医药流通的", "distribution"),
        ("生物制要", "biologics"),
        ("医疗器戒", "medical_devices"),
    ],
)
def test_parse_choice_matches_values_labels_synonyms_and_typos(text: str, value: str) -> None:
    assert parse_choice(text, INDUSTRIES) == Ok(value)


@pytest.mark.parametrize("text", ["", "天气很好", "火箭", "化学药和中药", "xyz"])
def test_parse_choice_refuses_unrelated_or_several_answers_and_lists_the_options(text: str) -> None:
    result = assert_invalid_with_hint(parse_choice(text, INDUSTRIES), "choice")
    assert "生物药" in result.hint and "医疗器械" in result.hint


def test_parse_choice_never_guesses_between_two_equally_close_options() -> None:
    options = (Option("a", ("生物药甲",)), Option("b", ("生物药乙",)))
    assert_invalid_with_hint(parse_choice("生物药丙", options), "choice")


def test_parse_choice_does_not_guess_a_typo_in_a_three_character_label() -> None:
    # One wrong character in three is too far from "化妆品" to be sure (fuzz.ratio 67 < MATCH_THRESHOLD).
    assert MATCH_THRESHOLD > 67
    assert_invalid_with_hint(parse_choice("化状品", INDUSTRIES), "choice")


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("中药、化学药", ["tcm", "chemical_drugs"]),
        ("化学药,中药", ["tcm", "chemical_drugs"]),
        ("中药和化学药", ["tcm", "chemical_drugs"]),
        ("中药 化学药 中药", ["tcm", "chemical_drugs"]),
        ("生物药/医疗器械;其他", ["biologics", "medical_devices", "other"]),
        ("化妆品、日化", ["cosmetics"]),
        ("都没有", []),
        ("无", []),
        ("沒有", []),
        ("生物制药", ["biologics"]),
    ],
)
def test_parse_multi_choice_reads_lists_in_option_order(text: str, values: list[str]) -> None:
    assert parse_multi_choice(text, INDUSTRIES) == Ok(values)


def test_parse_multi_choice_names_the_part_it_does_not_understand() -> None:
    result = assert_invalid_with_hint(parse_multi_choice("中药、火箭", INDUSTRIES), "multi_choice")
    assert "火箭" in result.reason


def test_parse_multi_choice_keeps_a_label_with_and_in_it() -> None:
    options = (Option("rnd", ("研发和生产",)), Option("sales", ("销售",)))
    assert parse_multi_choice("研发和生产、销售", options) == Ok(["rnd", "sales"])


# --- regions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("吉林省/通化市/东昌区", "吉林省/通化市/东昌区"),
        ("吉林省通化市东昌区", "吉林省/通化市/东昌区"),
        ("東昌區", "吉林省/通化市/东昌区"),
        ("长春", "吉林省/长春市"),
        ("吉林省", "吉林省"),
        ("吉林市", "吉林省/吉林市"),
    ],
)
def test_parse_region_gives_the_path(regions: RegionIndex, text: str, path: str) -> None:
    assert parse_region(text, regions) == Ok(path)


def test_parse_region_lists_the_candidates_of_an_ambiguous_name(regions: RegionIndex) -> None:
    result = assert_invalid_with_hint(parse_region("朝阳区", regions), "region")
    assert "北京市/朝阳区" in result.hint and "吉林省/长春市/朝阳区" in result.hint
    result = assert_invalid_with_hint(parse_region("吉林", regions), "region")
    assert "吉林省/吉林市" in result.hint


def test_parse_region_refuses_an_unknown_place_with_an_example(regions: RegionIndex) -> None:
    result = assert_invalid_with_hint(parse_region("火星基地", regions), "region")
    assert "东昌区" in result.hint


@pytest.mark.parametrize(
    ("text", "nearest"),
    [("广洲", "广东省/广州市"), ("东昌去", "吉林省/通化市/东昌区"), ("杭洲市余杭区", "浙江省/杭州市/余杭区"),
     ("Changchu", "吉林省/长春市"), ("Guangzho", "广东省/广州市")],
)  # fmt: skip
def test_parse_region_offers_the_nearest_places_for_an_unknown_name(
    regions: RegionIndex, text: str, nearest: str
) -> None:
    result = parse_region(text, regions)
    assert isinstance(result, Invalid) and result.problem == "unknown_place"
    assert nearest in result.candidates[:2] and len(result.candidates) <= 5


def test_parse_region_reads_a_name_inside_the_place_it_refines(regions: RegionIndex) -> None:
    assert parse_region("朝阳区", regions, near="吉林省/长春市") == Ok("吉林省/长春市/朝阳区")
    # A place elsewhere is still found; an ambiguous one elsewhere is still asked.
    assert parse_region("广州", regions, near="吉林省/长春市") == Ok("广东省/广州市")
    assert isinstance(parse_region("朝阳区", regions, near="江苏省"), Invalid)


# --- skipping ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["不清楚", "不知道", "跳过", "skip", "SKIP", "不确定", "?", "？", "??", "不清楚。", "不確定"]
)
def test_is_skip_recognises_i_dont_know(text: str) -> None:
    assert is_skip(text)


@pytest.mark.parametrize("text", ["", "是", "3000万", "不", "中药"])
def test_is_skip_does_not_take_an_answer_for_a_skip(text: str) -> None:
    assert not is_skip(text)


# --- every parser, any text ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_every_parser_answers_any_text_without_raising(text: str) -> None:
    regions = load_region_index()
    results = [
        parse_money(text),
        parse_number(text),
        parse_fraction(text),
        parse_bool(text),
        parse_choice(text, INDUSTRIES),
        parse_multi_choice(text, INDUSTRIES),
        parse_region(text, regions),
    ]
    for result in results:
        assert isinstance(result, Ok | Invalid)
        # The catch-all is for bugs; reaching it means a parser raised.
        assert result is not parsing._UNEXPECTED
    assert isinstance(is_skip(text), bool)


@settings(max_examples=200)
@given(any_text)
def test_parsed_money_is_a_whole_amount_in_range(text: str) -> None:
    result = parse_money(text)
    if isinstance(result, Ok):
        assert isinstance(result.value, int)
        assert 0 <= result.value <= parsing.MAX_AMOUNT


# A denied option must never be read as chosen, and a partly understood answer is not half accepted.


@pytest.mark.parametrize("text", ["没有临床试验许可", "一致性评价未完成", "不是高新技术企业", "无新药证书"])
def test_a_negated_option_is_refused_not_inverted(text: str) -> None:
    options = [
        Option("clinical_trial_permit", ("临床试验许可",)),
        Option("consistency_evaluation", ("完成仿制药一致性评价", "一致性评价")),
        Option("high_tech_first", ("首次认定国家高新技术企业", "高新技术企业")),
        Option("new_drug_certificate", ("新药证书",)),
    ]
    result = parse_multi_choice(text, options)
    assert "否定" in said(result, "multi_choice").reason
    assert isinstance(parse_choice(text, options), Invalid)


def test_every_piece_joined_by_he_must_be_understood() -> None:
    options = [Option("tcm", ("中药", "中医药")), Option("biologics", ("生物药",))]
    result = parse_multi_choice("中药和西药", options)
    assert "西药" in said(result, "multi_choice").reason
    assert parse_multi_choice("中药和生物药", options) == Ok(["tcm", "biologics"])


def test_two_characters_are_not_fuzzy_matched() -> None:
    assert isinstance(parse_choice("医药", [Option("tcm", ("中医药",)), Option("other", ("其他",))]), Invalid)


@pytest.mark.parametrize("text", ["0.8", "0.5", "1", "0.21"])
def test_a_bare_rate_that_could_be_a_percentage_or_a_fraction_is_asked_again(text: str) -> None:
    result = parse_fraction(text)
    assert "%" in said(result, "rate").hint


def test_small_bare_rates_are_fractions_and_larger_ones_percentages() -> None:
    assert parse_fraction("0.0435") == Ok(0.0435)
    assert parse_fraction("4.35") == Ok(0.0435)
