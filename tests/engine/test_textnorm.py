"""Tests for text clean-up: Simplified conversion, pinyin readings and mis-decoded GBK runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.textnorm import clean_document, repair_mojibake, strip_pinyin, to_simplified

POLICIES = Path(__file__).resolve().parents[2] / "data" / "policies"
TAIZHOU = POLICIES / "002_9fc454ccbfdced76.txt"
DONGCHANG = POLICIES / "004_f3e69dc445d25a27.txt"
READING = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,6}\)")

# Any text, including CJK, private-use and control characters.
any_text = st.text(
    st.one_of(st.characters(), st.characters(min_codepoint=0x3000, max_codepoint=0x9FFF), st.sampled_from("?(一)"))
)


@pytest.fixture(scope="module")
def dongchang() -> str:
    return DONGCHANG.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dongchang_clean(dongchang: str) -> list[str]:
    return clean_document(dongchang).split("\n")


# --- to_simplified -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("東昌區", "东昌区"),
        ("長春", "长春"),
        ("12億", "12亿"),
        ("沒有", "没有"),
        ("１２", "12"),
        ("３０００万", "3000万"),
        ("ＲＭＢ", "RMB"),
        ("百分之四点三五", "百分之四点三五"),
        ("4.35％", "4.35%"),
        ("3000 万", "3000 万"),
    ],
)
def test_to_simplified_converts_traditional_and_full_width(text: str, expected: str) -> None:
    assert to_simplified(text) == expected


def test_to_simplified_makes_full_width_punctuation_ascii_for_the_parsers() -> None:
    assert to_simplified("30，000，000（元）") == "30,000,000(元)"


@settings(max_examples=200)
@given(any_text)
def test_to_simplified_accepts_any_text(text: str) -> None:
    assert isinstance(to_simplified(text), str)


# --- strip_pinyin --------------------------------------------------------------------------------------


def test_strip_pinyin_removes_readings_after_characters() -> None:
    assert strip_pinyin("市委常委會(huì)在醫(yī)藥高新區(qū)") == "市委常委會在醫藥高新區"


@pytest.mark.parametrize("text", ["(一)加快發展", "實驗室(GLP)建設", "機構(CRO)", "中國(cn)", "a(huì)", "(huì)開頭"])
def test_strip_pinyin_keeps_real_parentheses(text: str) -> None:
    assert strip_pinyin(text) == text


def test_strip_pinyin_on_the_taizhou_report_leaves_no_reading_but_every_sentence() -> None:
    raw = TAIZHOU.read_text(encoding="utf-8")
    stripped = strip_pinyin(raw)
    assert READING.search(raw)
    assert not READING.search(stripped)
    assert "市委常委會在醫藥高新區調研并專題研究醫藥高新區工作" in stripped
    assert "市委書記姜冬冬主持會議并講話。" in stripped
    assert stripped.count("。") == raw.count("。")


@settings(max_examples=200)
@given(any_text)
def test_strip_pinyin_is_idempotent_for_any_text(text: str) -> None:
    once = strip_pinyin(text)
    assert strip_pinyin(once) == once


# --- repair_mojibake -----------------------------------------------------------------------------------


def test_repair_mojibake_rereads_a_heading_decoded_one_byte_off(dongchang: str) -> None:
    repaired = repair_mojibake(dongchang).split("\n")
    assert repaired[9].startswith("(一)疫情防控取得階段性勝利。按照習(xí)近平總書記")


def test_repair_mojibake_needs_the_document_as_evidence() -> None:
    # Alone, "?。ㄒ唬┮咔榉揽厝〉秒A" has no other text to confirm that "(一)疫情防控取得階" reads right.
    line = "?。ㄒ唬┮咔榉揽厝〉秒A段性勝利。"
    assert repair_mojibake(line) == line


@pytest.mark.parametrize(
    "heading",
    [
        "(一)疫情防控取得階段性勝利。",
        "(二)穩增長基礎進一步夯實。",
        "(三)產業發展動能加快釋放。",
        "(一)堅守初心使命,打造忠誠政府。",
        "(二)堅持高效便民,打造有為政府。",
        "(三)堅持務實勤政,打造誠信政府。",
        "(四)堅持依法行政,打造法治政府。",
    ],
)
def test_clean_document_repairs_the_dongchang_headings(dongchang_clean: list[str], heading: str) -> None:
    assert any(line.startswith(heading) for line in dongchang_clean)


def test_clean_document_repairs_a_run_inside_a_line_keeping_the_lost_character_as_question_mark(
    dongchang_clean: list[str],
) -> None:
    assert any("全面落實“六?”任務,以“十大行動、百項工程”為統領" in line for line in dongchang_clean)


def test_clean_document_leaves_runs_it_cannot_repair_for_sure(dongchang_clean: list[str]) -> None:
    # Bytes of "(五)民生福祉" were dropped by the decoder; no reading of the rest is certain.
    assert any(line.startswith("?。ㄎ澹┟裆l聿粩嘣鲞M") for line in dongchang_clean)


def test_clean_document_keeps_the_rest_of_the_dongchang_report(dongchang: str, dongchang_clean: list[str]) -> None:
    assert len(dongchang_clean) == dongchang.count("\n") + 1
    assert dongchang_clean[0] == "2021年通化市東昌區政府工作報告—全文"
    # Readings are gone wherever they follow a character; some stay inside runs that were not repaired.
    assert not re.search(rf"[\u4e00-\u9fff]{READING.pattern}", "\n".join(dongchang_clean))


def test_repair_mojibake_leaves_a_real_question_mark_alone() -> None:
    text = "何为“八图一表”?据二道区委办公室相关负责人介绍"
    assert repair_mojibake(text) == text


@pytest.mark.parametrize("name", ["000_12443dada89050d6", "001_60d2928a38aacd54", "003_c3eb2d5bae42d6f1"])
def test_clean_document_does_not_change_documents_without_readings_or_mojibake(name: str) -> None:
    text = (POLICIES / f"{name}.txt").read_text(encoding="utf-8")
    assert clean_document(text) == text


def test_repair_mojibake_gives_up_quickly_on_a_text_full_of_question_marks() -> None:
    text = "?" * 200 + "\n" + "?!" * 100
    assert repair_mojibake(text) == text


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_clean_document_accepts_any_text(text: str) -> None:
    assert isinstance(clean_document(text), str)


@settings(max_examples=200)
@given(st.text(st.characters(blacklist_characters="?")))
def test_repair_mojibake_only_touches_text_around_question_marks(text: str) -> None:
    assert repair_mojibake(text) == text
