"""What officials' notices need from the database: choosing recipients, storing a notice with one delivery per
recipient, and answering status and cancel requests. The wording is handlers.official's; this is the I/O."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot.engine.deadlines import china_today
from bot.engine.engine import Engine
from bot.engine.model import ApplicationCall
from bot.engine.yamlsource import SourceError, SourceErrors, SourceFile, parse_yaml
from bot.messages import ChatKey, Incoming, Outgoing
from bot.store.base import ChatStore, NoticesUnavailable, Replies
from bot.store.notices import NewNotice, NoticeStatus
from handlers import official
from handlers.official import Access, Audience, Preview, Send
from handlers.texts import LANGUAGES, language_for, t

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Composed:
    """A notice ready to store, with what the official should know before sending it."""

    notice: NewNotice
    excluded: dict[str, int]

    @property
    def count(self) -> int:
        return len(self.notice.recipients)


class NoticeDesk:
    """Builds and stores notices, and answers officials' questions about them, on one store and rule set."""

    def __init__(
        self,
        store: ChatStore,
        engine: Callable[[], Engine],
        today: Callable[[], date] = china_today,
        calls_changed: Callable[[], Awaitable[None]] | None = None,
    ):
        self.store, self._engine, self._today = store, engine, today
        # Called once a notice carrying a call is stored, so this process shows its deadline at once.
        self._calls_changed = calls_changed

    async def compose(
        self,
        text: str,
        audience: Audience,
        actor: str,
        send_at: datetime | None = None,
        call: dict[str, Any] | None = None,
        token: str | None = None,
        texts: dict[str, str] | None = None,
    ) -> Composed:
        """The notice for the audience as it stands now: each recipient's copy in their language (`texts`, by
        language, when the bot words it; the official's one text otherwise)."""
        contacts = await self.store.contacts()
        # Matching every contact against the rules takes a while with many of them: off the event loop, so the
        # interviews going on meanwhile are not held up.
        chosen = await asyncio.to_thread(official.choose_recipients, contacts, audience, self._engine(), self._today())
        copies = {
            language: official.recipient_copy((texts or {}).get(language, text), language)
            for language in ("zh-Hans", "zh-Hant", "en")
        }
        recipients = [(contact.chat, copies.get(contact.language, copies["zh-Hans"])) for contact in chosen.contacts]
        notice = NewNotice(
            token=token or secrets.token_hex(12),
            text=text,
            audience=audience.to_json(),
            send_at=send_at or datetime.now(UTC),
            actor=actor,
            recipients=recipients,
            call=call,
            excluded=chosen.excluded,
        )
        return Composed(notice, chosen.excluded)

    async def carry_out(self, incoming: Incoming, effect: Preview | Send, replies: Callable[..., Replies]) -> list:
        """Does what the notice dialogue asked for: shows a preview, or stores and confirms the notice."""
        draft, lang = effect.draft, effect.language
        audience = Audience.from_json(draft.get("audience", {}))
        send_at = datetime.fromisoformat(draft["send_at"]) if draft.get("send_at") else None
        actor = f"{incoming.chat.channel}:{incoming.user_id}"
        call = draft.get("call")
        composed = await self.compose(draft["text"], audience, actor, send_at, call, token=draft.get("token"))
        if isinstance(effect, Preview):
            messages = official.preview_messages(draft, composed.count, composed.excluded, lang)
            return await self.store.queue_replies(replies(incoming, messages))
        notice_id, created = await self.store.create_notice(composed.notice)
        if call and self._calls_changed is not None:
            await self._calls_changed()
        if not created:
            status = await self.store.notice_status(notice_id)
            count = status.recipients if status is not None else composed.count
        else:
            count = composed.count
        confirmation = official.queued_message(notice_id, count, composed.notice.send_at, created, lang)
        return await self.store.queue_replies(replies(incoming, [confirmation]))

    async def tell_changed(self, chats: list[ChatKey], versions: tuple[str, str], actor: str, lang: str) -> Outgoing:
        """Queues "a new reward may apply to you" to the contacts whose results the change of rule set from one
        version to the other changed (once: pressing the button again finds the notice already queued)."""
        texts = {language: html.escape(t("rules_changed_notice", language)) for language in LANGUAGES}
        audience = Audience(chats=tuple(str(chat) for chat in chats))
        token = f"rules:{versions[0]}:{versions[1]}"
        composed = await self.compose(texts["zh-Hans"], audience, actor, token=token, texts=texts)
        notice_id, created = await self.store.create_notice(composed.notice)
        status = await self.store.notice_status(notice_id) if not created else None
        count = status.recipients if status is not None else composed.count
        return official.queued_message(notice_id, count, composed.notice.send_at, created, lang)

    async def answer(self, incoming: Incoming, access: Access, replies: Callable[..., Replies]) -> list:
        """/notices, /notice_status ID, /notice_cancel ID and their buttons."""
        lang = language_for(incoming.language_code)

        async def say(*messages: Outgoing) -> list:
            return await self.store.queue_replies(replies(incoming, list(messages)))

        if incoming.in_group:
            return await say(Outgoing(t("private_only", lang)))
        if not access.may_notify:
            return await say(Outgoing(t("official_only", lang)))
        if not self.store.supports_notices:
            return await say(Outgoing(t("notices_unavailable", lang)))
        command = incoming.command or {"ns": "notice_status", "nc": "notice_cancel"}[incoming.callback_data[:2]]
        if command == "notices":
            return await say(*official.list_message(await self.store.recent_notices(10), lang))
        notice_id = official.requested_notice(incoming)
        if notice_id is None:
            return await say(Outgoing(t("notice_id_usage", lang, command=command)))
        status = await self.store.notice_status(notice_id)
        if command == "notice_status" or status is None:
            return await say(official.status_message(status, lang, notice_id))
        # The confirmation is queued with the cancel itself, in one transaction.
        confirmation = Outgoing(t("notice_cancelled", lang, id=notice_id, count=status.pending))
        actor = f"{incoming.chat.channel}:{incoming.user_id}"
        cancelled, deliveries = await self.store.cancel_notice(notice_id, actor, replies(incoming, [confirmation]))
        return deliveries if cancelled else await say(Outgoing(t("notice_not_cancellable", lang, id=notice_id)))


def describe(status: NoticeStatus) -> dict[str, Any]:
    """A notice's status for `notice status --json`."""
    counts = status.counts
    return {
        "id": status.id,
        "state": status.state,
        "created_at": status.created_at.isoformat(),
        "created_by": status.created_by,
        "send_at": status.send_at.isoformat(),
        "audience": status.audience,
        "call": status.call,
        "recipients": status.recipients,
        "sent": counts.get("sent", 0),
        "pending": status.pending,
        "failed": counts.get("failed", 0) + counts.get("rejected", 0),
        "blocked": counts.get("blocked", 0),
        "opted_out": counts.get("opted_out", 0),
        "ambiguous": counts.get("ambiguous", 0),
        "cancelled": counts.get("cancelled", 0),
        "forgotten": status.forgotten,
        "excluded": status.excluded,
        "errors": list(status.errors),
    }


class LiveEngine:
    """The rule set plus the application calls that notices carry, for every process on one database: refreshed
    at once where a notice is created, and within `every` seconds everywhere else."""

    def __init__(self, base: Engine, store: ChatStore, every: float = 2.0):
        self.base, self.store, self.every = base, store, every
        self.current = base
        self._version: tuple[int, int] | None = None
        self._calls: list[ApplicationCall] = []

    def replace(self, base: Engine) -> None:
        """Swaps in a new rule set (checked already), keeping the calls notices carry; one assignment, so every
        update sees either the old rules or the new ones."""
        self.base = base
        self.current = base.with_calls(self._calls)

    async def swap(self, base: Engine) -> None:
        """As replace, with the rule set joined to the calls off the event loop (a matcher over every rule)."""
        calls = self._calls
        current = await asyncio.to_thread(base.with_calls, calls)
        self.base = base
        # Calls that changed meanwhile are joined here instead (rare: a notice carrying a call stored just now).
        self.current = current if calls is self._calls else base.with_calls(self._calls)

    def __call__(self) -> Engine:
        return self.current

    async def refresh(self) -> None:
        version = await self.store.notice_calls_version()
        if version == self._version:
            return
        calls = [call_from_json(notice_id, data) for notice_id, data in await self.store.notice_calls()]
        self._calls = [call for call in calls if call is not None]
        self.current = self.base.with_calls(self._calls)
        self._version = version

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception:
                log.exception("could not read the application calls of notices; keeping the ones known")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)


def call_from_json(notice_id: int, data: dict[str, Any]) -> ApplicationCall | None:
    """A stored call as the engine takes it; None if it cannot be read (it was checked when it was stored)."""
    try:
        opens = date.fromisoformat(data["opens"]) if data.get("opens") else None
        return ApplicationCall(
            str(data.get("id") or f"notice-{notice_id}"), str(data["title"]), tuple(data["rules"]),
            date.fromisoformat(data["closes"]), opens, data.get("where"), False, f"notice #{notice_id}",
            data.get("contact"),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError):
        log.warning("notice %s carries a call that cannot be read: %r", notice_id, data)
        return None


CALL_FIELDS = {"id", "title", "rules", "opens", "closes", "where", "contact"}


def read_notice_file(source: SourceFile, engine: Engine) -> tuple[str, dict[str, Any] | None]:
    """A notice file: plain text or Telegram HTML, or YAML with `text:` and an optional `call:` (title, rules,
    opens, closes, where, contact). Raises SourceErrors naming file and line for anything wrong."""
    if not source.path.endswith((".yaml", ".yml")):
        problem = official.notice_text_problem(source.text, "en")
        if problem:
            raise SourceErrors([_error(source, 1, problem)])
        return source.text.strip(), None
    data = parse_yaml(source)
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise SourceErrors([_error(source, 1, "a notice file in YAML needs 'text:' (and may have 'call:')")])
    errors = [_error(source, data.line_of(key), f"unknown key '{key}'") for key in data if key not in ("text", "call")]
    problem = official.notice_text_problem(data["text"], "en")
    if problem:
        errors.append(_error(source, data.line_of("text"), problem))
    call = data.get("call")
    if call is not None:
        errors += _call_errors(source, call, {rule.id for rule in engine.ruleset.rules})
    if errors:
        raise SourceErrors(errors)
    return data["text"].strip(), _plain(call) if call is not None else None


def _call_errors(source: SourceFile, call: Any, rule_ids: set[str]) -> list:
    if not isinstance(call, dict):
        return [_error(source, 1, "'call:' must be a mapping of title, rules, opens, closes, where, contact")]
    errors = [
        _error(source, call.line_of(key), f"unknown key '{key}' in the call") for key in call if key not in CALL_FIELDS
    ]
    if not isinstance(call.get("title"), str) or not call.get("title"):
        errors.append(_error(source, call.line, "a call needs 'title'"))
    rules = call.get("rules")
    if not isinstance(rules, list) or not rules:
        errors.append(_error(source, call.line, "a call needs 'rules: [rule id, ...]'"))
    else:
        errors += [
            _error(source, call.line_of("rules"), f"unknown rule '{rule}'") for rule in rules if rule not in rule_ids
        ]
    closes, opens = _as_date(call.get("closes")), _as_date(call.get("opens"))
    if closes is None:
        line = call.line_of("closes") if "closes" in call else call.line
        errors.append(_error(source, line, "a call needs 'closes: YYYY-MM-DD'"))
    if "opens" in call and opens is None:
        errors.append(_error(source, call.line_of("opens"), "'opens' must be a date YYYY-MM-DD"))
    elif opens is not None and closes is not None and opens > closes:
        errors.append(_error(source, call.line_of("closes"), "'closes' is before 'opens'"))
    return errors


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value is not None else None
    except ValueError:
        return None


def _plain(call: dict[str, Any]) -> dict[str, Any]:
    plain = {key: value for key, value in call.items() if key not in ("opens", "closes")}
    plain["closes"] = _as_date(call["closes"]).isoformat()
    if call.get("opens") is not None:
        plain["opens"] = _as_date(call["opens"]).isoformat()
    return plain


def _error(source: SourceFile, line: int, message: str) -> SourceError:
    return SourceError(source.path, line, message)


__all__ = ["Composed", "LiveEngine", "NoticeDesk", "NoticesUnavailable", "describe", "read_notice_file"]
