"""What the bot keeps per chat, and the small storage interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from bot.messages import ChatKey


@dataclass
class ChatState:
    """Everything stored about one chat: its interview and its settings. Plain data, JSON-serialisable.

    `new` is not stored: the store reports whether the chat had any state before this load.
    """

    key: ChatKey
    language: str = "zh-Hans"
    answers: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    current: str | None = None  # the fact whose question is waiting for an answer
    pending_choices: list[str] = field(default_factory=list)  # multi-choice toggles not yet confirmed
    editing: bool = False  # the current question changes an earlier answer: show results after
    subscribed: bool = True  # wants deadline reminders and notices
    active: bool = True  # False once the chat blocked the bot
    version: int = 0  # optimistic-concurrency counter, bumped by every save
    new: bool = field(default=True, compare=False)


class ConcurrentUpdate(Exception):
    """Another process saved this chat since it was read; re-read and apply the update again."""


class ChatStore(ABC):
    """Storage of ChatState by chat id. Implementations: in-memory (tests), SQLAlchemy (SQLite, PostgreSQL)."""

    @abstractmethod
    async def load(self, key: ChatKey) -> ChatState:
        """The chat's state (new=False), or a fresh ChatState(key) (new=True, version 0) when nothing is stored."""

    @abstractmethod
    async def save(self, state: ChatState) -> ChatState:
        """Stores the state if nobody saved since it was loaded (state.version unchanged in storage);
        returns it with version + 1. Raises ConcurrentUpdate otherwise (nothing is written)."""

    @abstractmethod
    async def forget(self, key: ChatKey) -> bool:
        """Deletes everything stored about the chat; True if something was deleted."""

    @abstractmethod
    async def set_active(self, key: ChatKey, active: bool) -> None:
        """Marks a chat as blocked (False) or unblocked (True), creating its row if needed; keeps its answers."""

    @abstractmethod
    async def close(self) -> None:
        """Releases connections."""
