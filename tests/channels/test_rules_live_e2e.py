"""Admins change the rules of a running bot: by sending a rule file, by editing the rules folder (picked up by
itself), and by telling the contacts whose results changed. Everyone else is refused, and nothing is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.store.sql import SqlChatStore
from tests.channels.test_telegram_e2e import (  # noqa: F401 - fixtures
    Contact,
    api,
    buttons,
    database,
    interview,
    running_bot,
    wait_for_text,
)
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio
ADMIN, STRANGER, CONTACT = 91001, 91002, 91003
OLD_TITLE = "新取得临床试验许可或注册申请受理书的医药健康产品奖励"


async def send_file(api: FakeBotApi, chat: int, name: str, data: bytes, size: int | None = None) -> list[dict]:
    before = len(api.messages_to(chat))
    api.push_update(api.make_document(chat, name, data, declared_size=size))
    return (await api.wait_for_messages(chat, before + 1))[before:]


async def test_an_admin_sends_a_rule_file_and_nobody_else_can(api: FakeBotApi, database: str, rules_copy: Path) -> None:
    folder_file = rules_copy / "policies" / "jilin-pharma.yaml"
    pharma = folder_file.read_text(encoding="utf-8")
    # In the folder, the listing-reserve measure ends after the rule tests' day (2026-11-22) and before the
    # contact's day; the admin's file (with a new title) lets it run on, so the contact may claim it again.
    folder_file.write_text(pharma.replace("  - id: jilin-12-listing-reserve\n", "  - id: jilin-12-listing-reserve\n"
                           "    valid_until: 2026-11-25\n", 1), encoding="utf-8")  # fmt: skip
    ended = pharma.replace(OLD_TITLE, "临床试验许可奖励(上传版)")
    settings = {"ADMIN_TELEGRAM_IDS": str(ADMIN), "RULES_DIR": str(rules_copy), "RULES_WATCH": "off"}
    async with running_bot(api, database, settings=settings):
        contact = Contact(api, CONTACT)
        results = (await interview(contact))["text"]
        assert OLD_TITLE in results and "规则版本 " in results
        version = results.rsplit("规则版本 ", 1)[1].split()[0]

        refused = await send_file(api, STRANGER, "jilin-pharma.yaml", ended.encode())
        assert refused[0]["text"] == "只有管理员可以发送规则文件。" and not api.downloads, "not even downloaded"
        assert "文件有 2,000,000 字节" in (await send_file(api, ADMIN, "big.yaml", b"rules: []", 2_000_000))[0]["text"]
        assert not api.downloads, "an oversized file is refused by its stated size"
        broken = await send_file(
            api, ADMIN, "jilin-pharma.yaml", ended.replace("fact: revenue,", "fact: revenu,", 1).encode()
        )
        assert "新规则有 1 个问题,没有启用" in broken[0]["text"]
        assert "policies/jilin-pharma.yaml (uploaded):" in broken[0]["text"] and "revenu" in broken[0]["text"]
        assert OLD_TITLE in (await contact.say("/results"))[0]["text"], "the rules in use stay"

        applied = (await send_file(api, ADMIN, "jilin-pharma.yaml", ended.encode()))[0]
        assert "文件 jilin-pharma.yaml 已通过检查并启用" in applied["text"], applied["text"]
        assert (
            "1 位联系人的结果有变化" in applied["text"]
            and f"telegram:{CONTACT} +jilin-12-listing-reserve" in applied["text"]
        )
        tell = next(data for data in buttons(applied) if data.startswith("rt:"))
        assert tell.startswith(f"rt:{version}:") and len(tell.encode()) <= 64
        now = (await contact.say("/results"))[0]["text"]
        assert "临床试验许可奖励(上传版)" in now and f"规则版本 {version}" not in now, "a new version is shown"

        assert "只有管理员" in (await Contact(api, STRANGER).press(tell))[0]["text"], "a forged button is refused"
        admin = Contact(api, ADMIN)
        queued = (await admin.press(tell))[0]["text"]
        assert "1" in queued, queued
        told = await wait_for_text(contact, "政策规则已更新")
        assert "/results" in told["text"]
        await admin.press(tell)  # pressed again: the same notice, not a second one
        await asyncio.sleep(1.5)
        assert sum("政策规则已更新" in m["text"] for m in api.messages_to(CONTACT)) == 1

    # The file is kept in the database: a restart with the folder as it was still runs it.
    async with running_bot(api, database, settings=settings):
        assert "临床试验许可奖励(上传版)" in (await Contact(api, CONTACT).say("/results"))[0]["text"]
    store = SqlChatStore.from_url(database)
    try:
        uploads = [(e.actor, e.detail["applied"]) for e in await store.audit_log() if e.action == "upload"]
        assert uploads == [(f"telegram:{ADMIN}", False), (f"telegram:{ADMIN}", True)]
    finally:
        await store.close()


async def test_a_changed_file_in_the_rules_folder_is_picked_up_and_a_broken_one_reported(
    api: FakeBotApi, database: str, rules_copy: Path
) -> None:
    pharma = rules_copy / "policies" / "jilin-pharma.yaml"
    original = pharma.read_text(encoding="utf-8")
    settings = {"ADMIN_TELEGRAM_IDS": str(ADMIN), "RULES_DIR": str(rules_copy)}
    async with running_bot(api, database, settings=settings):
        contact = Contact(api, CONTACT)
        assert OLD_TITLE in (await interview(contact))["text"]
        await asyncio.sleep(0.5)  # the watcher is up
        pharma.write_text(original.replace(OLD_TITLE, "临床试验许可奖励(改)"), encoding="utf-8")
        for _ in range(100):
            if "临床试验许可奖励(改)" in (await contact.say("/results"))[0]["text"]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the edited file was not picked up")
        told = await wait_for_text(Contact(api, ADMIN), "规则已重新加载并启用")
        assert "没有联系人的结果因此改变" in told["text"]
        pharma.write_text(original.replace("fact: revenue,", "fact: revenu,", 1), encoding="utf-8")
        refused = await wait_for_text(Contact(api, ADMIN), "没有启用")
        assert "jilin-pharma.yaml:" in refused["text"] and "revenu" in refused["text"]
        assert "临床试验许可奖励(改)" in (await contact.say("/results"))[0]["text"], "the rules in use stay"
