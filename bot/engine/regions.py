"""Region hierarchy: find the 省/市/区 path a person means, and tell whether a path lies within a scope."""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pypinyin import Style, pinyin

from bot.engine.textnorm import to_simplified
from bot.engine.yamlsource import SourceError, SourceErrors, SourceFile, parse_yaml

__all__ = ["SEPARATOR", "RegionIndex", "region_index_from_yaml"]

SEPARATOR = "/"

_T = TypeVar("_T")

# Longest first, so that "自治区" is taken off before "区".
_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "省", "市", "区", "县", "州", "盟", "旗")
# Autonomous areas are called by their place name alone: 延边朝鲜族自治州 is 延边.
_NATIONALITIES = ("维吾尔", "朝鲜族", "蒙古族", "满族", "壮族", "回族", "藏族", "苗族", "彝族", "土家族")
# What people put between the parts of a region or around it; none of it is part of a name.
_NOISE = re.compile(r"[\s/\\|,、>\-—。.]+")


def _short_name(name: str) -> str | None:
    """The name without its suffix ("东昌区" → "东昌"), or None if that would leave under two characters."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            if suffix.startswith("自治"):
                for nationality in _NATIONALITIES:
                    if stem.endswith(nationality) and len(stem) > len(nationality):
                        stem = stem[: -len(nationality)]
                        break
            return stem if len(stem) >= 2 else None
    return None


@dataclass(frozen=True)
class _Region:
    parts: tuple[str, ...]  # names from the province down, each with its suffix
    aliases: tuple[str, ...]  # other full names of the last part

    @property
    def path(self) -> str:
        return SEPARATOR.join(self.parts)


def _spellings(region: _Region) -> Iterator[tuple[str, bool]]:
    """Every way of writing a region, each flagged True if it uses only full names.

    A spelling names the region itself and, before it, any of its ancestors in order, each by its full
    name or its short name: 东昌区, 通化东昌, 吉林省东昌区, 吉林省通化市东昌区 ...
    """
    forms: list[list[tuple[str, bool]]] = []
    for depth, part in enumerate(region.parts):
        names = [(part, True)]
        if depth == len(region.parts) - 1:
            names += [(alias, True) for alias in region.aliases]
        short = _short_name(part)
        if short is not None:
            names.append((short, False))
        forms.append(names)
    for combination in _combinations(forms):
        yield "".join(name for name, _ in combination), all(full for _, full in combination)


def _combinations(forms: Sequence[Sequence[_T]]) -> Iterator[tuple[_T, ...]]:
    """One form of the last part and, before it, one of each of any of the parts above it, in order."""
    last = len(forms) - 1
    for count in range(len(forms)):
        for chosen in itertools.combinations(range(last), count):
            yield from itertools.product(*(forms[i] for i in (*chosen, last)))


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
        (("district", "area", "zone", "qu"), ("区",)),
        (("county", "xian"), ("县", "自治县")),
        (("prefecture", "zhou"), ("州", "自治州")),
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

# A Latin form of a part: its letters, the suffix of its name ("" if none), and whether that suffix must
# be typed: 辉县 has no short name, so it is "Huixian" or "Hui County" but never plain "Hui".
_LatinForm = tuple[str, str, bool]
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
        return [(reading, suffix, False) for reading in _readings(short)]
    forms = [(reading, suffix, False) for reading in _readings(name)]
    if suffix:
        forms += [(reading, suffix, True) for reading in _readings(name[: -len(suffix)])]
    return forms


def _latin_spellings(
    region: _Region, known: dict[str, list[_LatinForm]]
) -> Iterator[tuple[str, tuple[_LatinForm, ...]]]:
    """Every Latin key of a region, in the combinations of _spellings, with the forms it is made of.

    The forms of each name are kept in known, so that those of a province are worked out once, not once for
    every place in it.
    """
    forms: list[list[_LatinForm]] = []
    for depth, part in enumerate(region.parts):
        names = [part, *region.aliases] if depth == len(region.parts) - 1 else [part]
        part_forms: dict[_LatinForm, None] = {}
        for name in names:
            if name not in known:
                known[name] = _latin_forms(name)
            part_forms.update(dict.fromkeys(known[name]))
        forms.append(list(part_forms))
    for combination in _combinations(forms):
        yield "".join([form[0] for form in combination]), combination


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


def _fits(forms: tuple[_LatinForm, ...], constraints: _Constraints) -> bool:
    """True if every 省/市/区 word typed follows a part with such a suffix, and every suffix required is typed."""
    typed = dict(constraints)
    end = 0
    for letters, suffix, required in forms:
        end += len(letters)
        allowed = typed.pop(end, None)
        if (required and allowed is None) or (allowed is not None and suffix not in allowed):
            return False
    return not typed


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


class RegionIndex:
    """All known regions, with every spelling of each mapped to its path for a fast lookup."""

    def __init__(self, regions: Iterable[_Region]) -> None:
        self._regions = tuple(regions)
        self._order = {region.path: number for number, region in enumerate(self._regions)}
        self._full: dict[str, list[str]] = {}
        self._short: dict[str, list[str]] = {}
        # Latin key → the regions it spells, each with the forms of its parts the key is made of.
        self._latin: dict[str, list[tuple[str, tuple[_LatinForm, ...]]]] = {}
        known_forms: dict[str, list[_LatinForm]] = {}
        for region in self._regions:
            path = region.path
            for spelling, full in _spellings(region):
                # Keys go through the same conversion as what people type: OpenCC turns 乾安县 into 干安县.
                key = _NOISE.sub("", to_simplified(spelling))
                paths = (self._full if full else self._short).setdefault(key, [])
                if path not in paths:
                    paths.append(path)
            for key, forms in _latin_spellings(region, known_forms):
                self._latin.setdefault(key, []).append((path, forms))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> RegionIndex:
        """Build the index from province → city → list of districts (see data/regions.yaml)."""
        return cls(_regions_from_mapping(mapping))

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
        paths = self._lookup_key(key)
        if not paths and key.startswith("中国"):
            paths = self._lookup_key(key[2:])
        return sorted(paths, key=self._order.__getitem__)

    def _lookup_key(self, key: str) -> list[str]:
        if key in self._full:
            return list(self._full[key])
        return _prefer_the_larger(self._short.get(key, []))

    def _lookup_latin(self, text: str) -> list[str]:
        for key, constraints in _latin_queries(text):
            found = [path for path, forms in self._latin.get(key, ()) if _fits(forms, constraints)]
            paths = _prefer_the_larger(list(dict.fromkeys(found)))
            if paths:
                return sorted(paths, key=self._order.__getitem__)
        return []


def _regions_from_mapping(mapping: Mapping[str, Any]) -> Iterator[_Region]:
    if not isinstance(mapping, Mapping):
        raise ValueError("regions: expected a mapping of provinces at the top level")
    for province, cities in mapping.items():
        yield _Region((_name(province, "province"),), ())
        if cities is None:
            continue
        if isinstance(cities, list):  # a municipality that holds its districts directly
            yield from _districts((province,), cities)
        elif isinstance(cities, Mapping):
            for city, districts in cities.items():
                yield _Region((province, _name(city, f"city in {province}")), ())
                if districts is not None:
                    yield from _districts((province, city), districts)
        else:
            raise ValueError(f"regions: {province}: expected cities (a mapping) or districts (a list)")


def _districts(parent: tuple[str, ...], districts: Any) -> Iterator[_Region]:
    where = SEPARATOR.join(parent)
    if not isinstance(districts, list):
        raise ValueError(f"regions: {where}: expected a list of districts")
    for entry in districts:
        if isinstance(entry, Mapping) and len(entry) == 1:
            ((name, aliases),) = entry.items()
            if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
                raise ValueError(f"regions: {where}/{name}: aliases must be a list of names")
            yield _Region((*parent, _name(name, f"district in {where}")), tuple(aliases))
        else:
            yield _Region((*parent, _name(entry, f"district in {where}")), ())


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or SEPARATOR in value:
        raise ValueError(f"regions: {what}: {value!r} is not a region name")
    return value


@functools.lru_cache(maxsize=4)
def region_index_from_yaml(source: SourceFile) -> RegionIndex:
    """The region hierarchy from the text of a regions file (province → city → list of districts); kept for the
    same text, as every reload reads the same regions file and building the index (every spelling of every
    place) is most of what a reload of unchanged rules costs."""
    mapping = parse_yaml(source)
    try:
        return RegionIndex.from_mapping(mapping)
    except ValueError as error:
        raise SourceErrors([SourceError(source.path, 0, str(error))]) from None
