"""Tests for the region hierarchy: the packaged list, lookups people make, and scopes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

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
