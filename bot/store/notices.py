"""Notices in the database: created with one outbox row per recipient in one transaction, sent one at a time
per worker within the bot's sending budget, cancelled, and counted for their status."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from bot.messages import ChatKey, Delivery, Outgoing
from bot.store.base import BULK_AHEAD
from bot.store.statements import PENDING, PRIORITY, _aware, _Dialect, now

SENDING = "sending"
AMBIGUOUS = "ambiguous"
CANCELLED = "cancelled"
OPTED_OUT = "opted_out"
BULK_KINDS = ("notice", "reminder")


@dataclass(frozen=True)
class Contact:
    """What a notice's audience is chosen by: a chat, its language and answers, and whether it may be sent to."""

    chat: ChatKey
    language: str
    answers: dict[str, Any]
    subscribed: bool
    active: bool


@dataclass(frozen=True)
class NewNotice:
    """A notice to create: what it says, for whom, the call it carries, when to send, and each recipient's copy.

    `token` names the confirmation that created it: creating a notice with a token already used returns the
    notice created then instead of a second one.
    """

    token: str
    text: str
    audience: dict[str, Any]
    send_at: datetime
    actor: str
    recipients: Sequence[tuple[ChatKey, Outgoing]]
    call: dict[str, Any] | None = None
    excluded: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class NoticeStatus:
    """Where a notice stands: its deliveries counted by state, and the first errors of those that failed."""

    id: int
    created_at: datetime
    created_by: str
    send_at: datetime
    text: str
    audience: dict[str, Any]
    call: dict[str, Any] | None
    recipients: int
    excluded: dict[str, int]
    cancelled_at: datetime | None
    cancelled_by: str | None
    counts: dict[str, int]
    errors: tuple[str, ...] = ()

    @property
    def pending(self) -> int:
        return self.counts.get(PENDING, 0) + self.counts.get(SENDING, 0)

    @property
    def state(self) -> str:
        """scheduled, sending, done or cancelled."""
        if self.cancelled_at is not None:
            return "cancelled"
        if self.pending == 0:
            return "done"
        return "scheduled" if self.send_at > now() else "sending"

    @property
    def forgotten(self) -> int:
        """Recipients whose rows are gone: they asked the bot to forget them."""
        return max(0, self.recipients - sum(self.counts.values()))


class NoticeSql(_Dialect):
    """The statements of notices and of sending them (SQLite or PostgreSQL)."""

    def __init__(self, dialect: str):
        super().__init__(dialect)
        mark = self.mark
        skip_locked = "" if self.sqlite else " FOR UPDATE SKIP LOCKED"
        moment = "" if self.sqlite else "::timestamptz"  # a parameter inside CASE has no type of its own
        self.contacts = "SELECT channel, chat_id, language, answers, subscribed, active FROM chats"
        self.contacts_changed = f"{self.contacts} WHERE updated_at >= {mark(1)}"
        self.find = f"SELECT id FROM notices WHERE token = {mark(1)}"
        self.insert = (
            "INSERT INTO notices (token, created_at, created_by, text, audience, call, send_at, recipients, excluded) "
            f"VALUES ({', '.join(mark(i) for i in range(1, 10))}) RETURNING id"
        )
        self.enqueue = (
            "INSERT INTO outbox (channel, chat_id, kind, priority, payload, state, not_before, attempts, created_at, "
            f"notice_id) VALUES ({', '.join(mark(i) for i in range(1, 11))})"
        )
        self.audit = (
            f"INSERT INTO audit (at, actor, action, detail) VALUES ({mark(1)}, {mark(2)}, {mark(3)}, {mark(4)})"
        )
        self.notice = (
            "SELECT id, created_at, created_by, send_at, text, audience, call, recipients, excluded, cancelled_at, "
            f"cancelled_by FROM notices WHERE id = {mark(1)}"
        )
        self.recent = (
            "SELECT id, created_at, created_by, send_at, text, audience, call, recipients, excluded, cancelled_at, "
            f"cancelled_by FROM notices ORDER BY id DESC LIMIT {mark(1)}"
        )
        self.counts = f"SELECT state, count(*) FROM outbox WHERE notice_id = {mark(1)} GROUP BY state"
        self.errors = (
            f"SELECT last_error FROM outbox WHERE notice_id = {mark(1)} AND state IN ('failed', 'rejected') "
            "AND last_error IS NOT NULL ORDER BY id LIMIT 3"
        )
        self.cancel = (
            f"UPDATE notices SET cancelled_at = {mark(1)}, cancelled_by = {mark(2)} "
            f"WHERE id = {mark(3)} AND cancelled_at IS NULL AND EXISTS (SELECT 1 FROM outbox "
            f"WHERE notice_id = {mark(4)} AND state IN ('{PENDING}', '{SENDING}'))"
        )
        self.cancel_rows = (
            f"UPDATE outbox SET state = '{CANCELLED}', owner = NULL, finished_at = {mark(1)} "
            f"WHERE notice_id = {mark(2)} AND state = '{PENDING}'"
        )
        self.calls = "SELECT id, call FROM notices WHERE call IS NOT NULL AND cancelled_at IS NULL ORDER BY id"
        self.calls_version = (
            "SELECT count(*), coalesce(max(id), 0) FROM notices WHERE call IS NOT NULL AND cancelled_at IS NULL"
        )
        # A worker that died while sending leaves its row sending: it may or may not have arrived, so it is never
        # sent again. Once its lease is over it is shown as ambiguous.
        self.sweep = (
            f"UPDATE outbox SET state = '{AMBIGUOUS}', owner = NULL, finished_at = {mark(1)}, "
            "last_error = 'the worker stopped while sending it: it may or may not have arrived' "
            f"WHERE state = '{SENDING}' AND lease_until <= {mark(2)}"
        )
        # The oldest due bulk message of each chat, when the chat has nothing else waiting before it, has no reply
        # waiting at all (replies go first) and got no message within the chat's interval (1 s; 3 s in a group).
        self.claim = (
            f"UPDATE outbox SET owner = {mark(1)}, lease_until = {mark(2)} WHERE id IN ("
            f"SELECT o.id FROM outbox o WHERE o.state = '{PENDING}' AND o.priority > 0 AND o.not_before <= {mark(3)} "
            f"AND (o.owner IS NULL OR o.lease_until <= {mark(4)}) "
            # One look at the chat's own rows (ix_outbox_chat) for both: whatever the statistics say, never a scan
            # of every message sent.
            "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.channel = o.channel AND p.chat_id = o.chat_id "
            f"AND p.id <> o.id AND ((p.state = '{SENDING}' OR (p.state = '{PENDING}' AND p.not_before <= {mark(5)})) "
            "AND (p.id < o.id OR p.priority < o.priority) OR (p.state = 'sent' AND p.finished_at > "
            f"CASE WHEN o.chat_id < 0 THEN {mark(6)}{moment} ELSE {mark(7)}{moment} END))) "
            f"AND o.id > {mark(8)} ORDER BY o.priority, o.id LIMIT {mark(9)}{skip_locked}) "
            "RETURNING id, channel, chat_id, kind, payload, attempts, created_at"
        )
        # Sending starts only if the row is still this worker's and pending, and its contact still wants it.
        chat = "c.channel = outbox.channel AND c.chat_id = outbox.chat_id"
        cancelled = "n.id = outbox.notice_id AND n.cancelled_at IS NOT NULL"
        self.start = (
            "UPDATE outbox SET state = CASE "
            f"WHEN EXISTS (SELECT 1 FROM notices n WHERE {cancelled}) THEN '{CANCELLED}' "
            f"WHEN EXISTS (SELECT 1 FROM chats c WHERE {chat} AND NOT c.active) THEN 'blocked' "
            f"WHEN EXISTS (SELECT 1 FROM chats c WHERE {chat} AND NOT c.subscribed) THEN '{OPTED_OUT}' "
            f"ELSE '{SENDING}' END, lease_until = {mark(1)}, attempts = attempts + 1, "
            f"finished_at = CASE WHEN EXISTS (SELECT 1 FROM chats c WHERE {chat} AND c.active AND c.subscribed) "
            f"THEN NULL ELSE {mark(2)}{moment} END "
            f"WHERE id = {mark(3)} AND owner = {mark(4)} AND state = '{PENDING}' RETURNING state"
        )
        self.finish = (
            f"UPDATE outbox SET state = {mark(1)}, owner = NULL, finished_at = {mark(2)}, last_error = {mark(3)} "
            f"WHERE id = {mark(4)} AND state = '{SENDING}' AND owner = {mark(5)}"
        )
        # PostgreSQL records the previous message sent and starts the next in one round trip ($5: the sent one).
        self.sent_and_start = (
            None
            if self.sqlite
            else (
                f"WITH done AS (UPDATE outbox SET state = 'sent', owner = NULL, finished_at = $2, last_error = NULL "
                f"WHERE id = $5 AND state = '{SENDING}' AND owner = $4) {self.start}"
            )
        )
        # Back in the queue, unless its notice was cancelled meanwhile; a 429 gives its attempt back.
        self.retry = (
            f"UPDATE outbox SET state = CASE WHEN EXISTS (SELECT 1 FROM notices n WHERE {cancelled}) "
            f"THEN '{CANCELLED}' ELSE '{PENDING}' END, owner = NULL, lease_until = NULL, not_before = {mark(1)}, "
            f"last_error = {mark(2)}, attempts = attempts - {mark(3)} "
            f"WHERE id = {mark(4)} AND state = '{SENDING}' AND owner = {mark(5)}"
        )
        self.release = (
            f"UPDATE outbox SET owner = NULL, lease_until = NULL WHERE owner = {mark(1)} AND state = '{PENDING}' "
            "AND priority > 0"
        )
        # The shared budget (PostgreSQL; one process on SQLite keeps it in memory). A reply takes the next slot
        # whatever is queued; a bulk message takes one only when it is free now, so replies never wait behind one.
        self.budget_row = (
            "INSERT INTO send_budget (channel, next_at) VALUES ($1, clock_timestamp()) ON CONFLICT (channel) DO NOTHING"
        )
        step = "($2::float8 * interval '1 second')"
        self.take_reply_slot = (
            f"UPDATE send_budget SET next_at = greatest(next_at, clock_timestamp()) + {step} "
            "WHERE channel = $1 RETURNING extract(epoch FROM next_at - clock_timestamp())::float8 - $2::float8"
        )
        # A bulk message may book the slot after the last one booked when that starts within BULK_AHEAD intervals:
        # the slots stay back to back however late a worker asks, and a reply waits at most for those few.
        self.take_bulk_slot = (
            "WITH old AS (SELECT next_at FROM send_budget WHERE channel = $1 FOR UPDATE), "
            f"taken AS (UPDATE send_budget b SET next_at = greatest(old.next_at, clock_timestamp()) + {step} "
            f"FROM old WHERE b.channel = $1 AND old.next_at <= clock_timestamp() + {BULK_AHEAD} * {step} "
            "RETURNING 1) "
            "SELECT EXISTS (SELECT 1 FROM taken), "
            "(SELECT extract(epoch FROM next_at - clock_timestamp())::float8 FROM old)"
        )
        self.hold_budget = (
            f"UPDATE send_budget SET next_at = greatest(next_at, clock_timestamp() + {step}) WHERE channel = $1"
        )

    # Creating, reading and cancelling

    def read_contacts(self, connection: Connection, changed_since: datetime | None = None) -> list[Contact]:
        if changed_since is None:
            rows = connection.exec_driver_sql(self.contacts)
        else:
            rows = connection.exec_driver_sql(self.contacts_changed, (self.timestamp(changed_since),))
        contacts = []
        for channel, chat_id, language, answers, subscribed, active in rows:
            answers = json.loads(answers) if isinstance(answers, str) else answers
            contacts.append(Contact(ChatKey(channel, chat_id), language, answers or {}, bool(subscribed), bool(active)))
        return contacts

    def create(self, connection: Connection, notice: NewNotice) -> tuple[int, bool]:
        """Inserts the notice, its outbox rows and its audit entry; (id, True), or (id of the earlier one, False)."""
        existing = connection.exec_driver_sql(self.find, (notice.token,)).first()
        if existing is not None:
            return existing[0], False
        moment = now()
        stamp, send_at = self.timestamp(moment), self.timestamp(notice.send_at)
        values = (
            notice.token,
            stamp,
            notice.actor,
            notice.text,
            json.dumps(notice.audience, ensure_ascii=False),
            json.dumps(notice.call, ensure_ascii=False, default=str) if notice.call else None,
            send_at,
            len(notice.recipients),
            json.dumps(notice.excluded),
        )
        notice_id = connection.exec_driver_sql(self.insert, values).scalar_one()
        rows = [
            (chat.channel, chat.id, "notice", PRIORITY["notice"], json.dumps(outgoing.to_json(), ensure_ascii=False),
             PENDING, send_at, 0, stamp, notice_id)
            for chat, outgoing in notice.recipients
        ]  # fmt: skip
        if rows:
            connection.exec_driver_sql(self.enqueue, rows)
        detail = {"notice": notice_id, "recipients": len(rows), "audience": notice.audience, "send_at": send_at}
        if notice.call:
            detail["call"] = notice.call.get("title")
        connection.exec_driver_sql(
            self.audit, (stamp, notice.actor, "notice", json.dumps(detail, ensure_ascii=False, default=str))
        )
        return notice_id, True

    def status(self, connection: Connection, notice_id: int) -> NoticeStatus | None:
        row = connection.exec_driver_sql(self.notice, (notice_id,)).first()
        return self._status(connection, row) if row is not None else None

    def recent_notices(self, connection: Connection, limit: int) -> list[NoticeStatus]:
        return [self._status(connection, row) for row in connection.exec_driver_sql(self.recent, (limit,)).all()]

    def _status(self, connection: Connection, row: Sequence[Any]) -> NoticeStatus:
        notice_id, created, by, send_at, text, audience, call, recipients, excluded, cancelled, cancelled_by = row
        counts = {state: count for state, count in connection.exec_driver_sql(self.counts, (notice_id,)).all()}
        errors = tuple(error for (error,) in connection.exec_driver_sql(self.errors, (notice_id,)).all())
        return NoticeStatus(
            notice_id, _aware(created), by, _aware(send_at), text, json.loads(audience),
            json.loads(call) if call else None, recipients, json.loads(excluded), _aware(cancelled), cancelled_by,
            counts, errors,
        )  # fmt: skip

    def cancel_notice(self, connection: Connection, notice_id: int, actor: str) -> bool:
        """Cancels what is not yet sent; False if there is no such notice, nothing is left to send, or it was
        cancelled already."""
        stamp = self.timestamp(now())
        if connection.exec_driver_sql(self.cancel, (stamp, actor, notice_id, notice_id)).rowcount != 1:
            return False
        cancelled = connection.exec_driver_sql(self.cancel_rows, (stamp, notice_id)).rowcount
        detail = json.dumps({"notice": notice_id, "not_sent": cancelled})
        connection.exec_driver_sql(self.audit, (stamp, actor, "cancel_notice", detail))
        return True

    def read_calls(self, connection: Connection) -> list[tuple[int, dict[str, Any]]]:
        return [(notice_id, json.loads(call)) for notice_id, call in connection.exec_driver_sql(self.calls).all()]

    def read_calls_version(self, connection: Connection) -> tuple[int, int]:
        count, newest = connection.exec_driver_sql(self.calls_version).one()
        return int(count), int(newest)

    # Sending

    def claim_rows(
        self,
        connection: Connection,
        owner: str,
        limit: int,
        lease_seconds: float,
        intervals: tuple[float, float],
        after: int = 0,
    ) -> list[Delivery]:
        moment = now()
        stamp = self.timestamp(moment)
        connection.exec_driver_sql(self.sweep, (stamp, stamp))
        lease = self.timestamp(moment + timedelta(seconds=lease_seconds))
        group_interval, chat_interval = intervals
        group_cutoff = self.timestamp(moment - timedelta(seconds=group_interval))
        chat_cutoff = self.timestamp(moment - timedelta(seconds=chat_interval))
        rows = connection.exec_driver_sql(
            self.claim, (owner, lease, stamp, stamp, stamp, group_cutoff, chat_cutoff, after, limit)
        ).all()
        claimed = []
        for row_id, channel, chat_id, kind, payload, attempts, created in sorted(rows):
            outgoing = Outgoing.from_json(json.loads(payload))
            age = (moment - _aware(created)).total_seconds()
            claimed.append(Delivery(row_id, ChatKey(channel, chat_id), outgoing, kind, None, attempts, age))
        return claimed

    def start_row(
        self, connection: Connection, row_id: int, owner: str, lease_seconds: float, sent: int | None = None
    ) -> str | None:
        """Marks the row sending (or blocked / opted out, if its contact is); None if it is no longer ours.

        `sent` is this owner's previous row, whose message went out: it is recorded sent in the same write, so a
        worker never has more than one row sending.
        """
        moment = now()
        lease = self.timestamp(moment + timedelta(seconds=lease_seconds))
        values = (lease, self.timestamp(moment), row_id, owner)
        if sent is not None and self.sent_and_start is not None:
            row = connection.exec_driver_sql(self.sent_and_start, (*values, sent)).first()
        else:
            if sent is not None:
                self.finish_row(connection, sent, owner, "sent", None)
            row = connection.exec_driver_sql(self.start, values).first()
        return row[0] if row is not None else None

    def finish_row(self, connection: Connection, row_id: int, owner: str, outcome: str, error: str | None) -> None:
        connection.exec_driver_sql(self.finish, (outcome, self.timestamp(now()), error, row_id, owner))

    def retry_row(
        self, connection: Connection, row_id: int, owner: str, delay_seconds: float, error: str, counts: bool
    ) -> None:
        when = self.timestamp(now() + timedelta(seconds=delay_seconds))
        connection.exec_driver_sql(self.retry, (when, error, 0 if counts else 1, row_id, owner))

    def release_rows(self, connection: Connection, owner: str) -> None:
        connection.exec_driver_sql(self.release, (owner,))

    def take_slot(self, connection: Connection, channel: str, interval: float, bulk: bool) -> tuple[bool, float]:
        """(taken, seconds to wait): taken, the wait is until the slot starts; not taken (a bulk message, with
        slots booked far enough ahead), until one may be booked. A reply's slot is always taken."""
        if bulk:
            row = connection.exec_driver_sql(self.take_bulk_slot, (channel, interval)).first()
            if row is None or row[1] is None:
                connection.exec_driver_sql(self.budget_row, (channel,))
                return False, 0.0
            taken, until_booked = bool(row[0]), float(row[1])
            return taken, max(0.0, until_booked if taken else until_booked - BULK_AHEAD * interval)
        row = connection.exec_driver_sql(self.take_reply_slot, (channel, interval)).first()
        if row is None:
            connection.exec_driver_sql(self.budget_row, (channel,))
            return self.take_slot(connection, channel, interval, bulk)
        return True, max(0.0, float(row[0]))

    def hold(self, connection: Connection, channel: str, seconds: float) -> None:
        connection.exec_driver_sql(self.budget_row, (channel,))
        connection.exec_driver_sql(self.hold_budget, (channel, seconds))
