"""Region hierarchy: find the 省/市/区 path a person means, and tell whether a path lies within a scope."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.engine.textnorm import to_simplified

__all__ = ["SEPARATOR", "RegionIndex", "load_region_index"]

SEPARATOR = "/"
DEFAULT_REGIONS_FILE = Path(__file__).resolve().parents[2] / "data" / "regions.yaml"

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
    ancestors = range(len(region.parts) - 1)
    for count in range(len(region.parts)):
        for chosen in itertools.combinations(ancestors, count):
            for combination in itertools.product(*(forms[i] for i in (*chosen, len(region.parts) - 1))):
                yield "".join(name for name, _ in combination), all(full for _, full in combination)


class RegionIndex:
    """All known regions, with every spelling of each mapped to its path for a fast lookup."""

    def __init__(self, regions: Iterable[_Region]) -> None:
        self._regions = tuple(regions)
        self._order = {region.path: number for number, region in enumerate(self._regions)}
        self._full: dict[str, list[str]] = {}
        self._short: dict[str, list[str]] = {}
        for region in self._regions:
            for spelling, full in _spellings(region):
                # Keys go through the same conversion as what people type: OpenCC turns 乾安县 into 干安县.
                key = _NOISE.sub("", to_simplified(spelling))
                paths = (self._full if full else self._short).setdefault(key, [])
                if region.path not in paths:
                    paths.append(region.path)

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
        would silently change which rules apply.
        """
        key = _NOISE.sub("", to_simplified(text)) if isinstance(text, str) else ""
        if not key:
            return []
        paths = self._lookup_key(key)
        if not paths and key.startswith("中国"):
            paths = self._lookup_key(key[2:])
        return sorted(paths, key=self._order.__getitem__)

    def _lookup_key(self, key: str) -> list[str]:
        if key in self._full:
            return list(self._full[key])
        paths = self._short.get(key, [])
        # A short city name means the city, not the county named after it inside it: 通化 is 通化市, not
        # 通化县.  A short province name that is also a city's stays ambiguous: 吉林 is 吉林省 or 吉林市.
        return [
            path
            for path in paths
            if not any(other.count(SEPARATOR) >= 1 and path.startswith(other + SEPARATOR) for other in paths)
        ]


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


def load_region_index(path: Path | None = None) -> RegionIndex:
    """Load the region hierarchy from a YAML file; the packaged data/regions.yaml is read once and kept."""
    if path is None:
        return _default_region_index()
    return _load(path)


@functools.lru_cache(maxsize=1)
def _default_region_index() -> RegionIndex:
    return _load(DEFAULT_REGIONS_FILE)


def _load(path: Path) -> RegionIndex:
    with path.open(encoding="utf-8") as file:
        mapping = yaml.safe_load(file)
    try:
        return RegionIndex.from_mapping(mapping)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
