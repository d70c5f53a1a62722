"""The one update cycle: load the chat's state, let its audience's handler decide, save, and return the replies."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from bot.messages import ChatKey, Incoming, Outgoing
from bot.store.base import ChatState, ChatStore
from bot.store.updates import update_chat

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

    For each Incoming it loads the chat's state, routes it to the handler of its audience, saves the state with
    the version check (applying the update again to a fresh read when another process saved the chat in
    between), deletes everything about the chat when the handler says so, and returns the messages to send.
    """

    def __init__(self, store: ChatStore, enterprise: Handler, route: Callable[[Incoming], Handler] | None = None):
        self.store = store
        self._route = route or (lambda incoming: enterprise)

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        """Applies one update to its chat and returns the replies, in order."""
        handler = self._route(incoming)
        _, reply = await update_chat(self.store, incoming.chat, lambda state: handler.handle(incoming, state))
        if reply.forget:
            await self.store.forget(incoming.chat)
        return list(reply.messages)

    async def chat_blocked(self, chat: ChatKey) -> None:
        """The contact blocked the bot (or left the chat): nothing more is sent there until it comes back."""
        await self.store.set_active(chat, False)
        log.info("chat %s blocked the bot; marked inactive", chat)

    async def chat_unblocked(self, chat: ChatKey) -> None:
        await self.store.set_active(chat, True)
        log.info("chat %s unblocked the bot", chat)
