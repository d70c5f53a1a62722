"""A ChatStore kept in a dict, with the same versioning rules as the database, for fast tests."""

from __future__ import annotations

import copy
import dataclasses

from bot.messages import ChatKey
from bot.store.base import ChatState, ChatStore, ConcurrentUpdate


class MemoryChatStore(ChatStore):
    """Chat states in process memory; copies go in and out so callers cannot change what is stored."""

    def __init__(self) -> None:
        self._chats: dict[ChatKey, ChatState] = {}

    async def load(self, key: ChatKey) -> ChatState:
        stored = self._chats.get(key)
        return copy.deepcopy(stored) if stored is not None else ChatState(key)

    async def save(self, state: ChatState) -> ChatState:
        # No await between the check and the write, so concurrent tasks cannot interleave here.
        stored = self._chats.get(state.key)
        stored_version = stored.version if stored is not None else 0
        if state.version != stored_version or (stored is not None and state.new):
            raise ConcurrentUpdate(f"chat {state.key} is at version {stored_version}, not {state.version}")
        saved = dataclasses.replace(copy.deepcopy(state), version=state.version + 1, new=False)
        self._chats[state.key] = saved
        return copy.deepcopy(saved)

    async def forget(self, key: ChatKey) -> bool:
        return self._chats.pop(key, None) is not None

    async def set_active(self, key: ChatKey, active: bool) -> None:
        state = self._chats.get(key) or ChatState(key)
        # Bumping the version makes a save based on an older read fail instead of undoing this change.
        self._chats[key] = dataclasses.replace(state, active=active, version=state.version + 1, new=False)

    async def close(self) -> None:
        pass
