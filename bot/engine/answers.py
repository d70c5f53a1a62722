"""Turns an answer (chat text or a profile-file value) into a typed fact value, or a clear refusal."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.engine.model import Question
from bot.engine.parsing import (
    Invalid,
    Ok,
    Option,
    ParseResult,
    parse_bool,
    parse_choice,
    parse_fraction,
    parse_money,
    parse_multi_choice,
    parse_number,
    parse_region,
)
from bot.engine.regions import RegionIndex


@lru_cache(maxsize=256)
def parsing_options(question: Question) -> tuple[Option, ...]:
    """The options of a choice question with every label and synonym a person might type."""
    options = []
    for option in question.options:
        labels = [option.label("zh-Hans"), option.value]
        labels += [text for lang, text in option.labels.items() if lang != "zh-Hans"]
        labels += list(option.synonyms)
        options.append(Option(option.value, tuple(dict.fromkeys(labels))))
    return tuple(options)


def parse_answer(question: Question, value: Any, regions: RegionIndex) -> ParseResult:
    """Parses free text, or an already-typed value from a YAML/JSON profile, for one question."""
    if isinstance(value, str):
        return _parse_text(question, value, regions)
    return _accept_typed(question, value, regions)


def _parse_text(question: Question, text: str, regions: RegionIndex) -> ParseResult:
    kind = question.type
    if kind == "money":
        return parse_money(text)
    if kind == "number":
        return parse_number(text)
    if kind == "rate":
        return parse_fraction(text)
    if kind == "bool":
        return parse_bool(text)
    if kind == "region":
        return parse_region(text, regions)
    if kind == "choice":
        return parse_choice(text, parsing_options(question))
    if kind == "multi_choice":
        return parse_multi_choice(text, parsing_options(question))
    return Invalid(f"不支持的问题类型 {kind}", "请联系管理员")


def _accept_typed(question: Question, value: Any, regions: RegionIndex) -> ParseResult:
    kind = question.type
    if kind == "bool":
        if isinstance(value, bool):
            return Ok(value)
        return Invalid("这里需要“是”或“否”", "请写 是/否 或 true/false")
    if isinstance(value, bool):
        return Invalid("这里不是是/否问题", _hint_for(question))
    if kind in ("money", "number", "rate") and isinstance(value, int | float):
        if value < 0 or value != value or value in (float("inf"), float("-inf")):
            return Invalid("数值不能为负数或无穷大", _hint_for(question))
        if kind == "money":
            return Ok(int(round(value)))
        if kind == "rate":
            return _parse_text(question, f"{value}", regions)
        return Ok(value)
    if kind == "multi_choice" and isinstance(value, list):
        chosen: list[str] = []
        for item in value:
            result = _parse_text(question, str(item), regions)
            if isinstance(result, Invalid):
                return result
            chosen.extend(result.value)
        order = [o.value for o in question.options]
        return Ok(sorted(set(chosen), key=order.index))
    return Invalid(f"“{value}”的类型不对", _hint_for(question))


def _hint_for(question: Question) -> str:
    hints = {
        "money": "请写金额,例如 3000万、1.5亿 或 30000000",
        "number": "请写一个数字",
        "rate": "请写百分数,例如 4.35%",
        "region": "请写地区名称,例如 吉林省长春市",
    }
    if question.type in ("choice", "multi_choice"):
        return "可选:" + "、".join(o.label() for o in question.options)
    return hints.get(question.type, "")
