"""Every store keeps roles and the audit log the same way: a change is audited once, with who made it."""

from __future__ import annotations

import pytest

from bot.messages import ChatKey, Incoming, Outgoing
from bot.store.base import ChatStore, Replies, RoleChange

pytestmark = pytest.mark.asyncio


async def test_a_role_change_is_made_once_and_audited_once(store: ChatStore) -> None:
    grant = RoleChange(42, "official", True)
    assert (await store.change_roles([grant], "cli:ops"))[0] == [True]
    assert (await store.change_roles([grant], "cli:ops"))[0] == [False]
    assert await store.roles_of(42) == frozenset({"official"})
    assert [(g.user_id, g.role, g.granted_by) for g in await store.list_roles()] == [(42, "official", "cli:ops")]
    assert (await store.change_roles([RoleChange(42, "official", False)], "telegram:7"))[0] == [True]
    assert await store.roles_of(42) == frozenset()
    log = await store.audit_log()
    assert [(e.actor, e.action, e.detail) for e in log] == [
        ("cli:ops", "grant", {"user_id": 42, "role": "official"}),
        ("telegram:7", "revoke", {"user_id": 42, "role": "official"}),
    ]
    assert await store.audit_log(log[-1].at) == log[-1:]


async def test_the_reply_to_a_role_change_is_queued_with_it(store: ChatStore) -> None:
    chat = ChatKey("telegram", 7)
    replies = [(Incoming(chat, "42 admin", "grant", user_id=7), Outgoing("done"))]
    changed, deliveries = await store.change_roles(
        [RoleChange(42, "admin", True)], "telegram:7", Replies(replies, "me", 30)
    )
    assert changed == [True] and [d.outgoing.text for d in deliveries] == ["done"]
