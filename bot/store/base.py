"""What the bot keeps per chat, and the small storage interface every backend implements."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.messages import ChatKey, Delivery, Incoming, Outgoing
from bot.store.rulesets import LocalRuleSets, NewVersion, RuleVersion


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
    undelivered: bool = False  # a reply to this chat could not be delivered: re-ask before reading answers
    draft: dict[str, Any] | None = None  # the notice an official in this chat is composing
    new: bool = field(default=True, compare=False)


@dataclass
class Turn:
    """A chat's state under its lock, and the updates to apply to it now, in update order.

    `replayed` counts the updates at the front of `updates` that had been applied before: an earlier update
    arrived late, so the state was rolled back to before them and they are applied again after it.
    `backlog` says the chat still has replies waiting in the outbox from before this turn.
    """

    state: ChatState
    updates: list[Incoming]
    replayed: int = 0
    backlog: bool = False


@dataclass(frozen=True)
class Recorded:
    """An update the store kept for a chat: applied already (with the state before it) or waiting."""

    update_id: int
    incoming: Incoming
    applied: bool
    state_before: ChatState | None = None


def plan_turn(incoming: Incoming, recorded: Sequence[Recorded]) -> tuple[list[Incoming], int, ChatState | None]:
    """The updates of a chat to apply now in update order, how many of them are replayed, and the state to roll
    back to first (None: go on from the stored state). Empty when `incoming` was applied already.

    `recorded` holds the chat's kept updates from `incoming`'s id on, and any still waiting. An update older than
    some already applied rolls the chat back to the state before the first of those, which are applied again.
    """
    if incoming.update_id is None:
        return [incoming], 0, None
    if any(r.update_id == incoming.update_id and r.applied for r in recorded):
        return [], 0, None
    pending = {r.update_id: r.incoming for r in recorded if not r.applied}
    pending[incoming.update_id] = incoming
    first = min(pending)
    later = sorted((r for r in recorded if r.applied and r.update_id > first), key=lambda r: r.update_id)
    before = later[0].state_before if later else None
    replay = {r.update_id: r.incoming for r in later} if before is not None else {}
    due = {**replay, **pending}
    return [due[number] for number in sorted(due)], len(replay), before


@dataclass
class Decision:
    """What the handlers made of a turn: the replies, each with the update it answers, and whether to forget.

    `states_before` holds a copy of the state as it was before each update of the turn was applied, in order:
    the store keeps them so a late earlier update can roll the chat back to the right point (None for an update
    without an update_id, which nothing can arrive before).
    """

    replies: list[tuple[Incoming, Outgoing]] = field(default_factory=list)
    states_before: list[ChatState | None] = field(default_factory=list)
    forget: bool = False
    effects: list[tuple[Incoming, Any]] = field(default_factory=list)  # what the dispatcher does after the turn


ROLES = ("admin", "official")
NOTICE_ROLES = frozenset({"official", "admin"})  # who may send notices


@dataclass(frozen=True)
class Replies:
    """Replies to queue outside a turn, and who may send them at once (leased for `lease_seconds`)."""

    messages: Sequence[tuple[Incoming, Outgoing]]
    owner: str
    lease_seconds: float


@dataclass(frozen=True)
class RoleChange:
    """Give a user a role, or take it away."""

    user_id: int
    role: str
    grant: bool


@dataclass(frozen=True)
class RoleGrant:
    """A role held: by whom, given by whom and when."""

    user_id: int
    role: str
    granted_by: str
    granted_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One privileged action in the audit log."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class DeliveryOutcome:
    """How a delivery attempt ended, as the outbox records it."""

    SENT = "sent"
    FAILED = "failed"  # given up after retrying for longer than allowed
    BLOCKED = "blocked"  # the contact blocked the bot (Telegram 403)
    REJECTED = "rejected"  # the platform refused the message itself (malformed); retrying cannot help
    AMBIGUOUS = "ambiguous"  # a notice whose send was cut short: it may or may not have arrived; never resent
    CANCELLED = "cancelled"  # not sent: its notice was cancelled, or a reminder was no longer due when its turn came


class NoticesUnavailable(Exception):
    """This store keeps no notices (the terminal's in-memory store): they need the bot's database."""


# How many slots ahead a notice message may book: enough that workers never wait on each other to book, few
# enough that a reply, which books the next slot whatever is booked, waits only for these.
BULK_AHEAD = 3


class LocalBudget:
    """The sending budget of one process (SQLite and memory stores, where one worker runs): the time the next
    slot starts. A reply takes the next slot whatever is booked; a bulk message books the next one only when it
    starts within BULK_AHEAD intervals, so slots stay back to back and a reply waits only for those."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}

    def take(self, channel: str, interval: float, bulk: bool) -> tuple[bool, float]:
        moment = time.monotonic()
        next_at = self._next.get(channel, 0.0)
        if bulk and next_at > moment + BULK_AHEAD * interval:
            return False, next_at - BULK_AHEAD * interval - moment
        start = max(next_at, moment)
        self._next[channel] = start + interval
        return True, start - moment

    def hold(self, channel: str, seconds: float) -> None:
        self._next[channel] = max(self._next.get(channel, 0.0), time.monotonic() + seconds)


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
    async def take_turn(
        self,
        incoming: Incoming,
        decide: Callable[[Turn], Decision],
        owner: str,
        lease_seconds: float,
        delivered: bool = False,
    ) -> list[Delivery]:
        """Records the update and, under the chat's lock, applies every update of the chat that is due.

        In one transaction: the update is kept (once: a second delivery of the same update_id is ignored), the
        chat is locked against every other process, its state and due updates are read (rolled back and replayed
        when an earlier update arrived after later ones were applied), `decide` changes the state and says what
        to reply, the state is saved (or everything about the chat deleted if the decision says forget) and the
        replies are put in the outbox. Returns the replies this caller may send at once, leased to `owner` for
        `lease_seconds`; they are returned only when no earlier message of the chat is still waiting.

        `delivered` is for a channel that shows a chat what the outbox holds for it (the web chat), where delivering
        cannot fail: the replies the caller may send at once are stored delivered by the same transaction (and
        returned with `delivered` set), so no second write marks them; replies that wait behind an earlier
        message are queued as usual.
        """

    @abstractmethod
    async def claim_deliveries(self, owner: str, limit: int, lease_seconds: float) -> list[Delivery]:
        """Leases up to `limit` messages that are due, replies first; at most the oldest waiting one per chat."""

    @abstractmethod
    async def finish_deliveries(self, ids: Sequence[int], outcome: str, error: str | None = None) -> None:
        """Records how the deliveries ended (a DeliveryOutcome); a failed reply marks its chat undelivered."""

    @abstractmethod
    async def retry_delivery(self, delivery_id: int, delay_seconds: float, error: str) -> None:
        """Releases a delivery to be tried again after the delay, counting the attempt."""

    @abstractmethod
    async def delivery_counts(self) -> dict[str, int]:
        """How many messages the outbox holds in each state (pending, sent, failed, blocked, rejected)."""

    @abstractmethod
    async def delivered(self, key: ChatKey, after: int = 0, limit: int = 100) -> list[Delivery]:
        """The chat's delivered messages with ids above `after`, oldest first, as long as the outbox keeps them:
        what a channel that fetches its messages (the web chat) shows, again after a reload."""

    @abstractmethod
    async def prune(self, older_than_seconds: float) -> None:
        """Deletes applied updates and finished deliveries older than the given age."""

    @abstractmethod
    async def roles_of(self, user_id: int) -> frozenset[str]:
        """The roles the user holds in the database (the first admins from the settings are not stored)."""

    @abstractmethod
    async def list_roles(self) -> list[RoleGrant]:
        """Every role held, by user and role."""

    @abstractmethod
    async def change_roles(
        self, changes: Sequence[RoleChange], actor: str, replies: Replies | None = None
    ) -> tuple[list[bool], list[Delivery]]:
        """Applies the changes, audits each one that changed something, and queues the replies, in one transaction.

        Returns, per change, whether it changed anything, and the replies the caller may send at once.
        """

    async def queue_replies(self, replies: Replies) -> list[Delivery]:
        """Queues replies outside a chat's turn; returns those the caller may send at once."""
        return (await self.change_roles([], "", replies))[1]

    @abstractmethod
    async def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None:
        """Writes one privileged action to the audit log."""

    @abstractmethod
    async def audit_log(self, since: datetime | None = None) -> list[AuditEntry]:
        """The audit log, oldest first, from `since` on."""

    # Notices: a database store keeps them; the defaults say this one cannot.

    supports_notices = False

    async def contacts(self, changed_since: datetime | None = None) -> list[Any]:
        """Every chat as a notices.Contact, to choose a notice's audience from; or only those whose state was saved
        at or after `changed_since`."""
        raise NoticesUnavailable

    async def create_notice(self, notice: Any) -> tuple[int, bool]:
        """Stores a notices.NewNotice with one outbox row per recipient and audits it, in one transaction.
        Returns its id and whether it is new (False: its token was used before, and nothing was added)."""
        raise NoticesUnavailable

    async def notice_status(self, notice_id: int) -> Any:
        """The notices.NoticeStatus of a notice, or None."""
        raise NoticesUnavailable

    async def recent_notices(self, limit: int = 10) -> list[Any]:
        """The newest notices' statuses, newest first."""
        raise NoticesUnavailable

    async def cancel_notice(
        self, notice_id: int, actor: str, replies: Replies | None = None
    ) -> tuple[bool, list[Delivery]]:
        """Cancels what is not yet sent of a notice (audited) and queues the replies, in one transaction; False
        (and nothing queued) when there is no such notice, it has finished, or it was cancelled already."""
        raise NoticesUnavailable

    async def notice_calls(self) -> list[tuple[int, dict[str, Any]]]:
        """The application calls carried by notices that were not cancelled, by notice id."""
        return []

    async def notice_calls_version(self) -> tuple[int, int]:
        """Changes whenever a call is added or withdrawn: (how many, newest notice id)."""
        return 0, 0

    async def claim_bulk(
        self, owner: str, limit: int, lease_seconds: float, intervals: tuple[float, float], after: int = 0
    ) -> list[Delivery]:
        """Leases due notices and reminders with ids above `after`, at most one per chat (none for a chat with a
        reply waiting or a message sent within its interval: (group, private chat) seconds); marks rows a dead
        worker left sending ambiguous."""
        return []

    async def start_sending(
        self, delivery_id: int, owner: str, lease_seconds: float, sent: int | None = None
    ) -> str | None:
        """Marks a leased bulk row sending before its one attempt; returns the new state (sending, or blocked or
        opted_out when its contact is), or None when the row is no longer this owner's or pending. `sent`, this
        owner's previous row whose message went out, is recorded sent in the same write."""
        raise NoticesUnavailable

    async def finish_bulk(self, delivery_id: int, owner: str, outcome: str, error: str | None = None) -> None:
        """Records how a bulk row's attempt ended (sent, ambiguous, failed, blocked, rejected)."""
        raise NoticesUnavailable

    async def retry_bulk(
        self, delivery_id: int, owner: str, delay_seconds: float, error: str, counts: bool = True
    ) -> None:
        """Puts a bulk row that certainly did not arrive back in the queue, due after the delay (cancelled instead
        if its notice was); `counts` False gives the attempt back (the platform only asked to slow down)."""
        raise NoticesUnavailable

    async def release_bulk(self, owner: str) -> None:
        """Gives back the bulk rows this owner claimed and did not start."""
        raise NoticesUnavailable

    # Deadline reminders: a database store keeps them; this one has none to send.

    async def queued_reminders(self, since: date) -> set[Any]:
        """The reminders.ReminderKey of every reminder queued for a deadline from `since` on."""
        return set()

    async def queue_reminders(self, reminders: Sequence[Any]) -> int:
        """Queues each reminders.NewReminder not queued before (its key is written once, with its message in the
        outbox, in one transaction) for a contact still subscribed and active; returns how many were queued."""
        raise NoticesUnavailable

    async def reminder_of(self, delivery_id: int) -> Any:
        """The reminders.ReminderKey of the outbox row that tells it, or None."""
        return None

    async def prune_reminders(self, before: date) -> None:
        """Forgets the reminders of deadlines before the day."""
        return None

    _budget: LocalBudget | None = None

    async def take_send_slot(self, channel: str, interval: float, bulk: bool) -> tuple[bool, float]:
        """Takes the channel's next sending slot for every process of the bot: (taken, seconds to wait)."""
        if self._budget is None:
            self._budget = LocalBudget()
        return self._budget.take(channel, interval, bulk)

    async def hold_sending(self, channel: str, seconds: float) -> None:
        """Nothing is sent on the channel by any process for the given time (the platform asked to slow down)."""
        if self._budget is None:
            self._budget = LocalBudget()
        self._budget.hold(channel, seconds)

    # The rule set in use, for every process on the database; this default keeps it in the process.

    _rulesets: LocalRuleSets | None = None

    @property
    def _local_rules(self) -> LocalRuleSets:
        if self._rulesets is None:
            self._rulesets = LocalRuleSets()
        return self._rulesets

    async def activate_rules(self, new: NewVersion) -> bool:
        """Records the rule set as the one every process runs; True if this call switched to it (False when it
        already was, as when several processes reloaded the same files)."""
        return self._local_rules.activate(new)

    async def refuse_rules(self, version: str) -> bool:
        """Remembers that this rule set was refused; True the first time, so the refusal is announced once."""
        return self._local_rules.refuse(version)

    async def active_rules(self) -> RuleVersion | None:
        """The rule set every process should run, once one was recorded."""
        return self._local_rules.state

    async def rule_versions(self, limit: int = 20) -> list[RuleVersion]:
        """The rule sets that were in use, newest first."""
        entries = sorted((entry for entry, _ in self._local_rules.history.values()), key=lambda e: e.loaded_at)
        return entries[::-1][:limit]

    async def rule_files(self, version: str) -> dict[str, Any] | None:
        """Everything the version was compiled from (bot.reloading.sources_to_json), if it was recorded."""
        entry = self._local_rules.history.get(version)
        return entry[1] if entry else None

    async def rule_uploads(self) -> dict[str, str]:
        """The rule files admins sent to the bot, by their place in the rules folder."""
        return dict(self._local_rules.uploads)

    async def save_rule_upload(self, name: str, text: str, actor: str) -> None:
        self._local_rules.uploads[name] = text

    async def remove_rule_upload(self, name: str) -> bool:
        return self._local_rules.uploads.pop(name, None) is not None

    @abstractmethod
    async def close(self) -> None:
        """Releases connections."""
