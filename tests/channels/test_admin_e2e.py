"""Admins manage roles in the bot: the first admins come from the settings, everyone else is refused."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.sql import SqlChatStore
from tests.channels.test_telegram_e2e import Contact, api, database, running_bot  # noqa: F401 - fixtures
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio
ADMIN, OFFICIAL, STRANGER = 90001, 90002, 90003


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
