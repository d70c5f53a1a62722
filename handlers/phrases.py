"""The engine's structured values in words: amounts, fact values, traces, near misses, dates and parse problems."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import cn2an

from bot.engine.amounts import Amount
from bot.engine.conditions import COMPARISONS, Check
from bot.engine.deadlines import Schedule
from bot.engine.matching import Shortfall
from bot.engine.model import Catalogue, Deadline, Question, Rule, Texts
from bot.engine.parsing import Invalid
from bot.engine.regions import SEPARATOR
from handlers.texts import load_texts, pick, simplified, traditional

WAN = 10_000
YI = 100_000_000

PHRASES: dict[str, dict[str, str]] = load_texts("phrases.yaml")

_SYMBOLS = {"at_least": ("≥", "<"), "more_than": (">", "≤"), "at_most": ("≤", ">"), "less_than": ("<", "≥")}
# The legal words of each test (Civil Code art. 1259), as the sources write them.
_WORDS = {"at_least": "以上", "more_than": "超过", "at_most": "以下", "less_than": "不满"}


def phrase(key: str, language: str, **values: object) -> str:
    """A phrase in the language with values filled in (zh-Hant derived from zh-Hans)."""
    return pick(PHRASES[key], language, **values)


def source_text(text: str, language: str) -> str:
    """Chinese text from a source or a rule file (titles, quotes, place names) in the reader's script: a
    Traditional source reads in Simplified characters for zh-Hans (and English readers get the Simplified too),
    a Simplified one in Traditional for zh-Hant."""
    return traditional(text) if language == "zh-Hant" else simplified(text)


def written(texts: Texts | None, language: str) -> str | None:
    """An admin's text in the language: its translation if given, the Chinese for Chinese readers, else None."""
    if not texts:
        return None
    if language == "en":
        return texts.get("en")
    return source_text(texts.get("zh-Hans", ""), language) or None


def _trim(number: Decimal | float) -> str:
    text = f"{Decimal(str(number)):.4f}".rstrip("0").rstrip(".")
    return text or "0"


def money(yuan: int, language: str) -> str:
    """12亿元, 3000万元, 2,500元; in English 1.2 billion yuan, 30 million yuan, 870,000 yuan."""
    yuan = int(yuan)
    if language == "en":
        if yuan >= 10**9 and yuan % 10**5 == 0:
            return f"{_trim(Decimal(yuan) / 10**9)} billion yuan"
        if yuan >= 10**6 and yuan % 100 == 0:
            return f"{_trim(Decimal(yuan) / 10**6)} million yuan"
        return f"{yuan:,} yuan"
    if yuan >= YI and yuan % (YI // 100) == 0:
        text = f"{_trim(Decimal(yuan) / YI)}亿元"
    elif yuan >= WAN and yuan % (WAN // 100) == 0:
        text = f"{_trim(Decimal(yuan) / WAN)}万元"
    else:
        text = f"{yuan:,}元"
    return source_text(text, language)


def rate(fraction: float | Decimal) -> str:
    """0.0435 as 4.35%."""
    return f"{_trim(Decimal(str(fraction)) * 100)}%"


def place(path: str, language: str) -> str:
    """A region path as a reader writes it: 吉林省长春市 (place names stay Chinese in every language)."""
    return source_text(path.replace(SEPARATOR, ""), language)


def option_label(question: Question, value: str, language: str) -> str:
    option = question.option(value)
    return option.label(language) if option else str(value)


def fact_name(question: Question, language: str) -> str:
    return question.short_label(language)


def fact_value(question: Question, value: Any, language: str) -> str:
    """A fact value as a person reads it: 12亿元, 4.35%, 中药、生物药, 是, 吉林省长春市."""
    kind = question.type
    if kind == "money":
        return money(value, language)
    if kind == "rate":
        return rate(value)
    if kind == "bool":
        return phrase("yes" if value else "no", language)
    if kind == "region":
        return place(value, language)
    if kind == "multi_choice":
        if not value:
            return phrase("none", language)
        return phrase("list_separator", language).join(option_label(question, v, language) for v in value)
    if kind == "choice":
        return option_label(question, value, language)
    return _trim(value) if isinstance(value, float | Decimal) else str(value)


def _limit(question: Question, threshold: Any, language: str) -> str:
    return fact_value(question, threshold, language)


def _wanted(question: Question, values: Sequence[str], language: str) -> str:
    return phrase("or", language).join(option_label(question, v, language) for v in values)


def check_line(check: Check, catalogue: Catalogue, language: str) -> str:
    """One line of a trace: the test, the contact's value, and whether it holds."""
    test = check.test
    if test in ("all", "any"):
        return written(check.label, language) or phrase(f"{test}_heading", language)
    if test == "not":
        return requirement(check, catalogue, language)
    if test in ("valid_from", "valid_until"):
        return phrase(test, language, date=check.threshold.isoformat())
    question = catalogue[check.fact]
    if test == "within":
        return _region_line(check, language)
    if test.startswith("first_"):
        return _first_line(check, question, catalogue[check.previous], language)
    name = fact_name(question, language)
    if test in _SYMBOLS:
        sym, neg = _SYMBOLS[test]
        limit = _limit(question, check.threshold, language)
        if check.value is None:
            return phrase("unknown_compare", language, name=name, sym=sym, limit=limit)
        shown = fact_value(question, check.value, language)
        return phrase("compare", language, name=name, value=shown, sym=sym if check.holds else neg, limit=limit)
    if test == "contains":
        return _contains_line(check, question, name, language)
    wanted = fact_value(question, check.threshold, language)
    if check.value is None:
        return phrase("unknown_is", language, name=name, wanted=wanted)
    shown = fact_value(question, check.value, language)
    return phrase("is" if check.holds else "is_not", language, name=name, value=shown, wanted=wanted)


def _region_line(check: Check, language: str) -> str:
    scope = place(check.threshold, language)
    if check.value is None:
        return phrase("unknown_region", language, scope=scope)
    shown = place(check.value, language)
    if check.holds is None:
        return phrase("region_too_broad", language, value=shown, scope=scope)
    return phrase("region_in" if check.holds else "region_not_in", language, value=shown, scope=scope)


def _first_line(check: Check, current: Question, previous: Question, language: str) -> str:
    op = check.test.removeprefix("first_")
    sym, neg = _SYMBOLS[op]
    name, limit = fact_name(current, language), _limit(current, check.threshold, language)
    if check.value is None:
        return phrase("unknown_first", language, name=name, sym=sym, limit=limit)
    now = fact_value(current, check.value, language)
    if not COMPARISONS[op](check.value, check.threshold):
        return phrase("compare", language, name=name, value=now, sym=neg, limit=limit)
    values = {"name": name, "value": now, "sym": sym, "neg": neg, "limit": limit}
    values["previous"] = fact_name(previous, language)
    if check.previous_value is None:
        return phrase("first_no_previous", language, **values)
    values["before"] = fact_value(previous, check.previous_value, language)
    return phrase("first_holds" if check.holds else "first_fails", language, **values)


def _contains_line(check: Check, question: Question, name: str, language: str) -> str:
    wanted = _wanted(question, check.threshold, language)
    if check.value is None:
        return phrase("unknown_contains", language, name=name, wanted=wanted)
    shown = fact_value(question, check.value, language)
    label = written(check.label, language)
    if label:
        verdict = phrase("yes" if check.holds else "no", language)
        return phrase("contains_labelled", language, label=label, verdict=verdict, name=name, value=shown)
    return phrase("contains" if check.holds else "not_contains", language, name=name, value=shown, wanted=wanted)


def requirement(check: Check, catalogue: Catalogue, language: str) -> str:
    """What must hold, as a phrase: 本年度营业收入 ≥ 10亿元; a rule file's label where it gives one."""
    label = written(check.label, language)
    if label:
        return label
    test = check.test
    if test == "all":
        return phrase("req_and", language).join(requirement(p, catalogue, language) for p in check.parts)
    if test == "any":
        return phrase("or", language).join(f"({requirement(p, catalogue, language)})" for p in check.parts)
    if test == "not":
        return phrase("req_not", language, part=requirement(check.parts[0], catalogue, language))
    if test == "within":
        return phrase("req_within", language, scope=place(check.threshold, language))
    if test in ("valid_from", "valid_until"):
        return check_line(check, catalogue, language)
    question = catalogue[check.fact]
    name = fact_name(question, language)
    if test.startswith("first_"):
        op = test.removeprefix("first_")
        limit = _limit(question, check.threshold, language)
        word = _SYMBOLS[op][0] if language == "en" else _WORDS[op]
        return phrase("req_first", language, name=name, word=word, limit=limit)
    if test in _SYMBOLS:
        return phrase(
            "req_compare", language, name=name, sym=_SYMBOLS[test][0], limit=_limit(question, check.threshold, language)
        )
    if test == "contains":
        return phrase("req_contains", language, name=name, wanted=_wanted(question, check.threshold, language))
    return phrase("req_is", language, name=name, wanted=fact_value(question, check.threshold, language))


def shortfall(missed: Shortfall | None, catalogue: Catalogue, language: str) -> str:
    """What a near miss needs: 需满足:X(目前:Y)."""
    if missed is None:
        return ""
    wanted = requirement(missed.requirement, catalogue, language)
    now = [text for text in (check_line(c, catalogue, language) for c in missed.standing) if text != wanted]
    if not now:
        return phrase("shortfall_bare", language, requirement=wanted)
    return phrase("shortfall", language, requirement=wanted, now=phrase("standing_separator", language).join(now))


def reward_kind(kind: str, language: str) -> str:
    return phrase(kind, language) if kind in PHRASES else kind


def _factor(factor: str | Decimal, catalogue: Catalogue, language: str) -> str:
    if isinstance(factor, str):
        return fact_name(catalogue[factor], language)
    return rate(factor) if factor < 1 else _trim(factor)


def amount(value: Amount, catalogue: Catalogue, language: str) -> str:
    """最高200万元, 50万元—200万元, 约87万元(…), or why there is no amount."""
    reward = value.reward
    if reward.kind in ("tax_measure", "non_cash"):
        return reward_kind(reward.kind, language)
    cap = ""
    if reward.cap is not None:
        cap = phrase("cap_per_variety" if reward.per_variety else "cap", language, cap=money(reward.cap, language))
    if reward.formula:
        how = " × ".join(_factor(f, catalogue, language) for f in reward.formula)
        if value.estimate_yuan is None:
            return phrase("formula_open_capped" if cap else "formula_open", language, how=how, cap=cap)
        values = {
            "estimate": money(value.estimate_yuan, language),
            "how": how,
            "product": money(value.product, language),
        }
        if reward.cap is None:
            return phrase("estimate", language, **values)
        key = "estimate_capped" if value.capped else "estimate_under_cap"
        return phrase(key, language, cap=money(reward.cap, language), **values)
    if reward.minimum is not None and reward.cap is not None:
        return phrase("amount_range", language, low=money(reward.minimum, language), high=money(reward.cap, language))
    return cap or phrase("no_amount", language)


def amount_line(value: Amount, catalogue: Catalogue, language: str) -> str:
    """The amount and kind of a reward as one phrase: 最高200万元(奖励)."""
    kind = reward_kind(value.reward.kind, language)
    text = amount(value, catalogue, language)
    return text if text == kind else phrase("amount_with_kind", language, amount=text, kind=kind)


_CHINESE_NUMERAL_RUN = re.compile("[一二三四五六七八九十]+")


def citation(rule: Rule, language: str) -> str:
    """《文件标题》第12条 (or 四(三) for the support-measures section; 4(3) for English readers)."""
    title = source_text(rule.document.title, language)
    key = "citation_numbered" if rule.clause.isdigit() else "citation"
    clause = source_text(rule.clause, language)
    if language == "en":
        clause = _CHINESE_NUMERAL_RUN.sub(
            lambda m: str(cn2an.cn2an(m.group(), "smart")), clause.replace("(", "(")
        ).replace(")", ")")
    return phrase(key, language, title=title, clause=clause)


def title(rule: Rule, language: str) -> str:
    return source_text(rule.title, language)


def notes(rule: Rule, language: str) -> list[str]:
    """What a reader must know beside the amount: the reward's note, then the rule's (in Chinese if untranslated)."""
    found = []
    for note in (rule.reward.note, rule.note):
        if note:
            found.append(written(note, language) or source_text(note.get("zh-Hans", ""), language))
    return found


def deadline_label(deadline: Deadline, language: str) -> str:
    call = deadline.call
    if call is not None:
        example = phrase("example_call", language) if call.example else ""
        return phrase("call_closes", language, title=source_text(call.title, language) + example)
    label = written(deadline.label, language)
    if label:
        return label
    return phrase("stated_deadline", language, label=source_text((deadline.label or {}).get("zh-Hans", ""), language))


def schedule_summary(schedule: Schedule, language: str) -> str:
    """截止 2026-12-15(还剩 23 天), or why there is no date."""
    upcoming = schedule.next
    if upcoming is not None:
        left = schedule.days_left
        when = phrase("closes_today", language) if left == 0 else phrase("days_left", language, n=left)
        opens = phrase("opens_later", language, date=upcoming.opens.isoformat()) if schedule.not_yet_open() else ""
        label = deadline_label(upcoming, language)
        return phrase("next_deadline", language, label=label, date=upcoming.date.isoformat(), left=when, opens=opens)
    last = schedule.last_expired
    if last is not None:
        return phrase("closed", language, label=deadline_label(last, language), date=last.date.isoformat())
    return phrase("not_published", language)


def dated_line(deadline: Deadline, language: str) -> str:
    """One dated step for the details view: 2026-12-15 XX申报截止(自 2026-11-01 起)."""
    opens = phrase("opens_from", language, date=deadline.opens.isoformat()) if deadline.opens else ""
    return f"{deadline.date.isoformat()} {deadline_label(deadline, language)}{opens}"


_READABLE_KINDS = {"money": "unreadable_money", "number": "unreadable_number", "rate": "unreadable_rate"}
_HINT_KINDS = {"money": "hint_money", "number": "hint_number", "rate": "hint_rate", "bool": "hint_bool"}


def problem(invalid: Invalid, question: Question, language: str) -> tuple[str, str]:
    """What is wrong with an answer and how to write it instead, in the contact's language."""
    return _reason(invalid, question, language), _hint(invalid, question, language)


def _reason(invalid: Invalid, question: Question, language: str) -> str:
    kind = invalid.problem
    if kind == "unreadable" and question.type in _READABLE_KINDS:
        kind = _READABLE_KINDS[question.type]
    elif kind == "unknown_option" and question.type == "multi_choice":
        kind = "unknown_option_in_list"
    elif kind == "too_long" and question.type == "region":
        kind = "too_long_place"
    if kind not in PHRASES:
        kind = "unexpected"
    return phrase(kind, language, excerpt=source_text(invalid.excerpt, language))


def _hint(invalid: Invalid, question: Question, language: str) -> str:
    kind = invalid.problem
    special = {
        "other_currency": "hint_currency",
        "range": "hint_one_figure" if question.type == "money" else None,
        "inexact": "hint_one_figure",
        "negative": "hint_not_negative",
        "ambiguous_rate": "hint_percent_sign",
        "unexpected": "hint_again",
    }.get(kind)
    if special:
        return phrase(special, language)
    if kind == "ambiguous_place" and invalid.candidates:
        return phrase("hint_places", language, places=phrase("list_separator", language).join(invalid.candidates))
    if question.type in ("choice", "multi_choice"):
        labels = phrase("list_separator", language).join(o.label(language) for o in question.options)
        hint = phrase("hint_multi" if question.type == "multi_choice" else "hint_choice", language, options=labels)
        return hint + phrase("hint_negated", language) if kind == "negated" and question.type == "choice" else hint
    if question.type == "region":
        return phrase("hint_region", language)
    return phrase(_HINT_KINDS.get(question.type, "hint_again"), language)
