"""A ChatStore kept in a dict, with the same versioning rules as the database, for fast tests."""

from __future__ import annotations

import copy
import dataclasses

from bot.store.base import ChatState, ChatStore, ConcurrentUpdate


class MemoryChatStore(ChatStore):
    """Chat states in process memory; copies go in and out so callers cannot change what is stored."""

    def __init__(self) -> None:
        self._chats: dict[int, ChatState] = {}

    async def load(self, chat_id: int) -> ChatState:
        stored = self._chats.get(chat_id)
        return copy.deepcopy(stored) if stored is not None else ChatState(chat_id)

    async def save(self, state: ChatState) -> ChatState:
        # No await between the check and the write, so concurrent tasks cannot interleave here.
        stored = self._chats.get(state.chat_id)
        stored_version = stored.version if stored is not None else 0
        if state.version != stored_version:
            raise ConcurrentUpdate(f"chat {state.chat_id} is at version {stored_version}, not {state.version}")
        saved = dataclasses.replace(copy.deepcopy(state), version=state.version + 1)
        self._chats[state.chat_id] = saved
        return copy.deepcopy(saved)

    async def forget(self, chat_id: int) -> bool:
        return self._chats.pop(chat_id, None) is not None

    async def set_active(self, chat_id: int, active: bool) -> None:
        state = self._chats.get(chat_id) or ChatState(chat_id)
        # Bumping the version makes a save based on an older read fail instead of undoing this change.
        self._chats[chat_id] = dataclasses.replace(state, active=active, version=state.version + 1)

    async def close(self) -> None:
        pass
