"""The admins' commands: refused to everyone else, and they grant, revoke and list roles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.messages import ChatKey, Incoming
from bot.store.base import RoleChange, RoleGrant
from handlers.admin import PRIVILEGED_COMMANDS, Access, AdminHandler

CHAT = ChatKey("telegram", 501)


def command(name: str, arguments: str = "", language: str = "zh-hans") -> Incoming:
    return Incoming(CHAT, arguments, name, language_code=language, user_id=501)


@pytest.mark.parametrize("name", PRIVILEGED_COMMANDS)
@pytest.mark.parametrize("roles", [frozenset(), frozenset({"official"})])
def test_every_privileged_command_is_refused_to_a_user_without_the_role(name: str, roles: frozenset) -> None:
    reply = AdminHandler().handle(command(name, "42 official"), Access(roles))
    assert reply.changes == []
    assert [m.text for m in reply.messages] == ["只有管理员可以使用这个命令。"]


def test_an_admin_grants_and_revokes_a_role() -> None:
    admin = Access(frozenset({"admin"}))
    granted = AdminHandler().handle(command("grant", "42 official"), admin)
    assert granted.changes == [RoleChange(42, "official", True)] and "42" in granted.messages[0].text
    revoked = AdminHandler().handle(command("revoke", "42 official", "en"), admin)
    assert revoked.changes == [RoleChange(42, "official", False)]
    assert revoked.messages[0].text == "User 42 no longer has the official role."


@pytest.mark.parametrize("arguments", ["", "42", "42 king", "someone official", "42 official extra", "9" * 40])
def test_a_malformed_grant_is_answered_with_how_to_write_it(arguments: str) -> None:
    reply = AdminHandler().handle(command("grant", arguments), Access(frozenset({"admin"})))
    assert reply.changes == [] and "用法:/grant 用户ID 角色" in reply.messages[0].text


def test_an_admin_of_the_settings_cannot_be_revoked_in_the_bot() -> None:
    access = Access(frozenset({"admin"}), first_admins=frozenset({7}))
    reply = AdminHandler().handle(command("revoke", "7 admin"), access)
    assert reply.changes == [] and "ADMIN_TELEGRAM_IDS" in reply.messages[0].text


def test_roles_lists_the_admins_of_the_settings_and_every_grant() -> None:
    grant = RoleGrant(42, "official", "telegram:7", datetime(2026, 11, 28, tzinfo=UTC))
    access = Access(frozenset({"admin"}), frozenset({7}), (grant,))
    text = AdminHandler().handle(command("roles", language="en"), access).messages[0].text
    assert "7 admin (from the ADMIN_TELEGRAM_IDS setting)" in text
    assert "42 official (granted by telegram:7 on 2026-11-28)" in text
