"""A local fake Telegram Bot API server that the real python-telegram-bot talks to over HTTP."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
Handler = Callable[[str, JSON, float], Awaitable[Any]]

# PTB sends each parameter as a form field holding its JSON encoding, except plain strings, which go raw.
# These parameters are strings in the Bot API, so they must not be JSON-decoded (a text of "123" stays "123").
_STRING_PARAMS = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "data",
        "description",
        "emoji",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "secret_token",
        "short_description",
        "text",
        "title",
        "url",
    }
)
# What Telegram delivers when the bot never set allowed_updates: everything except these.
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# An inline button without one of these is a plain text button, which Telegram rejects in inline keyboards.
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "callback_game",
        "copy_text",
        "login_url",
        "pay",
        "switch_inline_query",
        "switch_inline_query_chosen_chat",
        "switch_inline_query_current_chat",
        "url",
        "web_app",
    }
)
_MEMBER_STATUSES = frozenset({"member", "kicked", "left"})
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_MAX_TEXT = 4096
_MAX_CALLBACK_DATA = 64
_MAX_POLL_LIMIT = 100
_DEFAULT_BOT_ID = 123456789

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
# What an outage fails unless told otherwise: what the bot sends, not how it receives updates or starts up.
OUTAGE_METHODS = frozenset(
    {"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery"}
)
OUTAGE_KINDS = ("429", "500", "502", "hang", "drop")

# The methods that show a message, which Telegram's send limits (FakeBotApi.limit) count.
_LIMITED_METHODS = frozenset({"sendmessage", "senddocument", "editmessagetext"})
_MAX_CAPTION = 1024

# What Telegram's HTML parse mode accepts (https://core.telegram.org/bots/api#html-style).
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "u",
    }
)
_HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_MARKUP_RE = re.compile(r"[<&]")
# Telegram's parser (tdlib's parse_html) takes these as spaces inside tags, and ends names at them.
_HTML_SPACES = " \t\r\n\v\0"
_HTML_SPACES_RE = re.compile(f"[{_HTML_SPACES}]*")
_HTML_TAG_NAME_RE = re.compile(f"[^{_HTML_SPACES}>]*")
_HTML_ATTRIBUTE_NAME_RE = re.compile(f"[^{_HTML_SPACES}=>]*")
_HTML_NAME_TOKEN_RE = re.compile(r"[A-Za-z0-9.-]*")  # an unquoted attribute value
_HTML_ENTITY_RE = re.compile(r"&(?:#(x[0-9A-Fa-f]*|[0-9]*)|([A-Za-z]*))")

_POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)


class ApiError(Exception):
    """An error answer of the Bot API; the HTTP status equals error_code, as with Telegram."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class Outage:
    """One outage of the fake Bot API: which methods it fails, how, and until when.

    Kinds: "429" answers like Telegram's flood control (parameters.retry_after); "500" and "502" answer with
    that status and Telegram's error body; "hang" takes the request and answers nothing until the outage ends,
    then closes the connection; "drop" closes the connection at once. A failed call is never recorded as sent.
    """

    def __init__(self, kind: str, seconds: float | None, methods: frozenset[str], retry_after: int) -> None:
        self.kind = kind
        self.methods = methods  # lower-case, as calls are matched
        self.retry_after = retry_after
        self.started = time.monotonic()
        self.ended: float | None = None  # time.monotonic() when it ended
        self.failed: list[tuple[str, JSON]] = []  # the calls it failed, as (method, params)
        self._over = asyncio.Event()
        self._timer = asyncio.get_running_loop().call_later(seconds, self.end) if seconds is not None else None

    @property
    def active(self) -> bool:
        return self.ended is None

    def covers(self, method: str) -> bool:
        return self.ended is None and method.lower() in self.methods

    def end(self) -> None:
        """Ends the outage now (it also ends by itself after its duration, if it has one)."""
        if self.ended is None:
            self.ended = time.monotonic()
            if self._timer is not None:
                self._timer.cancel()
            self._over.set()

    async def wait(self) -> None:
        """Returns once the outage has ended."""
        await self._over.wait()

    def error(self) -> ApiError:
        if self.kind == "429":
            description = f"Too Many Requests: retry after {self.retry_after}"
            return ApiError(429, description, {"retry_after": self.retry_after})
        code = int(self.kind)
        return ApiError(code, HTTPStatus(code).phrase)


class _Window:
    """At most `count` calls in any sliding window of `seconds`, kept as the times of the calls let through."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = count
        self.seconds = seconds
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0: it fits now); forgets the calls that left the window."""
        times = self.times
        while times and times[0] <= now - self.seconds:
            times.popleft()
        return times[0] + self.seconds - now if len(times) >= self.count else 0.0

    def take(self, now: float) -> None:
        self.times.append(now)


class _Bucket:
    """A token bucket: `burst` calls at once, refilled at `rate` calls per second."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.counted = 0.0  # when tokens was last brought up to date; a full bucket needs no date

    def wait(self, now: float) -> float:
        tokens = self._tokens(now)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def take(self, now: float) -> None:
        self.tokens = self._tokens(now) - 1
        self.counted = now

    def _tokens(self, now: float) -> float:
        return min(self.burst, self.tokens + (now - self.counted) * self.rate)


class _SendLimits:
    """The limits set with FakeBotApi.limit and what each has let through."""

    def __init__(
        self,
        per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_chat_burst: int = 1,
        group_per_minute: int | None = None,
    ) -> None:
        for name, value in (
            ("per_second", per_second),
            ("per_chat_per_second", per_chat_per_second),
            ("group_per_minute", group_per_minute),
        ):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, not {value!r}")
        if per_chat_burst < 1:
            raise ValueError(f"per_chat_burst must be at least 1, not {per_chat_burst!r}")
        self.per_second = per_second
        self.per_chat_per_second = per_chat_per_second
        self.per_chat_burst = per_chat_burst
        self.group_per_minute = group_per_minute
        self.reset()

    def reset(self) -> None:
        """Forgets the calls let through, so every limit starts with room."""
        self.overall: _Window | None = None
        if self.per_second is not None:
            # N calls in any second; a fraction stretches the window (0.5: one call in any 2 seconds).
            count = max(1, math.floor(self.per_second))
            self.overall = _Window(count, count / self.per_second)
        self.chats: dict[int, _Bucket] = {}
        self.groups: dict[int, _Window] = {}

    def admit(self, chat_id: int | None, now: float) -> tuple[str, float] | None:
        """Counts a call at `now` and returns None, or refuses it without counting it.

        A refusal names the limit that frees up last ("global", "chat" or "group") and the seconds until it
        does, so a client that waits that long finds room under every limit. A chat_id of None (an inline
        message) is only under the overall limit; group_per_minute applies to negative ids (groups).
        """
        limits: list[tuple[str, _Window | _Bucket]] = []
        if self.overall is not None:
            limits.append(("global", self.overall))
        if chat_id is not None and self.per_chat_per_second is not None:
            bucket = self.chats.get(chat_id)
            if bucket is None:
                bucket = self.chats[chat_id] = _Bucket(self.per_chat_per_second, self.per_chat_burst)
            limits.append(("chat", bucket))
        if chat_id is not None and chat_id < 0 and self.group_per_minute is not None:
            window = self.groups.get(chat_id)
            if window is None:
                window = self.groups[chat_id] = _Window(self.group_per_minute, 60.0)
            limits.append(("group", window))
        if not limits:
            return None
        wait, reason = max(((limit.wait(now), reason) for reason, limit in limits), key=lambda pair: pair[0])
        if wait > 0:
            return reason, wait
        for _, limit in limits:
            limit.take(now)
        return None


def _utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _unparsable(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {reason}")


def _at(text: str, index: int) -> str:
    """Where Telegram says a parse error is: the byte offset in the UTF-8 text."""
    return f"at byte offset {len(text[:index].encode('utf-8', 'surrogatepass'))}"


def _html_text(text: str) -> str:
    """The text a message in HTML parse mode shows, or the ApiError(400) with which Telegram refuses it.

    Follows Telegram's parser (tdlib's parse_html) and its wording, and is stricter in two ways, so that a bot
    that writes such HTML fails here: every "&" must start an entity, as the Bot API's documentation asks
    (Telegram shows a stray one as it is), and <a> must have an href (Telegram links the text itself, if a URL).
    """
    shown: list[str] = []
    open_tags: list[str] = []
    pos = 0
    while (markup := _HTML_MARKUP_RE.search(text, pos)) is not None:
        start = markup.start()
        shown.append(text[pos:start])
        if text[start] == "&":
            char, pos = _html_entity(text, start)
            shown.append(char)
        elif text.startswith("</", start):
            pos = _html_end_tag(text, start, open_tags)
        else:
            pos = _html_start_tag(text, start, open_tags)
    if open_tags:
        raise _unparsable(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    shown.append(text[pos:])
    return "".join(shown)


def _html_entity(text: str, start: int) -> tuple[str, int]:
    """The character the entity at text[start] ("&") stands for, and the index after it (";" is optional)."""
    match = _HTML_ENTITY_RE.match(text, start)
    assert match is not None  # "&" matches
    number, name = match.groups()
    end = match.end()
    char = None
    if name is not None:
        char = _HTML_NAMED_ENTITIES.get(name)
    elif end - start < 10:  # Telegram's bound, which also keeps int() off absurd digit strings
        digits, base = (number[1:], 16) if number.startswith("x") else (number, 10)
        code = int(digits, base) if digits else 0
        char = chr(code) if 0 < code < 0x10FFFF else None
    if char is None:
        raise _unparsable(f'Character "&" {_at(text, start)} starts no entity and must be escaped as "&amp;"')
    return char, end + text.startswith(";", end)


def _skip(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """The index after the run of pattern (one that may match nothing) at text[pos]."""
    match = pattern.match(text, pos)
    assert match is not None
    return match.end()


def _html_start_tag(text: str, start: int, open_tags: list[str]) -> int:
    """Checks the start tag at text[start] ("<"), opens it, and returns the index after its ">"."""
    end = len(text)
    pos = _skip(_HTML_TAG_NAME_RE, text, start + 1)
    if pos == end:
        raise _unparsable(f"Unclosed start tag {_at(text, start)}")
    tag = text[start + 1 : pos].lower()
    if tag not in _HTML_TAGS:
        raise _unparsable(f'Unsupported start tag "{tag}" {_at(text, start)}')
    attributes: dict[str, str] = {}
    while not text.startswith(">", pos := _skip(_HTML_SPACES_RE, text, pos)):
        name_end = _skip(_HTML_ATTRIBUTE_NAME_RE, text, pos)
        name = text[pos:name_end]
        if not name:  # also the end of the text inside a tag
            raise _unparsable(f'Empty attribute name in the tag "{tag}" {_at(text, start)}')
        pos = _skip(_HTML_SPACES_RE, text, name_end)
        if not text.startswith("=", pos):
            if tag == "blockquote" and name == "expandable":  # the one attribute without a value
                attributes[name] = ""
                continue
            raise _unparsable(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" {_at(text, start)}'
            )
        pos = _skip(_HTML_SPACES_RE, text, pos + 1)
        if pos == end:
            raise _unparsable(f'Unclosed start tag "{tag}" {_at(text, start)}')
        if text[pos] in "\"'":
            close = text.find(text[pos], pos + 1)
            if close < 0:
                raise _unparsable(f"Unclosed start tag {_at(text, start)}")
            value = html.unescape(text[pos + 1 : close])  # Telegram decodes entities here, and keeps a stray "&"
            pos = close + 1
        else:
            token_end = _skip(_HTML_NAME_TOKEN_RE, text, pos)
            if token_end < end and text[token_end] not in _HTML_SPACES + ">":
                raise _unparsable(f"Unexpected end of name token {_at(text, pos)}")
            value = text[pos:token_end].lower()
            pos = token_end
        attributes[name] = value
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise _unparsable(f'Tag "span" must have class "tg-spoiler" {_at(text, start)}')
    if tag == "a" and not attributes.get("href"):
        raise _unparsable(f'Tag "a" must have attribute "href" {_at(text, start)}')
    if tag == "tg-emoji":
        emoji_id = attributes.get("emoji-id", "")
        if not (emoji_id.isascii() and emoji_id.isdigit() and int(emoji_id) > 0):
            raise _unparsable("Invalid custom emoji identifier specified")
    open_tags.append(tag)
    return pos + 1


def _html_end_tag(text: str, start: int, open_tags: list[str]) -> int:
    """Checks the end tag at text[start] ("</"), closes the innermost open tag, and returns the index after it."""
    if not open_tags:
        raise _unparsable(f"Unexpected end tag {_at(text, start)}")
    name_end = _skip(_HTML_TAG_NAME_RE, text, start + 2)
    pos = _skip(_HTML_SPACES_RE, text, name_end)
    if not text.startswith(">", pos):
        raise _unparsable(f"Unclosed end tag {_at(text, start)}")
    name = text[start + 2 : name_end].lower()
    tag = open_tags.pop()
    if name and name != tag:  # "</>" closes whatever is open, as on Telegram
        raise _unparsable(f'Unmatched end tag {_at(text, start)}, expected "</{tag}>", found "</{name}>"')
    return pos + 1


def _decode(name: str, value: Any) -> Any:
    """One parameter as the Bot API means it: JSON-encoded form values decoded, string parameters left alone."""
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id "@channel"


def _scope_key(scope: Any) -> str:
    if not scope or (isinstance(scope, dict) and scope.get("type") == "default"):
        return "default"
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


class FakeBotApi:
    """An in-process Bot API server: serves PTB's HTTP calls, records them and feeds it updates."""

    def __init__(self, token: str = f"{_DEFAULT_BOT_ID}:FAKE-token", bot_username: str = "fake_incentive_bot") -> None:
        self.token = token  # a token to give the bot; any other token is accepted too
        self.bot_username = bot_username
        self.host = "127.0.0.1"
        self.port = 0
        self.base_url = ""
        self.seen_tokens: set[str] = set()

        # What tests look at.
        self.sent: list[JSON] = []
        self.calls: list[tuple[str, JSON]] = []
        self.commands: dict[str, list[JSON]] = {}  # default scope, by language code ("" = all languages)
        self.scoped_commands: dict[tuple[str, str], list[JSON]] = {}  # (scope key, language code)
        self.unknown_methods: list[str] = []
        self.callback_answers: list[JSON] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.deleted: list[tuple[int, int]] = []
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_params: JSON = {}
        self.allowed_updates: list[str] | None = None
        self.confirmed_offset = 0
        self.closed = False
        self.logged_out = False
        self.outages: list[Outage] = []  # every outage started, oldest first, ended ones too
        # Calls refused under limit(), oldest first: (limit: "global", "chat" or "group"; chat id, None for an
        # inline message; time.monotonic() when the call was received).
        self.throttled: list[tuple[str, int | None, float]] = []

        self._updates: deque[JSON] = deque()
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._poller: asyncio.Future[bool] | None = None
        self._stopping = False
        self._failures: dict[str, deque[ApiError]] = {}
        self._limits = _SendLimits()
        self._blocked: set[int] = set()
        self._chats: dict[int, JSON] = {}
        self._bot_users: dict[str, JSON] = {}
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSON] = {}  # the bot's messages, for edits and callbacks
        self._by_chat: dict[int, list[JSON]] = {}
        self._chat_conditions: dict[int, asyncio.Condition] = {}
        self._answered_callbacks: set[str] = set()
        # Files users sent, by file_id: (file_path, contents); what getFile names and /file/bot… serves.
        self.files: dict[str, tuple[str, bytes]] = {}
        self.downloads: list[str] = []  # file_ids downloaded, in order
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "close": self._close,
            "logOut": self._log_out,
        }
        # Telegram matches method names case-insensitively.
        self._handlers = {name.lower(): handler for name, handler in handlers.items()}

    # ----------------------------------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # No access log (20,000 requests in a benchmark); cancel handlers whose client went away, so an
        # abandoned long poll does not linger.
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        self.host = host
        self.port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{self.port}/bot"
        self._stopping = False
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        self._stopping = True
        self.end_outages()  # hanging calls are let go, so nothing holds up the shutdown
        self._wake_poller(True)  # a pending long poll answers [] at once instead of holding up the shutdown
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------------------------- test controls

    def fail_next(
        self, method: str, error_code: int = 429, description: str | None = None, retry_after: int | None = 1
    ) -> None:
        """Answer the next call of method with this error; calling it again queues another failure.

        retry_after is only sent with error code 429 (PTB turns any retry_after into RetryAfter).
        """
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = HTTPStatus(error_code).phrase
        parameters = {"retry_after": retry_after} if error_code == 429 and retry_after is not None else None
        self._failures.setdefault(method.lower(), deque()).append(ApiError(error_code, description, parameters))

    def outage(
        self, kind: str, seconds: float | None = None, methods: Iterable[str] | None = None, retry_after: int = 1
    ) -> Outage:
        """Starts an outage of kind (see Outage) for every call of methods (default OUTAGE_METHODS), now.

        It lasts `seconds`, or until its end() (or end_outages()) when seconds is None. Methods not named keep
        working, so by default the bot still receives updates, and each failed call is listed in outage.failed.
        """
        if kind not in OUTAGE_KINDS:
            raise ValueError(f"unknown outage kind {kind!r}; use one of {', '.join(OUTAGE_KINDS)}")
        names = frozenset(name.lower() for name in (OUTAGE_METHODS if methods is None else methods))
        outage = Outage(kind, seconds, names, retry_after)
        self.outages.append(outage)
        return outage

    def end_outages(self) -> None:
        """Ends every outage still going on."""
        for outage in self.outages:
            outage.end()

    def limit(
        self,
        per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_chat_burst: int = 1,
        group_per_minute: int | None = None,
    ) -> None:
        """Enforces Telegram's send limits on sendMessage and editMessageText from now on, in place of any before.

        None is no limit of that kind, so limit() lifts them all. per_second: the bot may make that many such
        calls in any sliding second, over all chats. per_chat_per_second and per_chat_burst: a token bucket per
        chat, so a short burst in one chat goes through. group_per_minute: that many calls in any sliding minute
        in each chat with a negative id (a group). A call over a limit is answered as Telegram's flood control
        does (429 with parameters.retry_after, the whole seconds until there is room), is not recorded as sent,
        does not count towards any limit and is listed in `throttled`.

        The limits count a call when it arrives, after outages and fail_next but before its parameters are
        checked: a call that then fails (a 400, a blocked chat) has still used up its room, which keeps the
        check simple; Telegram does not say how it counts those.
        """
        self._limits = _SendLimits(per_second, per_chat_per_second, per_chat_burst, group_per_minute)

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: sending or editing in this chat fails with 403."""
        self._blocked.add(int(chat_id))

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked.discard(int(chat_id))

    def messages_to(self, chat_id: int) -> list[JSON]:
        """Recorded sendMessage/editMessageText calls for one chat, oldest first."""
        return list(self._by_chat.get(int(chat_id), ()))

    def documents_to(self, chat_id: int) -> list[JSON]:
        """Recorded sendDocument calls for one chat, oldest first; each has "document": its file name, media type
        and contents (bytes) as uploaded, and "text": its caption."""
        return [entry for entry in self._by_chat.get(int(chat_id), ()) if entry["method"] == "sendDocument"]

    def sends_to(self, chat_id: int) -> list[JSON]:
        """Recorded sendMessage calls for one chat, oldest first: each is a message the contact received."""
        return [entry for entry in self._by_chat.get(int(chat_id), ()) if entry["method"] == "sendMessage"]

    def repeated_sends(self, chat_id: int) -> list[JSON]:
        """sendMessage calls that repeat the chat's previous one exactly (same text and keyboard).

        A reply delivered twice shows up here; whether a repeat is wrong is for the caller to say, since a
        conversation may legitimately say the same thing twice (an answer it cannot read, given twice).
        """
        sends = self.sends_to(chat_id)
        return [
            later
            for earlier, later in itertools.pairwise(sends)
            if (later["text"], later["reply_markup"]) == (earlier["text"], earlier["reply_markup"])
        ]

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10) -> list[JSON]:
        """The messages sent (or edited) in a chat once there are at least count of them."""
        chat_id = int(chat_id)
        messages = self._by_chat.setdefault(chat_id, [])
        if len(messages) < count:
            condition = self._chat_conditions.get(chat_id)
            if condition is None:
                condition = self._chat_conditions[chat_id] = asyncio.Condition()
            try:
                async with condition:
                    await asyncio.wait_for(condition.wait_for(lambda: len(messages) >= count), timeout)
            except TimeoutError:
                received = [(m["method"], m["text"]) for m in messages]
                raise AssertionError(
                    f"expected {count} message(s) to chat {chat_id} within {timeout}s, got {len(messages)}: {received}"
                ) from None
        return list(messages)

    def clear_records(self) -> None:
        """Forget recorded calls and messages (e.g. between benchmark phases); chat state and limits are kept.

        The limits' windows start empty again, so one phase's sends do not hold up the next.
        """
        self.sent.clear()
        self.throttled.clear()
        self._limits.reset()
        self.calls.clear()
        self.unknown_methods.clear()
        self.callback_answers.clear()
        self.chat_actions.clear()
        self.deleted.clear()
        for messages in self._by_chat.values():
            messages.clear()  # in place: waiters hold these lists

    # --------------------------------------------------------------------------------- update builders

    def make_message(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        language_code: str = "zh-hans",
        first_name: str = "Test",
    ) -> JSON:
        """An update with a text message from a user; a leading /command gets its bot_command entity."""
        user = self._user(chat_id, user_id, language_code, first_name)
        message: JSON = {
            "message_id": self._new_message_id(chat_id),
            "from": user,
            "chat": self._chat(chat_id, first_name),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def make_document(
        self,
        chat_id: int,
        file_name: str,
        data: bytes,
        user_id: int | None = None,
        language_code: str = "zh-hans",
        declared_size: int | None = None,
    ) -> JSON:
        """An update with a document a user sent; getFile and the file URL then give its contents. Telegram states
        the size in the message (`declared_size` overrides it, as a client may not know it)."""
        file_id = f"doc-{len(self.files) + 1}-{secrets.token_hex(4)}"
        self.files[file_id] = (f"documents/file_{len(self.files) + 1}.bin", data)
        user = self._user(chat_id, user_id, language_code, "Test")
        document = {"file_id": file_id, "file_unique_id": file_id[-8:], "file_name": file_name,
                    "file_size": len(data) if declared_size is None else declared_size}  # fmt: skip
        message: JSON = {
            "message_id": self._new_message_id(chat_id),
            "from": user,
            "chat": self._chat(chat_id, "Test"),
            "date": int(time.time()),
            "document": document,
        }
        return {"update_id": next(self._update_ids), "message": message}

    def make_callback(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        user_id: int | None = None,
        language_code: str = "zh-hans",
        first_name: str = "Test",
    ) -> JSON:
        """An update with a button press on the bot's message message_id."""
        message = self._messages.get((chat_id, message_id))
        if message is None:  # a message this server never sent: a minimal one, as for an old message
            message = {
                "message_id": message_id,
                "from": self._bot_user(self.token),
                "chat": self._chat(chat_id),
                "date": int(time.time()),
            }
        callback = {
            "id": str(next(self._callback_ids) * 1_000_003 + abs(chat_id)),
            "from": self._user(chat_id, user_id, language_code, first_name),
            "message": message,
            "chat_instance": str(abs(chat_id) * 31 + 7),
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": callback}

    def make_my_chat_member(
        self,
        chat_id: int,
        new_status: str = "kicked",
        old_status: str | None = None,
        user_id: int | None = None,
        first_name: str = "Test",
    ) -> JSON:
        """An update saying the user blocked ("kicked") or (re)started ("member") the bot."""
        if old_status is None:
            old_status = "kicked" if new_status == "member" else "member"
        for status in (new_status, old_status):
            if status not in _MEMBER_STATUSES:
                raise ValueError(f"unsupported status {status!r}; use one of {sorted(_MEMBER_STATUSES)}")
        bot = self._bot_user(self.token)

        def member(status: str) -> JSON:
            # Telegram sends until_date 0 for a bot blocked for good.
            return (
                {"user": bot, "status": status, "until_date": 0}
                if status == "kicked"
                else {"user": bot, "status": status}
            )

        update = {
            "chat": self._chat(chat_id),
            "from": self._user(chat_id, user_id, None, first_name),
            "date": int(time.time()),
            "old_chat_member": member(old_status),
            "new_chat_member": member(new_status),
        }
        return {"update_id": next(self._update_ids), "my_chat_member": update}

    # ---------------------------------------------------------------------------------------- feeding

    def push_update(self, update: JSON) -> None:
        """Queue an update for getUpdates (polling mode); call it from the event loop's thread."""
        if "update_id" not in update:
            update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        self._wake_poller(True)

    async def post_webhook(
        self, url: str | None, update: JSON, secret_token: str | None = None, timeout: float = 60
    ) -> int:
        """POST an update to the bot's webhook (url None: the one it registered); returns the HTTP status.

        A webhook that takes the post but never answers fails it with TimeoutError after `timeout` seconds.
        """
        if self._session is None:
            raise RuntimeError("FakeBotApi is not started")
        target = url or self.webhook_url
        if not target:
            raise ValueError("no webhook url given or registered")
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token is not None else None
        limit = aiohttp.ClientTimeout(total=timeout)
        async with self._session.post(target, json=update, headers=headers, timeout=limit) as response:
            await response.read()
            return response.status

    # ------------------------------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        self.seen_tokens.add(token)
        params = await self._read_params(request)
        # Received once read, and with no await until the limits count it, so they see calls in time order.
        received = time.monotonic()
        self.calls.append((method, params))
        key = method.lower()
        try:
            handler = self._handlers.get(key)
            if handler is None:
                self.unknown_methods.append(method)
                raise ApiError(404, "Not Found: method not found")
            outage = next((outage for outage in self.outages if outage.covers(key)), None)
            if outage is not None:
                return await self._fail(outage, request, method, params)
            failures = self._failures.get(key)
            if failures:
                raise failures.popleft()
            if key in _LIMITED_METHODS:
                self._throttle(params, received)
            result = await handler(token, params, received)
        except ApiError as err:
            return self._respond(err.error_code, err.payload())
        return self._respond(200, {"ok": True, "result": result})

    async def _fail(self, outage: Outage, request: web.Request, method: str, params: JSON) -> web.Response:
        outage.failed.append((method, params))
        if outage.kind in ("hang", "drop"):
            if outage.kind == "hang":
                await outage.wait()  # a client that gives up first cancels this handler
            # Closed without an answer: the client sees the server disconnect, as behind a failing proxy.
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=HTTPStatus.BAD_GATEWAY)  # never written: the connection is gone
        error = outage.error()
        return self._respond(error.error_code, error.payload())

    def _throttle(self, params: JSON, received: float) -> None:
        """Counts a call under the limits set with limit(), or refuses it like Telegram's flood control."""
        chat_id = params.get("chat_id")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            chat_id = None  # an inline message, or a chat_id the method will refuse: only the overall limit
        refusal = self._limits.admit(chat_id, received)
        if refusal is not None:
            reason, wait = refusal
            self.throttled.append((reason, chat_id, received))
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    @staticmethod
    def _respond(status: int, payload: JSON) -> web.Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return web.Response(body=body, status=status, content_type="application/json")

    @staticmethod
    async def _read_params(request: web.Request) -> JSON:
        """Query string, form, multipart or JSON body, decoded the way the Bot API reads them."""
        raw: JSON = dict(request.query) if request.query_string else {}
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    raw.update(body)
            else:  # application/x-www-form-urlencoded (what PTB sends) or multipart/form-data (uploads)
                for name, value in (await request.post()).items():
                    if isinstance(value, str):
                        raw[name] = value
                    else:  # an uploaded file: kept whole, so tests can read back what the bot sent
                        content = value.file.read()
                        raw[name] = {"filename": value.filename, "content_type": value.content_type, "content": content}
        return {name: _decode(name, value) for name, value in raw.items()}

    # ------------------------------------------------------------------------------------ bookkeeping

    def _bot_user(self, token: str) -> JSON:
        user = self._bot_users.get(token)
        if user is None:
            prefix = token.split(":", 1)[0]
            user = {
                "id": int(prefix) if prefix.isdigit() else _DEFAULT_BOT_ID,
                "is_bot": True,
                "first_name": "Incentive Bot",
                "username": self.bot_username,
            }
            self._bot_users[token] = user
        return user

    def _chat(self, chat_id: int, first_name: str | None = None) -> JSON:
        chat = self._chats.get(chat_id)
        if chat is None or (first_name is not None and chat.get("first_name", first_name) != first_name):
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": first_name or "Test"}
            else:  # -100… ids are supergroups and channels, other negative ids basic groups
                kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
                chat = {"id": chat_id, "type": kind, "title": "Test group"}
            self._chats[chat_id] = chat
        return chat

    @staticmethod
    def _user(chat_id: int, user_id: int | None, language_code: str | None, first_name: str) -> JSON:
        # In a private chat the chat id is the user's id.
        user: JSON = {"id": user_id if user_id is not None else abs(chat_id), "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    def _new_message_id(self, chat_id: int) -> int:
        # One sequence per chat for the user's and the bot's messages, as in private chats.
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    def _wake_poller(self, value: bool) -> None:
        poller = self._poller
        if poller is not None and not poller.done():
            poller.set_result(value)

    def _pending(self, offset: int, limit: int) -> list[JSON]:
        if not self._updates:
            return []
        allowed = self.allowed_updates
        selected = (
            update
            for update in self._updates
            if update["update_id"] >= offset
            and (_update_type(update) in allowed if allowed else _update_type(update) not in _NOT_DELIVERED_BY_DEFAULT)
        )
        return list(itertools.islice(selected, limit))

    def _confirm(self, offset: int) -> None:
        updates = self._updates
        if offset > 0:
            self.confirmed_offset = offset
            while updates and updates[0]["update_id"] < offset:
                updates.popleft()
        elif offset < 0:  # keep only the last -offset updates
            while len(updates) > -offset:
                updates.popleft()

    async def _record(
        self, method: str, chat_id: int, params: JSON, markup: JSON | None, message_id: int, received: float
    ) -> None:
        entry = {
            "method": method,
            "chat_id": chat_id,
            "text": params.get("text"),
            "parse_mode": params.get("parse_mode"),
            "reply_markup": markup,
            "message_id": message_id,
            "time": received,
            "params": params,
        }
        if method == "sendDocument":
            entry["document"] = params["document"]
        self.sent.append(entry)
        self._by_chat.setdefault(chat_id, []).append(entry)
        condition = self._chat_conditions.get(chat_id)
        if condition is not None:
            async with condition:
                condition.notify_all()

    # ---------------------------------------------------------------------------- parameter checking

    @staticmethod
    def _chat_id(params: JSON) -> int:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            if chat_id is None or chat_id == "":
                raise ApiError(400, "Bad Request: chat_id is empty")
            raise ApiError(400, "Bad Request: chat not found")  # e.g. an @username this server cannot resolve
        return chat_id

    @staticmethod
    def _message_id(params: JSON) -> int:
        message_id = params.get("message_id")
        if isinstance(message_id, bool) or not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        return message_id

    @staticmethod
    def _text(params: JSON) -> str:
        text = params.get("text")
        if not isinstance(text, str):
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        # What the message shows: HTML is parsed (and refused where Telegram cannot parse it); Markdown is not,
        # so its raw text stands in.
        shown = _html_text(text) if parse_mode and str(parse_mode).lower() == "html" else text
        if not shown.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(shown) > _MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _markup(params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if isinstance(markup, str):  # a JSON body may still carry it JSON-encoded
            try:
                markup = json.loads(markup)
            except ValueError:
                markup = None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", ()):
            for button in row:
                if not _INLINE_BUTTON_ACTIONS.intersection(button):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline "
                        "keyboard",
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= _MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _check_not_blocked(self, chat_id: int) -> None:
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _stored_message(self, chat_id: int, message_id: int) -> JSON:
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    # ---------------------------------------------------------------------------------------- methods

    async def _get_file(self, token: str, params: JSON, received: float) -> JSON:
        file_id = params.get("file_id")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": file_id[-8:], "file_size": len(data), "file_path": path}

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        found = next(((file_id, data) for file_id, (p, data) in self.files.items() if p == path), None)
        if found is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        self.downloads.append(found[0])
        return web.Response(body=found[1], content_type="application/octet-stream")

    async def _get_me(self, token: str, params: JSON, received: float) -> JSON:
        return {
            **self._bot_user(token),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, token: str, params: JSON, received: float) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, _WEBHOOK_CONFLICT)
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or _MAX_POLL_LIMIT), 1), _MAX_POLL_LIMIT)
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = allowed or None  # [] means "all default types"
        self._confirm(offset)
        self._wake_poller(False)  # a newer getUpdates terminates a waiting one, as on Telegram

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            updates = self._pending(offset, limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self._stopping:
                return updates
            poller: asyncio.Future[bool] = loop.create_future()
            self._poller = poller
            try:
                await asyncio.wait_for(poller, remaining)
            except TimeoutError:
                return []
            finally:
                if self._poller is poller:
                    self._poller = None
            if not poller.result():
                raise ApiError(409, _POLL_CONFLICT)

    async def _send_message(self, token: str, params: JSON, received: float) -> JSON:
        chat_id = self._chat_id(params)
        self._check_not_blocked(chat_id)
        text = self._text(params)
        markup = self._markup(params)
        message_id = self._new_message_id(chat_id)
        message: JSON = {
            "message_id": message_id,
            "from": self._bot_user(token),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        # A sent Message only carries an inline keyboard; reply keyboards are not echoed (PTB could not parse them).
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = message
        await self._record("sendMessage", chat_id, params, markup, message_id, received)
        return message

    async def _send_document(self, token: str, params: JSON, received: float) -> JSON:
        """An uploaded file (multipart/form-data), or one sent before by its file_id; the caption is checked like a
        message's text, within Telegram's 1024 characters."""
        chat_id = self._chat_id(params)
        self._check_not_blocked(chat_id)
        upload = params.get("document")
        if isinstance(upload, dict) and isinstance(upload.get("content"), bytes):
            name, data = upload.get("filename") or "document", upload["content"]
            media_type = upload.get("content_type") or "application/octet-stream"
        elif isinstance(upload, str) and upload in self.files:
            path, data = self.files[upload]
            name, media_type = path.rsplit("/", 1)[-1], "application/octet-stream"
        else:
            raise ApiError(400, "Bad Request: there is no document in the request")
        caption = params.get("caption")
        if caption is not None:
            parse_mode = params.get("parse_mode")
            shown = _html_text(caption) if parse_mode and str(parse_mode).lower() == "html" else caption
            if len(shown) > _MAX_CAPTION:
                raise ApiError(400, "Bad Request: message caption is too long")
        markup = self._markup(params)
        message_id = self._new_message_id(chat_id)
        file_id = f"BQAC-{chat_id}-{message_id}-{len(self.files)}"
        self.files[file_id] = (f"documents/{file_id}/{name}", data)
        message: JSON = {
            "message_id": message_id,
            "from": self._bot_user(token),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "document": {
                "file_id": file_id,
                "file_unique_id": file_id[-8:],
                "file_name": name,
                "mime_type": media_type,
                "file_size": len(data),
            },
        }
        if caption is not None:
            message["caption"] = caption
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = message
        recorded = {**params, "text": caption, "document": {"name": name, "media_type": media_type, "content": data}}
        await self._record("sendDocument", chat_id, recorded, markup, message_id, received)
        return message

    async def _edit_message_text(self, token: str, params: JSON, received: float) -> JSON | bool:
        if params.get("inline_message_id"):
            self._text(params)
            self._markup(params)
            return True  # inline messages are not tracked
        chat_id = self._chat_id(params)
        message_id = self._message_id(params)
        self._check_not_blocked(chat_id)
        message = self._stored_message(chat_id, message_id)
        text = self._text(params)
        markup = self._markup(params)
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if text == message.get("text") and inline == message.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        # Editing without reply_markup removes the inline keyboard, as on Telegram.
        edited = {key: value for key, value in message.items() if key != "reply_markup"}
        edited.update(text=text, edit_date=int(time.time()))
        if inline is not None:
            edited["reply_markup"] = inline
        self._messages[(chat_id, message_id)] = edited
        await self._record("editMessageText", chat_id, params, markup, message_id, received)
        return edited

    async def _edit_message_reply_markup(self, token: str, params: JSON, received: float) -> JSON | bool:
        if params.get("inline_message_id"):
            self._markup(params)
            return True
        chat_id = self._chat_id(params)
        message_id = self._message_id(params)
        self._check_not_blocked(chat_id)
        message = self._stored_message(chat_id, message_id)
        markup = self._markup(params)
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if inline == message.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        edited = {key: value for key, value in message.items() if key != "reply_markup"}
        edited["edit_date"] = int(time.time())
        if inline is not None:
            edited["reply_markup"] = inline
        self._messages[(chat_id, message_id)] = edited
        return edited

    async def _delete_message(self, token: str, params: JSON, received: float) -> bool:
        chat_id = self._chat_id(params)
        message_id = self._message_id(params)
        if self._messages.pop((chat_id, message_id), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.deleted.append((chat_id, message_id))
        return True

    async def _answer_callback_query(self, token: str, params: JSON, received: float) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise ApiError(400, "Bad Request: QUERY_ID_INVALID")
        query_id = str(query_id)
        if query_id in self._answered_callbacks:  # Telegram accepts one answer per query
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._answered_callbacks.add(query_id)
        self.callback_answers.append(params)
        return True

    @staticmethod
    def _language(params: JSON) -> str:
        language = params.get("language_code") or ""
        if language and not _LANGUAGE_RE.fullmatch(language):  # a two-letter ISO 639-1 code, not "zh-hans"
            raise ApiError(400, "Bad Request: invalid language code specified")
        return language

    async def _set_my_commands(self, token: str, params: JSON, received: float) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            description = command.get("description", "") if isinstance(command, dict) else ""
            if not _COMMAND_RE.fullmatch(str(name).lstrip("/")) or not 1 <= len(str(description)) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        language = self._language(params)
        scope = _scope_key(params.get("scope"))
        if commands:
            self.scoped_commands[(scope, language)] = commands
        else:  # setting an empty list deletes the list, as on Telegram
            self.scoped_commands.pop((scope, language), None)
        if scope == "default":
            if commands:
                self.commands[language] = commands
            else:
                self.commands.pop(language, None)
        return True

    async def _get_my_commands(self, token: str, params: JSON, received: float) -> list[JSON]:
        return self.scoped_commands.get((_scope_key(params.get("scope")), self._language(params)), [])

    async def _delete_my_commands(self, token: str, params: JSON, received: float) -> bool:
        language = self._language(params)
        scope = _scope_key(params.get("scope"))
        self.scoped_commands.pop((scope, language), None)
        if scope == "default":
            self.commands.pop(language, None)
        return True

    async def _set_webhook(self, token: str, params: JSON, received: float) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook_url = str(url)
        self.webhook_secret = str(secret) if url and secret is not None else None
        self.webhook_params = params if url else {}
        if isinstance(params.get("allowed_updates"), list):
            self.allowed_updates = params["allowed_updates"] or None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if url:
            self._wake_poller(False)  # a waiting getUpdates ends in a conflict once a webhook is set
        return True

    async def _delete_webhook(self, token: str, params: JSON, received: float) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        self.webhook_params = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, token: str, params: JSON, received: float) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            for name in ("max_connections", "allowed_updates", "ip_address"):
                if name in self.webhook_params:
                    info[name] = self.webhook_params[name]
        return info

    async def _send_chat_action(self, token: str, params: JSON, received: float) -> bool:
        chat_id = self._chat_id(params)
        self._check_not_blocked(chat_id)
        action = params.get("action")
        if not action:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat_id, str(action)))
        return True

    async def _close(self, token: str, params: JSON, received: float) -> bool:
        self.closed = True
        return True

    async def _log_out(self, token: str, params: JSON, received: float) -> bool:
        self.logged_out = True
        return True
