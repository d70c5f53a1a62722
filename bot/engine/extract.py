"""Reads a policy document for a draft rule file: its headings and every sentence that grants a reward."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from bot.engine.model import Catalogue
from bot.engine.parsing import Invalid, parse_money
from bot.engine.textnorm import clean_document, to_simplified

__all__ = [
    "NO_AMOUNT",
    "NO_RECIPIENT",
    "Choice",
    "DraftReward",
    "DraftRule",
    "Extraction",
    "Flag",
    "Heading",
    "Threshold",
    "UnreadSentence",
    "extract_rules",
]

# Why a sentence that speaks of a reward became no rule.
NO_AMOUNT = "no_amount"  # it names a reward but no amount or computable share of one could be read
NO_RECIPIENT = "no_recipient"  # it states an amount of a reward but grants it to no one ("发放补贴650万元")


@dataclass(frozen=True)
class Heading:
    """A heading of the document: 一、 (level 1), (一) (level 2) or 1. (level 3), with its title as written."""

    level: int
    number: int
    title: str
    line: int
    inferred: bool = False  # its marker was lost to broken encoding; the number follows the one before it


@dataclass(frozen=True)
class Threshold:
    """A numeric test read from a sentence: fact and test are None where the sentence did not make them clear."""

    fact: str | None
    test: str | None  # at_least, more_than, at_most, less_than, or first_ of one of them
    values: tuple[int, ...]  # one value, or the alternatives of a list ("30亿元和50亿元")
    previous: str | None  # last year's fact, for a first_ test
    phrase: str
    first: bool = False  # the sentence says 首次 (for the first time)


@dataclass(frozen=True)
class Choice:
    """Options of a choice fact whose label or synonym the sentence names."""

    fact: str
    values: tuple[str, ...]
    phrase: str


@dataclass(frozen=True)
class Flag:
    """A yes/no fact the sentence requires to be true."""

    fact: str
    phrase: str


Condition = Threshold | Choice | Flag


@dataclass(frozen=True)
class DraftReward:
    """What a sentence grants, as it states it."""

    kind: str
    cap: int | None = None
    minimum: int | None = None
    per_variety: bool = False
    formula: tuple[str | Decimal, ...] = ()
    basis: str = ""  # the "按……" phrase, kept when no formula could be made of it
    tiers: tuple[int, ...] = ()  # every amount, when the sentence states several


@dataclass(frozen=True)
class DraftRule:
    """One sentence that grants a reward, read as far as it could be."""

    clause: str
    line: int
    quote: str  # the sentence as it stands in the cleaned document
    subject: str  # who or what it is for, as the sentence says it
    title: str
    reward: DraftReward
    conditions: tuple[Condition, ...]
    unmapped: tuple[str, ...]  # parts of the subject from which no condition was read


@dataclass(frozen=True)
class UnreadSentence:
    """A sentence that speaks of a reward but could not be read as one (reason: NO_AMOUNT or NO_RECIPIENT)."""

    clause: str
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Extraction:
    """Everything read from one document."""

    headings: tuple[Heading, ...]
    rules: tuple[DraftRule, ...]
    unread: tuple[UnreadSentence, ...]
    appended_from: int | None  # first line of text that follows the policy but is not part of it
    appended_title: str
    broken_lines: tuple[int, ...]  # lines that still hold broken-encoding fragments after the clean-up


# --- vocabulary ----------------------------------------------------------------------------------------
#
# Words of policy documents that stand for facts of the profile vocabulary. A fact is used only when the
# catalogue handed in has it; a threshold whose words are not here stays unmapped and the admin maps it.

# (words just before the amount, words the rest of the subject must contain or "", fact, last year's fact)
_MONEY_WORDS: tuple[tuple[str, str, str, str | None], ...] = (
    ("线上销售收入|网上销售收入|网络销售收入|线上销售额", "", "online_sales", "online_sales_last_year"),
    ("新增销售收入|销售收入增加|销售收入增长", "二次开发", "big_variety_sales_increase", None),
    ("销售收入|销售额", "闲置品种", "idle_variety_sales", None),
    ("销售收入|销售额", "品种|产品", "variety_sales", None),
    ("营业收入|营收|主营业务收入", "", "revenue", "revenue_last_year"),
    ("设备[^,;]{0,6}投资额?", "", "equipment_investment", None),
    ("贷款额|贷款金额|贷款", "", "loan_amount", None),
    ("投资额|总投资|投资", "项目", "project_investment", None),
)
_RATE_WORDS: tuple[tuple[str, str], ...] = (("贷款利率|利率", "loan_rate"),)
_FLAG_WORDS: tuple[tuple[str, str], ...] = (
    ("在(?:我|本)省(?:内)?(?:转化)?生产", "produced_in_province"),
    ("规定时间内投产|按期投产", "project_on_schedule"),
    ("招商引资|兼并重组", "attracted_investment"),
    ("公共(?:服务)?平台", "public_platform"),
)
# Shorter option words ("上市", "中药材") occur inside unrelated phrases ("生产上市") too often to be trusted.
_MIN_OPTION_WORD = 4
# Civil Code art. 1259: 以上, 以下, 以内 include the number itself; 超过, 不满 and their kin exclude it.
_TEST_AFTER = {"及以上": "at_least", "以上": "at_least", "以下": "at_most", "以内": "at_most"}
_TEST_BEFORE = {
    "超过": "more_than",
    "突破": "more_than",
    "高于": "more_than",
    "超": "more_than",
    "达到": "at_least",
    "不低于": "at_least",
    "不少于": "at_least",
    "不超过": "at_most",
    "不满": "less_than",
    "不足": "less_than",
    "低于": "less_than",
}

# --- patterns --------------------------------------------------------------------------------------------

_CN_DIGITS = "零〇一二两三四五六七八九"
_NUMBER = rf"(?:\d+(?:,\d{{3}})*(?:\.\d+)?|[{_CN_DIGITS}十百千]+(?:点[{_CN_DIGITS}]+)?)"
_UNIT = r"(?:万亿元|万亿|亿元|万元|亿|万|元)"
_MONEY = re.compile(rf"(?P<low>{_NUMBER})\s*(?:(?P<dash>[—\-~–]|至|到)\s*(?P<high>{_NUMBER})\s*)?(?P<unit>{_UNIT})")
_PERCENT = re.compile(rf"(\d+(?:\.\d+)?)\s*%|百分之([{_CN_DIGITS}十点]+)")
_REWARD_WORD = re.compile(r"奖励|奖补|补助|补贴|贴息|资助|给予|予以")
_GRANT_VERB = re.compile(r"给予|予以")
_REWARD_VERB = re.compile(r"奖励|奖补|补助|补贴|资助|贴息")
_REWARD_NOUN = re.compile(r"的?(贴息补助|贴息|奖励|奖补|奖金|补助|补贴|资助|支持|扶持)")
_GRANT_PREFIX = re.compile(r"(?:最高|最多|一次性|每个品种|每个产品|每一品种|每个|每家|每项|分别|可|再)+$")
_CAP_BEFORE = re.compile(r"(?:最高|最多|不超过|不高于|上限为?|封顶)[^,;]{0,4}$")
_CAP_AFTER = re.compile(r"\s*(?:封顶|为限|以内)")
_PER_VARIETY = re.compile(r"每个品种|每个产品|每一品种|每个品规")
_BY = re.compile(r"(?:^|(?<=[,;:]))按(?:照)?(?:其)?(?P<basis>[^,;]*?)(?=给予|予以|[,;]|$)")
_CLAUSE_BREAK = re.compile(r"[,;:、]")
_LIST_JOIN = "、和及与或"
_BOUNDARY_AFTER = re.compile("|".join(sorted(_TEST_AFTER, key=len, reverse=True)))
_BOUNDARY_BEFORE = re.compile(f"(首次)?({'|'.join(sorted(_TEST_BEFORE, key=len, reverse=True))})?$")

# Sentence ends and commas, full-width (\uff01 ！, \uff1b ；, \uff1f ？, \uff1a ：, \uff0c ，) and as folded to ASCII.
# An ASCII "?" is no sentence end: in these documents it marks a character lost to broken encoding.
_SENTENCE_END = "。\uff01\uff1f\uff1b!;"
_TERMINAL = _SENTENCE_END + "\uff1a:"
_COMMAS = (",", "\uff0c", "、")
_SENTENCE = re.compile(rf"[^{_SENTENCE_END}]+(?:[{_SENTENCE_END}]+[”’」』)]*|$)")

_CN_NUMERAL = "一二三四五六七八九十"
_LEVEL_1 = re.compile(rf"([{_CN_NUMERAL}]{{1,3}})、\s*")
_LEVEL_2 = re.compile(rf"[(\uff08]([{_CN_NUMERAL}]{{1,3}})[)\uff09]\s*")
_LEVEL_3 = re.compile(r"(\d{1,3})(?:[.\uff0e](?!\d)|、)\s*")
_ARTICLE = re.compile(rf"第([{_CN_NUMERAL}百零]{{1,5}})条\s*")
_BROKEN = re.compile(r"\?(?=[^\x00-\x7f\s])|(?<=[^\x00-\x7f\s])\?")
# A line this short with no closing punctuation is a title, never the end of a sentence cut by a line break.
_TITLE_CHARS = 40
# How far before an amount its words are looked for: "首次不超过" (boundary), "最高不超过给予" (cap), and the
# measure ("较上一年度新增销售收入"). Bounded, so that a sentence of thousands of amounts stays linear.
_BOUNDARY_CHARS = 6
_CAP_WORDS_CHARS = 12
_MEASURE_CHARS = 30


# --- structure -------------------------------------------------------------------------------------------


def _numeral(text: str) -> int:
    """一 → 1, 十二 → 12, 二十五 → 25, 一百零三 → 103 (headings and shares stay far below a thousand)."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    total, current = 0, 0
    for char in text:
        if char in digits:
            current = digits[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def _heading_marker(line: str) -> tuple[int, int, int] | None:
    """(level, number, length of the marker) when the line starts with a heading marker."""
    for level, pattern in ((1, _LEVEL_1), (2, _LEVEL_2), (3, _LEVEL_3), (3, _ARTICLE)):
        match = pattern.match(line)
        if match:
            number = match.group(1)
            return level, int(number) if number.isdigit() else _numeral(number), match.end()
    return None


def _ends_sentence(text: str) -> bool:
    text = text.rstrip().rstrip("”’」』")
    return text.endswith(tuple(_TERMINAL))


def _is_title_line(line: str) -> bool:
    return len(line) <= _TITLE_CHARS and not _ends_sentence(line) and not line.endswith(_COMMAS)


@dataclass
class _Paragraph:
    """Lines that belong together, with the line each piece starts on and the headings above them."""

    path: tuple[Heading, ...]
    pieces: list[tuple[int, str]]
    title_only: bool = False

    def sentences(self) -> Iterator[tuple[str, int]]:
        """Each sentence of the paragraph with the line it starts on."""
        text = "".join(piece for _, piece in self.pieces)
        starts = [0, *itertools.accumulate(len(piece) for _, piece in self.pieces)]
        for match in _SENTENCE.finditer(text):
            sentence = match.group(0)
            if sentence.strip():
                offset = match.start() + len(sentence) - len(sentence.lstrip())
                yield sentence.strip(), self.pieces[bisect.bisect_right(starts, offset) - 1][0]


@dataclass(frozen=True)
class _Outline:
    headings: tuple[Heading, ...]
    paragraphs: tuple[_Paragraph, ...]
    appended_from: int | None
    appended_title: str


def _appended_start(lines: list[tuple[int, str]]) -> int | None:
    """Index of the first line of an article appended after the policy: a title line once the body has begun,
    after which no top-level heading follows."""
    seen_heading = False
    last_top = max((i for i, (_, text) in enumerate(lines) if _LEVEL_1.match(text)), default=-1)
    for index, (_, text) in enumerate(lines):
        marker = _heading_marker(text)
        if marker:
            seen_heading = True
            continue
        previous = lines[index - 1][1] if index else ""
        if seen_heading and index > last_top and _is_title_line(text) and _ends_sentence(previous):
            return index
    return None


def _outline(text: str) -> _Outline:
    lines = [(number, line.strip()) for number, line in enumerate(text.split("\n"), 1) if line.strip()]
    cut = _appended_start(lines)
    appended = (lines[cut][0], lines[cut][1]) if cut is not None else None
    if cut is not None:
        lines = lines[:cut]
    headings: list[Heading] = []
    path: list[Heading] = []
    paragraphs: list[_Paragraph] = []
    for number, line in lines:
        heading = _read_heading(number, line, path)
        if heading is not None:
            heading, marker_end = heading
            headings.append(heading)
            path = [h for h in path if h.level < heading.level] + [heading]
            rest = line[marker_end:]
            paragraphs.append(_Paragraph(tuple(path), [(number, rest)], title_only=_is_title_line(rest)))
            continue
        current = paragraphs[-1] if paragraphs else None
        if current is not None and not current.title_only and _continues(current.pieces[-1][1]):
            current.pieces.append((number, line))
        else:
            paragraphs.append(_Paragraph(tuple(path), [(number, line)], title_only=_is_title_line(line)))
    if appended is None:
        return _Outline(tuple(headings), tuple(paragraphs), None, "")
    return _Outline(tuple(headings), tuple(paragraphs), appended[0], appended[1])


def _read_heading(number: int, line: str, path: list[Heading]) -> tuple[Heading, int] | None:
    marker = _heading_marker(line)
    if marker is not None:
        level, value, end = marker
        return Heading(level, value, _heading_title(line[end:]), number), end
    # A "(五)" the broken encoding swallowed leaves a line that starts with "?" among its sibling headings.
    if line.startswith("?") and path and path[-1].level == 2:
        return Heading(2, path[-1].number + 1, "", number, inferred=True), 1
    return None


def _heading_title(rest: str) -> str:
    first = _SENTENCE.match(rest)
    title = first.group(0) if first else rest
    return title.rstrip(_SENTENCE_END).strip()


def _continues(last_line: str) -> bool:
    """True when a line break cut a sentence: the last line does not end one and is not a title."""
    if _ends_sentence(last_line):
        return False
    return last_line.endswith(_COMMAS) or len(last_line) > _TITLE_CHARS


def _clause(path: tuple[Heading, ...], global_items: bool) -> str:
    """The measure number as rule files write it: "14" where items are numbered through, else "二(一)6"."""
    items = [h for h in path if h.level == 3]
    if items and global_items:
        return str(items[-1].number)
    parts = []
    for heading in path:
        if heading.level == 1:
            parts.append(_cn(heading.number))
        elif heading.level == 2:
            parts.append(f"({_cn(heading.number)})")
        else:
            parts.append(str(heading.number))
    return "".join(parts)


def _cn(number: int) -> str:
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    tens, ones = divmod(number, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _numbered_through(headings: tuple[Heading, ...]) -> bool:
    numbers = [h.number for h in headings if h.level == 3]
    return bool(numbers) and all(b > a for a, b in zip(numbers, numbers[1:], strict=False))


# --- reading one sentence ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Money:
    start: int
    end: int
    low: int
    high: int | None


def _amounts(text: str) -> list[_Money]:
    found = []
    for match in _MONEY.finditer(text):
        unit = match.group("unit").removesuffix("元")
        low = parse_money(match.group("low") + unit)
        high = parse_money(match.group("high") + unit) if match.group("high") else None
        if isinstance(low, Invalid) or isinstance(high, Invalid):
            continue
        found.append(_Money(match.start(), match.end(), low.value, high.value if high else None))
    return found


def _percent(text: str) -> Decimal | None:
    match = _PERCENT.search(text)
    if match is None:
        return None
    if match.group(1):
        return Decimal(match.group(1)) / 100
    integer, _, fraction = match.group(2).partition("点")
    value = Decimal(_numeral(integer))
    if fraction:
        value += Decimal("0." + "".join(str(_numeral(c)) for c in fraction))
    return value / 100


@dataclass(frozen=True)
class _Facts:
    """The facts and options of the catalogue handed in, as the extractor can look for them."""

    names: frozenset[str]
    options: tuple[tuple[str, str, str], ...]  # (word, fact, option value), longest words first

    @classmethod
    def of(cls, catalogue: Catalogue | None) -> _Facts:
        if catalogue is None:
            return cls(frozenset(), ())
        words = []
        for question in catalogue.questions.values():
            if question.type != "multi_choice" or question.screening:  # rules name the facts it screens
                continue
            for option in question.options:
                for word in {option.label(), *option.synonyms}:
                    word = to_simplified(word)
                    if len(word) >= _MIN_OPTION_WORD:
                        words.append((word, question.fact, option.value))
        words.sort(key=lambda w: (-len(w[0]), w))
        return cls(frozenset(catalogue.questions), tuple(words))

    def known(self, fact: str | None) -> str | None:
        return fact if fact in self.names else None


def _grant_anchor(text: str, amounts: list[_Money]) -> re.Match[str] | None:
    """The verb that grants: 给予/予以, or a reward word with its amount just after ("奖励100万元")."""
    verb = _GRANT_VERB.search(text)
    if verb is not None:
        return verb
    starts = {money.start for money in amounts}
    for match in _REWARD_VERB.finditer(text):
        if match.end() in starts:
            return match
    return None


def _recipient(text: str, before: int) -> int | None:
    """Where the "对……" phrase naming who is granted starts, at the start of a clause before the grant."""
    found = None
    for match in re.finditer(r"(?:^|(?<=[,;:]))对(?!于)", text[:before]):
        found = match.start()
    return found


def _grant_start(text: str, anchor: int, subject_start: int) -> int:
    start = anchor
    by = None
    for match in _BY.finditer(text, subject_start, anchor):
        by = match
    if by is not None:
        start = by.start()
    prefix = _GRANT_PREFIX.search(text[subject_start:start])
    return subject_start + prefix.start() if prefix else start


def _reward(text: str, grant_start: int, amounts: list[_Money], facts: _Facts) -> DraftReward | None:
    grant = text[grant_start:]
    kind = "interest_subsidy" if "贴息" in grant else "cash_reward" if "奖" in grant else "subsidy"
    per_variety = bool(_PER_VARIETY.search(text[max(0, grant_start - 6) :]))
    formula, basis = _formula(grant, kind, facts)
    granted = [m for m in amounts if m.start >= grant_start]
    if not granted:
        return DraftReward(kind, per_variety=per_variety, formula=formula, basis=basis) if formula else None
    capped = [m for m in granted if _is_cap(text, grant_start, m)]
    values = sorted({v for m in granted for v in (m.low, m.high) if v is not None})
    if len(granted) == 1 and granted[0].high is not None:
        return DraftReward(kind, granted[0].high, granted[0].low, per_variety, formula, basis)
    if len(values) > 1:
        # Tiers ("分别给予50万元、100万元"): the range they span, with every amount kept for the admin.
        return DraftReward(kind, values[-1], values[0], per_variety, formula, basis, tuple(values))
    if capped or formula:
        return DraftReward(kind, values[0], None, per_variety, formula, basis)
    return DraftReward(kind, values[0], values[0], per_variety, formula, basis)


def _is_cap(text: str, grant_start: int, money: _Money) -> bool:
    """True for an amount said to be a cap: "最高给予100万元", "最高不超过100万元", "100万元封顶"."""
    before = _CAP_BEFORE.search(text, max(grant_start, money.start - _CAP_WORDS_CHARS), money.start)
    return before is not None or _CAP_AFTER.match(text, money.end) is not None


def _formula(grant: str, kind: str, facts: _Facts) -> tuple[tuple[str | Decimal, ...], str]:
    """multiply: [fact, share] for "按……的20%", [loan, rate] for an interest subsidy "按……贷款额和贷款利率"."""
    by = _BY.search(grant)
    if by is None:
        return (), ""
    basis = by.group("basis")
    share = _percent(basis)
    money = _money_fact(basis, basis, facts)
    rate = next((facts.known(fact) for words, fact in _RATE_WORDS if re.search(words, basis)), None)
    if share is not None and money:
        return (money, share), by.group(0)
    if kind == "interest_subsidy" and money and rate:
        return (money, rate), by.group(0)
    return (), by.group(0)


def _money_fact(words: str, subject: str, facts: _Facts) -> str | None:
    """The money fact that words stand for (the first entry of _MONEY_WORDS that fits), if the catalogue has it."""
    for pattern, context, fact, _ in _MONEY_WORDS:
        if re.search(pattern, words) and (not context or re.search(context, subject)):
            return facts.known(fact)
    return None


def _previous_fact(fact: str | None) -> str | None:
    return next((previous for _, _, name, previous in _MONEY_WORDS if name == fact), None)


def _thresholds(subject: str, facts: _Facts) -> list[tuple[Threshold, int, int]]:
    """Every amount of the subject with its test, as (threshold, start, end) in the subject."""
    found = []
    amounts = _amounts(subject)
    index = 0
    while index < len(amounts):
        group = [amounts[index]]
        while index + 1 < len(amounts) and _joined(subject, group[-1], amounts[index + 1]):
            index += 1
            group.append(amounts[index])
        index += 1
        found.append(_threshold(subject, group, facts))
    return found


def _joined(text: str, left: _Money, right: _Money) -> bool:
    between = text[left.end : right.start]
    return len(between) == 1 and between in _LIST_JOIN


def _threshold(subject: str, group: list[_Money], facts: _Facts) -> tuple[Threshold, int, int]:
    start, end = group[0].start, group[-1].end
    before = _BOUNDARY_BEFORE.search(subject, max(0, start - _BOUNDARY_CHARS), start)
    after = _BOUNDARY_AFTER.match(subject, end)
    first = bool(before and before.group(1))
    tests = set()
    if before and before.group(2):
        tests.add(_TEST_BEFORE[before.group(2)])
    if after:
        tests.add(_TEST_AFTER[after.group(0)])
    test = tests.pop() if len(tests) == 1 else None
    if before and before.group(0):
        start = before.start()
    if after:
        end = after.end()
    window = max(0, start - _MEASURE_CHARS)
    clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(subject, window, start)), default=window)
    measure = subject[clause_start:start]
    fact = _money_fact(measure, subject, facts) if measure else None
    previous = facts.known(_previous_fact(fact)) if first else None
    if first:
        # 首次 compares with last year's figure; without a fact that holds it the test cannot be written.
        test = f"first_{test}" if test and previous else None
    values = tuple(m.low for m in group)
    return Threshold(fact, test, values, previous, subject[clause_start:end], first), clause_start, end


def _choices(subject: str, facts: _Facts) -> list[tuple[Choice, int, int]]:
    """Options whose label or synonym the subject names, grouped by fact, in the order the subject names them."""
    words: list[tuple[int, int, str, str, str]] = []
    covered = bytearray(len(subject))
    for word, fact, value in facts.options:  # longest first: a word inside a longer one already read is skipped
        for match in re.finditer(re.escape(word), subject):
            start, end = match.span()
            if not any(covered[start:end]):
                covered[start:end] = b"\x01" * (end - start)
                words.append((start, end, word, fact, value))
    by_fact: dict[str, list[tuple[int, int, str, str, str]]] = {}
    for found in sorted(words):
        by_fact.setdefault(found[3], []).append(found)
    choices = []
    for fact, found in by_fact.items():
        values = tuple(dict.fromkeys(value for *_, value in found))
        phrase = "、".join(dict.fromkeys(word for _, _, word, _, _ in found))
        choices.append((Choice(fact, values, phrase), found[0][0], max(end for _, end, *_ in found)))
    return choices


def _flags(subject: str, facts: _Facts) -> list[tuple[Flag, int, int]]:
    found = []
    for pattern, fact in _FLAG_WORDS:
        match = re.search(pattern, subject)
        if match and facts.known(fact):
            found.append((Flag(fact, match.group(0)), match.start(), match.end()))
    return found


def _unmapped(subject: str, spans: list[tuple[int, int]]) -> tuple[str, ...]:
    parts = []
    offset = 0
    for part in re.split(r"[,;]", subject):
        start, end = offset, offset + len(part)
        offset = end + 1
        if part.strip() and not any(s < end and start < e for s, e in spans):
            parts.append(part.strip())
    return tuple(parts)


def _title(subject: str, grant: str) -> str:
    noun = _REWARD_NOUN.search(grant)
    word = noun.group(1) if noun else ""
    title = subject.rstrip(",;:的 ")
    return title + word if word and not title.endswith(word) else title or word


def _read_sentence(quote: str, clause: str, line: int, facts: _Facts) -> DraftRule | UnreadSentence | None:
    text = to_simplified("".join(quote.split()))
    if not _REWARD_WORD.search(text):
        return None
    amounts = _amounts(text)
    anchor = _grant_anchor(text, amounts)
    if anchor is None:
        reason = NO_RECIPIENT if amounts else NO_AMOUNT
        return UnreadSentence(clause, line, quote, reason)
    recipient = _recipient(text, anchor.start())
    if recipient is None and anchor.group(0) not in ("给予", "予以"):
        return UnreadSentence(clause, line, quote, NO_RECIPIENT)
    subject_start = recipient + 1 if recipient is not None else 0
    grant_start = _grant_start(text, anchor.start(), subject_start)
    reward = _reward(text, grant_start, amounts, facts)
    if reward is None:
        return UnreadSentence(clause, line, quote, NO_AMOUNT)
    subject = text[subject_start:grant_start].rstrip(",; ")
    read: list[tuple[Condition, int, int]] = [*_thresholds(subject, facts), *_choices(subject, facts)]
    read.extend(_flags(subject, facts))
    read.sort(key=lambda item: item[1])
    # A threshold that could not be read is listed as such, so its part of the subject counts as seen.
    spans = [(start, end) for _, start, end in read]
    return DraftRule(
        clause=clause,
        line=line,
        quote=quote,
        subject=subject,
        title=_title(subject, text[grant_start:]),
        reward=reward,
        conditions=tuple(c for c, _, _ in read),
        unmapped=_unmapped(subject, spans),
    )


def extract_rules(text: str, catalogue: Catalogue | None = None) -> Extraction:
    """Reads a policy document (its raw text) for a draft rule file.

    The text is cleaned first (inserted pinyin readings, mis-decoded runs); text appended after the policy is
    left out. Conditions use only the facts and options of the catalogue handed in.
    """
    cleaned = clean_document(text)
    outline = _outline(cleaned)
    facts = _Facts.of(catalogue)
    through = _numbered_through(outline.headings)
    rules: list[DraftRule] = []
    unread: list[UnreadSentence] = []
    for paragraph in outline.paragraphs:
        clause = _clause(paragraph.path, through)
        for sentence, line in paragraph.sentences():
            result = _read_sentence(sentence, clause, line, facts)
            if isinstance(result, DraftRule):
                rules.append(result)
            elif isinstance(result, UnreadSentence):
                unread.append(result)
    last_line = outline.appended_from or cleaned.count("\n") + 2
    broken = tuple(
        number for number, line in enumerate(cleaned.split("\n"), 1) if number < last_line and _BROKEN.search(line)
    )
    return Extraction(
        outline.headings, tuple(rules), tuple(unread), outline.appended_from, outline.appended_title, broken
    )
