"""`incentive-bot rules diff|versions|uploads` as an admin uses them: what changed between two rule sets (folders
or versions that were in use) and how many stored profiles it changes, and the files admins sent to the bot."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.messages import ChatKey
from bot.reloading import check_rules, sources_to_json
from bot.store.base import ChatState
from bot.store.rulesets import NewVersion
from bot.store.sql import SqlChatStore, migrate

OLD_TITLE = "新取得临床试验许可或注册申请受理书的医药健康产品奖励"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def folders(rules_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The shipped rules, and a copy with one title changed, one rule ending on 2026-11-25 and one rule removed
    from a call."""
    new = tmp_path / "new"
    shutil.copytree(rules_copy, new)
    pharma = new / "policies" / "jilin-pharma.yaml"
    text = pharma.read_text(encoding="utf-8").replace(OLD_TITLE, "临床试验许可奖励(新)")
    text = text.replace("  - id: jilin-12-listing-reserve\n", "  - id: jilin-12-listing-reserve\n"
                        "    valid_until: 2026-11-25\n", 1)  # fmt: skip
    pharma.write_text(text, encoding="utf-8")
    return rules_copy, new


@pytest.fixture()
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with three contacts who answered (two in Jilin, one in Wuhan) and one who never did."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)

    async def seed() -> None:
        await migrate(url)
        store = SqlChatStore.from_url(url)
        try:
            for chat, region in ((1, "吉林省/长春市"), (2, "吉林省/通化市"), (3, "湖北省/武汉市")):
                answers = {"region": region, "industries": ["biologics"]}
                await store.save(ChatState(ChatKey("telegram", chat), answers=answers))
            await store.save(ChatState(ChatKey("telegram", 4)))
        finally:
            await store.close()

    asyncio.run(seed())
    return url


def record(url: str, *folders: Path) -> list[str]:
    """Puts each folder in use in turn, as reloads would, and returns their versions."""

    async def activate() -> list[str]:
        store = SqlChatStore.from_url(url)
        versions = []
        try:
            for folder in folders:
                checked = check_rules(folder, None)
                new = NewVersion(checked.version, "telegram:1", checked.summary, sources_to_json(checked.sources))
                await store.activate_rules(new)
                versions.append(checked.version)
        finally:
            await store.close()
        return versions

    return asyncio.run(activate())


def test_a_diff_of_two_folders_names_each_change_and_counts_the_profiles_it_changes(
    folders: tuple[Path, Path], database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = folders
    code, out, _ = run(["rules", "diff", str(old), str(new), "--date", "2026-11-28"], capsys)
    assert code == 0
    assert "rules: 0 added, 0 removed, 2 changed" in out
    assert "~ jilin-1-clinical-trial: title" in out and "~ jilin-12-listing-reserve: valid_until" in out
    assert "stored profiles: 2 of 3 change outcome" in out, "the Jilin firms lose the listing reserve"
    code, out, _ = run(["rules", "diff", str(old), str(new), "--json", "--date", "2026-11-24"], capsys)
    data = json.loads(out)
    assert data["rules"]["changed"] == {"jilin-1-clinical-trial": ["title"]} | {
        "jilin-12-listing-reserve": ["valid_until"]
    }
    assert data["profiles"] == {"stored": 3, "changed": 0}, "before the end date nobody's outcome changes"


def test_versions_that_were_in_use_are_listed_and_compared(
    folders: tuple[Path, Path], database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old_version, new_version = record(database, *folders)
    code, out, _ = run(["rules", "versions"], capsys)
    assert code == 0 and out.splitlines()[0].startswith(f"* {new_version}") and old_version in out
    code, out, _ = run(["rules", "diff", old_version[:6], new_version, "--json", "--date", "2026-11-28"], capsys)
    data = json.loads(out)
    assert code == 0 and data["old"]["version"] == old_version and data["new"]["version"] == new_version
    assert data["profiles"] == {"stored": 3, "changed": 2}
    code, _, err = run(["rules", "diff", "abcdef", new_version], capsys)
    assert code == 2 and "abcdef: no recorded version starts so" in err
    code, _, err = run(["rules", "diff", "no/such/folder", new_version], capsys)
    assert code == 2 and "neither a rules folder nor a version" in err


def test_an_uploaded_file_is_listed_and_removed_only_when_the_rest_still_passes(
    folders: tuple[Path, Path], database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = folders
    changed = (new / "policies" / "jilin-pharma.yaml").read_text(encoding="utf-8")

    async def upload() -> None:
        store = SqlChatStore.from_url(database)
        try:
            await store.save_rule_upload("policies/jilin-pharma.yaml", changed, "telegram:1")
        finally:
            await store.close()

    asyncio.run(upload())
    code, out, _ = run(["rules", "uploads"], capsys)
    assert code == 0 and out.startswith("policies/jilin-pharma.yaml\t")
    code, _, err = run(["rules", "uploads", "--remove", "policies/other.yaml"], capsys)
    assert code == 2 and "no uploaded file policies/other.yaml" in err
    code, out, _ = run(["rules", "uploads", "--remove", "policies/jilin-pharma.yaml", "--rules", str(old)], capsys)
    assert code == 0 and "removed; version" in out
    assert run(["rules", "uploads"], capsys)[1] == ""
    version = out.split("version ")[1].split()[0]
    assert version == check_rules(old, None).version, "the folder without the upload is in use"
    code, out, _ = run(["rules", "versions", "--json"], capsys)
    newest = json.loads(out.splitlines()[0])
    assert newest["version"] == version and newest["in_use"] and newest["loaded_by"].startswith("cli:")
