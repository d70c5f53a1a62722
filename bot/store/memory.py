"""A ChatStore kept in process memory, with the same rules as the database, for tests and the terminal."""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.messages import ChatKey, Delivery, Incoming
from bot.store import base
from bot.store.base import ChatState, ChatStore, ConcurrentUpdate, Decision, Turn


@dataclass
class _Update:
    incoming: Incoming
    applied: bool = False
    state_before: ChatState | None = None
    received: float = field(default_factory=time.monotonic)


@dataclass
class _Queued:
    delivery: Delivery
    state: str = "pending"
    owner: str | None = None
    lease_until: float = 0.0
    not_before: float = 0.0
    created: float = field(default_factory=time.monotonic)
    error: str | None = None


class MemoryChatStore(ChatStore):
    """Chat states in process memory; copies go in and out so callers cannot change what is stored.

    Every method runs without awaiting in between, so the event loop's single thread is the chat lock.
    """

    def __init__(self) -> None:
        self._chats: dict[ChatKey, ChatState] = {}
        self._updates: dict[ChatKey, dict[int, _Update]] = {}
        self._outbox: dict[int, _Queued] = {}
        self._next_id = 1
        self._roles: dict[tuple[int, str], base.RoleGrant] = {}
        self._audit: list[base.AuditEntry] = []

    async def load(self, key: ChatKey) -> ChatState:
        stored = self._chats.get(key)
        return copy.deepcopy(stored) if stored is not None else ChatState(key)

    async def save(self, state: ChatState) -> ChatState:
        stored = self._chats.get(state.key)
        stored_version = stored.version if stored is not None else 0
        if state.version != stored_version or (stored is not None and state.new):
            raise ConcurrentUpdate(f"chat {state.key} is at version {stored_version}, not {state.version}")
        return self._store(state)

    def _store(self, state: ChatState) -> ChatState:
        saved = dataclasses.replace(copy.deepcopy(state), version=state.version + 1, new=False)
        self._chats[state.key] = saved
        return copy.deepcopy(saved)

    async def forget(self, key: ChatKey) -> bool:
        self._forget(key)
        return self._chats.pop(key, None) is not None

    def _forget(self, key: ChatKey) -> None:
        self._updates.pop(key, None)
        for number in [n for n, queued in self._outbox.items() if queued.delivery.chat == key]:
            del self._outbox[number]

    async def set_active(self, key: ChatKey, active: bool) -> None:
        state = self._chats.get(key) or ChatState(key)
        # Bumping the version makes a save based on an older read fail instead of undoing this change.
        self._chats[key] = dataclasses.replace(state, active=active, version=state.version + 1, new=False)

    async def take_turn(
        self,
        incoming: Incoming,
        decide: Callable[[Turn], Decision],
        owner: str,
        lease_seconds: float,
        delivered: bool = False,
    ) -> list[Delivery]:
        key = incoming.chat
        state = await self.load(key)
        kept = self._updates.setdefault(key, {})
        recorded = [
            base.Recorded(number, update.incoming, update.applied, copy.deepcopy(update.state_before))
            for number, update in sorted(kept.items())
            if incoming.update_id is not None and (number >= incoming.update_id or not update.applied)
        ]
        due, replayed, before = base.plan_turn(incoming, recorded)
        if not due:
            return []  # delivered twice
        if incoming.update_id is not None:
            kept[incoming.update_id] = _Update(incoming)
        if before is not None:
            state = dataclasses.replace(before, version=state.version, new=state.new)
        backlog = any(q.state == "pending" and q.delivery.chat == key for q in self._outbox.values())
        decision = decide(Turn(state, due, replayed, backlog))
        if decision.forget:
            self._forget(key)
            self._chats.pop(key, None)
        else:
            for update, before in zip(due, decision.states_before, strict=True):
                if update.update_id is not None:
                    recorded = self._updates[key][update.update_id]
                    recorded.applied, recorded.state_before = True, copy.deepcopy(before)
            self._store(state)
        return self._enqueue(key, decision, None if backlog else owner, lease_seconds, delivered)

    def _enqueue(
        self, key: ChatKey, decision: Decision, owner: str | None, lease_seconds: float, delivered: bool = False
    ) -> list[Delivery]:
        leased = []
        for incoming, outgoing in decision.replies:
            replaces = incoming.message_id if outgoing.edit else None
            shown = bool(owner) and delivered
            delivery = Delivery(self._next_id, key, outgoing, "reply", replaces, delivered=shown)
            until = time.monotonic() + lease_seconds if owner and not shown else 0.0
            if shown:
                self._outbox[self._next_id] = _Queued(delivery, state=base.DeliveryOutcome.SENT)
            else:
                self._outbox[self._next_id] = _Queued(delivery, owner=owner, lease_until=until)
            self._next_id += 1
            if owner:
                leased.append(delivery)
        return leased

    async def claim_deliveries(self, owner: str, limit: int, lease_seconds: float) -> list[Delivery]:
        now = time.monotonic()
        first_per_chat: dict[ChatKey, _Queued] = {}
        for number in sorted(self._outbox):
            queued = self._outbox[number]
            if queued.state == "pending":
                first_per_chat.setdefault(queued.delivery.chat, queued)
        due = [q for q in first_per_chat.values() if q.not_before <= now and (not q.owner or q.lease_until <= now)]
        due.sort(key=lambda q: (q.delivery.kind != "reply", q.delivery.id))
        claimed = []
        for queued in due[:limit]:
            queued.owner, queued.lease_until = owner, now + lease_seconds
            claimed.append(dataclasses.replace(queued.delivery, age_seconds=now - queued.created))
        return claimed

    async def finish_deliveries(self, ids: Sequence[int], outcome: str, error: str | None = None) -> None:
        for number in ids:
            queued = self._outbox.get(number)
            if queued is None:
                continue
            queued.state, queued.owner, queued.error = outcome, None, error
            chat = self._chats.get(queued.delivery.chat)
            if outcome == base.DeliveryOutcome.FAILED and queued.delivery.kind == "reply" and chat is not None:
                chat.undelivered = True

    async def retry_delivery(self, delivery_id: int, delay_seconds: float, error: str) -> None:
        queued = self._outbox.get(delivery_id)
        if queued is not None:
            queued.owner, queued.error = None, error
            queued.not_before = time.monotonic() + delay_seconds
            queued.delivery = dataclasses.replace(queued.delivery, attempts=queued.delivery.attempts + 1)

    async def delivery_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for queued in self._outbox.values():
            counts[queued.state] = counts.get(queued.state, 0) + 1
        return counts

    async def delivered(self, key: ChatKey, after: int = 0, limit: int = 100) -> list[Delivery]:
        found = [
            q.delivery
            for number, q in sorted(self._outbox.items())
            if number > after and q.state == base.DeliveryOutcome.SENT and q.delivery.chat == key
        ]
        return found[:limit]

    async def prune(self, older_than_seconds: float) -> None:
        cutoff = time.monotonic() - older_than_seconds
        for updates in self._updates.values():
            for number in [n for n, u in updates.items() if u.applied and u.received < cutoff]:
                del updates[number]
        for number in [n for n, q in self._outbox.items() if q.state != "pending" and q.created < cutoff]:
            del self._outbox[number]

    async def roles_of(self, user_id: int) -> frozenset[str]:
        return frozenset(role for holder, role in self._roles if holder == user_id)

    async def list_roles(self) -> list[base.RoleGrant]:
        return [self._roles[k] for k in sorted(self._roles)]

    async def change_roles(
        self, changes: Sequence[base.RoleChange], actor: str, replies: base.Replies | None = None
    ) -> tuple[list[bool], list[Delivery]]:
        moment = datetime.now(UTC)
        changed = []
        for change in changes:
            key = (change.user_id, change.role)
            did = (key not in self._roles) if change.grant else (key in self._roles)
            if change.grant and did:
                self._roles[key] = base.RoleGrant(change.user_id, change.role, actor, moment)
            elif did:
                del self._roles[key]
            if did:
                detail = {"user_id": change.user_id, "role": change.role}
                self._audit.append(base.AuditEntry(moment, actor, "grant" if change.grant else "revoke", detail))
            changed.append(did)
        if replies is None or not replies.messages:
            return changed, []
        chat = replies.messages[0][0].chat
        backlog = any(q.state == "pending" and q.delivery.chat == chat for q in self._outbox.values())
        decision = Decision(replies=list(replies.messages))
        return changed, self._enqueue(chat, decision, None if backlog else replies.owner, replies.lease_seconds)

    async def audit(self, actor: str, action: str, detail: dict) -> None:
        self._audit.append(base.AuditEntry(datetime.now(UTC), actor, action, dict(detail)))

    async def audit_log(self, since: datetime | None = None) -> list[base.AuditEntry]:
        return [entry for entry in self._audit if since is None or entry.at >= since]

    async def close(self) -> None:
        pass
