"""The officials' side: composing a notice (text, audience, preview, send time, confirm), choosing its recipients,
and wording its status. Channel-free and without I/O, like the enterprise conversation: what needs the database
(counting recipients, storing the notice) is asked for as an effect that the dispatcher carries out.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rapidfuzz import process

from bot.engine.answers import parse_answer
from bot.engine.deadlines import CHINA
from bot.engine.engine import Engine
from bot.engine.parsing import Invalid
from bot.messages import Button, Incoming, Outgoing
from bot.store.base import ChatState
from bot.store.notices import Contact, NoticeStatus
from handlers.admin import Access
from handlers.markup import check_html, visible_length
from handlers.texts import language_for, t

NOTICE_COMMANDS = ("notice",)  # the dialogue, which keeps its draft in the chat's state
STATUS_COMMANDS = ("notices", "notice_status", "notice_cancel")  # answered from the database alone
OFFICIAL_COMMANDS = NOTICE_COMMANDS + STATUS_COMMANDS
TIMEZONE = CHINA
# What is left of Telegram's 4,096 characters once the opt-out line is added in the longest language.
MAX_NOTICE_LENGTH = 3800
MAX_SCHEDULE_DAYS = 366
DIALOGUE, STATUS, CANCEL = "n", "ns", "nc"  # button prefixes: the dialogue's, a notice's status, cancelling one
UNSUBSCRIBE = "unsub"

_KEYS = {
    "region": ("region", "regions", "地区", "地區", "区域", "區域", "省市"),
    "industry": ("industry", "industries", "行业", "行業"),
    "rule": ("rule", "rules", "规则", "規則", "政策"),
}
_EVERYONE = {"all", "everyone", "全部", "所有", "所有人", "全部订阅者", "所有订阅者"}
_SEPARATORS = re.compile(r"[,,、;;]+")
_FILTER = re.compile(r"([^::]+?)\s*[::]\s*(.*)", re.S)
_WHEN = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*(\d{1,2})[::时點点](\d{2})?分?")


@dataclass(frozen=True)
class Preview:
    """Effect: count the draft's recipients and show the official exactly what they will see."""

    draft: dict[str, Any]
    language: str


@dataclass(frozen=True)
class Send:
    """Effect: store the draft as a notice with a row per recipient (once per token) and confirm it."""

    draft: dict[str, Any]
    language: str


@dataclass
class OfficialReply:
    messages: list[Outgoing] = field(default_factory=list)
    forget: bool = False
    effects: list[Preview | Send] = field(default_factory=list)


@dataclass(frozen=True)
class Audience:
    """Whom a notice is for: everyone subscribed, or those matching every filter given (any value within one)."""

    regions: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    chats: tuple[str, ...] = ()  # particular chats ("telegram:42"): those whose results a reload changed

    @property
    def everyone(self) -> bool:
        return not (self.regions or self.industries or self.rules or self.chats)

    def to_json(self) -> dict[str, Any]:
        chosen = {"regions": list(self.regions), "industries": list(self.industries), "rules": list(self.rules)}
        return {**chosen, "chats": list(self.chats)} if self.chats else chosen

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(*(tuple(data.get(key, ())) for key in ("regions", "industries", "rules", "chats")))


@dataclass(frozen=True)
class AudienceProblem:
    """Why filters could not be read: a key of texts.yaml and what to fill in."""

    key: str
    values: dict[str, str]


def is_dialogue(incoming: Incoming, state: ChatState) -> bool:
    """Whether the update belongs to a notice being composed in this chat (or starts one)."""
    if incoming.command in NOTICE_COMMANDS:
        return True
    if incoming.callback_data is not None:
        return incoming.callback_data.startswith(f"{DIALOGUE}:")
    return state.draft is not None and incoming.command is None and incoming.unreadable is None


def is_status_request(incoming: Incoming) -> bool:
    """Whether the update asks about notices already stored (list, status, cancel)."""
    if incoming.command in STATUS_COMMANDS:
        return True
    data = incoming.callback_data or ""
    return data.startswith((f"{STATUS}:", f"{CANCEL}:"))


# The dialogue


class NoticeDialogue:
    """Composes a notice step by step in the chat's state: text, audience, (time), confirm."""

    def __init__(self, engine: Any, now: Any = None):
        self._engine = engine
        self._now = now or (lambda: datetime.now(UTC))

    @property
    def engine(self) -> Engine:
        return self._engine()

    def handle(self, incoming: Incoming, state: ChatState, access: Access) -> OfficialReply:
        lang = state.language if not state.new else language_for(incoming.language_code)
        if incoming.in_group:
            return OfficialReply([Outgoing(t("private_only", lang))])
        if incoming.command == "notice":
            if not access.may_notify:
                return OfficialReply([Outgoing(t("official_only", lang))])
            return self._start(state, lang)
        if incoming.callback_data is not None:
            return self._button(incoming.callback_data.partition(":")[2], state, access, lang)
        return self._text(incoming.text, state, lang)

    def _start(self, state: ChatState, lang: str) -> OfficialReply:
        state.draft = {"step": "text", "token": secrets.token_hex(12)}
        return OfficialReply([_prompt(t("notice_ask_text", lang, limit=MAX_NOTICE_LENGTH), lang)])

    def _button(self, action: str, state: ChatState, access: Access, lang: str) -> OfficialReply:
        draft = state.draft
        if action == "discard":
            state.draft = None
            return OfficialReply([Outgoing(t("notice_discarded", lang), edit=True)])
        if draft is None:
            return OfficialReply([Outgoing("", notice=t("stale_button", lang))])
        if not access.may_notify:
            state.draft = None
            return OfficialReply([Outgoing(t("official_only", lang))])
        step = draft.get("step")
        if action == "all" and step == "audience":
            draft.update(audience=Audience().to_json(), step="confirm")
            return OfficialReply(effects=[Preview(dict(draft), lang)])
        if action == "call" and step == "confirm":
            draft["step"] = "call"
            return OfficialReply([_prompt(t("notice_ask_call", lang), lang)])
        if action == "later" and step == "confirm":
            draft["step"] = "when"
            return OfficialReply([_prompt(t("notice_ask_when", lang), lang)])
        if action == "now" and step in ("confirm", "when"):
            draft.update(send_at=None, step="confirm")
            return OfficialReply(effects=[Preview(dict(draft), lang)])
        if action == "send" and step == "confirm":
            state.draft = None
            return OfficialReply(effects=[Send(draft, lang)])
        return OfficialReply([Outgoing("", notice=t("stale_button", lang))])

    def _text(self, text: str, state: ChatState, lang: str) -> OfficialReply:
        draft = state.draft or {}
        step = draft.get("step")
        if step == "text":
            problem = notice_text_problem(text, lang)
            if problem:
                return OfficialReply([_prompt(problem, lang)])
            draft.update(text=text.strip(), step="audience")
            return OfficialReply([_audience_prompt(lang)])
        if step == "audience":
            audience = parse_audience(text, self.engine)
            if isinstance(audience, AudienceProblem):
                return OfficialReply([Outgoing(t(audience.key, lang, **audience.values)), _audience_prompt(lang)])
            draft.update(audience=audience.to_json(), step="confirm")
            return OfficialReply(effects=[Preview(dict(draft), lang)])
        if step == "call":
            call = parse_call(text, self.engine, self._now().date())
            if isinstance(call, AudienceProblem):
                return OfficialReply([_prompt(t(call.key, lang, **call.values), lang)])
            draft.update(call=call, step="confirm")
            return OfficialReply(effects=[Preview(dict(draft), lang)])
        if step == "when":
            when = parse_send_time(text, self._now())
            if isinstance(when, str):
                return OfficialReply([_prompt(t(when, lang, days=MAX_SCHEDULE_DAYS), lang)])
            draft.update(send_at=when.isoformat(), step="confirm")
            return OfficialReply(effects=[Preview(dict(draft), lang)])
        return OfficialReply([Outgoing(t("notice_use_buttons", lang))])


def _prompt(text: str, lang: str) -> Outgoing:
    return Outgoing(text, ((Button(t("notice_discard", lang), f"{DIALOGUE}:discard"),),))


def _audience_prompt(lang: str) -> Outgoing:
    buttons = (
        (
            Button(t("notice_everyone", lang), f"{DIALOGUE}:all"),
            Button(t("notice_discard", lang), f"{DIALOGUE}:discard"),
        ),
    )
    return Outgoing(t("notice_ask_audience", lang), buttons)


def notice_text_problem(text: str, lang: str) -> str | None:
    """Why the text cannot be a notice (Telegram would refuse it, or it is too long), in the official's words."""
    text = text.strip()
    if not text:
        return t("notice_empty", lang)
    problem = check_html(text)
    if problem is not None:
        return t("notice_bad_html", lang, reason=t(problem.key, lang, detail=problem.detail))
    if visible_length(text) > MAX_NOTICE_LENGTH:
        return t("notice_too_long", lang, length=visible_length(text), limit=MAX_NOTICE_LENGTH)
    return None


def parse_send_time(text: str, now: datetime) -> datetime | str:
    """A send time written in Beijing time ("2026-12-01 09:00"), as UTC; or the key of why it cannot be used."""
    found = _WHEN.search(text.strip())
    if not found:
        return "notice_bad_time"
    year, month, day, hour, minute = (int(part or 0) for part in found.groups())
    try:
        moment = datetime(year, month, day, hour, minute, tzinfo=TIMEZONE).astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-02-30, or the year 1
        return "notice_bad_time"
    if moment <= now:
        return "notice_time_past"
    if moment > now + timedelta(days=MAX_SCHEDULE_DAYS):
        return "notice_time_far"
    return moment


# Audiences


def parse_audience(text: str, engine: Engine) -> Audience | AudienceProblem:
    """Filters written as lines "地区:吉林省长春市、通化市", "行业:生物药", "规则:jilin-6-biologics-rnd" (or region: /
    industry: / rule:), or "全部" for every subscriber."""
    if text.strip().casefold() in _EVERYONE:
        return Audience()
    found: dict[str, list[str]] = {"region": [], "industry": [], "rule": []}
    parts = [part for line in text.splitlines() for part in re.split(r"[;;](?=\s*\w+\s*[::])", line)]
    for part in parts:
        if not part.strip():
            continue
        kind, value = _keyed(part, _KEYS)
        if not kind or not _SEPARATORS.sub("", value).strip():  # unreadable, or "地区:" naming nobody
            return AudienceProblem("audience_syntax", {"part": part.strip()[:40]})
        found[kind].append(value)
    return audience_from(found["region"], found["industry"], found["rule"], engine)


def audience_from(
    regions: Iterable[str], industries: Iterable[str], rules: Iterable[str], engine: Engine
) -> Audience | AudienceProblem:
    """Filters as given (on the command line, or parsed from a message), checked against the rules and places."""
    paths: list[str] = []
    for value in regions:
        for name in _values(value, engine):
            found = engine.regions.lookup(name)
            if not found:
                return AudienceProblem("audience_region_unknown", {"name": name})
            if len(found) > 1:
                return AudienceProblem("audience_region_ambiguous", {"name": name, "options": "、".join(found[:6])})
            paths.append(found[0])
    question = engine.ruleset.catalogue["industries"]
    chosen: list[str] = []
    for value in industries:
        for name in _SEPARATORS.split(value):
            if not name.strip():
                continue
            parsed = parse_answer(question, name.strip(), engine.regions)
            if isinstance(parsed, Invalid) or not parsed.value:
                options = "、".join(option.value for option in question.options)
                return AudienceProblem("audience_industry_unknown", {"name": name.strip(), "options": options})
            chosen += parsed.value
    ids = [rule.id for rule in engine.ruleset.rules]
    picked: list[str] = []
    for value in rules:
        for rule_id in _SEPARATORS.split(value):
            rule_id = rule_id.strip()
            if not rule_id:
                continue
            if rule_id not in ids:
                near = process.extractOne(rule_id, ids)
                return AudienceProblem("audience_rule_unknown", {"name": rule_id, "nearest": near[0] if near else "—"})
            picked.append(rule_id)
    return Audience(tuple(dict.fromkeys(paths)), tuple(dict.fromkeys(chosen)), tuple(dict.fromkeys(picked)))


_CALL_KEYS = {
    "title": ("title", "标题", "標題", "名称"),
    "rules": ("rules", "rule", "规则", "規則"),
    "opens": ("opens", "开始", "開始", "起始"),
    "closes": ("closes", "截止", "截止日期"),
    "where": ("where", "受理", "受理部门", "申报地点"),
    "contact": ("contact", "联系", "聯繫", "联系方式"),
}
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def parse_call(text: str, engine: Engine, today: date) -> dict[str, Any] | AudienceProblem:
    """An application call written as lines "标题:…", "规则:…", "开始:…" (optional), "截止:…", "受理:…" and
    "联系:…" (optional), checked against the rules: what a notice carries into matching contacts' deadlines."""
    call: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, value = _keyed(line, _CALL_KEYS)
        if not key:
            return AudienceProblem("call_syntax", {"part": line.strip()[:40]})
        call[key] = value.strip()
    if not call.get("title") or not call.get("rules") or not call.get("closes"):
        return AudienceProblem("call_incomplete", {})
    chosen = audience_from((), (), [call["rules"]], engine)
    if isinstance(chosen, AudienceProblem):
        return chosen
    if not chosen.rules:
        return AudienceProblem("call_incomplete", {})
    call["rules"] = list(chosen.rules)
    for key in ("opens", "closes"):
        if key in call:
            written, found = call[key], _DATE.fullmatch(call[key])
            try:
                call[key] = date(*(int(part) for part in found.groups())).isoformat() if found else ""
            except ValueError:
                call[key] = ""
            if not call[key]:
                return AudienceProblem("call_bad_date", {"value": written[:30]})
    if call["closes"] < today.isoformat() or call.get("opens", "") > call["closes"]:
        return AudienceProblem("call_bad_window", {})
    return call


def _keyed(line: str, keys: dict[str, tuple[str, ...]]) -> tuple[str | None, str]:
    """A "key: value" line read against the names each key may be written as: (key or None, value)."""
    written = _FILTER.fullmatch(line.strip())
    if not written:
        return None, ""
    return next((key for key, names in keys.items() if written[1].casefold() in names), None), written[2]


def _values(value: str, engine: Engine) -> list[str]:
    """Place names in a filter value: the whole value if it names one place ("Changchun, Jilin"), else its parts."""
    if engine.regions.lookup(value.strip()):
        return [value.strip()]
    return [name.strip() for name in _SEPARATORS.split(value) if name.strip()]


@dataclass(frozen=True)
class Recipients:
    """Who gets a notice, and how many matching contacts are left out and why."""

    contacts: tuple[Contact, ...]
    excluded: dict[str, int]


def choose_recipients(contacts: Iterable[Contact], audience: Audience, engine: Engine, today: date) -> Recipients:
    """The private chats matching the audience, without those who opted out or blocked the bot (counted)."""
    chosen: list[Contact] = []
    excluded = {"opted_out": 0, "blocked": 0}
    wanted_rules, wanted_chats = set(audience.rules), set(audience.chats)
    for contact in contacts:
        if contact.chat.id < 0 or (wanted_chats and str(contact.chat) not in wanted_chats):
            continue  # a group chat (the interview runs in private ones), or not one of the chats named
        if not _matches(contact.answers, audience, wanted_rules, engine, today):
            continue
        if not contact.active:
            excluded["blocked"] += 1
        elif not contact.subscribed:
            excluded["opted_out"] += 1
        else:
            chosen.append(contact)
    return Recipients(tuple(chosen), excluded)


def _matches(answers: dict[str, Any], audience: Audience, rules: set[str], engine: Engine, today: date) -> bool:
    if audience.regions:
        region = answers.get("region")
        if not isinstance(region, str) or not any(engine.regions.within(region, scope) for scope in audience.regions):
            return False
    if audience.industries:
        industries = answers.get("industries")
        if not isinstance(industries, list) or not set(industries) & set(audience.industries):
            return False
    if rules:
        match = engine.match(answers, today)
        if not {result.rule.id for result in (*match.eligible, *match.undetermined)} & rules:
            return False
    return True


def audience_text(audience: dict[str, Any], lang: str) -> str:
    chosen = Audience.from_json(audience)
    if chosen.everyone:
        return t("audience_everyone", lang)
    parts = [t("audience_chats", lang, count=len(chosen.chats))] if chosen.chats else []
    for key, values in (("audience_regions", chosen.regions), ("audience_industries", chosen.industries),
                        ("audience_rules", chosen.rules)):  # fmt: skip
        if values:
            parts.append(t(key, lang, values="、".join(values)))
    return ";".join(parts) if lang != "en" else "; ".join(parts)


# What recipients and officials see


def recipient_copy(text: str, language: str) -> Outgoing:
    """The notice as a recipient sees it: the official's text, how to opt out, and a button that does."""
    footer = html.escape(t("notice_footer", language))
    button = Button(t("notice_unsubscribe", language), UNSUBSCRIBE)
    return Outgoing(f"{text}\n\n{footer}", ((button,),), html=True)


def preview_messages(draft: dict[str, Any], count: int, excluded: dict[str, int], lang: str) -> list[Outgoing]:
    """The notice exactly as recipients in this language will see it, then whom it goes to, when, and the choice."""
    when = _local_time(draft.get("send_at"), lang)
    summary = t(
        "notice_preview", lang, count=count, audience=audience_text(draft.get("audience", {}), lang), when=when,
        opted_out=excluded.get("opted_out", 0), blocked=excluded.get("blocked", 0),
    )  # fmt: skip
    call = draft.get("call")
    if call:
        summary += "\n" + t("notice_call_line", lang, title=call["title"], closes=call["closes"],
                            rules="、".join(call["rules"]))  # fmt: skip
    buttons = (
        (Button(t("notice_send", lang), f"{DIALOGUE}:send"), Button(t("notice_later", lang), f"{DIALOGUE}:later")),
        (Button(t("notice_call", lang), f"{DIALOGUE}:call"), Button(t("notice_discard", lang), f"{DIALOGUE}:discard")),
    )
    if draft.get("send_at"):
        buttons = ((*buttons[0], Button(t("notice_now", lang), f"{DIALOGUE}:now")), *buttons[1:])
    return [recipient_copy(draft["text"], lang), Outgoing(summary, buttons)]


def _local_time(moment: str | datetime | None, lang: str) -> str:
    if moment is None:
        return t("notice_at_once", lang)
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M") + t("beijing_time", lang)


def queued_message(notice_id: int, count: int, send_at: datetime, created: bool, lang: str) -> Outgoing:
    key = "notice_queued" if created else "notice_already_queued"
    now = datetime.now(UTC)
    when = _local_time(send_at if send_at > now else None, lang)
    return Outgoing(t(key, lang, id=notice_id, count=count, when=when), _status_buttons(notice_id, lang, True))


def _status_buttons(notice_id: int, lang: str, cancellable: bool) -> tuple[tuple[Button, ...], ...]:
    row = [Button(t("notice_status_button", lang), f"{STATUS}:{notice_id}")]
    if cancellable:
        row.append(Button(t("notice_cancel_button", lang), f"{CANCEL}:{notice_id}"))
    return (tuple(row),)


STATE_KEYS = {"scheduled": "state_scheduled", "sending": "state_sending", "done": "state_done",
              "cancelled": "state_cancelled"}  # fmt: skip


def status_text(status: NoticeStatus, lang: str) -> str:
    """Where a notice stands, every count named (for /notice_status and the command line's text form)."""
    counts = status.counts
    lines = [
        t("status_title", lang, id=status.id, state=t(STATE_KEYS[status.state], lang),
          when=_local_time(status.send_at, lang), by=status.created_by),
        t("status_counts", lang, recipients=status.recipients, sent=counts.get("sent", 0), pending=status.pending,
          failed=counts.get("failed", 0) + counts.get("rejected", 0), blocked=counts.get("blocked", 0),
          opted_out=counts.get("opted_out", 0), ambiguous=counts.get("ambiguous", 0),
          cancelled=counts.get("cancelled", 0)),
        t("audience_line", lang, audience=audience_text(status.audience, lang)),
    ]  # fmt: skip
    excluded = status.excluded
    if excluded.get("opted_out") or excluded.get("blocked"):
        lines.append(
            t("status_excluded", lang, opted_out=excluded.get("opted_out", 0), blocked=excluded.get("blocked", 0))
        )
    if status.forgotten:
        lines.append(t("status_forgotten", lang, count=status.forgotten))
    if status.errors:
        lines.append(t("status_errors", lang, errors="; ".join(status.errors)))
    return "\n".join(lines)


def status_message(status: NoticeStatus | None, lang: str, notice_id: int | None = None) -> Outgoing:
    if status is None:
        return Outgoing(t("notice_unknown", lang, id=notice_id if notice_id is not None else "?"))
    cancellable = status.state in ("scheduled", "sending")
    return Outgoing(status_text(status, lang), _status_buttons(status.id, lang, cancellable))


def list_message(statuses: Sequence[NoticeStatus], lang: str) -> list[Outgoing]:
    if not statuses:
        return [Outgoing(t("notices_none", lang))]
    lines = [t("notices_title", lang)]
    for status in statuses:
        preview = re.sub(r"<[^>]*>", "", status.text).replace("\n", " ")
        preview = html.unescape(preview)[:40]
        lines.append(
            t("notices_line", lang, id=status.id, state=t(STATE_KEYS[status.state], lang),
              sent=status.counts.get("sent", 0), recipients=status.recipients, text=preview)
        )  # fmt: skip
    buttons = tuple(
        (Button(f"#{status.id}", f"{STATUS}:{status.id}"),) for status in statuses if status.state != "done"
    )[:5]
    return [Outgoing("\n".join(lines), buttons)]


def requested_notice(incoming: Incoming) -> int | None:
    """The notice id a status or cancel request names (/notice_status 12, or its button); None if none is given."""
    if incoming.callback_data is not None:
        value = incoming.callback_data.partition(":")[2]
    else:
        value = incoming.text.strip().lstrip("#")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 18 else None
