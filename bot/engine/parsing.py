"""Free-text answer parsing: each parser turns what a person typed into a value or a reason and a hint."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Generic, ParamSpec, TypeAlias, TypeVar

import cn2an
from rapidfuzz import fuzz, process

from bot.engine.regions import SEPARATOR, RegionIndex
from bot.engine.textnorm import to_simplified

__all__ = [
    "MATCH_THRESHOLD",
    "MAX_AMOUNT",
    "PROBLEMS",
    "Invalid",
    "Ok",
    "Option",
    "ParseResult",
    "excerpt",
    "is_none",
    "is_skip",
    "parse_bool",
    "parse_choice",
    "parse_fraction",
    "parse_money",
    "parse_multi_choice",
    "parse_number",
    "parse_region",
]

T = TypeVar("T")
P = ParamSpec("P")

# fuzz.ratio of one wrong character in a four-character label ("生物制要" for "生物制药") is 75; one wrong
# character in a three-character label scores 67 and is not accepted, as too many labels are that close.
MATCH_THRESHOLD = 75
MIN_FUZZY_LENGTH = 3
BARE_FRACTION_LIMIT = Decimal("0.2")
# Larger figures are typing mistakes, not enterprise revenue (10^15 yuan is about 10 times China's GDP).
MAX_AMOUNT = 10**15


@dataclass(frozen=True)
class Ok(Generic[T]):
    """A parsed answer."""

    value: T


@dataclass(frozen=True)
class Invalid:
    """An answer that could not be used: the kind of problem and what it concerns; handlers word it.

    `problem` is one of PROBLEMS; `excerpt` is the short part of the answer it is about (never the whole of a
    long answer); `candidates` are what the answer may mean (region paths) when it is ambiguous, or the nearest
    known places when it names none.
    """

    problem: str
    excerpt: str = ""
    candidates: tuple[str, ...] = ()


PROBLEMS = (
    "empty",  # nothing written
    "unreadable",  # not a value of the question's kind at all
    "too_long",  # longer than any answer of this kind can be
    "too_large",  # a number beyond any amount an enterprise has
    "other_currency",  # an amount in a currency other than yuan
    "negative",
    "range",  # two values ("3000万-5000万") where one is needed
    "inexact",  # a bound ("3000万以上") where a figure is needed
    "ambiguous_rate",  # a bare 0.2 < x <= 1: a percentage or a fraction
    "over_100_percent",
    "not_yes_no",
    "matches_several",  # reads as more than one option
    "several_options",  # names several options where only one may be chosen
    "negated",  # names an option only to deny it ("没有临床试验许可")
    "unknown_option",  # excerpt: the part that names no option
    "unknown_place",  # excerpt: the name; candidates: the known places nearest to it
    "ambiguous_place",  # excerpt: the name; candidates: the places it may be
    "wrong_type",  # a profile file value of the wrong type
    "unexpected",  # the parser failed; the answer is asked again
)
# The longest place written out in full (province, prefecture, county, with their suffixes) is under 40 characters;
# a longer answer is not a place, and reading it (and finding names near it) would only cost time.
MAX_PLACE_CHARS = 64
# An ambiguous place is asked back with at most this many candidates (a button each).
MAX_PLACES = 8
# Past this many characters an answer cannot be a number, however it is written (一千二百三十四万五千六百七十八亿…).
MAX_NUMBER_CHARS = 64


ParseResult: TypeAlias = Ok[Any] | Invalid


@dataclass(frozen=True)
class Option:
    """One answer to a choice question: its value and its labels (display label first, then synonyms)."""

    value: str
    labels: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.labels[0] if self.labels else self.value


_UNEXPECTED = Invalid("unexpected")
EXCERPT_CHARS = 20


def excerpt(text: str) -> str:
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


def _never_raises(parse: Callable[P, ParseResult]) -> Callable[P, ParseResult]:
    # The parsers are written not to raise; this is the last line that keeps a stack trace from a user.
    @functools.wraps(parse)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ParseResult:
        try:
            return parse(*args, **kwargs)
        except Exception:
            return _UNEXPECTED

    return guarded


def _prepare(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return to_simplified(text).strip()


_TRAILING_PUNCTUATION = ".。!！~～、,，;；:：\"'“”‘’ "


def _answer_key(text: object) -> str:
    """Normalised text for comparing with word lists: Simplified, case-folded, no closing punctuation."""
    return _prepare(text).casefold().rstrip(_TRAILING_PUNCTUATION).strip()


# --- numbers -------------------------------------------------------------------------------------------

_GROUPS = (("亿", Decimal(10) ** 8), ("万", Decimal(10) ** 4))
_SMALL_UNITS = {"千": Decimal(1000), "百": Decimal(100), "十": Decimal(10)}
_PLACE_UNITS = "万千百十仟佰拾"
_CHINESE_NUMERALS = "零〇一二三四五六七八九十百千两壹贰叁肆伍陆柒捌玖拾佰仟廿点"
_ARABIC = re.compile(r"[0-9]+(?:\.[0-9]+)?|[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_ARABIC_WITH_UNIT = re.compile(rf"({_ARABIC.pattern})([千百十])?")
_RANGE = re.compile(r"[0-9零〇一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟.]\s*(?:-|~|—|–|至|到)")
_NEGATIVE = re.compile(r"^(?:-|−|负)")
_HAS_NUMERAL = re.compile(r"[0-9零〇一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟]")
_APPROXIMATE = ("大约", "大概", "约", "左右", "差不多", "上下", "估计", "应该是", "应该", "可能")
# Said at the end of a spoken answer ("大概三个亿吧"); they change nothing.
_PARTICLES = "吧啊呀哦呢嘛啦哈"
# "三个亿", "1.2个亿": 个 between a number and its unit.
_COUNTER = re.compile(r"(?<=[0-9零〇一二三四五六七八九十百千两.])个(?=[千百万亿])")
_INEXACT = ("多", "余", "以上", "以下", "以内", "超过", "不到", "不足", "不满", "近")


class _NotANumber(Exception):
    """The text is not a number in any of the accepted forms."""


def _chinese_number(text: str) -> Decimal:
    if not text or any(c not in _CHINESE_NUMERALS for c in text) or text.startswith("点"):
        raise _NotANumber
    try:
        value = cn2an.cn2an(text, "normal")
    except Exception as error:  # cn2an raises ValueError and, on odd input, other errors
        raise _NotANumber from error
    return Decimal(str(value))


def _arabic_number(text: str) -> Decimal:
    match = _ARABIC_WITH_UNIT.fullmatch(text)
    if match is None:
        raise _NotANumber
    value = Decimal(match.group(1).replace(",", ""))
    return value * _SMALL_UNITS[match.group(2)] if match.group(2) else value


def _section_value(text: str) -> Decimal:
    """Value of the part between two of 万/亿: "3000", "1.5", "5千" or "三千五百"."""
    if text and text[0] in "0123456789":
        return _arabic_number(text)
    return _chinese_number(text)


def _tail_is_clear(tail: str, unit: str) -> bool:
    # "2万5千" and "一万零五" are clear, and digits filling the whole group ("2万5000") can only mean one thing.
    # One digit alone ("两万五", "两亿五") is handled by the caller: said that way it is the next place down.
    if any(u in tail for u in _PLACE_UNITS) or tail.startswith(("零", "〇")):
        return True
    return re.fullmatch(rf"[0-9]{{{4 if unit == '万' else 8}}}", tail) is not None


# One digit after 万 or 亿, with no unit of its own, is said for the next place down: 两万五 is 25,000 and 两亿五
# is 250,000,000 (10,005 is said 一万零五), as 三千五 is 3,500.
_LONE_DIGIT = re.compile(r"[1-9一二三四五六七八九两]")


def _grouped_value(text: str, level: int, last: bool = True) -> Decimal:
    """Value of text written with the group units from _GROUPS[level] down: "1亿5000万", "三千万". `last`: the
    text ends the whole number, where a lone digit after the unit is the next place down ("两亿五")."""
    if level == len(_GROUPS):
        return _section_value(text)
    unit, scale = _GROUPS[level]
    if unit not in text:
        return _grouped_value(text, level + 1, last)
    head, _, tail = text.rpartition(unit)
    if not head:
        raise _NotANumber  # "万" alone
    # 亿 may count in 万 ("九百三十四万亿"); 万 may not count in 万.
    value = _grouped_value(head, level if unit == "亿" else level + 1, last=False) * scale
    if tail:
        if last and _LONE_DIGIT.fullmatch(tail):
            return value + _chinese_or_arabic_digit(tail) * scale / 10
        if not _tail_is_clear(tail, unit):
            raise _NotANumber
        rest = _grouped_value(tail.lstrip("零〇") or "0", level + 1, last)
        if rest >= scale:
            raise _NotANumber
        value += rest
    return value


def _chinese_or_arabic_digit(digit: str) -> Decimal:
    return Decimal(digit) if digit.isdigit() and digit.isascii() else _chinese_number(digit)


def _number_value(text: str) -> Decimal:
    """Parse a non-negative number written with digits, Chinese numerals and 万/亿; raise _NotANumber."""
    if not text:
        raise _NotANumber
    return _grouped_value(text, 0)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _strip_words(text: str, words: Sequence[str]) -> str:
    for word in words:
        text = text.replace(word, "")
    return text


def _as_plain_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# --- money ---------------------------------------------------------------------------------------------

_OTHER_CURRENCIES = (
    "美元", "美金", "欧元", "港元", "港币", "日元", "英镑", "澳元", "加元", "卢布", "韩元", "新台币", "台币",
    "usd", "us$", "$", "eur", "€", "hkd", "jpy", "gbp", "£", "dollar", "euro", "pound",
)  # fmt: skip
_YUAN_MARKERS = ("人民币", "rmb", "cny", "¥", "￥")
_YUAN_UNITS = ("元整", "块钱", "元", "块", "圆", "yuan")
# English amounts: "1.2 billion", "30 million", "800k", "1.5bn" (spaces are gone by the time this applies).
_ENGLISH_SCALES = {
    "k": 10**3, "thousand": 10**3, "m": 10**6, "mn": 10**6, "mio": 10**6, "million": 10**6,
    "b": 10**9, "bn": 10**9, "billion": 10**9,
}  # fmt: skip
_ENGLISH_AMOUNT = re.compile(rf"({_ARABIC.pattern})({'|'.join(sorted(_ENGLISH_SCALES, key=len, reverse=True))})")


@_never_raises
def parse_money(text: str) -> ParseResult:
    """Parse an amount of money in yuan: "3000万", "1.5亿", "三千万", "30,000,000" → Ok(int yuan)."""
    s = _compact(_prepare(text)).casefold()
    if not s:
        return Invalid("empty")
    if len(s) > MAX_NUMBER_CHARS:
        return Invalid("too_long", excerpt(s))
    if any(currency in s for currency in _OTHER_CURRENCIES):
        return Invalid("other_currency")
    s = _spoken(_strip_words(s, _YUAN_MARKERS))
    problem = _inexact_problem(s)
    if problem is not None:
        return problem
    s = _strip_words(s, _APPROXIMATE)
    for unit in _YUAN_UNITS:
        if s.endswith(unit):
            s = s[: -len(unit)]
            break
    try:
        value = _english_amount(s) or _number_value(s)
    except (_NotANumber, InvalidOperation):
        return Invalid("unreadable", excerpt(_prepare(text)))
    if value > MAX_AMOUNT:
        return Invalid("too_large")
    return Ok(int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _spoken(s: str) -> str:
    """The amount without what speech adds around it: closing particles and punctuation, 个 before the unit."""
    while True:
        trimmed = s.rstrip(_TRAILING_PUNCTUATION).rstrip(_PARTICLES)
        if trimmed == s:
            break
        s = trimmed
    return _COUNTER.sub("", s)


def _english_amount(s: str) -> Decimal | None:
    """30million → 30000000; None when the text is not written that way."""
    match = _ENGLISH_AMOUNT.fullmatch(s)
    if match is None:
        return None
    return Decimal(match.group(1).replace(",", "")) * _ENGLISH_SCALES[match.group(2)]


def _inexact_problem(s: str) -> Invalid | None:
    """An Invalid for a negative number, a range or a bound such as "3000万以上", else None."""
    if not _HAS_NUMERAL.search(s):
        return None  # "很多" is not a number at all, which the caller says
    if _NEGATIVE.match(s):
        return Invalid("negative")
    if _RANGE.search(s):
        return Invalid("range")
    if any(word in s for word in _INEXACT):
        return Invalid("inexact")
    return None


# --- plain numbers and rates ---------------------------------------------------------------------------


@_never_raises
def parse_number(text: str) -> ParseResult:
    """Parse a plain number: "12", "3.5", "三千", "1.2万", "-5" → Ok(int or float)."""
    s = _compact(_prepare(text)).rstrip(_TRAILING_PUNCTUATION)
    if not s:
        return Invalid("empty")
    if len(s) > MAX_NUMBER_CHARS:
        return Invalid("too_long", excerpt(s))
    sign = 1
    negative = _NEGATIVE.match(s)
    if negative:
        sign, s = -1, s[negative.end() :]
    if _RANGE.search(s):
        return Invalid("range")
    try:
        value = _number_value(s)
    except (_NotANumber, InvalidOperation):
        return Invalid("unreadable", excerpt(_prepare(text)))
    if value > MAX_AMOUNT:
        return Invalid("too_large")
    return Ok(_as_plain_number(sign * value))


_PERCENT_PREFIXES = {"百分之": Decimal(100), "千分之": Decimal(1000)}
_PERCENT_SUFFIXES = {"%": Decimal(100), "percent": Decimal(100), "pct": Decimal(100), "‰": Decimal(1000)}


def _number_text(number: Decimal) -> str:
    return format(number.normalize(), "f")


@_never_raises
def parse_fraction(text: str) -> ParseResult:
    """Parse a rate as a fraction: "4.35%", "百分之四点三五", "0.0435" and "4.35" all give Ok(0.0435)."""
    s = _compact(_prepare(text)).casefold().rstrip(_TRAILING_PUNCTUATION)
    s = _strip_words(s, _APPROXIMATE)
    if not s:
        return Invalid("empty")
    if len(s) > MAX_NUMBER_CHARS:
        return Invalid("too_long", excerpt(s))
    if _NEGATIVE.match(s):
        return Invalid("negative")
    if _RANGE.search(s):
        return Invalid("range")
    divisor: Decimal | None = None
    for prefix, value in _PERCENT_PREFIXES.items():
        if s.startswith(prefix):
            s, divisor = s[len(prefix) :], value
    for suffix, value in _PERCENT_SUFFIXES.items():
        if divisor is None and s.endswith(suffix):
            s, divisor = s[: -len(suffix)], value
    try:
        number = _number_value(s)
    except (_NotANumber, InvalidOperation):
        return Invalid("unreadable", excerpt(_prepare(text)))
    if divisor is None:
        # Rates are written both ways. A bare number above 1 can only be a percentage and a small one (≤ 0.2)
        # is a fraction; in between, "0.8" may mean 80% or 0.8%, so it is asked again instead of guessed.
        if BARE_FRACTION_LIMIT < number <= 1:
            return Invalid("ambiguous_rate", _number_text(number))
        divisor = Decimal(100) if number > 1 else Decimal(1)
    fraction = number / divisor
    if fraction > 1:
        return Invalid("over_100_percent")
    return Ok(float(fraction))


# --- yes / no ------------------------------------------------------------------------------------------

_YES = frozenset(
    ["是", "是的", "对", "对的", "有", "有的", "已经", "已", "已有", "嗯", "好", "确定", "正确", "符合",
     "当然", "yes", "y", "true", "1", "√", "✓", "✔", "ok", "okay"]
)  # fmt: skip
_NO = frozenset(
    ["否", "不是", "没有", "无", "不", "没", "不对", "不符合", "还没有", "还没", "尚未", "未", "暂无",
     "没有的", "no", "n", "false", "0", "×", "✗", "✘"]
)  # fmt: skip


@_never_raises
def parse_bool(text: str) -> ParseResult:
    """Parse a yes/no answer: "是", "有", "yes", "√" → Ok(True); "否", "没有", "no", "×" → Ok(False)."""
    key = _answer_key(text)
    if not key:
        return Invalid("empty")
    if key in _YES:
        return Ok(True)
    if key in _NO:
        return Ok(False)
    return Invalid("not_yes_no", excerpt(_prepare(text)))


# --- choices -------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _normalised_labels(option: Option) -> tuple[str, ...]:
    # Options are fixed per question, and a reply may compare against each label several times.
    return tuple(key for key in (_answer_key(label) for label in option.labels) if key)


def _contained_options(key: str, options: Sequence[Option]) -> list[Option]:
    """Options with a synonym (2+ characters) in the text; a synonym inside a longer one does not count."""
    spans: list[tuple[int, int, int]] = []  # start, end, option number
    for number, option in enumerate(options):
        for label in _normalised_labels(option):
            if len(label) >= 2:
                spans.extend((m.start(), m.end(), number) for m in re.finditer(re.escape(label), key))
    # "医药流通" contains "医药"; a longer synonym of another option wins over the one inside it.
    kept = {
        number
        for start, end, number in spans
        if not any(s <= start and end <= e and (e - s) > (end - start) and n != number for s, e, n in spans)
    }
    return [options[n] for n in sorted(kept)]


def _fuzzy_option(key: str, options: Sequence[Option]) -> Option | None | Invalid:
    if len(key) < MIN_FUZZY_LENGTH:
        return None  # two characters are too few to tell a typo from another word ("医药" is not "中医药")
    choices: list[str] = []
    owners: list[int] = []
    for number, option in enumerate(options):
        for label in [option.value.casefold(), *_normalised_labels(option)]:
            choices.append(label)
            owners.append(number)
    matches = process.extract(key, choices, scorer=fuzz.ratio, score_cutoff=MATCH_THRESHOLD, limit=None)
    if not matches:
        return None
    best_score = matches[0][1]
    best = {owners[index] for _, score, index in matches if score == best_score}
    if len(best) > 1:
        return Invalid("matches_several", excerpt(key))
    return options[best.pop()]


@_never_raises
def parse_choice(text: str, options: Sequence[Option]) -> ParseResult:
    """Parse one choice: its value, a label or synonym, a synonym inside the text, or a close spelling."""
    key = _answer_key(text)
    if not key:
        return Invalid("empty")
    for option in options:
        if key == option.value.casefold():
            return Ok(option.value)
    exact = [o for o in options if key in _normalised_labels(o)]
    if len({o.value for o in exact}) == 1:
        return Ok(exact[0].value)
    if len(exact) > 1:
        return Invalid("matches_several", excerpt(key))
    if _NEGATION.search(key):
        # "没有临床试验许可" names an option only to deny it; reading it as that option would invert the answer.
        return Invalid("negated", excerpt(key))
    contained = _contained_options(key, options)
    if len(contained) == 1:
        return Ok(contained[0].value)
    if len(contained) > 1:
        return Invalid("several_options", excerpt(key))
    fuzzy = _fuzzy_option(key, options)
    if isinstance(fuzzy, Invalid):
        return fuzzy
    if fuzzy is not None:
        return Ok(fuzzy.value)
    return Invalid("unknown_option", excerpt(_prepare(text)))


_NEGATION = re.compile(r"没|无|未|不|非|别|否")
_NONE_ANSWERS = frozenset(
    ["都没有", "都不是", "没有", "无", "都无", "暂无", "没", "均无", "没有的", "还没有", "一个也没有", "0", "零",
     "none", "nothing", "no", "none of them", "none of these", "n/a", "zero", "nil"]
)  # fmt: skip


def is_none(text: object) -> bool:
    """True if the answer says "none" (没有, 无, 暂无, none, 0 …): to a question that invites it, that is 0 or an
    empty choice."""
    return _answer_key(text) in _NONE_ANSWERS


_LIST_SEPARATORS = re.compile(r"[、,;/\s]+")
_WORD_SEPARATORS = re.compile(r"以及|和|及|与|跟|还有")


@_never_raises
def parse_multi_choice(text: str, options: Sequence[Option]) -> ParseResult:
    """Parse several choices separated by 、,;/ spaces or 和/及/与 → Ok(list of values in option order)."""
    key = _answer_key(text)
    if not key:
        return Invalid("empty")
    if key in _NONE_ANSWERS:
        return Ok([])
    whole = [o.value for o in options if key == o.value.casefold() or key in _normalised_labels(o)]
    if len(set(whole)) == 1:
        return Ok(whole[:1])  # a label that itself contains a separator, such as "化妆品、日化"
    chosen: set[str] = set()
    for part in (p for p in _LIST_SEPARATORS.split(key) if p):
        values = _part_values(part, options)
        if isinstance(values, Invalid):
            return values
        chosen.update(values)
    return Ok([o.value for o in options if o.value in chosen])


# Words around the options a sentence names ("我们在做生物制品研发及产业化", "今年拿到了临床批件"): nothing else.
_FILLER = re.compile(
    r"我们|我司|本公司|公司|企业|单位|我|今年|本年度|本年|目前|现在|已经|正在|主要|还|也|都|在做|在|做|从事|进行|"
    r"开展|拿到|取得|获得|通过|完成|有|是|的|了|等|项目|方面|业务|产品|一些|一个|以及|和|及|与|跟|还有|并且|并|"
    r"we|are|is|have|has|got|doing|do|our|a|an|the|and|in|on|of|some|also"
)


def _sentence_values(part: str, options: Sequence[Option]) -> list[str] | None:
    """The options a sentence names when everything else in it is filler; None when something else is said."""
    spans: list[tuple[int, int, int]] = []
    for number, option in enumerate(options):
        for label in _normalised_labels(option):
            if len(label) >= 2:
                spans.extend((m.start(), m.end(), number) for m in re.finditer(re.escape(label), part))
    if not spans:
        return None
    kept = [
        (start, end, number)
        for start, end, number in spans
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)
    ]
    rest = list(part)
    for start, end, _ in kept:
        rest[start:end] = [" "] * (end - start)
    remainder = "".join(rest)
    if _NEGATION.search(remainder) or _FILLER.sub("", _LIST_SEPARATORS.sub("", remainder)):
        return None
    chosen = {options[number].value for _, _, number in kept}
    return [o.value for o in options if o.value in chosen]


def _part_values(part: str, options: Sequence[Option]) -> list[str] | Invalid:
    """The values named in one comma-separated part; 和/及/与 split it only if it is not an option itself."""
    in_sentence = _sentence_values(part, options)
    if in_sentence:
        return in_sentence
    pieces = [p for p in _WORD_SEPARATORS.split(part) if p]
    exact = any(part == o.value.casefold() or part in _normalised_labels(o) for o in options)
    if len(pieces) == 1 or exact:
        # "中药和西药" must not pass as 中药 by containment: each piece has to be understood on its own.
        result = parse_choice(part, options)
        if isinstance(result, Ok):
            return [result.value]
    values: list[str] = []
    for piece in pieces if len(pieces) > 1 else [part]:
        piece_result = parse_choice(piece, options)
        if not isinstance(piece_result, Ok):
            if _NEGATION.search(piece):
                return Invalid("negated", excerpt(piece))
            return Invalid("unknown_option", excerpt(piece))
        values.append(piece_result.value)
    return values


# --- regions and skipping ------------------------------------------------------------------------------


@_never_raises
def parse_region(text: str, index: RegionIndex, near: str | None = None) -> ParseResult:
    """Parse a region into its path: "东昌区" → Ok("吉林省/通化市/东昌区"); never guesses between places.

    An ambiguous name comes back with the places it may be, an unknown one with the nearest known names (both as
    `candidates`). `near`: the place the answer refines (a city when its district is asked): a name inside it is
    meant before its namesakes elsewhere, and may be written without it (朝阳区 is 长春's when 长春市 is refined).
    """
    s = _prepare(text)
    if not s:
        return Invalid("empty")
    if len(s) > MAX_PLACE_CHARS:
        return Invalid("too_long", excerpt(s))
    candidates = index.lookup(s)
    if near:
        inside = [path for path in candidates if index.within(path, near)] or [
            path for path in index.lookup(near + SEPARATOR + s) if index.within(path, near)
        ]
        candidates = inside or candidates
    if len(candidates) == 1:
        return Ok(candidates[0])
    if not candidates:
        return Invalid("unknown_place", excerpt(s), tuple(index.suggestions(s)))
    return Invalid("ambiguous_place", excerpt(s), tuple(candidates[:MAX_PLACES]))


_SKIP_ANSWERS = frozenset(
    ["不清楚", "不知道", "跳过", "skip", "不确定", "不晓得", "不了解", "说不清", "不好说", "pass", "略过",
     "暂不清楚", "不知", "不详", "unknown", "idk", "not sure", "don't know", "dont know", "i don't know",
     "no idea", "unsure"]
)  # fmt: skip


def is_skip(text: str) -> bool:
    """True if the answer means "I don't know" (不清楚, 跳过, ?, ...): the fact stays unknown."""
    if not isinstance(text, str):
        return False
    s = _prepare(text)
    if s and set(s) == {"?"}:
        return True
    return _answer_key(s).rstrip("?？") in _SKIP_ANSWERS
