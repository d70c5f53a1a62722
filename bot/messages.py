"""The plain values that cross between channels and handlers: what came in, what goes out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class ChatKey(NamedTuple):
    """Which chat: the channel it is on ("telegram", "web", "terminal") and its id there."""

    channel: str
    id: int

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"


@dataclass(frozen=True)
class Incoming:
    """One thing a person did in a chat: wrote text, sent a command, or pressed a button."""

    chat: ChatKey
    text: str = ""
    command: str | None = None  # "start" for "/start", without the slash or bot name
    callback_data: str | None = None  # the data of a pressed inline button
    language_code: str | None = None  # the client's language (Telegram's language_code)
    update_id: int | None = None


@dataclass(frozen=True)
class Button:
    """An inline button: its label and the data sent back when pressed (at most 64 bytes)."""

    text: str
    data: str


@dataclass(frozen=True)
class Outgoing:
    """One message to show. Text is plain: channels escape it for their markup."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False  # replace the message whose button was pressed, instead of a new one
    notice: str | None = None  # a short toast answering a button press
