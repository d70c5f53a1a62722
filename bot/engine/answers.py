"""Turns an answer (chat text or a profile-file value) into a typed fact value, or a clear refusal."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from bot.engine.amounts import whole_yuan
from bot.engine.model import Question
from bot.engine.parsing import (
    MAX_AMOUNT,
    Invalid,
    Ok,
    Option,
    ParseResult,
    excerpt,
    is_none,
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
        if question.none_is_zero and is_none(text):
            return Ok(0)
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
    return Invalid("unexpected")


def _accept_typed(question: Question, value: Any, regions: RegionIndex) -> ParseResult:
    kind = question.type
    if kind == "bool":
        return Ok(value) if isinstance(value, bool) else Invalid("not_yes_no", excerpt(str(value)))
    if isinstance(value, bool):
        return Invalid("wrong_type", excerpt(str(value)))
    if kind in ("money", "number", "rate") and isinstance(value, int | float):
        if value != value:
            return Invalid("unreadable", "nan")
        if value < 0:
            return Invalid("negative")
        if value > MAX_AMOUNT:
            return Invalid("too_large")
        if kind == "money":
            return Ok(whole_yuan(Decimal(str(value))))
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
    return Invalid("wrong_type", excerpt(str(value)))
