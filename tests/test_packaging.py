"""The wheel carries the code, rules/, data/ and the migrations, and bot.paths finds the shipped folders."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from bot import paths
from bot.paths import shipped_data_dir, shipped_rules_dir

CHECKOUT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
# Left out of the copy that is built: a stale build/lib would slip deleted files into the wheel, and the rest is
# local state that a wheel never contains.
NOT_SOURCES = {".git", ".venv", "build", "dist", ".pytest_cache", ".ruff_cache", ".hypothesis"}


def _missing_build_requirements() -> list[str]:
    missing = []
    for line in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(line)
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            missing.append(line)
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            missing.append(f"{line} (have {installed})")
    return missing


def _ignore(folder: str, names: list[str]) -> set[str]:
    ignored = {name for name in names if name == "__pycache__" or name.endswith((".egg-info", ".sqlite3"))}
    if Path(folder) == CHECKOUT:
        ignored |= NOT_SOURCES & set(names)
    return ignored


def _shippable_files(folder: Path) -> Iterator[Path]:
    # package-data globs skip hidden files and folders (editor swap files, .gitkeep), and pyproject.toml excludes
    # __pycache__ on purpose.
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part == "__pycache__" or part.startswith(".") for part in relative.parts):
            yield relative


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    missing = _missing_build_requirements()
    if missing:
        pytest.skip(f"build requirements not installed (pip install -e '.[test]'): {', '.join(missing)}")
    tmp = tmp_path_factory.mktemp("wheel")
    # Built from a copy so the build's own build/ and *.egg-info folders never land in the checkout.
    source = tmp / "source"
    shutil.copytree(CHECKOUT, source, ignore=_ignore)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
        + [str(source), "-w", str(tmp / "dist")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = (tmp / "dist").glob("incentive_bot-*.whl")
    with zipfile.ZipFile(found) as archive:
        yield archive


@pytest.mark.parametrize("folder", ["rules", "data"])
def test_the_wheel_carries_every_file_of_the_folder_inside_the_bot_package(wheel: zipfile.ZipFile, folder: str) -> None:
    expected = {f"bot/{folder}/{relative.as_posix()}": relative for relative in _shippable_files(CHECKOUT / folder)}
    shipped = {name for name in wheel.namelist() if name.startswith(f"bot/{folder}/")}
    assert expected, f"{folder}/ is empty"
    assert shipped == set(expected)
    for name, relative in expected.items():
        assert wheel.read(name) == (CHECKOUT / folder / relative).read_bytes(), name


def test_the_wheel_carries_every_module_and_the_migrations(wheel: zipfile.ZipFile) -> None:
    shipped = set(wheel.namelist())
    for package in ("bot", "handlers"):
        for module in _shippable_files(CHECKOUT / package):
            if module.suffix == ".py":
                assert f"{package}/{module.as_posix()}" in shipped, f"{package}/{module}: add its folder to packages"
    migrations = CHECKOUT / "bot" / "store" / "migrations"
    assert "bot/store/migrations/script.py.mako" in shipped
    versions = sorted(migrations.glob("versions/*.py"))
    assert versions
    for revision in versions:
        assert f"bot/store/migrations/versions/{revision.name}" in shipped


def test_the_wheel_carries_the_web_chat_page(wheel: zipfile.ZipFile) -> None:
    page = CHECKOUT / "bot" / "webpage"
    expected = {f"bot/webpage/{relative.as_posix()}" for relative in _shippable_files(page)}
    assert {"bot/webpage/index.html", "bot/webpage/chat.js", "bot/webpage/openapi.json"} <= expected
    assert expected <= set(wheel.namelist())


def test_shipped_rules_dir_holds_the_question_catalogue() -> None:
    assert (shipped_rules_dir() / "questions.yaml").is_file()


def test_shipped_data_dir_holds_the_regions() -> None:
    assert (shipped_data_dir() / "regions.csv").is_file()


def test_the_copy_inside_the_package_comes_before_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for place in ("package", "checkout"):
        (tmp_path / place / "rules").mkdir(parents=True)
    monkeypatch.setattr(paths, "_PACKAGE_DIR", tmp_path / "package")
    monkeypatch.setattr(paths, "_CHECKOUT_DIR", tmp_path / "checkout")
    assert shipped_rules_dir() == tmp_path / "package" / "rules"


def test_a_missing_folder_says_which_setting_to_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "_PACKAGE_DIR", tmp_path / "package")
    monkeypatch.setattr(paths, "_CHECKOUT_DIR", tmp_path / "checkout")
    with pytest.raises(FileNotFoundError, match=r"rules/.*RULES_DIR.*--rules"):
        shipped_rules_dir()
    with pytest.raises(FileNotFoundError, match=r"data/.*DATA_DIR.*--data"):
        shipped_data_dir()
