"""The plain values that cross between channels and handlers: what came in, what goes out."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple


class ChatKey(NamedTuple):
    """Which chat: the channel it is on ("telegram", "web", "terminal") and its id there."""

    channel: str
    id: int

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"


@dataclass(frozen=True)
class Attachment:
    """A file sent in a chat, as the channel describes it: its name, its size if known, and the channel's handle
    to fetch it by (Telegram's file_id). Only what asks for a file's contents fetches it."""

    name: str
    size: int | None
    ref: str


class FileTooLarge(Exception):
    """A file is larger than the one asking for it reads."""

    def __init__(self, size: int):
        super().__init__(f"{size:,} bytes")
        self.size = size


# Fetches an attachment's contents, at most the given number of bytes (FileTooLarge otherwise).
Fetch = Callable[[Attachment, int], Awaitable[bytes]]


@dataclass(frozen=True)
class Incoming:
    """One thing a person did in a chat: wrote text, sent a command, or pressed a button."""

    chat: ChatKey
    text: str = ""  # what was written; for a command, what follows it ("/grant 42 official": "42 official")
    command: str | None = None  # "start" for "/start", without the slash or bot name
    callback_data: str | None = None  # the data of a pressed inline button
    language_code: str | None = None  # the client's language (Telegram's language_code)
    update_id: int | None = None  # the channel's sequence number: a chat's updates are applied in this order
    message_id: int | None = None  # the message whose button was pressed (replies may replace it)
    unreadable: str | None = None  # what came instead of text or a button (a sticker, a photo …), if anything
    edited: bool = False  # a correction of a message sent earlier
    in_group: bool = False  # sent in a group chat, where the bot only explains where the interview runs
    user_id: int | None = None  # who sent it (Telegram's user id), for the roles of officials and admins
    attachment: Attachment | None = None  # a file sent (a document), beside `unreadable` naming its kind

    def to_json(self) -> dict[str, Any]:
        """The update as the inbox keeps it until it is applied (the chat is stored beside it)."""
        return {name: value for name, value in dataclasses.asdict(self).items() if name != "chat" and value}

    @classmethod
    def from_json(cls, chat: ChatKey, data: dict[str, Any]) -> Incoming:
        """The update as the inbox kept it; fields this version does not know (written by a newer process during a
        rolling deploy) are left out rather than making the chat's updates unreadable."""
        known = {name: value for name, value in data.items() if name in _INCOMING_FIELDS}
        attachment = known.get("attachment")
        if isinstance(attachment, dict):
            known["attachment"] = Attachment(**{k: v for k, v in attachment.items() if k in _ATTACHMENT_FIELDS})
        return cls(chat, **known)


_INCOMING_FIELDS = frozenset(field.name for field in dataclasses.fields(Incoming)) - {"chat"}
_ATTACHMENT_FIELDS = frozenset(field.name for field in dataclasses.fields(Attachment))


@dataclass(frozen=True)
class Button:
    """An inline button: its label and the data sent back when pressed (at most 64 bytes)."""

    text: str
    data: str


@dataclass(frozen=True)
class Document:
    """A file to send with a message: the name it is saved under, its media type, and its contents."""

    name: str
    media_type: str
    data: bytes

    def to_json(self) -> dict[str, str]:
        # The outbox keeps messages as JSON text, which holds no bytes.
        return {"name": self.name, "media_type": self.media_type, "data": base64.b64encode(self.data).decode("ascii")}

    @classmethod
    def from_json(cls, data: Any) -> Document | None:
        """The stored document, or None when the stored form cannot be read (the message still goes out)."""
        try:
            return cls(str(data["name"]), str(data["media_type"]), base64.b64decode(data["data"], validate=True))
        except (KeyError, TypeError, ValueError, binascii.Error):
            return None


@dataclass(frozen=True)
class AskedQuestion:
    """The question a message asks, for front ends that draw their own controls (the web chat, the JSON API).

    `id` is the fact it asks for, `type` its kind (choice, multi_choice, bool, money, rate, number, region),
    `options` the (value, label) pairs a choice offers, `chosen` the multi-choice options toggled so far, and
    `progress` (this question's number, the estimated number of questions in all).
    """

    id: str
    type: str
    options: tuple[tuple[str, str], ...] = ()
    progress: tuple[int, int] = (1, 1)
    chosen: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "options": [{"value": value, "label": label} for value, label in self.options],
            "progress": list(self.progress),
            "chosen": list(self.chosen),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AskedQuestion:
        options = tuple((o["value"], o["label"]) for o in data.get("options", ()))
        number, total = data.get("progress", (1, 1))
        return cls(data["id"], data["type"], options, (number, total), tuple(data.get("chosen", ())))


@dataclass(frozen=True)
class Outgoing:
    """One message to show. Text is plain, and channels escape it for their markup, unless `html` says it is
    Telegram's HTML subset (an official's notice, checked by handlers.markup before it is stored). A `document`
    goes with it as a file (the text is then its caption)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False  # replace the message whose button was pressed, instead of a new one
    notice: str | None = None  # a short toast answering a button press
    html: bool = False
    document: Document | None = None
    question: AskedQuestion | None = None  # the question this message asks, if it asks one

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [[[b.text, b.data] for b in row] for row in self.buttons]
        if self.edit:
            data["edit"] = True
        if self.notice:
            data["notice"] = self.notice
        if self.html:
            data["html"] = True
        if self.document is not None:
            data["document"] = self.document.to_json()
        if self.question is not None:
            data["question"] = self.question.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outgoing:
        """The message as the outbox stored it; rows written before a field existed load without it."""
        buttons = tuple(tuple(Button(text, value) for text, value in row) for row in data.get("buttons", ()))
        document = Document.from_json(data["document"]) if "document" in data else None
        asked = data.get("question")
        question = AskedQuestion.from_json(asked) if isinstance(asked, dict) else None
        return cls(
            data.get("text", ""),
            buttons,
            bool(data.get("edit")),
            data.get("notice"),
            bool(data.get("html")),
            document,
            question,
        )


@dataclass(frozen=True)
class Delivery:
    """One message waiting in the outbox for its chat: what to show, and the message it may replace.

    `kind` is "reply" (to something the contact did; sent first), "notice" or "reminder".
    """

    id: int
    chat: ChatKey
    outgoing: Outgoing
    kind: str = "reply"
    replaces: int | None = None  # the message whose button was pressed, for an Outgoing with edit=True
    attempts: int = 0
    age_seconds: float = 0.0  # how long ago it was put in the outbox
    # Stored as delivered by the transaction that queued it: its channel shows what the outbox holds (the web chat).
    delivered: bool = False
