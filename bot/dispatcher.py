"""The one update cycle: a chat's updates applied in order by its audience's handler, replies put in the outbox."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from typing import Protocol

from bot import metrics
from bot.loading import MAX_RULE_FILE_BYTES
from bot.messages import ChatKey, Delivery, Fetch, FileTooLarge, Incoming, Outgoing
from bot.notices import NoticeDesk
from bot.reloading import Reloader
from bot.store.base import ChatState, ChatStore, Decision, DeliveryOutcome, Replies, Turn
from handlers import official
from handlers.admin import Access, AdminHandler, is_admin_request, reload_message
from handlers.official import NoticeDialogue
from handlers.texts import language_for, t

log = logging.getLogger(__name__)


class Reply(Protocol):
    """What a handler decided: the messages to show, and whether the chat's data must be deleted."""

    messages: list[Outgoing]
    forget: bool


class Handler(Protocol):
    """An audience's handler: decides the reply to one Incoming, changing the chat's state in place; no I/O."""

    def handle(self, incoming: Incoming, state: ChatState) -> Reply: ...


class Dispatcher:
    """Owns the update cycle for every channel, so channels only translate their wire format and deliver.

    Admin commands and officials' questions about stored notices (list, status, cancel) are answered from the
    database without a turn of the chat; the notice dialogue runs in the turn like the interview, and what it
    asks of the database (a preview's recipients, storing the notice) is done after the turn by the NoticeDesk.

    For each Incoming it takes a turn of its chat in the store: under the chat's lock, with the updates of the
    chat that are due in update order (an update that arrives after a later one was applied is put back in
    its place and the later ones applied again), it routes each to the handler of its audience, saves the
    state, deletes everything about the chat when the handler says so, and puts the replies in the outbox in
    the same transaction. It returns the replies the caller may deliver at once.
    """

    def __init__(
        self,
        store: ChatStore,
        enterprise: Handler,
        route: Callable[[Incoming], Handler] | None = None,
        owner: str = "dispatcher",
        lease_seconds: float = 30.0,
        combine: dict[str, Callable[[list[Outgoing]], list[Outgoing]]] | None = None,
        admin: AdminHandler | None = None,
        first_admins: frozenset[int] = frozenset(),
        dialogue: NoticeDialogue | None = None,
        desk: NoticeDesk | None = None,
        reloader: Reloader | None = None,
        shown_from_outbox: frozenset[str] = frozenset(),
    ):
        self.store = store
        self._admin, self._first_admins = admin, first_admins
        self._dialogue, self._desk = dialogue, desk
        self._reloader = reloader
        self._route = route or (lambda incoming: enterprise)
        self.owner, self.lease_seconds = owner, lease_seconds
        # A channel may join a reply's messages into fewer (Telegram: one call instead of two when both fit).
        self._combine = combine or {}
        # Channels that show a chat what the outbox holds (the web chat): delivering there cannot fail, so a turn's
        # replies are stored delivered by the turn's own transaction instead of being marked so by a second write.
        self._shown_from_outbox = shown_from_outbox

    async def receive(self, incoming: Incoming, fetch: Fetch | None = None) -> list[Delivery]:
        """Applies the update (and any earlier ones due) to its chat; returns the replies to deliver now, in order.

        Replies not returned are in the outbox for the delivery worker: they wait behind an earlier message of
        the chat that is still undelivered. `fetch` reads a file sent in the chat (an admin's rule file).
        """
        channel = incoming.chat.channel
        metrics.UPDATES.labels(channel).inc()
        started = time.perf_counter()
        try:
            deliveries = await self._receive(incoming, fetch)
        except Exception:
            metrics.ERRORS.labels("update").inc()
            raise
        metrics.REPLY_SECONDS.labels(channel).observe(time.perf_counter() - started)
        return deliveries

    async def _receive(self, incoming: Incoming, fetch: Fetch | None) -> list[Delivery]:
        if self._admin is not None and is_admin_request(incoming) and not incoming.in_group:
            return await self._privileged(incoming, fetch)
        if self._desk is not None and official.is_status_request(incoming):
            access = Access(await self._roles(incoming.user_id))
            return await self._desk.answer(incoming, access, self._replies)
        access = Access()
        if self._dialogue is not None and (
            incoming.command in official.NOTICE_COMMANDS or (incoming.callback_data or "").startswith("n:")
        ):
            access = Access(await self._roles(incoming.user_id))
        decisions: list[Decision] = []

        def decide(turn: Turn) -> Decision:
            decisions.append(self._decide(turn, access))
            return decisions[-1]

        delivered = incoming.chat.channel in self._shown_from_outbox
        deliveries = await self.store.take_turn(incoming, decide, self.owner, self.lease_seconds, delivered)
        for asked_by, effect in decisions[-1].effects if decisions else ():
            deliveries += await self._carry_out(asked_by, effect)
        return deliveries

    async def _carry_out(self, incoming: Incoming, effect: object) -> list[Delivery]:
        """What the notice dialogue asked of the database; if that fails, the official is told so, not left waiting."""
        if self._desk is None:
            return []
        try:
            return await self._desk.carry_out(incoming, effect, self._replies)
        except Exception:
            log.exception("chat %s: a notice could not be previewed or stored", incoming.chat)
            sorry = Outgoing(t("notice_failed", language_for(incoming.language_code)))
            return await self.store.queue_replies(self._replies(incoming, [sorry]))

    async def _reload(self, actor: str, language: str) -> Outgoing:
        if self._reloader is None:
            return Outgoing(t("reload_unavailable", language))
        return reload_message(await self._reloader.reload(actor), language)

    async def _upload(self, incoming: Incoming, fetch: Fetch | None, actor: str, language: str) -> Outgoing:
        """An admin's rule file: read (within the size limit), checked, and applied or refused with its problems."""
        attachment = incoming.attachment
        if self._reloader is None or fetch is None or attachment is None:
            return Outgoing(t("reload_unavailable", language))
        try:
            data = await fetch(attachment, MAX_RULE_FILE_BYTES)
        except FileTooLarge as exc:
            return Outgoing(t("upload_too_large", language, size=f"{exc.size:,}", limit=f"{MAX_RULE_FILE_BYTES:,}"))
        except Exception:
            log.exception("chat %s: a rule file could not be fetched", incoming.chat)
            return Outgoing(t("upload_unreadable", language))
        return reload_message(await self._reloader.upload(attachment.name, data, actor), language, attachment.name)

    async def _tell(self, versions: tuple[str, str], actor: str, incoming: Incoming, language: str) -> Outgoing:
        """Queues a notice to the contacts whose results the reload from one version to the other changed."""
        if self._reloader is None or self._desk is None:
            return Outgoing(t("reload_unavailable", language))
        changes = await self._reloader.changes(*versions)
        gaining = [change.chat for change in changes or () if change.gained]  # those a new reward may apply to
        if not gaining:
            return Outgoing(t("tell_nobody", language))
        return await self._desk.tell_changed(gaining, versions, actor, language)

    def _replies(self, incoming: Incoming, messages: list[Outgoing]) -> Replies:
        return Replies([(incoming, message) for message in messages], self.owner, self.lease_seconds)

    async def _roles(self, user: int | None) -> frozenset[str]:
        """The user's roles: those stored, and admin for the first admins of the settings."""
        if user is None:
            return frozenset()
        roles = await self.store.roles_of(user)
        return roles | {"admin"} if user in self._first_admins else roles

    async def _privileged(self, incoming: Incoming, fetch: Fetch | None = None) -> list[Delivery]:
        """An admin command: roles looked up, changes made and audited, replies queued, in one transaction.

        It does not touch the chat's interview, so it takes no turn of the chat.
        """
        user = incoming.user_id
        roles = await self._roles(user)
        grants = tuple(await self.store.list_roles()) if incoming.command == "roles" and "admin" in roles else ()
        reply = self._admin.handle(incoming, Access(roles, self._first_admins, grants))
        actor = f"{incoming.chat.channel}:{user}"
        language = language_for(incoming.language_code)
        if reply.reload:
            reply.messages.append(await self._reload(actor, language))
        if reply.upload:
            reply.messages.append(await self._upload(incoming, fetch, actor, language))
        if reply.tell is not None:
            reply.messages.append(await self._tell(reply.tell, actor, incoming, language))
        replies = [(incoming, message) for message in reply.messages]
        changed, deliveries = await self.store.change_roles(
            reply.changes, actor, Replies(replies, self.owner, self.lease_seconds)
        )
        for change, did in zip(reply.changes, changed, strict=True):
            if did:
                log.info("%s %s role %s for user %s", actor, "granted" if change.grant else "revoked", change.role,
                         change.user_id)  # fmt: skip
        return deliveries

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        """For channels that show replies themselves as they come (the terminal): the replies, marked delivered."""
        deliveries = await self.receive(incoming)
        await self.store.finish_deliveries([d.id for d in deliveries], DeliveryOutcome.SENT)
        return [d.outgoing for d in deliveries]

    def _decide(self, turn: Turn, access: Access) -> Decision:
        """Applies each due update in order; runs inside the store's transaction, so it does no I/O."""
        decision = Decision()
        if turn.replayed:
            log.info("chat %s: an earlier update arrived late; %d update(s) applied again", turn.state.key,
                     turn.replayed)  # fmt: skip
        for incoming in turn.updates:
            # Only a numbered update can be rolled back to (an earlier one arriving late); a copy of the state before
            # an unnumbered one (the web chat's, applied as they come) would never be read.
            numbered = incoming.update_id is not None
            decision.states_before.append(copy.deepcopy(turn.state) if numbered else None)
            if self._dialogue is not None and official.is_dialogue(incoming, turn.state):
                reply = self._dialogue.handle(incoming, turn.state, access)
                decision.effects += [(incoming, effect) for effect in reply.effects]
            else:
                reply = self._route(incoming).handle(incoming, turn.state)
            messages = self._combine.get(incoming.chat.channel, list)(list(reply.messages))
            decision.replies += [(incoming, message) for message in messages]
            if reply.forget:
                decision.forget = True
                break
        return decision

    async def admins(self) -> set[int]:
        """Every admin: the first admins of the settings and those granted the role since."""
        return {user for user, roles in (await self.role_holders()).items() if "admin" in roles}

    async def role_holders(self) -> dict[int, frozenset[str]]:
        """Everyone with a role, and their roles (the first admins of the settings included)."""
        holders: dict[int, set[str]] = {user: {"admin"} for user in self._first_admins}
        for grant in await self.store.list_roles():
            holders.setdefault(grant.user_id, set()).add(grant.role)
        return {user: frozenset(roles) for user, roles in holders.items()}

    async def chat_blocked(self, chat: ChatKey) -> None:
        """The contact blocked the bot (or left the chat): nothing more is sent there until it comes back."""
        await self.store.set_active(chat, False)
        log.info("chat %s blocked the bot; marked inactive", chat)

    async def chat_unblocked(self, chat: ChatKey) -> None:
        await self.store.set_active(chat, True)
        log.info("chat %s unblocked the bot", chat)
