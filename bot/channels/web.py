"""The web chat on aiohttp: JSON requests become Incoming values, the chat's delivered Outgoing values become JSON.

A browser holds a random session token (a cookie, or `Authorization: Bearer …` for other front ends); the chat
id is a hash of it, so ids cannot be guessed and no table of sessions is needed. Updates go through the same
dispatcher as Telegram's, and replies come out of the same outbox: delivering to a web chat means making the
message available, and the browser reads what was delivered to its chat (the reply to a request at once, later
messages such as notices through a long poll). The conversation lives in the store, so it survives a reload and
a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import re
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from importlib import resources
from typing import Any

from aiohttp import web

from bot import metrics
from bot.channels.http import BadBody, read_json, refuse
from bot.dispatcher import Dispatcher
from bot.messages import ChatKey, Delivery, Document, Incoming, Outgoing
from bot.outbox import Deliverer

log = logging.getLogger(__name__)

CHANNEL = "web"
# Telegram's limit on a message, so an answer that fits one channel fits the other.
MAX_TEXT_CHARS = 4096
# 4,096 characters written as JSON \u escapes (24 KiB) and the rest of a request.
MAX_BODY_BYTES = 32 * 1024
MAX_BUTTON_BYTES = 64  # as on Telegram: the handlers' button data fits in this
LONG_POLL_SECONDS = 25.0  # the longest a request waits for messages (under common proxies' 30 s timeouts)
REPLY_WAIT_SECONDS = 10.0  # how long a message waits for replies that another worker delivers
RECHECK_SECONDS = 3.0  # how often a waiting request reads the store (messages another process delivered)
MESSAGES_PER_READ = 100
SESSION_COOKIE = "incentive_bot_session"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43,128}")
_COMMAND = re.compile(r"[A-Za-z0-9_]{1,32}")
_MAX_MESSAGE_ID = 2**63 - 1
_BODY_FIELDS = {"text", "command", "button", "message_id", "after"}
_PLAIN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")
PAGE = "webpage"
# The page's files: name → content type. Only these are served, so no path from a request reaches the disk.
ASSETS = {
    "chat.js": "text/javascript; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
    "openapi.json": "application/json",
}
# Everything the page uses comes from this server: no inline script, no other origin.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def new_token() -> str:
    """A session token: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def chat_of(token: str) -> ChatKey:
    """The chat a session token names: the first 7 bytes of its BLAKE2b hash, a positive 56-bit id."""
    digest = hashlib.blake2b(token.encode("ascii"), digest_size=7).digest()
    return ChatKey(CHANNEL, int.from_bytes(digest, "big"))


class Arrivals:
    """Wakes the requests of a chat waiting in this process when a message is delivered to it."""

    def __init__(self) -> None:
        self._events: dict[ChatKey, tuple[asyncio.Event, int]] = {}

    def arrived(self, chat: ChatKey) -> None:
        event, _ = self._events.get(chat, (None, 0))
        if event is not None:
            event.set()

    @contextlib.contextmanager
    def watch(self, chat: ChatKey) -> Iterator[asyncio.Event]:
        """An event set when a message arrives for the chat while the block runs (watch before reading, so a
        message delivered between the read and the wait is not missed)."""
        event, watchers = self._events.get(chat, (None, 0))
        if event is None or event.is_set():
            event = asyncio.Event()
        self._events[chat] = (event, watchers + 1)
        try:
            yield event
        finally:
            current, watchers = self._events.get(chat, (None, 1))
            if watchers <= 1:
                self._events.pop(chat, None)  # idle chats keep nothing
            else:
                self._events[chat] = (current, watchers - 1)


class WebSender:
    """Delivers to web chats: the message is marked delivered in the outbox, where its chat's requests read it;
    those waiting in this process are woken. It cannot fail, so the outbox never retries a web message, and a
    reply to a request is stored delivered by its turn (the Dispatcher's `shown_from_outbox`)."""

    def __init__(self, arrivals: Arrivals):
        self.arrivals = arrivals

    async def send(self, delivery: Delivery) -> None:
        self.arrivals.arrived(delivery.chat)

    async def check(self) -> None:
        return None

    def messages(self, outgoing: Outgoing) -> int:
        return 1 if outgoing.text else 0


class SessionLimiter:
    """A token bucket per session: `rate` requests a second, in bursts of up to `burst`; none when rate is 0."""

    MAX_SESSIONS = 50_000  # buckets kept at once; full ones (idle sessions) are dropped first

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self._buckets: dict[object, tuple[float, float]] = {}

    def take(self, key: object) -> float:
        """Takes one request from the key's bucket: 0 when allowed, else the seconds until one is."""
        if not self.rate:
            return 0.0
        moment = time.monotonic()
        tokens, since = self._buckets.get(key, (self.burst, moment))
        tokens = min(self.burst, tokens + (moment - since) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, moment)
            return (1 - tokens) / self.rate
        if len(self._buckets) >= self.MAX_SESSIONS and key not in self._buckets:
            self._forget_idle(moment)
        self._buckets[key] = (tokens - 1, moment)
        return 0.0

    def _forget_idle(self, moment: float) -> None:
        full = [
            k for k, (tokens, since) in self._buckets.items() if tokens + (moment - since) * self.rate >= self.burst
        ]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]


class BadRequest(Exception):
    """A request the API refuses, with the status and the reason given back."""

    def __init__(self, status: int, error: str, headers: dict[str, str] | None = None):
        super().__init__(error)
        self.status, self.error, self.headers = status, error, headers


def file_url(message_id: int) -> str:
    """Where the file a message carries is downloaded: only with the session of the chat the message is in."""
    return f"/api/messages/{message_id}/file"


def message_json(delivery: Delivery) -> dict[str, Any]:
    """A delivered message as the API shows it (see openapi.json: Message)."""
    outgoing = delivery.outgoing
    document = outgoing.document
    return {
        "id": delivery.id,
        "kind": delivery.kind,
        "text": outgoing.text,
        "html": outgoing.html,
        "buttons": [[{"label": b.text, "data": b.data} for b in row] for row in outgoing.buttons],
        "replaces": delivery.replaces if outgoing.edit else None,
        "notice": outgoing.notice,
        "question": outgoing.question.to_json() if outgoing.question is not None else None,
        "file": None
        if document is None
        else {"name": document.name, "media_type": document.media_type, "url": file_url(delivery.id)},
    }


def download_headers(document: Document) -> dict[str, str]:
    """Headers that make a browser save the file under its name rather than show it."""
    plain = _PLAIN_FILE_NAME.sub("_", document.name) or "file"
    quoted = urllib.parse.quote(document.name, safe="")
    media_type = document.media_type
    if media_type.startswith("text/") and "charset" not in media_type:
        media_type += "; charset=utf-8"
    return {
        "Content-Type": media_type,
        # The plain name for old clients, the exact one (RFC 6266) for the rest.
        "Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quoted}",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _language(request: web.Request) -> str | None:
    """The browser's first language (Accept-Language), which a new chat starts in."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return first[:35] or None


def incoming_from(chat: ChatKey, data: Any, language: str | None) -> Incoming:
    """The Incoming a message request describes; raises BadRequest naming what is wrong with it."""
    if not isinstance(data, dict):
        raise BadRequest(400, 'the body must be a JSON object such as {"text": "长春"}')
    unknown = sorted(set(data) - _BODY_FIELDS)
    if unknown:
        raise BadRequest(400, f"unknown field {unknown[0][:40]!r}; a message has text, command or button")
    given = [name for name in ("text", "command", "button") if name in data]
    if len(given) != 1:
        raise BadRequest(400, "a message has exactly one of text, command or button")
    for name in ("text", "command", "button"):
        if name in data and not isinstance(data[name], str):
            raise BadRequest(400, f"{name} must be a string")
    if "after" in data:
        _whole_number(data["after"], "after")
    if "button" in data:
        return _pressed(chat, data, language)
    if "command" in data:
        command = data["command"].removeprefix("/")
        if not _COMMAND.fullmatch(command):
            raise BadRequest(400, "command must be a command name such as start, results or forget")
        return Incoming(chat, command=command.lower(), language_code=language)
    text = data["text"].strip()
    if not text:
        raise BadRequest(400, "text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequest(400, f"text is longer than {MAX_TEXT_CHARS:,} characters")
    if text.startswith("/"):
        words = text[1:].split(maxsplit=1)
        command = words[0] if words else ""
        if _COMMAND.fullmatch(command):
            return Incoming(chat, words[1] if len(words) > 1 else "", command.lower(), language_code=language)
    return Incoming(chat, text=text, language_code=language)


def _pressed(chat: ChatKey, data: dict[str, Any], language: str | None) -> Incoming:
    button = data["button"]
    if not button or len(button.encode("utf-8")) > MAX_BUTTON_BYTES:
        raise BadRequest(400, f"button must be a button's data, 1-{MAX_BUTTON_BYTES} bytes")
    message_id = data.get("message_id")
    if message_id is not None:
        _whole_number(message_id, "message_id")
    return Incoming(chat, callback_data=button, message_id=message_id, language_code=language)


def _whole_number(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_MESSAGE_ID:
        raise BadRequest(400, f"{name} must be a whole number of at least 0")
    return value


class WebChannel:
    """The web chat's routes: sessions, messages in and out, the page and its files, the API's description."""

    def __init__(self, dispatcher: Dispatcher, deliverer: Deliverer, arrivals: Arrivals, rate: float = 5.0):
        self.dispatcher, self.deliverer, self.arrivals = dispatcher, deliverer, arrivals
        self.sessions = SessionLimiter(rate, burst=4 * rate)
        # New sessions per client address: enough for a household behind one address, not for a flood.
        self.new_sessions = SessionLimiter(rate, burst=4 * rate)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.page)
        app.router.add_get("/assets/{name}", self.asset)
        app.router.add_get("/api/openapi.json", self.openapi)
        app.router.add_post("/api/sessions", self.create_session)
        app.router.add_post("/api/messages", self.post_message)
        app.router.add_get("/api/messages", self.get_messages)
        app.router.add_get("/api/messages/{message_id}/file", self.get_file)

    # The page

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=_page_file("index.html"), content_type="text/html", charset="utf-8", headers=_PAGE_HEADERS
        )

    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ASSETS or name == "openapi.json":
            raise BadRequest(404, "no such file")
        return web.Response(body=_page_file(name), headers={**_PAGE_HEADERS, "Content-Type": ASSETS[name]})

    async def openapi(self, request: web.Request) -> web.Response:
        return web.Response(body=_page_file("openapi.json"), headers={"Content-Type": ASSETS["openapi.json"]})

    # The API

    async def create_session(self, request: web.Request) -> web.Response:
        """A new session: its token in the body (for API clients) and in an HttpOnly cookie (for the page)."""
        self._limit(self.new_sessions, request.remote)
        token = new_token()
        response = web.json_response({"token": token}, status=201)
        response.set_cookie(
            SESSION_COOKIE, token, max_age=365 * 24 * 3600, path="/", httponly=True, samesite="Strict",
            secure=request.secure,
        )  # fmt: skip
        return response

    async def post_message(self, request: web.Request) -> web.Response:
        """Applies a text, command or button press to the chat and answers with the replies it was given."""
        chat = self._chat(request)
        self._limit(self.sessions, chat)
        try:
            data = await read_json(request, MAX_BODY_BYTES)
        except BadBody as exc:
            raise BadRequest(exc.status, exc.error) from None
        incoming = incoming_from(chat, data, _language(request))
        deliveries = await self.dispatcher.receive(incoming)
        if deliveries:
            await self.deliverer.send_now(deliveries)
            self.arrivals.arrived(chat)  # the session's other tabs
        else:
            # The replies wait behind an earlier message, or another process took the turn: they come out of the
            # outbox through the worker.
            self.deliverer.wake()
            deliveries = await self._delivered(chat, data.get("after", 0), REPLY_WAIT_SECONDS)
        return web.json_response({"messages": [message_json(d) for d in deliveries]})

    async def get_messages(self, request: web.Request) -> web.Response:
        """The messages delivered to the chat after `after`, waiting up to `wait` seconds for the first one."""
        chat = self._chat(request)
        self._limit(self.sessions, chat)
        after = _query_number(request, "after", 0, _MAX_MESSAGE_ID)
        wait = _query_number(request, "wait", 0, LONG_POLL_SECONDS)
        deliveries = await self._delivered(chat, after, wait)
        return web.json_response({"messages": [message_json(d) for d in deliveries]})

    async def get_file(self, request: web.Request) -> web.Response:
        """The file a message of the session's chat carries (the calendar), as a download.

        The message id alone is not enough: it must be a message of the chat the session token names, so a
        session asking for another chat's file is told there is none, as for an id nobody used.
        """
        chat = self._chat(request)
        self._limit(self.sessions, chat)
        raw = request.match_info["message_id"]
        if not raw.isascii() or not raw.isdigit() or int(raw) > _MAX_MESSAGE_ID:
            raise BadRequest(400, "the message id in the path must be a whole number, as in a message's file url")
        message_id = int(raw)
        found = await self.dispatcher.store.delivered(chat, message_id - 1, 1)
        document = found[0].outgoing.document if found and found[0].id == message_id else None
        if document is None:
            raise BadRequest(404, "this chat has no such file (files are kept an hour): send /calendar for a new one")
        return web.Response(body=document.data, headers=download_headers(document))

    async def _delivered(self, chat: ChatKey, after: int, wait: float) -> list[Delivery]:
        deadline = time.monotonic() + wait
        with self.arrivals.watch(chat) as event:
            while True:
                found = await self.dispatcher.store.delivered(chat, after, MESSAGES_PER_READ)
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                woken = event.is_set()
                event.clear()
                # Woken: the message is being recorded as delivered, so look again soon. Otherwise another process
                # may deliver it, which nothing here hears of: look again now and then.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(left, 0.05 if woken else RECHECK_SECONDS))

    def _chat(self, request: web.Request) -> ChatKey:
        authorization = request.headers.get("Authorization", "")
        scheme, _, bearer = authorization.partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else request.cookies.get(SESSION_COOKIE, "")
        if not token:
            raise BadRequest(401, "no session: create one with POST /api/sessions")
        if not _TOKEN.fullmatch(token):
            raise BadRequest(401, "not a session token: create a session with POST /api/sessions")
        return chat_of(token)

    @staticmethod
    def _limit(limiter: SessionLimiter, key: object) -> None:
        wait = limiter.take(key)
        if wait:
            retry = max(1, int(wait + 0.999))
            raise BadRequest(429, f"too many requests; try again in {retry} s", {"Retry-After": str(retry)})


def _query_number(request: web.Request, name: str, default: float, highest: float) -> Any:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) > highest:
        raise BadRequest(400, f"{name} must be a whole number from 0 to {int(highest)}")
    return int(raw)


@functools.cache
def _page_file(name: str) -> bytes:
    """A file of the page, shipped inside the package (bot/webpage), read once."""
    return resources.files("bot").joinpath(PAGE, name).read_bytes()


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every refusal is a small JSON body that says why (unknown routes and methods too); an unexpected error is
    logged and answered 500 without a stack trace."""
    try:
        return await handler(request)
    except BadRequest as exc:
        return refuse(exc.status, exc.error, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error = {404: "no such route", 405: f"{request.method} is not allowed here"}.get(exc.status, exc.reason)
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return refuse(exc.status, error, headers)
    except Exception:
        metrics.ERRORS.labels("http").inc()
        log.exception("%s %s failed", request.method, request.path)
        return refuse(500, "something went wrong on our side; please try again")
