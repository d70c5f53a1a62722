"""Tests for the region hierarchy: the packaged list, lookups people make, and scopes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from bot.engine.regions import SEPARATOR, RegionIndex
from bot.loading import REGIONS_FILE, load_region_index
from bot.paths import shipped_data_dir

DEFAULT_REGIONS_FILE = shipped_data_dir() / REGIONS_FILE

JILIN_CITIES = {
    "长春市", "吉林市", "四平市", "辽源市", "通化市", "白山市", "松原市", "白城市", "延边朝鲜族自治州",
    "梅河口市", "公主岭市",
}  # fmt: skip
WUHAN_DISTRICTS = {
    "江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区", "汉南区", "蔡甸区",
    "江夏区", "黄陂区", "新洲区", "武汉东湖新技术开发区",
}  # fmt: skip


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return load_region_index()


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DEFAULT_REGIONS_FILE.read_text(encoding="utf-8"))


# --- the packaged list ---------------------------------------------------------------------------------


def test_the_list_has_all_34_provincial_level_divisions(raw: dict) -> None:
    assert len(raw) == 34
    for name in ("北京市", "吉林省", "内蒙古自治区", "新疆维吾尔自治区", "香港特别行政区", "台湾省"):
        assert name in raw


def test_the_list_has_every_prefecture_of_jilin(raw: dict) -> None:
    assert set(raw["吉林省"]) == JILIN_CITIES


@pytest.mark.parametrize(
    "path",
    [
        "吉林省/通化市/东昌区",
        "吉林省/通化市/二道江区",
        "吉林省/通化市/集安市",
        "吉林省/延边朝鲜族自治州/敦化市",
        "吉林省/延边朝鲜族自治州/延吉市",
        "吉林省/长春市/朝阳区",
        "江西省/上饶市/广丰区",
        "江西省/上饶市/广信区",
        "江苏省/泰州市/医药高新区",
        "江苏省/泰州市/姜堰区",
        "北京市/朝阳区",
    ],
)
def test_the_regions_of_the_policies_are_known(regions: RegionIndex, path: str) -> None:
    assert regions.is_known(path)


def test_wuhan_has_its_13_districts_and_the_east_lake_zone(raw: dict) -> None:
    names = {d if isinstance(d, str) else next(iter(d)) for d in raw["湖北省"]["武汉市"]}
    assert names == WUHAN_DISTRICTS


def test_the_default_index_is_loaded_once(regions: RegionIndex) -> None:
    assert load_region_index() is regions


def test_an_explicit_file_is_loaded(tmp_path: Path) -> None:
    file = tmp_path / "regions.yaml"
    file.write_text("吉林省:\n  通化市:\n    - 东昌区\n", encoding="utf-8")
    index = load_region_index(file)
    assert index.paths == ("吉林省", "吉林省/通化市", "吉林省/通化市/东昌区")


@pytest.mark.parametrize(
    "mapping",
    [
        ["吉林省"],
        {"吉林省": "通化市"},
        {"吉林省": {"通化市": "东昌区"}},
        {"吉林省": {"通化市": [3]}},
        {"吉/林": None},
    ],
)
def test_a_malformed_mapping_is_refused_with_the_place(mapping: object) -> None:
    with pytest.raises(ValueError, match="regions"):
        RegionIndex.from_mapping(mapping)  # type: ignore[arg-type]


# --- lookup --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("吉林省/通化市/东昌区", "吉林省/通化市/东昌区"),
        ("吉林省通化市东昌区", "吉林省/通化市/东昌区"),
        ("吉林省 通化市 东昌区", "吉林省/通化市/东昌区"),
        ("通化市东昌区", "吉林省/通化市/东昌区"),
        ("吉林省东昌区", "吉林省/通化市/东昌区"),
        ("东昌区", "吉林省/通化市/东昌区"),
        ("东昌", "吉林省/通化市/东昌区"),
        ("通化东昌", "吉林省/通化市/东昌区"),
        ("東昌區", "吉林省/通化市/东昌区"),
        ("吉林省通化市東昌區", "吉林省/通化市/东昌区"),
        ("长春市", "吉林省/长春市"),
        ("长春", "吉林省/长春市"),
        ("長春", "吉林省/长春市"),
        ("吉林省", "吉林省"),
        ("吉林市", "吉林省/吉林市"),
        ("通化", "吉林省/通化市"),
        ("通化县", "吉林省/通化市/通化县"),
        ("延边", "吉林省/延边朝鲜族自治州"),
        ("敦化", "吉林省/延边朝鲜族自治州/敦化市"),
        ("长春朝阳区", "吉林省/长春市/朝阳区"),
        ("北京朝阳", "北京市/朝阳区"),
        ("泰州医药高新区", "江苏省/泰州市/医药高新区"),
        ("中国医药城", "江苏省/泰州市/医药高新区"),
        ("东湖高新区", "湖北省/武汉市/武汉东湖新技术开发区"),
        ("上饶广丰", "江西省/上饶市/广丰区"),
        ("新疆", "新疆维吾尔自治区"),
        ("内蒙古", "内蒙古自治区"),
        ("中国吉林省", "吉林省"),
        # Pinyin and English, as people who write English give a place.
        ("Changchun", "吉林省/长春市"),
        ("changchun city", "吉林省/长春市"),
        ("Changchun, Jilin", "吉林省/长春市"),
        ("Changchun, Jilin Province", "吉林省/长春市"),
        ("Jilin Province", "吉林省"),
        ("Tonghua Dongchang District", "吉林省/通化市/东昌区"),
        ("Dongchang, Tonghua, Jilin", "吉林省/通化市/东昌区"),
        ("Dongchang District, Tonghua City", "吉林省/通化市/东昌区"),
        ("Chang Chun", "吉林省/长春市"),
        ("CHANGCHUN", "吉林省/长春市"),
        ("Dongchang Tonghua", "吉林省/通化市/东昌区"),
        ("Jilin/Tonghua/Dongchang", "吉林省/通化市/东昌区"),
        ("jilinchangchun", "吉林省/长春市"),
        ("Changchun, Jilin, China", "吉林省/长春市"),
        ("Chángchūn", "吉林省/长春市"),
        ("Ｃｈａｎｇｃｈｕｎ", "吉林省/长春市"),
        ("Beijing", "北京市"),
        ("Chaoyang District, Beijing", "北京市/朝阳区"),
        ("Beijing Chaoyang", "北京市/朝阳区"),
        ("Yanbian Korean Autonomous Prefecture", "吉林省/延边朝鲜族自治州"),
        ("Xinjiang Uygur Autonomous Region", "新疆维吾尔自治区"),
        ("Xinjiang", "新疆维吾尔自治区"),
        ("Xi'an District, Liaoyuan", "吉林省/辽源市/西安区"),
        ("Ji'an", "吉林省/通化市/集安市"),
        ("Xinzhou, Shangrao", "江西省/上饶市/信州区"),
        ("Taizhou Yiyao Gaoxin", "江苏省/泰州市/医药高新区"),
        ("Shaanxi", "陕西省"),
        ("Inner Mongolia", "内蒙古自治区"),
        ("Hong Kong SAR", "香港特别行政区"),
        # A suffix word picks the place, as 省/市/县 do in Chinese.
        ("Jilin City", "吉林省/吉林市"),
        ("Jilin Shi", "吉林省/吉林市"),
        ("Jilin Sheng", "吉林省"),
        ("City of Jilin", "吉林省/吉林市"),
        ("Jilin, Jilin", "吉林省/吉林市"),
        ("Tonghua", "吉林省/通化市"),
        ("Tonghua City", "吉林省/通化市"),
        ("Tonghua County", "吉林省/通化市/通化县"),
        ("Tonghua Xian", "吉林省/通化市/通化县"),
        ("Tonghua, Tonghua", "吉林省/通化市/通化县"),
        # Any reading of a polyphonic character (珲 hun, 长 chang, 绿 lü).
        ("Chaoyang District, Changchun", "吉林省/长春市/朝阳区"),
        ("Hunchun", "吉林省/延边朝鲜族自治州/珲春市"),
        ("Changbai", "吉林省/白山市/长白朝鲜族自治县"),
        ("Qian'an", "吉林省/松原市/乾安县"),
        ("Lüyuan", "吉林省/长春市/绿园区"),
        ("Lvyuan", "吉林省/长春市/绿园区"),
        ("Luyuan", "吉林省/长春市/绿园区"),
    ],
)
def test_lookup_finds_the_one_place_meant(regions: RegionIndex, text: str, path: str) -> None:
    assert regions.lookup(text) == [path]


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        ("吉林", ["吉林省", "吉林省/吉林市"]),
        ("朝阳区", ["北京市/朝阳区", "吉林省/长春市/朝阳区"]),
        ("朝陽", ["北京市/朝阳区", "吉林省/长春市/朝阳区"]),
        # Pinyin is ambiguous where the Chinese is, and where two names sound alike.
        ("Jilin", ["吉林省", "吉林省/吉林市"]),
        ("Chaoyang", ["北京市/朝阳区", "吉林省/长春市/朝阳区"]),
        ("Chaoyang District", ["北京市/朝阳区", "吉林省/长春市/朝阳区"]),
        ("Shanxi", ["山西省", "陕西省"]),
        ("Xinzhou District", ["江西省/上饶市/信州区", "湖北省/武汉市/新洲区"]),
    ],
)
def test_lookup_gives_every_candidate_of_an_ambiguous_name(regions: RegionIndex, text: str, paths: list[str]) -> None:
    assert regions.lookup(text) == paths


@pytest.mark.parametrize("text", ["", "   ", "火星", "东昌去", "长春是", "吉林省长春市东昌区", "通化市南关区"])
def test_lookup_does_not_guess_a_misspelt_or_impossible_place(regions: RegionIndex, text: str) -> None:
    assert regions.lookup(text) == []


def test_every_known_path_looks_up_to_itself(regions: RegionIndex) -> None:
    for path in regions.paths:
        assert regions.lookup(path) == [path]
        assert regions.lookup(path.replace(SEPARATOR, "")) == [path]


@settings(max_examples=200)
@given(st.text())
def test_lookup_answers_any_text_with_known_paths(text: str) -> None:
    index = load_region_index()
    assert all(index.is_known(path) for path in index.lookup(text))


# --- lookup in pinyin and English ----------------------------------------------------------------------

# Suffixes as English speakers write them, for the tests that spell every known region out.
ENGLISH_SUFFIXES = {
    "省": "Province", "市": "City", "区": "District", "县": "County", "自治州": "Autonomous Prefecture",
    "自治区": "Autonomous Region", "自治县": "Autonomous County", "特别行政区": "Special Administrative Region",
}  # fmt: skip
# A name, then the people an autonomous area is named after, then the suffix: 延边 朝鲜族 自治州.
NAME_PARTS = re.compile(
    r"(?P<short>.{2,}?)(?:维吾尔|朝鲜族|蒙古族|满族|壮族|回族|藏族|苗族|彝族|土家族)?(?P<suffix>特别行政区|自治区|自治州|自治县|省|市|区|县)"
)


def short_name_and_suffix(name: str) -> tuple[str, str]:
    match = NAME_PARTS.fullmatch(name)
    assert match, name
    return match["short"], match["suffix"]


def in_pinyin(name: str) -> str:
    """A name in its usual pinyin reading, as an English speaker writes it: 长春 → "Changchun"."""
    return "".join(lazy_pinyin(name)).capitalize()


def test_pinyin_is_ambiguous_exactly_where_chinese_is(regions: RegionIndex) -> None:
    assert regions.lookup("Jilin") == regions.lookup("吉林")
    assert regions.lookup("Chaoyang") == regions.lookup("朝阳")


@pytest.mark.parametrize(
    "text",
    [
        "Atlantis",
        "Changchu",
        "Changchun District",
        "Tonghua Qu",
        "Dongchang, Changchun, Jilin",
        "Jilin Changchun Dongchang",
        "skip",
        "no idea",
        "China",
        "City",
    ],
)
def test_pinyin_does_not_guess_an_unknown_or_impossible_place(regions: RegionIndex, text: str) -> None:
    assert regions.lookup(text) == []


def test_a_one_character_name_is_found_in_pinyin_only_with_its_suffix() -> None:
    index = RegionIndex.from_mapping({"四川省": {"达州市": ["渠县", "通川区"]}})
    assert index.lookup("Quxian") == ["四川省/达州市/渠县"]
    assert index.lookup("Qu County") == ["四川省/达州市/渠县"]
    assert index.lookup("Qu Xian, Dazhou") == ["四川省/达州市/渠县"]
    assert index.lookup("Qu") == index.lookup("渠") == []


def test_every_region_is_found_by_the_pinyin_of_its_short_name(regions: RegionIndex) -> None:
    for path in regions.paths:
        short, _ = short_name_and_suffix(path.split(SEPARATOR)[-1])
        found = regions.lookup(in_pinyin(short))
        # As in Chinese, a city's short name means the city, not the county of the same name inside it.
        assert path in found or any(path.startswith(other + SEPARATOR) for other in found), path
        assert set(regions.lookup(short)) <= set(found), path


def test_every_region_spelt_out_in_english_looks_up_to_itself(regions: RegionIndex) -> None:
    for path in regions.paths:
        words = []
        for name in reversed(path.split(SEPARATOR)):
            short, suffix = short_name_and_suffix(name)
            words.append(f"{in_pinyin(short)} {ENGLISH_SUFFIXES[suffix]}")
        text = ", ".join(words)  # "Dongchang District, Tonghua City, Jilin Province"
        if path in ("山西省", "陕西省"):  # both are Shanxi Province in pinyin
            assert path in regions.lookup(text)
        else:
            assert regions.lookup(text) == [path], text


@settings(max_examples=300)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,'/-", max_size=40))
def test_pinyin_lookup_ignores_case_and_answers_with_known_paths(text: str) -> None:
    index = load_region_index()
    found = index.lookup(text)
    assert all(index.is_known(path) for path in found)
    assert index.lookup(text.upper()) == found


# --- scopes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "scope", "inside"),
    [
        ("吉林省/通化市/东昌区", "吉林省", True),
        ("吉林省/通化市/东昌区", "吉林省/通化市", True),
        ("吉林省/通化市/东昌区", "吉林省/通化市/东昌区", True),
        ("吉林省", "吉林省", True),
        ("吉林省/通化市", "吉林省/通化市/东昌区", False),
        ("吉林省/长春市", "吉林省/通化市", False),
        ("江苏省/泰州市/医药高新区", "吉林省", False),
        ("吉林省吉林市", "吉林省", False),
        ("", "吉林省", False),
        ("吉林省", "", False),
    ],
)
def test_within_follows_the_hierarchy(regions: RegionIndex, path: str, scope: str, inside: bool) -> None:
    assert regions.within(path, scope) is inside


def test_is_known_needs_the_exact_path(regions: RegionIndex) -> None:
    assert regions.is_known("吉林省/通化市/东昌区")
    assert not regions.is_known("东昌区")
    assert not regions.is_known("吉林省/东昌区")
