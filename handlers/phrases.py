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
from handlers.texts import pick, traditional

WAN = 10_000
YI = 100_000_000

PHRASES: dict[str, dict[str, str]] = {
    # Values
    "yes": {"zh-Hans": "是", "en": "yes"},
    "no": {"zh-Hans": "否", "en": "no"},
    "none": {"zh-Hans": "无", "en": "none"},
    "list_separator": {"zh-Hans": "、", "en": ", "},
    "or": {"zh-Hans": "或", "en": " or "},
    # Trace lines
    "unknown_compare": {
        "zh-Hans": "{name} 尚不清楚(需 {sym} {limit})",
        "en": "{name}: not known yet (needs {sym} {limit})",
    },
    "compare": {"zh-Hans": "{name} {value} {sym} {limit}", "en": "{name} {value} {sym} {limit}"},
    "unknown_first": {
        "zh-Hans": "{name} 尚不清楚(需首次 {sym} {limit})",
        "en": "{name}: not known yet (needs {sym} {limit} for the first time)",
    },
    "first_no_previous": {
        "zh-Hans": "{name} {value} {sym} {limit},但{previous}尚不清楚(需为首次)",
        "en": "{name} {value} {sym} {limit}, but {previous} is not known yet (it must be the first time)",
    },
    "first_holds": {
        "zh-Hans": "{name} {value} {sym} {limit},{previous} {before} {neg} {limit}:首次",
        "en": "{name} {value} {sym} {limit}, {previous} {before} {neg} {limit}: the first time",
    },
    "first_fails": {
        "zh-Hans": "{name} {value} {sym} {limit},但{previous} {before} 已 {sym} {limit}:非首次",
        "en": "{name} {value} {sym} {limit}, but {previous} {before} was already {sym} {limit}: not the first time",
    },
    "unknown_contains": {
        "zh-Hans": "{name} 尚不清楚(需包括 {wanted})",
        "en": "{name}: not known yet (must include {wanted})",
    },
    "contains_labelled": {"zh-Hans": "{label}:{verdict}({name}:{value})", "en": "{label}: {verdict} ({name}: {value})"},
    "contains": {"zh-Hans": "{name}:{value},包括 {wanted}", "en": "{name}: {value}, which includes {wanted}"},
    "not_contains": {
        "zh-Hans": "{name}:{value},不包括 {wanted}",
        "en": "{name}: {value}, which does not include {wanted}",
    },
    "unknown_is": {"zh-Hans": "{name} 尚不清楚(需为“{wanted}”)", "en": "{name}: not known yet (must be “{wanted}”)"},
    "is": {"zh-Hans": "{name}:{value}", "en": "{name}: {value}"},
    "is_not": {"zh-Hans": "{name}:{value}(需为“{wanted}”)", "en": "{name}: {value} (must be “{wanted}”)"},
    "unknown_region": {
        "zh-Hans": "所在地区 尚不清楚(适用于{scope})",
        "en": "region: not known yet (applies to {scope})",
    },
    "region_too_broad": {
        "zh-Hans": "所在地区 {value} 不够具体,无法确定是否属于 {scope}",
        "en": "region {value} is not specific enough to tell whether it lies in {scope}",
    },
    "region_in": {"zh-Hans": "所在地区 {value} 属于 {scope}", "en": "region {value} lies in {scope}"},
    "region_not_in": {"zh-Hans": "所在地区 {value} 不属于 {scope}", "en": "region {value} does not lie in {scope}"},
    "all_heading": {"zh-Hans": "以下条件同时满足", "en": "all of the following"},
    "any_heading": {"zh-Hans": "以下条件满足其一", "en": "one of the following"},
    "valid_from": {"zh-Hans": "政策自 {date} 起施行", "en": "the policy applies from {date}"},
    "valid_until": {"zh-Hans": "政策有效期至 {date},已过期", "en": "the policy applied until {date} and has expired"},
    # Requirements
    "req_compare": {"zh-Hans": "{name} {sym} {limit}", "en": "{name} {sym} {limit}"},
    "req_first": {
        "zh-Hans": "{name}首次{word} {limit}(上年未{word})",
        "en": "{name} {sym} {limit} for the first time (last year not)",
    },
    "req_contains": {"zh-Hans": "{name}包括 {wanted}", "en": "{name} include {wanted}"},
    "req_is": {"zh-Hans": "{name}:{wanted}", "en": "{name}: {wanted}"},
    "req_within": {"zh-Hans": "企业位于{scope}", "en": "the enterprise is registered in {scope}"},
    "req_and": {"zh-Hans": ",且", "en": "; and "},
    "req_not": {"zh-Hans": "并非:{part}", "en": "not: {part}"},
    "shortfall": {"zh-Hans": "需满足:{requirement}(目前:{now})", "en": "Needs: {requirement} (now: {now})"},
    "shortfall_bare": {"zh-Hans": "需满足:{requirement}", "en": "Needs: {requirement}"},
    "standing_separator": {"zh-Hans": ";", "en": "; "},
    # Amounts
    "cash_reward": {"zh-Hans": "奖励", "en": "reward"},
    "subsidy": {"zh-Hans": "补助/支持资金", "en": "subsidy"},
    "interest_subsidy": {"zh-Hans": "贴息补助", "en": "interest subsidy"},
    "tax_measure": {"zh-Hans": "税收政策", "en": "tax policy"},
    "non_cash": {"zh-Hans": "非资金支持", "en": "non-cash support"},
    "cap": {"zh-Hans": "最高{cap}", "en": "up to {cap}"},
    "cap_per_variety": {"zh-Hans": "每个品种最高{cap}", "en": "up to {cap} per product variety"},
    "amount_range": {"zh-Hans": "{low}—{high}", "en": "{low} to {high}"},
    "no_amount": {"zh-Hans": "原文未写明金额", "en": "amount not stated in the source"},
    "formula_open": {"zh-Hans": "按 {how} 计算", "en": "computed as {how}"},
    "formula_open_capped": {"zh-Hans": "按 {how} 计算,{cap}", "en": "computed as {how}, {cap}"},
    "estimate_capped": {
        "zh-Hans": "约{estimate}({how} = {product},超过上限,按{cap}计)",
        "en": "about {estimate} ({how} = {product}, above the cap, so {cap})",
    },
    "estimate_under_cap": {
        "zh-Hans": "约{estimate}({how} = {product},上限{cap})",
        "en": "about {estimate} ({how} = {product}, capped at {cap})",
    },
    "estimate": {"zh-Hans": "约{estimate}({how} = {product})", "en": "about {estimate} ({how} = {product})"},
    "amount_with_kind": {"zh-Hans": "{amount}({kind})", "en": "{amount} ({kind})"},
    # Sources and dates
    "citation_numbered": {"zh-Hans": "《{title}》第{clause}条", "en": "《{title}》, measure {clause}"},
    "citation": {"zh-Hans": "《{title}》{clause}", "en": "《{title}》, {clause}"},
    "call_closes": {"zh-Hans": "{title}申报截止", "en": "{title}: applications close"},
    "example_call": {"zh-Hans": "(示例通知,日期非真实)", "en": " (an example call; the dates are not real)"},
    "stated_deadline": {"zh-Hans": "{label}", "en": "date stated in the document: {label}"},
    "next_deadline": {"zh-Hans": "{label}:{date}({left}{opens})", "en": "{label}: {date} ({left}{opens})"},
    "closes_today": {"zh-Hans": "今天截止", "en": "closes today"},
    "days_left": {"zh-Hans": "还剩 {n} 天", "en": "{n} days left"},
    "opens_later": {"zh-Hans": ",{date} 开始受理", "en": ", opens {date}"},
    "closed": {
        "zh-Hans": "{label}:{date}(已截止);下一轮申报时间尚未公布",
        "en": "{label}: {date} (closed); next round not yet published",
    },
    "not_published": {"zh-Hans": "申报时间尚未公布", "en": "dates not yet published"},
    "opens_from": {"zh-Hans": "(自 {date} 起)", "en": " (from {date})"},
    # Parse problems: what is wrong
    "empty": {"zh-Hans": "还没有写回答", "en": "the answer is empty"},
    "unreadable": {"zh-Hans": "看不懂“{excerpt}”", "en": "I cannot read “{excerpt}”"},
    "unreadable_money": {"zh-Hans": "看不懂这个金额", "en": "I cannot read this amount"},
    "unreadable_number": {"zh-Hans": "看不懂这个数", "en": "I cannot read this number"},
    "unreadable_rate": {"zh-Hans": "看不懂这个比例", "en": "I cannot read this rate"},
    "too_long": {"zh-Hans": "这个回答太长了,不像一个数", "en": "this answer is too long to be a number"},
    "too_large": {
        "zh-Hans": "这个数太大了,请检查是否多写了零",
        "en": "this number is too large; check for extra zeros",
    },
    "other_currency": {"zh-Hans": "只能按人民币元填写", "en": "amounts are in Chinese yuan only"},
    "negative": {"zh-Hans": "数不能是负的", "en": "the number cannot be negative"},
    "range": {"zh-Hans": "请只写一个数,不要写范围", "en": "write one number, not a range"},
    "inexact": {"zh-Hans": "请写一个确切的数", "en": "write one figure, not a bound such as “over 30 million”"},
    "ambiguous_rate": {
        "zh-Hans": "“{excerpt}”既可能是百分之几也可能是小数",
        "en": "“{excerpt}” may be a percentage or a fraction",
    },
    "over_100_percent": {"zh-Hans": "比例不能超过100%", "en": "a rate cannot be over 100%"},
    "not_yes_no": {"zh-Hans": "看不出是“是”还是“否”", "en": "I cannot tell whether that is yes or no"},
    "matches_several": {"zh-Hans": "这个回答和几个选项都很像", "en": "this answer is close to several options"},
    "several_options": {
        "zh-Hans": "这个回答里提到了不止一个选项,这里只能选一个",
        "en": "this answer names more than one option; choose one here",
    },
    "negated": {
        "zh-Hans": "回答里有否定的说法(如“没有”“未”“不”),无法确定选哪一项",
        "en": "the answer denies something (“没有”, “未”, “不”), so I cannot tell which option applies",
    },
    "unknown_option": {"zh-Hans": "没有“{excerpt}”这个选项", "en": "there is no option “{excerpt}”"},
    "unknown_option_in_list": {"zh-Hans": "看不懂“{excerpt}”", "en": "I do not recognise “{excerpt}”"},
    "unknown_place": {"zh-Hans": "不认识“{excerpt}”这个地方", "en": "I do not know the place “{excerpt}”"},
    "ambiguous_place": {"zh-Hans": "“{excerpt}”可能指几个地方", "en": "“{excerpt}” may be one of several places"},
    "wrong_type": {"zh-Hans": "“{excerpt}”的类型不对", "en": "“{excerpt}” is not the right kind of value"},
    "unexpected": {"zh-Hans": "没能读懂这个回答", "en": "I could not read this answer"},
    # Parse problems: how to write it instead
    "hint_money": {
        "zh-Hans": "请写成 3000万、1.5亿 或 30,000,000(单位:元)",
        "en": "Write an amount in yuan, e.g. 30 million, 1.5 billion or 30,000,000.",
    },
    "hint_number": {"zh-Hans": "请写一个数,例如 12、3.5 或 三千", "en": "Write a number, e.g. 12 or 3.5."},
    "hint_rate": {
        "zh-Hans": "请写成 4.35% 或 百分之四点三五;"
        "不带%的数,不大于1按小数理解(0.0435),大于1按百分数理解(4.35 即 4.35%)",
        "en": "Write a percentage such as 4.35%; a bare number up to 1 is read as a fraction (0.0435), "
        "above 1 as a percentage (4.35 means 4.35%).",
    },
    "hint_bool": {"zh-Hans": "请回答 是 或 否", "en": "Answer yes or no."},
    "hint_region": {
        "zh-Hans": "请写省、市或区县的名称,例如 吉林省长春市 或 东昌区",
        "en": "Name the province, city or district, e.g. Changchun, Jilin or Dongchang District.",
    },
    "hint_choice": {"zh-Hans": "请从这些选项中选:{options}", "en": "Choose one of: {options}."},
    "hint_multi": {
        "zh-Hans": "请从这些选项中选:{options};多个用顿号隔开;都没有就回答“没有”",
        "en": "Choose from: {options}; separate several with commas; answer “none” if none applies.",
    },
    "hint_negated": {"zh-Hans": ";只写适用的一项", "en": " Name only the one that applies."},
    "hint_currency": {
        "zh-Hans": "请换算成人民币元再填写,例如 3000万",
        "en": "Convert it to yuan first, e.g. 30 million.",
    },
    "hint_one_figure": {
        "zh-Hans": "如果只知道大概,写一个最接近的数,例如 3000万",
        "en": "If you only know roughly, write the closest figure, e.g. 30 million.",
    },
    "hint_not_negative": {"zh-Hans": "请写一个不小于0的数", "en": "Write a number of 0 or more."},
    "hint_percent_sign": {"zh-Hans": "请带上百分号,例如 4.35%", "en": "Add a percent sign, e.g. 4.35%."},
    "hint_places": {"zh-Hans": "请写得更完整一些,例如:{places}", "en": "Write it more fully, e.g.: {places}"},
    "hint_again": {"zh-Hans": "请换一种写法再试一次", "en": "Please write it another way."},
}

_SYMBOLS = {"at_least": ("≥", "<"), "more_than": (">", "≤"), "at_most": ("≤", ">"), "less_than": ("<", "≥")}
# The legal words of each test (Civil Code art. 1259), as the sources write them.
_WORDS = {"at_least": "以上", "more_than": "超过", "at_most": "以下", "less_than": "不满"}


def phrase(key: str, language: str, **values: object) -> str:
    """A phrase in the language with values filled in (zh-Hant derived from zh-Hans)."""
    return pick(PHRASES[key], language, **values)


def source_text(text: str, language: str) -> str:
    """Chinese text from a source or a rule file (titles, quotes, place names) in the reader's script."""
    return traditional(text) if language == "zh-Hant" else text


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
        return phrase("req_first", language, name=name, word=_WORDS[op], sym=_SYMBOLS[op][0], limit=limit)
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
