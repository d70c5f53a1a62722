"""Region hierarchy: find the 省/市/区 path a person means, and tell whether a path lies within a scope."""

from __future__ import annotations

import csv
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pypinyin import Style, pinyin
from rapidfuzz import fuzz, process

from bot.engine.textnorm import to_simplified
from bot.engine.yamlsource import SourceError, SourceErrors, SourceFile

__all__ = ["SEPARATOR", "RegionIndex", "region_index_from_csv"]

SEPARATOR = "/"

# Longest first, so that "自治区" is taken off before "区" and "地区" (喀什地区 is 喀什) before "区".
_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "特区", "新区", "矿区", "省", "市",
             "区", "县", "州", "盟", "旗")  # fmt: skip
# Autonomous areas are called by their place name alone: 延边朝鲜族自治州 is 延边, 保亭黎族苗族自治县 is 保亭.
# The peoples they are named after (the 55 recognised minorities): those of one character always with 族.
_PEOPLES = re.compile(
    "(?:(?:蒙古|维吾尔|哈萨克|柯尔克孜|锡伯|塔吉克|达斡尔|鄂温克|鄂伦春|布依|朝鲜|土家|哈尼|傈僳|拉祜|东乡|纳西|景颇|仫佬|布朗"
    "|撒拉|毛南|仡佬|阿昌|普米|乌孜别克|俄罗斯|德昂|保安|裕固|塔塔尔|独龙|赫哲|门巴|珞巴|基诺|高山)族?"
    "|(?:回|藏|苗|彝|壮|满|侗|瑶|白|傣|黎|佤|畲|水|土|羌|怒|京)族|各族)+$"
)
# What people put between the parts of a region or around it; none of it is part of a name.
_NOISE = re.compile(r"[\s/\\|,，、>\-—。.]+")
_COUNTRY = ("中华人民共和国", "中国")

# Development zones are named after their host: 长春经济技术开发区.  Under its city, people write the kind of zone
# alone or abbreviated (长春 经开区); with a name of its own, that name and the kind (净月高新区).
_ZONE_KINDS = {
    "经济技术开发区": "经开区",
    "经济开发区": "经开区",
    "高新技术产业开发区": "高新区",
    "高新技术产业园区": "高新区",
    "高新技术开发区": "高新区",
    "新技术产业开发区": "高新区",
    "综合保税区": "综保区",
}
# A zone named after a place that has no unit of that name is taken to be in that place: 成都高新区 is in 成都市.
_ZONE_WORDS = tuple(
    sorted({*_ZONE_KINDS, *_ZONE_KINDS.values(), "开发区", "工业园区", "产业园区", "产业园", "园区", "新区"}, key=len,
           reverse=True)
)  # fmt: skip


# The suffixes by their last character, to try only those a name may end with.
_SUFFIXES_BY_LAST = {last: tuple(s for s in _SUFFIXES if s[-1] == last) for last in {s[-1] for s in _SUFFIXES}}


def _short_name(name: str) -> str | None:
    """The name without its suffix ("东昌区" → "东昌"), or None if that would leave under two characters."""
    for suffix in _SUFFIXES_BY_LAST.get(name[-1:], ()):
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            if "族" in stem or suffix.startswith("自治"):  # 管城回族区 is 管城, 巴音郭楞蒙古自治州 巴音郭楞
                bare = _PEOPLES.sub("", stem)
                stem = bare if len(bare) >= 2 else stem
            # 清新区 is 清新, not a 新区 called 清; 北林区 is 北林, but 神农架林区 is 神农架.
            if len(stem) >= (3 if suffix == "林区" else 2):
                return stem
    return None


@dataclass(frozen=True)
class _Region:
    code: str
    parts: tuple[str, ...]  # names from the province down, each with its suffix
    aliases: tuple[str, ...] = ()  # other names: places it hosts that are not divisions of their own

    @property
    def path(self) -> str:
        return SEPARATOR.join(self.parts)


# How a name stands for its region: its full name (or another name of the same standing), a short name,
# or a name that means nothing without a place before it (经开区 alone is no place; 长春经开区 is).
_FULL, _SHORT, _BOUND = 0, 1, 2


def _names(region: _Region, ancestors: Callable[[], Sequence[_Region]]) -> Iterator[tuple[str, int]]:
    """The names of a region's own part, each with how it stands for the region."""
    name = region.parts[-1]
    yield name, _FULL
    for alias in region.aliases:
        yield alias, _FULL
    short = _short_name(name)
    if short is not None:
        yield short, _SHORT
    if name.endswith("区"):
        yield from _zone_names(name, ancestors())


def _zone_names(name: str, ancestors: Sequence[_Region]) -> Iterator[tuple[str, int]]:
    kind = next((kind for kind in _ZONE_KINDS if name.endswith(kind)), None)
    if kind is None:
        return
    own = name[: -len(kind)]
    # 吉林松原经济开发区 is named after its province and city: what is left after them is its own name.
    for ancestor in ancestors:
        for host in (ancestor.parts[-1], _short_name(ancestor.parts[-1])):
            if host and own.startswith(host):
                own = own[len(host) :]
                break
    abbreviation = _ZONE_KINDS[kind]
    yield name[: -len(kind)] + abbreviation, _FULL
    if own:
        yield own + kind, _FULL
        yield own + abbreviation, _FULL
    else:
        yield kind, _BOUND
        yield abbreviation, _BOUND


# --- Latin spellings -----------------------------------------------------------------------------------
#
# People who write in English type a place in pinyin: "Changchun", "Dongchang District, Tonghua City",
# "Changchun, Jilin".  Each part of a region is indexed under the pinyin of its short name (the full name
# when it has none), letters only: 吉林省长春市 is "jilinchangchun".  The 省/市/区 words they add
# ("Jilin Province", "Tonghua County") are not part of the key but pick among the places it names.

# A name is indexed under at most this many readings of its polyphonic characters: its usual reading
# first, then the others that depart least from it (朝阳 is read "zhaoyang" but the places are Chaoyang).
_MAX_READINGS = 16
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_LETTER = re.compile("[a-z]")
_NOT_LATIN_LETTER = re.compile("[^a-z]+")
_LATIN_PARTS = re.compile(r"[,;/\\|，；、]+")
_LATIN_WORD = re.compile("[a-z]+")
_APOSTROPHES = re.compile("['’‘`]")
# Pinyin with tone marks to letters as Style.NORMAL writes them: "lǜ" → "lv".
_TONELESS = str.maketrans("āáǎàēéěèêīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeeiiiioooouuuuvvvvvnnnm")
# The words for a suffix in English or pinyin, each with the suffixes it may stand for.
_LATIN_SUFFIXES: dict[str, frozenset[str]] = {
    word: frozenset(suffixes)
    for words, suffixes in (
        (("province", "sheng"), ("省",)),
        (("city", "municipality", "shi"), ("市",)),
        (("district", "area", "zone", "qu"), ("区", "新区", "林区", "特区", "矿区")),
        (("county", "xian"), ("县", "自治县")),
        (("prefecture", "zhou"), ("州", "自治州", "地区")),
        (("region",), ("自治区", "特别行政区")),
        (("sar",), ("特别行政区",)),
        (("banner", "qi"), ("旗", "自治旗")),
        (("league", "meng"), ("盟",)),
        (("zizhiqu",), ("自治区",)),
        (("zizhizhou",), ("自治州",)),
        (("zizhixian",), ("自治县",)),
        (("zizhiqi",), ("自治旗",)),
    )
    for word in words
}
# Words around a name that are not part of it.  None is a pinyin syllable, so no name loses a part.
_LATIN_FILLERS = frozenset(
    ("of", "the", "in", "and", "china", "prc", "peoples", "people", "republic", "autonomous", "special",
     "administrative", "new")
)  # fmt: skip
# The peoples an autonomous area is named after, dropped before "autonomous" as _NATIONALITIES are.
_LATIN_NATIONALITIES = frozenset(
    ("uygur", "uyghur", "uighur", "korean", "mongol", "mongolian", "manchu", "zhuang", "hui", "tibetan", "miao",
     "yi", "tujia", "and")
)  # fmt: skip
# Names whose usual spelling in English is not their pinyin, indexed besides it.  陕西 is written Shaanxi to
# tell it from 山西 (Shanxi); "Shanxi" still names both, as people mix them up.
_LATIN_NAMES = {
    "陕西": ("shaanxi",),
    "内蒙古": ("innermongolia",),
    "西藏": ("tibet",),
    "香港": ("hongkong",),
    "澳门": ("macau", "macao"),
}

# A Latin form of a part: its letters, the suffix of its name ("" if none), whether that suffix must be
# typed (辉县 has no short name, so it is "Huixian" or "Hui County" but never plain "Hui"), and whether it is
# the usual reading (横州 may be read "Guangzhou", but a place that usually reads so is meant first).
_LatinForm = tuple[str, str, bool, bool]
# Where, in the key of what was typed, a 省/市/区 word follows a name, with the suffixes it may mean.
_Constraints = tuple[tuple[int, frozenset[str]], ...]


def _suffix(name: str) -> str:
    return next((suffix for suffix in _SUFFIXES if name.endswith(suffix) and len(name) > len(suffix)), "")


def _letters(text: str) -> str:
    return _NOT_LATIN_LETTER.sub("", text.lower())


def _readings(name: str) -> list[str]:
    """The pinyin a name may be typed in: its usual reading, the likeliest others, any conventional spelling.

    ü is written both as v (as pypinyin does) and as u.
    """
    # pypinyin gives each character's usual reading first (the one lazy_pinyin picks), so the first pick is
    # the usual reading of the whole name.  Its tone marks are taken off here: twice as fast as Style.NORMAL.
    choices = [
        list(dict.fromkeys(_letters(reading.translate(_TONELESS)) for reading in character))
        for character in pinyin(name, style=Style.TONE, heteronym=True)
    ]
    found: dict[str, None] = {}
    for picks in _likeliest_picks([len(choice) - 1 for choice in choices]):
        if len(found) >= _MAX_READINGS:
            break
        found["".join(choice[pick] for choice, pick in zip(choices, picks, strict=True))] = None
    found.update(dict.fromkeys(_LATIN_NAMES.get(name, ())))
    found.update(dict.fromkeys(reading.replace("v", "u") for reading in list(found) if "v" in reading))
    return [reading for reading in found if reading]


def _likeliest_picks(last: list[int]) -> Iterator[tuple[int, ...]]:
    """Every choice of one index up to last[i] per position, those with the lowest sum of indices first."""
    for total in range(sum(last) + 1):
        yield from _picks_adding_up_to(last, 0, total)


def _picks_adding_up_to(last: list[int], start: int, total: int) -> Iterator[tuple[int, ...]]:
    if start == len(last):
        if total == 0:
            yield ()
        return
    for pick in range(min(last[start], total) + 1):
        for rest in _picks_adding_up_to(last, start + 1, total - pick):
            yield (pick, *rest)


def _latin_forms(name: str) -> list[_LatinForm]:
    """How a part is written in pinyin: its short name, or its full name and its stem with the suffix typed."""
    suffix = _suffix(name)
    short = _short_name(name)
    if short is not None:
        return [(reading, suffix, False, n == 0) for n, reading in enumerate(_readings(short))]
    forms = [(reading, suffix, False, n == 0) for n, reading in enumerate(_readings(name))]
    if suffix:
        forms += [(reading, suffix, True, n == 0) for n, reading in enumerate(_readings(name[: -len(suffix)]))]
    return forms


def _latin_text(text: str) -> str:
    """Text lower-cased, with its accents (tone marks, ü) and apostrophes taken off: "Xī'ān" → "xian"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return _APOSTROPHES.sub("", "".join(char for char in decomposed if not unicodedata.combining(char)).lower())


def _latin_units(part: str) -> list[tuple[str, frozenset[str] | None, str]]:
    """The names in one comma-separated part, each with the suffixes a following 省/市/区 word allows.

    Each name comes with the words typed for it, suffix word included, for a key that takes them literally
    ("Guang Zhou" is 广州, not a 州 called Guang).
    """
    words: list[str] = []
    for word in _LATIN_WORD.findall(part):
        if word == "autonomous":  # "Yanbian Korean Autonomous Prefecture" is 延边
            while words and words[-1] in _LATIN_NATIONALITIES:
                words.pop()
        words.append(word)
    units: list[tuple[str, frozenset[str] | None, str]] = []
    pending: frozenset[str] | None = None
    for number, word in enumerate(words):
        if word in _LATIN_FILLERS:
            continue
        suffixes = _LATIN_SUFFIXES.get(word)
        if suffixes is not None:
            if words[number + 1 : number + 2] == ["of"]:  # "City of Changchun"
                pending = suffixes
                continue
            if units and units[-1][1] is None:  # "Tonghua County"; but "Xian" alone is a name (西安)
                name, _, typed = units[-1]
                units[-1] = (name, suffixes, typed + word)
                continue
        units.append((word, pending, word))
        pending = None
    return units


def _latin_queries(text: str) -> list[tuple[str, _Constraints]]:
    """The keys to try for Latin text, best first, each with the 省/市/区 words typed after its names.

    Parts are tried in the order given (province first, as in Chinese) and then reversed ("Changchun, Jilin");
    a single part's words likewise ("Dongchang Tonghua").  Then the same, taking every word as typed.
    """
    parts = [units for units in map(_latin_units, _LATIN_PARTS.split(text)) if units]
    if len(parts) == 1:
        orders = [parts[0], parts[0][::-1]]
    else:
        orders = [list(itertools.chain(*parts)), list(itertools.chain(*reversed(parts)))]
    queries: dict[tuple[str, _Constraints], None] = {}
    for units in orders:
        key = ""
        constraints = []
        for name, suffixes, _ in units:
            key += name
            if suffixes is not None:
                constraints.append((len(key), suffixes))
        queries[key, tuple(constraints)] = None
    for units in orders:
        queries["".join(typed for _, _, typed in units), ()] = None
    return [query for query in queries if query[0]]


def _prefer_the_larger(paths: list[str]) -> list[str]:
    """Drop a place below a city or county that the same name also means.

    A short city name means the city, not the county named after it inside it: 通化 is 通化市, not 通化县.
    A short province name that is also a city's stays ambiguous: 吉林 is 吉林省 or 吉林市.
    """
    return [
        path
        for path in paths
        if not any(other.count(SEPARATOR) >= 1 and path.startswith(other + SEPARATOR) for other in paths)
    ]


class _Named(NamedTuple):
    region: int  # its number in the index
    standing: int  # _FULL, _SHORT or _BOUND


class _Spelt(NamedTuple):
    region: int
    form: _LatinForm


# Suggestions for a name not found: at most this many, each at least this similar (rapidfuzz's 0-100 scale).
SUGGESTIONS = 5
_SUGGESTION_CUTOFF = 50


class RegionIndex:
    """All known regions, with every name of each mapped to it for a fast lookup.

    A text names a place by a chain of names, each of a place inside the one before: 吉林省吉林市船营区,
    吉林省船营区, 吉林船营 ...  The names are indexed one by one (in Chinese when the index is first asked, in
    pinyin when it is first asked in Latin letters) and the chain is found by trying every way to cut the text,
    so building the index costs little more than reading the list.
    """

    def __init__(self, regions: Iterable[_Region]) -> None:
        self._regions = tuple(regions)
        self._order = {region.path: number for number, region in enumerate(self._regions)}
        self._by_code = {region.code: number for number, region in enumerate(self._regions)}
        # The numbers of the regions each region lies in (those of its parent, listed before it, and the parent).
        ancestors: list[frozenset[int]] = []
        for region in self._regions:
            parent = self._order.get(region.path.rpartition(SEPARATOR)[0]) if len(region.parts) > 1 else None
            ancestors.append(frozenset() if parent is None else ancestors[parent] | {parent})
        self._ancestors = tuple(ancestors)

    @property
    def paths(self) -> tuple[str, ...]:
        """Every known path, provinces first within each branch, in the order of the source."""
        return tuple(region.path for region in self._regions)

    def is_known(self, path: str) -> bool:
        return path in self._order

    def within(self, path: str, scope: str) -> bool:
        """True if path is scope or lies below it: 吉林省/通化市/东昌区 is within 吉林省."""
        if not path or not scope:
            return False
        return path == scope or path.startswith(scope.rstrip(SEPARATOR) + SEPARATOR)

    def in_order(self, paths: Iterable[str]) -> list[str]:
        """Known paths in the order of the source (provinces by code, each followed by its places)."""
        return sorted((path for path in paths if path in self._order), key=self._order.__getitem__)

    def code(self, path: str) -> str | None:
        """The statistical code of a known path (short enough for a button), or None."""
        number = self._order.get(path)
        return None if number is None else self._regions[number].code

    def path_of(self, code: str) -> str | None:
        """The path of a code given by `code`, or None for a code not in the list."""
        number = self._by_code.get(code)
        return None if number is None else self._regions[number].path

    def children(self, path: str) -> list[str]:
        """The places directly below a path, in the order of the source: a city's districts and counties."""
        depth = path.count(SEPARATOR) + 1
        prefix = path + SEPARATOR
        return [p for p in self.paths if p.startswith(prefix) and p.count(SEPARATOR) == depth]

    def lookup(self, text: str) -> list[str]:
        """The paths text may mean: one if it is clear, several if it names more than one place, or none.

        Names are matched exactly (after Traditional → Simplified), never approximately: a wrong region
        would silently change which rules apply.  Text in Latin letters is read as pinyin ("Changchun, Jilin").
        """
        if not isinstance(text, str):
            return []
        if _CJK.search(text) is None:
            latin = _latin_text(text)
            if _LATIN_LETTER.search(latin):
                return self._lookup_latin(latin)
        key = _NOISE.sub("", to_simplified(text))
        if not key:
            return []
        found = self._lookup_key(key) or self._lookup_zone(key)
        country = next((c for c in _COUNTRY if key.startswith(c) and len(key) > len(c)), None)
        if not found and country:  # 中国吉林省; but 中国医药城 is a name
            found = self._lookup_key(key[len(country) :]) or self._lookup_zone(key[len(country) :])
        return sorted((self._regions[number].path for number in found), key=self._order.__getitem__)

    def suggestions(self, text: str, limit: int = SUGGESTIONS) -> list[str]:
        """The known places whose names are nearest to text, nearest first (larger places first among equals):
        for a name that is not found, so that a typing mistake (广洲, Changchu) is one tap from its place."""
        if not isinstance(text, str):
            return []
        if _CJK.search(text) is None:
            query, choices = _letters(_latin_text(text)), self._latin_choices
        else:
            query, choices = _NOISE.sub("", to_simplified(text)), self._chinese_choices
        if not query:
            return []
        # A place is near by its whole path (吉林省长春市东昌区) or by its own name, full or short (广洲 → 广州).
        best: dict[int, float] = {}
        for names, scorer in ((choices[0], fuzz.WRatio), (choices[1], fuzz.ratio), (choices[2], fuzz.ratio)):
            for _, score, number in process.extract(query, names, scorer=scorer, limit=limit * 4,
                                                    score_cutoff=_SUGGESTION_CUTOFF):  # fmt: skip
                best[number] = max(score, best.get(number, 0))
        ranked = sorted(best, key=lambda n: (-best[n], len(self._regions[n].parts), n))
        return [self._regions[number].path for number in ranked[:limit]]

    # Chinese names

    @functools.cached_property
    def _chinese(self) -> tuple[dict[str, list[_Named]], int]:
        """Every name (as the text people type is converted: OpenCC turns 乾安县 into 干安县) → the regions it
        names; and the length of the longest."""
        entries = [
            (name, _Named(number, standing))
            for number, region in enumerate(self._regions)
            for name, standing in _names(region, functools.partial(self._ancestors_of, number))
        ]
        # One conversion of all names at once is ten times as fast as one a name.
        converted = to_simplified("\n".join(name for name, _ in entries)).split("\n")
        names: dict[str, list[_Named]] = {}
        for key, (_, named) in zip(converted, entries, strict=True):
            key = _NOISE.sub("", key)
            found = names.setdefault(key, [])
            if named not in found:
                found.append(named)
        return names, max(map(len, names), default=0)

    def _ancestors_of(self, number: int) -> list[_Region]:
        return [self._regions[a] for a in sorted(self._ancestors[number])]

    def _lookup_key(self, key: str) -> list[int]:
        """The regions key names as a chain of names: those named by full names alone if any, else the others."""
        names, longest = self._chinese
        endings = self._chains(key, 0, None, names, longest, {})
        full = [number for number, all_full in endings if all_full]
        if full:
            return list(dict.fromkeys(full))
        short = list(dict.fromkeys(number for number, _ in endings))
        paths = _prefer_the_larger([self._regions[number].path for number in short])
        return [self._order[path] for path in paths]

    def _chains(
        self,
        key: str,
        start: int,
        above: int | None,
        names: dict[str, list[_Named]],
        longest: int,
        seen: dict[tuple[int, int | None], list[tuple[int, bool]]],
    ) -> list[tuple[int, bool]]:
        """The regions key[start:] names as a chain below `above`, each with whether only full names were used."""
        if (start, above) in seen:
            return seen[start, above]
        endings: list[tuple[int, bool]] = []
        for end in range(start + 1, min(len(key), start + longest) + 1):
            for number, standing in names.get(key[start:end], ()):
                if standing == _BOUND if above is None else above not in self._ancestors[number]:
                    continue
                full = standing != _SHORT
                if end == len(key):
                    endings.append((number, full))
                    continue
                for last, rest in self._chains(key, end, number, names, longest, seen):
                    endings.append((last, full and rest))
        seen[start, above] = endings
        return endings

    def _lookup_zone(self, key: str) -> list[int]:
        """A development zone or new area that is no unit of its own, in the place it is named after."""
        for word in _ZONE_WORDS:
            if key.endswith(word) and len(key) > len(word):
                return [n for n in self._lookup_key(key[: -len(word)]) if self._ancestors[n]]
        return []

    @functools.cached_property
    def _chinese_choices(self) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
        """Each place's whole path, its own full name and its own short name, by number: what suggestions compare."""
        paths = {number: "".join(region.parts) for number, region in enumerate(self._regions)}
        own = {number: region.parts[-1] for number, region in enumerate(self._regions)}
        short = {number: _short_name(name) or name for number, name in own.items()}
        return paths, own, short

    # Latin letters

    @functools.cached_property
    def _latin(self) -> tuple[dict[str, list[_Spelt]], int]:
        """Every Latin form of every name → the regions it names; and the length of the longest."""
        known: dict[str, list[_LatinForm]] = {}
        spelt: dict[str, list[_Spelt]] = {}
        for number, region in enumerate(self._regions):
            for name in (region.parts[-1], *region.aliases):
                if name not in known:
                    # A hosted place is spelt whole: "Changchun Xinqu" is 长春新区, but "Changchun District" is none.
                    hosted = name in region.aliases
                    known[name] = (
                        _latin_forms(name)
                        if not hosted
                        else [(reading, "", False, n == 0) for n, reading in enumerate(_readings(name))]
                    )
                for form in known[name]:
                    entries = spelt.setdefault(form[0], [])
                    if _Spelt(number, form) not in entries:
                        entries.append(_Spelt(number, form))
        return spelt, max(map(len, spelt), default=0)

    @functools.cached_property
    def _latin_choices(self) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
        """As _chinese_choices, in the usual pinyin of the short names: "jilinchangchun", "changchun"."""
        usual: dict[str, str] = {}
        for region in self._regions:
            for part in region.parts:
                if part not in usual:
                    usual[part] = _latin_forms(part)[0][0]
        paths = {number: "".join(usual[part] for part in region.parts) for number, region in enumerate(self._regions)}
        own = {number: usual[region.parts[-1]] for number, region in enumerate(self._regions)}
        return paths, own, own

    def _lookup_latin(self, text: str) -> list[str]:
        spelt, longest = self._latin
        for key, constraints in _latin_queries(text):
            endings = self._latin_chains(key, 0, None, dict(constraints), spelt, longest, {})
            found = [self._regions[n].path for n in self._usually_read(endings)]
            paths = _prefer_the_larger(list(dict.fromkeys(found)))
            if paths:
                return sorted(paths, key=self._order.__getitem__)
        return []

    def _usually_read(self, endings: list[tuple[int, int]]) -> list[int]:
        """The regions found, without those read unusually when places as large or larger read so usually:
        "Guangzhou" is 广州市, though 横州市 may be read so too; but "Chaoyang" is 朝阳区 as much as 潮阳区."""
        fewest = min((unusual for _, unusual in endings), default=0)
        usual = [number for number, unusual in endings if unusual == fewest]
        others = [number for number, unusual in endings if unusual != fewest]
        largest_other = min((len(self._regions[n].parts) for n in others), default=0)
        if others and all(len(self._regions[n].parts) < largest_other for n in usual):
            return usual
        return [number for number, _ in endings]

    def _latin_chains(
        self,
        key: str,
        start: int,
        above: int | None,
        typed: dict[int, frozenset[str]],
        spelt: dict[str, list[_Spelt]],
        longest: int,
        seen: dict[tuple[int, int | None], list[tuple[int, int]]],
    ) -> list[tuple[int, int]]:
        """Like _chains, in letters, each region with how many names of the chain were read unusually: a 省/市/区
        word typed must follow a name with such a suffix, and a name that needs its suffix typed (辉县 is "Hui
        County", never "Hui") must have it."""
        if (start, above) in seen:
            return seen[start, above]
        endings: list[tuple[int, int]] = []
        for end in range(start + 1, min(len(key), start + longest) + 1):
            if end - 1 in typed and end - 1 > start:  # a 省/市/区 word typed inside this name
                break
            allowed = typed.get(end)
            for number, (_, suffix, required, usual) in spelt.get(key[start:end], ()):
                if above is not None and above not in self._ancestors[number]:
                    continue
                if (required and allowed is None) or (allowed is not None and suffix not in allowed):
                    continue
                if end == len(key):
                    endings.append((number, not usual))
                    continue
                for last, unusual in self._latin_chains(key, end, number, typed, spelt, longest, seen):
                    endings.append((last, unusual + (not usual)))
        seen[start, above] = endings
        return endings


def _region_from_row(row: Sequence[str], paths: dict[str, tuple[str, ...]]) -> _Region:
    """The region of one row, given the paths of the codes before it (to which it adds its own)."""
    if len(row) != len(_COLUMNS):
        raise ValueError(f"a row of {len(row)} fields; each has {len(_COLUMNS)}: {','.join(_COLUMNS)}")
    code, name, parent, also = row
    problem = ""
    if not code:
        problem = "the code is missing"
    elif code in paths:
        problem = "the code is used twice"
    elif not name or SEPARATOR in name or name != name.strip():
        problem = f"{name!r} is not a region name"
    elif parent and parent not in paths:
        problem = f"its parent {parent} is not listed before it"
    if problem:
        raise ValueError(f"{code} {name}: {problem}")
    paths[code] = (*paths[parent], name) if parent else (name,)
    return _Region(code, paths[code], tuple(alias for alias in also.split("|") if alias))


_COLUMNS = ["code", "name", "parent", "also"]


@functools.lru_cache(maxsize=4)
def region_index_from_csv(source: SourceFile) -> RegionIndex:
    """The region hierarchy from the text of a regions file (see data/regions.csv: lines starting with # are
    comments, then a header and code,name,parent,also rows); kept for the same text, as every reload reads the
    same regions file and a check must not build the index again."""
    numbered = [(n, line) for n, line in enumerate(source.text.splitlines(), 1) if line.strip() and line[0] != "#"]
    if not numbered:
        return RegionIndex(())
    rows = [(number, row) for (number, _), row in zip(numbered, csv.reader(line for _, line in numbered), strict=True)]
    (header_line, header), body = rows[0], rows[1:]
    if header != _COLUMNS:
        message = f"the header must be {','.join(_COLUMNS)}, not {','.join(header)}"
        raise SourceErrors([SourceError(source.path, header_line, message)])
    regions: list[_Region] = []
    paths: dict[str, tuple[str, ...]] = {}
    for number, row in body:
        try:
            regions.append(_region_from_row(row, paths))
        except ValueError as error:
            raise SourceErrors([SourceError(source.path, number, f"regions: {error}")]) from None
    return RegionIndex(regions)
