"""The Telegram channel on python-telegram-bot: Update -> Incoming, Outgoing -> messages, one wiring place."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import html
import logging
import os
from collections.abc import Awaitable, Mapping
from datetime import timedelta
from typing import Any

import aiohttp
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, BaseUpdateProcessor, ContextTypes, TypeHandler

from bot.channels.aiohttp_request import CONNECT_TIMEOUT, AiohttpRequest
from bot.dispatcher import Dispatcher
from bot.messages import Attachment, ChatKey, Delivery, FileTooLarge, Incoming, Outgoing
from bot.outbox import Blocked, Deliverer, Rejected, RetryLater
from bot.store.base import NOTICE_ROLES
from handlers.admin import ADMIN_COMMANDS
from handlers.official import OFFICIAL_COMMANDS
from handlers.texts import ADMIN_MENU, COMMANDS, language_for, t

log = logging.getLogger(__name__)

CHANNEL = "telegram"
BLOCKED_STATUSES = {"kicked", "left", "banned"}


# Opt in to python-telegram-bot's coming durations as timedelta (its default in the next major version);
# otherwise every 429 answer raises a deprecation warning where PTB builds the RetryAfter error.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def _retry_seconds(error: RetryAfter) -> float:
    delay = error.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


class TelegramSender:
    """Shows one outbox message in a Telegram chat, telling the deliverer what a failure means."""

    def __init__(self, bot: Bot):
        self.bot = bot

    async def send(self, delivery: Delivery) -> None:
        outgoing = delivery.outgoing
        if outgoing.document is not None:
            await self._send_document(delivery)
            return
        if not outgoing.text:
            return  # a toast only: it answered the button press when the update came in
        try:
            if outgoing.edit and delivery.replaces is not None and await self._edit(delivery):
                return
            # A notice's HTML was checked to fit in one message when it was written.
            pieces = [outgoing.text] if outgoing.html else [html.escape(p) for p in split_message(outgoing.text)]
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                await self.bot.send_message(
                    delivery.chat.id, piece, parse_mode=ParseMode.HTML, reply_markup=markup(outgoing) if last else None
                )
        except TelegramError as exc:
            raise _delivery_error(exc) from None

    async def _send_document(self, delivery: Delivery) -> None:
        """Uploads the file (sendDocument) with the text as its caption, or after the text when that is too long
        for a caption."""
        outgoing, chat_id = delivery.outgoing, delivery.chat.id
        document = outgoing.document
        caption = _caption(outgoing)
        try:
            if caption is None:
                for piece in split_message(outgoing.text):
                    await self.bot.send_message(chat_id, html.escape(piece), parse_mode=ParseMode.HTML)
            await self.bot.send_document(
                chat_id,
                InputFile(document.data, filename=document.name),
                caption=caption,
                parse_mode=ParseMode.HTML if caption else None,
                reply_markup=markup(outgoing),
            )
        except TelegramError as exc:
            raise _delivery_error(exc) from None

    def messages(self, outgoing: Outgoing) -> int:
        if outgoing.document is not None:
            return 1 if _caption(outgoing) is not None or not outgoing.text else 1 + len(split_message(outgoing.text))
        if not outgoing.text:
            return 0  # a toast only
        return 1 if outgoing.html or outgoing.edit else len(split_message(outgoing.text))

    async def check(self) -> None:
        try:
            await self.bot.get_me()
        except TelegramError as exc:
            raise _delivery_error(exc) from None

    async def _edit(self, delivery: Delivery) -> bool:
        """Replaces the pressed message; False when it cannot be edited (too old, deleted) so a new one is sent."""
        outgoing = delivery.outgoing
        try:
            await self.bot.edit_message_text(
                html.escape(split_message(outgoing.text)[0]),
                chat_id=delivery.chat.id,
                message_id=delivery.replaces,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(outgoing),
            )
        except BadRequest as exc:
            return "not modified" in str(exc).lower()  # a double press: the message already shows this
        return True


def _caption(outgoing: Outgoing) -> str | None:
    """A document's text as its caption (HTML), or None when it is too long for one and goes as messages first."""
    caption = outgoing.text if outgoing.html else html.escape(outgoing.text)
    return caption if len(caption) <= MessageLimit.CAPTION_LENGTH else None


def _delivery_error(exc: TelegramError) -> Exception:
    """What a failed call means for the outbox: slow down, blocked, refused for good, or try again later."""
    if isinstance(exc, RetryAfter):
        return RetryLater("Telegram asks to slow down (429)", _retry_seconds(exc))
    if isinstance(exc, Forbidden):
        return Blocked(exc.message)
    if isinstance(exc, BadRequest):
        return Rejected(exc.message)
    return RetryLater(f"{type(exc).__name__}: {exc.message}", maybe_sent=_maybe_sent(exc))


def _maybe_sent(exc: TelegramError) -> bool:
    """Whether the request may have reached Telegram: a timeout, or a connection lost after it was made. A 5xx
    answer (raised by PTB itself, with no cause) and a connection never made mean it did not."""
    if isinstance(exc, TimedOut):
        return True
    cause = exc.__cause__
    if not isinstance(exc, NetworkError) or cause is None:
        return False
    return not isinstance(cause, (aiohttp.ClientConnectorError, *CONNECT_TIMEOUT))


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handles updates of different chats concurrently and those of one chat strictly in arrival order."""

    def __init__(self, max_concurrent_updates: int):
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock, users = self._locks.get(chat.id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[chat.id] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[chat.id]
            if users <= 1:
                del self._locks[chat.id]  # idle chats keep no lock, so memory stays flat
            else:
                self._locks[chat.id] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def chat_key(chat_id: int) -> ChatKey:
    return ChatKey(CHANNEL, chat_id)


# What a message may carry instead of text, named as the handlers word it; the first one present is named.
_ATTACHMENTS = (
    "sticker", "photo", "video", "animation", "voice", "video_note", "audio", "document", "location", "venue",
    "contact", "poll", "dice", "game", "invoice", "story",
)  # fmt: skip
_GROUP_TYPES = ("group", "supergroup")


def to_incoming(update: Update, bot_username: str | None = None) -> Incoming | None:
    """The channel-neutral view of a Telegram update, or None for updates the conversation does not answer.

    A caption is read as text; a message with nothing readable says what it carried instead; an edited message
    is marked as such. In a group only commands meant for this bot come through (the interview runs in private).
    """
    chat = update.effective_chat
    if chat is None or chat.type == "channel":
        return None
    user = update.effective_user
    fields = {
        "language_code": user.language_code if user else None,
        "update_id": update.update_id,
        "user_id": user.id if user else None,
    }
    key = chat_key(chat.id)
    in_group = chat.type in _GROUP_TYPES
    query = update.callback_query
    if query is not None:
        pressed = query.message.message_id if query.message is not None else None
        return Incoming(key, callback_data=query.data or "", message_id=pressed, in_group=in_group, **fields)
    message = update.message or update.edited_message
    if message is None:
        return None
    edited = update.edited_message is not None
    document = message.document
    if document is not None and not in_group and (document.file_name or "").lower().endswith((".yaml", ".yml")):
        # A rule file for the admins' handler, whatever its caption says.
        attachment = Attachment(document.file_name or "", document.file_size, document.file_id)
        return Incoming(key, unreadable="document", edited=edited, attachment=attachment, **fields)
    text = (message.text if message.text is not None else message.caption or "").strip()
    if text.startswith("/"):
        words = text[1:].split(maxsplit=1)
        command, _, addressee = (words[0] if words else "").partition("@")
        if addressee and bot_username and addressee.casefold() != bot_username.casefold():
            return None  # /start@otherbot
        arguments = words[1] if len(words) > 1 else ""
        return Incoming(key, arguments, command.lower(), edited=edited, in_group=in_group, **fields)
    if in_group:
        return None  # talk between people in a group is not for the bot
    if text:
        return Incoming(key, text=text, edited=edited, **fields)
    carried = next((name for name in _ATTACHMENTS if getattr(message, name, None)), "other")
    document = message.document
    attachment = (
        Attachment(document.file_name or "", document.file_size, document.file_id) if document is not None else None
    )
    return Incoming(key, unreadable=carried, edited=edited, attachment=attachment, **fields)


async def fetch_file(bot: Bot, attachment: Attachment, limit: int) -> bytes:
    """A file's contents; raises FileTooLarge past `limit` bytes (Telegram's size, then what arrives)."""
    if attachment.size is not None and attachment.size > limit:
        raise FileTooLarge(attachment.size)
    file = await bot.get_file(attachment.ref)
    if file.file_size is not None and file.file_size > limit:
        raise FileTooLarge(file.file_size)
    data = bytes(await file.download_as_bytearray())
    if len(data) > limit:
        raise FileTooLarge(len(data))
    return data


def split_message(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Plain text cut at line ends into pieces whose HTML-escaped form fits Telegram's limit."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(html.escape(candidate)) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        # A single line longer than the limit is cut by characters, never inside an escape.
        while len(html.escape(line)) > limit:
            cut = limit
            while len(html.escape(line[:cut])) > limit:
                cut -= max(1, (len(html.escape(line[:cut])) - limit) // 5)
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def coalesce(messages: list[Outgoing]) -> list[Outgoing]:
    """Joins a text-only message to the one after it (one Bot API call instead of two) when both fit in one."""
    joined: list[Outgoing] = []
    for message in messages:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and previous.text
            and message.text
            and not previous.buttons
            and not previous.edit
            and not message.edit
            and previous.document is None
            and message.document is None
            and len(html.escape(f"{previous.text}\n\n{message.text}")) <= MessageLimit.MAX_TEXT_LENGTH
        ):
            joined[-1] = dataclasses.replace(
                message, text=f"{previous.text}\n\n{message.text}", notice=previous.notice or message.notice
            )
        else:
            joined.append(message)
    return joined


def markup(outgoing: Outgoing) -> InlineKeyboardMarkup | None:
    if not outgoing.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in outgoing.buttons]
    )


class TelegramChannel:
    """Translates Telegram updates for the dispatcher and hands its replies to the deliverer."""

    def __init__(self, dispatcher: Dispatcher, deliverer: Deliverer | None = None):
        self.dispatcher, self.deliverer = dispatcher, deliverer

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Hands the update to the dispatcher, answers a pressed button, then sends what it replies."""
        if update.my_chat_member is not None:
            await self._track_membership(update)
            return
        incoming = to_incoming(update, context.bot.username)
        if incoming is None:
            if update.callback_query is not None:
                # A button on a message sent in inline mode: no chat to answer in, but the spinner must stop.
                await _quietly(update.callback_query.answer())
            return
        deliveries = await self.dispatcher.receive(incoming, functools.partial(fetch_file, context.bot))
        if not deliveries:
            # The replies wait behind an earlier message of the chat (or another process took the turn): the
            # worker sends them in order as soon as that one is out.
            self.deliverer.wake()
        if incoming.command in ("grant", "revoke"):
            await self._refresh_menus(context.application, incoming)
        query = update.callback_query
        if query is not None:
            # The button's spinner stops independently of the reply, so both go out at once.
            notice = next((d.outgoing.notice for d in deliveries if d.outgoing.notice), None)
            answered = asyncio.ensure_future(_quietly(query.answer(text=notice)))
            await self.deliverer.send_now(deliveries)
            await answered
        else:
            await self.deliverer.send_now(deliveries)

    async def _refresh_menus(self, application: Application, incoming: Incoming) -> None:
        """Role holders see their commands in their menu; someone who lost every role no longer does."""
        holders = await self.dispatcher.role_holders()
        await register_commands(application, holders)
        words = incoming.text.split()
        if incoming.command == "revoke" and words and words[0].isdigit() and int(words[0]) not in holders:
            for code in (None, "en"):
                scope = BotCommandScopeChat(int(words[0]))
                await _quietly(application.bot.delete_my_commands(scope=scope, language_code=code))

    async def _track_membership(self, update: Update) -> None:
        member = update.my_chat_member
        if member.new_chat_member.status in BLOCKED_STATUSES:
            await self.dispatcher.chat_blocked(chat_key(member.chat.id))
        else:
            await self.dispatcher.chat_unblocked(chat_key(member.chat.id))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Logs an unexpected error with the update id (never the token) and apologises to the chat."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed: %r", update_id, context.error, exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            user = update.effective_user
            language = language_for(user.language_code if user else None)
            if update.callback_query is not None:
                await _quietly(update.callback_query.answer())
            await _quietly(context.bot.send_message(update.effective_chat.id, t("sorry", language)))


async def _quietly(call: Awaitable[Any]) -> Any:
    """Runs a Telegram call whose failure must not fail the update (an old message, an expired button)."""
    try:
        return await call
    except (BadRequest, TelegramError) as exc:
        log.info("ignored Telegram error: %s", exc)
        return None


async def register_commands(application: Application, holders: Mapping[int, frozenset[str]] | None = None) -> None:
    """The command menu per language: Chinese by default, English for English clients. A role holder's private
    chat also lists the commands of its roles (officials: notices; admins: notices and roles), which nobody else
    sees."""
    for code, language in ((None, "zh-Hans"), ("en", "en")):
        await application.bot.set_my_commands(
            _menu(COMMANDS, language), scope=BotCommandScopeDefault(), language_code=code
        )
        for user_id, roles in (holders or {}).items():
            menu = {**COMMANDS, **{name: texts for name, texts in ADMIN_MENU.items() if _may_use(name, roles)}}
            await _quietly(
                application.bot.set_my_commands(
                    _menu(menu, language), scope=BotCommandScopeChat(user_id), language_code=code
                )
            )


def _may_use(command: str, roles: frozenset[str]) -> bool:
    if command in ADMIN_COMMANDS:
        return "admin" in roles
    return command in OFFICIAL_COMMANDS and bool(roles & NOTICE_ROLES)


def _menu(commands: dict[str, dict[str, str]], language: str) -> list[BotCommand]:
    return [BotCommand(name, texts.get(language, texts["zh-Hans"])) for name, texts in commands.items()]


def file_base_url(base_url: str) -> str:
    """Where a Bot API server serves files, from where it takes methods ("…/bot" → "…/file/bot")."""
    head, found, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot" if found else f"{base_url.rstrip('/')}/file/bot"


def build_application(
    token: str,
    channel: TelegramChannel,
    base_url: str = "https://api.telegram.org/bot",
    webhook: bool = False,
    max_concurrent_updates: int = 256,
) -> Application:
    """The one place that creates the Application and adds every handler."""
    builder = (
        Application.builder()
        .token(token)
        .base_url(base_url)
        # Files are fetched beside the methods: https://api.telegram.org/file/bot<token>/<path>.
        .base_file_url(file_base_url(base_url))
        .concurrent_updates(PerChatUpdateProcessor(max_concurrent_updates))
        .request(AiohttpRequest(connection_pool_size=max_concurrent_updates))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
    )
    if webhook:
        builder = builder.updater(None)
    application = builder.build()
    application.add_handler(TypeHandler(Update, channel.on_update))
    application.add_error_handler(channel.on_error)
    return application
