"""scripts/update_regions.py: how the npm package's tables become data/regions.csv (offline, on a small copy)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from bot.engine.regions import region_index_from_csv
from bot.engine.yamlsource import SourceFile

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "update_regions.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("update_regions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["update_regions"] = module
    spec.loader.exec_module(module)
    return module


def write_dist(folder: Path) -> Path:
    """The three tables as china-division ships them, with the statistical list's pseudo-prefectures."""
    (folder / "provinces.csv").write_text('code,name\n11,"北京市"\n22,"吉林省"\n42,"湖北省"\n44,"广东省"\n')
    (folder / "cities.csv").write_text(
        'code,name,provinceCode\n1101,"市辖区",11\n2205,"通化市",22\n4290,"省直辖县级行政区划",42\n4419,"东莞市",44\n'
    )
    (folder / "areas.csv").write_text(
        'code,name,cityCode,provinceCode\n110105,"朝阳区",1101,11\n220502,"东昌区",2205,22\n'
        '220581,"梅河口市",2205,22\n429004,"仙桃市",4290,42\n441900,"东莞市",4419,44\n'
    )
    return folder


def test_pseudo_prefectures_are_left_out_and_their_divisions_lie_in_the_province(script, tmp_path: Path) -> None:
    rows = script.divisions(write_dist(tmp_path))
    paths = region_index_from_csv(SourceFile("x.csv", "code,name,parent,also\n" + "".join(
        f"{code},{name},{parent},\n" for code, name, parent in rows
    ))).paths  # fmt: skip
    assert "北京市/朝阳区" in paths and "湖北省/仙桃市" in paths and "吉林省/通化市/梅河口市" in paths
    assert "广东省/东莞市" in paths and "广东省/东莞市/东莞市" not in paths
    assert not any("市辖区" in path or "直辖" in path for path in paths)
    assert {"71", "81", "82"} <= {code for code, _, _ in rows}


def test_a_hosted_place_whose_host_is_missing_stops_the_script(script, tmp_path: Path) -> None:
    rows = script.divisions(write_dist(tmp_path))
    with pytest.raises(SystemExit, match="is not in the list"):
        script.with_hosted_names(rows)


def test_every_hosted_place_of_the_shipped_list_has_its_host(script) -> None:
    text = (SCRIPT.parents[1] / "data" / "regions.csv").read_text(encoding="utf-8")
    index = region_index_from_csv(SourceFile("regions.csv", text))
    for names, hosts in script.HOSTED:
        found = index.lookup(names[0])
        assert found and set(found) <= set(hosts) | {p for p in index.paths if p.endswith("/" + names[0])}, names
