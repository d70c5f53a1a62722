"""Admins manage roles in the bot: the first admins come from the settings, everyone else is refused."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest

from bot.store.sql import SqlChatStore
from tests.channels.test_telegram_e2e import Contact, api, database, interview, running_bot  # noqa: F401 - fixtures
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio
ADMIN, OFFICIAL, STRANGER, CONTACT = 90001, 90002, 90003, 90004


async def test_a_first_admin_grants_a_role_and_a_stranger_is_refused(api: FakeBotApi, database: str) -> None:
    async with running_bot(api, database, settings={"ADMIN_TELEGRAM_IDS": str(ADMIN)}):
        stranger = Contact(api, STRANGER)
        for command in ("/grant 90003 admin", "/revoke 90001 admin", "/roles"):
            assert (await stranger.say(command))[0]["text"] == "只有管理员可以使用这个命令。"
        admin = Contact(api, ADMIN)
        assert "90002" in (await admin.say(f"/grant {OFFICIAL} official"))[0]["text"]
        roles = (await admin.say("/roles"))[0]["text"]
        assert f"{ADMIN} admin" in roles and f"{OFFICIAL} official" in roles
        menu = api.scoped_commands.get(('{"chat_id":90001,"type":"chat"}', ""), [])
        assert {"grant", "revoke", "roles"} <= {c["command"] for c in menu}
        assert (await admin.say(f"/grant {STRANGER} admin"))[0]["text"]
        for _ in range(100):
            if api.scoped_commands.get(('{"chat_id":90003,"type":"chat"}', "")):
                break
            await asyncio.sleep(0.05)
        assert api.scoped_commands.get(('{"chat_id":90003,"type":"chat"}', "")), "a new admin sees the admin commands"
        official_menu = {c["command"] for c in api.scoped_commands.get(('{"chat_id":90002,"type":"chat"}', ""), [])}
        assert {"notice", "notices", "notice_status", "notice_cancel"} <= official_menu, "an official sees notices"
        assert not {"grant", "revoke", "roles"} & official_menu, "but not the admin commands"
        await admin.say(f"/revoke {STRANGER} admin")
        assert not api.scoped_commands.get(('{"chat_id":90003,"type":"chat"}', "")), "nor a revoked admin"
    store = SqlChatStore.from_url(database)
    try:
        assert await store.roles_of(OFFICIAL) == frozenset({"official"})
        assert await store.roles_of(STRANGER) == frozenset(), "revoked again"
        actions = [(e.actor, e.action, e.detail["user_id"]) for e in await store.audit_log()]
        assert actions == [(f"telegram:{ADMIN}", "grant", OFFICIAL), (f"telegram:{ADMIN}", "grant", STRANGER),
                           (f"telegram:{ADMIN}", "revoke", STRANGER)]  # fmt: skip
    finally:
        await store.close()


async def test_an_admin_reloads_the_rules_and_a_broken_file_changes_nothing(
    api: FakeBotApi, database: str, rules_copy: Path
) -> None:
    old_title, new_title = "新取得临床试验许可或注册申请受理书的医药健康产品奖励", "临床试验许可奖励(新版标题)"
    pharma = rules_copy / "policies" / "jilin-pharma.yaml"
    original = pharma.read_text(encoding="utf-8")
    settings = {"ADMIN_TELEGRAM_IDS": str(ADMIN), "RULES_DIR": str(rules_copy), "RULES_WATCH": "off"}
    async with running_bot(api, database, settings=settings):
        contact = Contact(api, CONTACT)
        assert old_title in (await interview(contact))["text"]
        assert "只有管理员" in (await Contact(api, STRANGER).say("/reload"))[0]["text"]
        pharma.write_text(original.replace(old_title, new_title), encoding="utf-8")
        admin = Contact(api, ADMIN)
        done = (await admin.say("/reload"))[0]["text"]
        assert "规则已重新加载并启用(版本 " in done and ":43 rules" in done
        assert new_title in (await contact.say("/results"))[0]["text"]
        pharma.write_text(original.replace("fact: revenue,", "fact: revenu,", 1), encoding="utf-8")
        refused = (await admin.say("/reload"))[0]["text"]
        assert "新规则有 1 个问题,没有启用" in refused and "jilin-pharma.yaml:" in refused and "revenu" in refused
        assert new_title in (await contact.say("/results"))[0]["text"], "the rules in use stay"
        before = len(api.sends_to(ADMIN))
        pharma.write_text(original.replace("fact: revenue,", "fact: revenux,", 1), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)  # another broken file, reloaded by the operator
        told = (await api.wait_for_messages(ADMIN, before + 1))[before:]
        assert "没有启用" in told[0]["text"] and "revenux" in told[0]["text"]
        pharma.write_text(original.replace(old_title, "临床试验许可奖励(信号)"), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)  # fixed, and reloaded by the operator again
        told = (await api.wait_for_messages(ADMIN, before + 2))[before + 1 :]
        assert "规则已重新加载并启用" in told[0]["text"], told[0]["text"]
        assert "临床试验许可奖励(信号)" in (await contact.say("/results"))[0]["text"]
    store = SqlChatStore.from_url(database)
    try:
        reloads = [entry for entry in await store.audit_log() if entry.action == "reload"]
    finally:
        await store.close()
    outcomes = [(entry.actor.split(":")[0], entry.detail["applied"]) for entry in reloads]
    assert outcomes == [("telegram", True), ("telegram", False), ("signal", False), ("signal", True)], "who, whether"
    assert reloads[1].detail["version"] != reloads[0].detail["version"], "another text, another version"


async def test_a_reload_from_a_folder_that_is_gone_is_refused_and_changes_nothing(
    api: FakeBotApi, database: str, rules_copy: Path
) -> None:
    settings = {"ADMIN_TELEGRAM_IDS": str(ADMIN), "RULES_DIR": str(rules_copy)}
    async with running_bot(api, database, settings=settings):
        shutil.rmtree(rules_copy)
        refused = (await Contact(api, ADMIN).say("/reload"))[0]["text"]
        assert "新规则有 1 个问题,没有启用" in refused and str(rules_copy) in refused
        assert "贵企业注册在哪里" in (await Contact(api, CONTACT).say("/start"))[0]["text"], "the bot still works"
