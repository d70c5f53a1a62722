"""Hand-written SQL for what runs on every update: a chat's turn (state, inbox, outbox) and message delivery.

Building and compiling these through SQLAlchemy expressions cost more CPU than the rest of an update; as
driver-level SQL with the dialect's placeholders they cost a fraction. Everything else uses SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.messages import ChatKey, Delivery, Incoming, Outgoing
from bot.store.base import ChatState, ConcurrentUpdate, Decision, DeliveryOutcome, Recorded, Turn, plan_turn

STATE_FIELDS = (
    "language",
    "answers",
    "skipped",
    "current",
    "pending_choices",
    "editing",
    "subscribed",
    "active",
    "undelivered",
    "draft",
)
_JSON_FIELDS = {"answers", "skipped", "pending_choices", "draft"}
_BOOL_FIELDS = {"editing", "subscribed", "active", "undelivered"}
PENDING = "pending"
SENT = DeliveryOutcome.SENT
# How late an earlier update may arrive and still be put before later ones; far longer than any network delay.
REORDER_WINDOW_SECONDS = 300
# Replies to what a contact did go before notices and reminders, whatever the queue holds.
PRIORITY = {"reply": 0, "reminder": 5, "notice": 10}


def now() -> datetime:
    return datetime.now(UTC)


def lock_key(key: ChatKey) -> int:
    """A signed 64-bit number naming the chat, for PostgreSQL's advisory lock."""
    digest = hashlib.blake2b(str(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def state_json(state: ChatState) -> str:
    return json.dumps({name: getattr(state, name) for name in STATE_FIELDS}, ensure_ascii=False)


def state_from_json(key: ChatKey, text: str, version: int) -> ChatState:
    return ChatState(key=key, version=version, new=version == 0, **json.loads(text))


@dataclass(frozen=True)
class _TurnWrites:
    """What a turn writes: the state (or that the chat is forgotten), the applied updates, the replies."""

    key: ChatKey
    state: ChatState
    applied: list[tuple[int, str, str]]  # update_id, the update, the state before it
    messages: list[tuple[Outgoing, int | None, str]]  # the reply, the message it replaces, its stored form
    forget: bool
    owner: str | None  # who may send the replies at once (None: they wait behind earlier ones)
    lease: Any
    moment: datetime
    delivered: bool  # the replies are stored delivered (sent at once, by a channel that reads the outbox)


class _Dialect:
    """What differs between SQLite and PostgreSQL in hand-written SQL: placeholders and how times are bound."""

    def __init__(self, dialect: str):
        self.sqlite = dialect == "sqlite"

    def mark(self, number: int) -> str:
        return "?" if self.sqlite else f"${number}"

    def timestamp(self, moment: datetime) -> Any:
        # The same text SQLAlchemy's SQLite DateTime writes, so both paths read back alike.
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else moment


class ChatSql(_Dialect):
    """The statements of a chat's state and turn, in one dialect (SQLite or PostgreSQL)."""

    def __init__(self, dialect: str):
        super().__init__(dialect)
        mark = self.mark
        fields = ", ".join(STATE_FIELDS)
        n = len(STATE_FIELDS)
        chat = f"channel = {mark(1)} AND chat_id = {mark(2)}"
        self.load = f"SELECT {fields}, version FROM chats WHERE {chat}"
        self.load_with_backlog = (
            f"SELECT {fields}, version, EXISTS (SELECT 1 FROM outbox WHERE channel = {mark(1)} AND "
            f"chat_id = {mark(2)} AND state = '{PENDING}' AND priority = 0) "
            f"FROM chats WHERE channel = {mark(3)} AND chat_id = {mark(4)}"
        )
        assignments = ", ".join(f"{name} = {mark(i)}" for i, name in enumerate(STATE_FIELDS, 1))
        self.update = (
            f"UPDATE chats SET {assignments}, version = version + 1, updated_at = {mark(n + 1)} "
            f"WHERE channel = {mark(n + 2)} AND chat_id = {mark(n + 3)} AND version = {mark(n + 4)}"
        )
        marks = ", ".join(mark(i) for i in range(1, n + 6))
        self.insert = (
            f"INSERT INTO chats (channel, chat_id, {fields}, version, created_at, updated_at) VALUES ({marks})"
        )
        refresh = ", ".join(f"{name} = excluded.{name}" for name in STATE_FIELDS)
        self.upsert = (
            f"{self.insert} ON CONFLICT (channel, chat_id) DO UPDATE SET {refresh}, "
            "version = chats.version + 1, updated_at = excluded.updated_at"
        )
        self.lock = None if self.sqlite else f"SELECT pg_advisory_xact_lock({mark(1)})"
        # PostgreSQL reads the state, the backlog and the due updates in one round trip; a new chat has no row in
        # chats, hence the outer join from a single row.
        self.read_all = (
            f"SELECT {', '.join('c.' + name for name in STATE_FIELDS)}, c.version, "
            "EXISTS (SELECT 1 FROM outbox o WHERE o.channel = $1 AND o.chat_id = $2 AND o.state = 'pending' "
            "AND o.priority = 0), "
            "(SELECT json_agg(json_build_array(i.update_id, i.incoming, i.applied_at IS NOT NULL, i.state_before) "
            "ORDER BY i.update_id) FROM inbox i WHERE $3::bigint IS NOT NULL AND i.channel = $1 AND i.chat_id = $2 "
            "AND (i.update_id >= $3::bigint OR i.applied_at IS NULL) AND (i.applied_at IS NULL OR i.applied_at >= $4)) "
            "FROM (SELECT 1) AS one LEFT JOIN chats c ON c.channel = $1 AND c.chat_id = $2"
        )
        self.log_applied = (
            "INSERT INTO inbox (channel, chat_id, update_id, incoming, received_at, applied_at, state_before) "
            f"VALUES ({mark(1)}, {mark(2)}, {mark(3)}, {mark(4)}, {mark(5)}, {mark(6)}, {mark(7)}) "
            "ON CONFLICT (channel, chat_id, update_id) DO UPDATE SET "
            "applied_at = excluded.applied_at, state_before = excluded.state_before"
        )
        # Everything that may have to be applied now: updates from this one on (to find it applied already, or
        # later ones applied before it), and updates recorded but not yet applied.
        # Only recent updates count: Telegram numbers updates afresh (from a random number) after a week without
        # any, so an old applied update must never be taken for a later one.
        self.due = (
            "SELECT update_id, incoming, applied_at IS NOT NULL, state_before FROM inbox "
            f"WHERE {chat} AND (update_id >= {mark(3)} OR applied_at IS NULL) "
            f"AND (applied_at IS NULL OR applied_at >= {mark(4)}) ORDER BY update_id"
        )
        self.enqueue = (
            "INSERT INTO outbox (channel, chat_id, kind, priority, payload, replaces, state, owner, lease_until, "
            "not_before, attempts, created_at, finished_at) VALUES "
            f"({', '.join(mark(i) for i in range(1, 14))}) RETURNING id"
        )
        self.forget = [
            f"DELETE FROM chats WHERE {chat}",
            f"DELETE FROM inbox WHERE {chat}",
            f"DELETE FROM outbox WHERE {chat}",
            f"DELETE FROM reminders WHERE {chat}",
        ]

    def values(self, state: ChatState) -> tuple[Any, ...]:
        return tuple(
            json.dumps(getattr(state, name), ensure_ascii=False) if name in _JSON_FIELDS else getattr(state, name)
            for name in STATE_FIELDS
        )

    def state(self, key: ChatKey, row: Sequence[Any]) -> ChatState:
        values = dict(zip((*STATE_FIELDS, "version"), row[: len(STATE_FIELDS) + 1], strict=True))
        for name in _JSON_FIELDS:
            if isinstance(values[name], str):
                values[name] = json.loads(values[name])
        for name in _BOOL_FIELDS:
            values[name] = bool(values[name])
        return ChatState(key=key, new=False, **values)

    def load_state(self, connection: Connection, key: ChatKey) -> ChatState:
        row = connection.exec_driver_sql(self.load, (key.channel, key.id)).first()
        return self.state(key, row) if row is not None else ChatState(key)

    def save_state(self, connection: Connection, state: ChatState) -> ChatState:
        """Writes the state if its version is still the stored one; raises ConcurrentUpdate otherwise.

        The write is the transaction's first statement: SQLite then waits for a busy lock instead of failing,
        and the version check and the write cannot be separated by another process's save.
        """
        stamp = self.timestamp(now())
        key = state.key
        if state.new:
            try:
                connection.exec_driver_sql(self.insert, (key.channel, key.id, *self.values(state), 1, stamp, stamp))
            except IntegrityError:
                raise ConcurrentUpdate(f"chat {key} was created by someone else") from None
        else:
            result = connection.exec_driver_sql(
                self.update, (*self.values(state), stamp, key.channel, key.id, state.version)
            )
            if result.rowcount != 1:
                raise ConcurrentUpdate(f"chat {key} is no longer at version {state.version}")
        return dataclasses.replace(state, version=state.version + 1, new=False)

    def take_turn(
        self,
        connection: Connection,
        incoming: Incoming,
        decide: Callable[[Turn], Decision],
        owner: str,
        lease_seconds: float,
        delivered: bool = False,
    ) -> tuple[list[Delivery], bool]:
        """One turn of a chat (see ChatStore.take_turn); True if it forgot the chat.

        SQLite: inside the caller's write transaction, whose lock keeps every other writer out. PostgreSQL: on an
        autocommit connection under a session advisory lock on the chat, with one statement that reads
        everything and one that writes everything (atomic by itself): four round trips instead of ten.
        """
        with self._chat_lock(connection, incoming.chat):
            return self._locked_turn(connection, incoming, decide, (owner, lease_seconds, delivered))

    @contextlib.contextmanager
    def _chat_lock(self, connection: Connection, chat: ChatKey) -> Iterator[None]:
        if self.sqlite:
            yield
            return
        key = lock_key(chat)
        connection.exec_driver_sql("SELECT pg_advisory_lock($1)", (key,))
        try:
            yield
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock($1)", (key,))

    def _locked_turn(
        self,
        connection: Connection,
        incoming: Incoming,
        decide: Callable[[Turn], Decision],
        lease: tuple[str, float, bool],
    ) -> tuple[list[Delivery], bool]:
        owner, lease_seconds, delivered = lease
        key = incoming.chat
        state, backlog, rows = self._read(connection, incoming)
        updates, replayed, before = plan_turn(incoming, self._recorded(key, rows, state.version))
        if not updates:
            return [], False  # the update was applied already: a second delivery of it
        if before is not None:
            state = dataclasses.replace(before, version=state.version, new=state.new)
        decision = decide(Turn(state, updates, replayed, backlog))
        moment = now()
        lease = self.timestamp(moment + timedelta(seconds=lease_seconds)) if not backlog else None
        applied = [
            (update.update_id, json.dumps(update.to_json(), ensure_ascii=False), state_json(snapshot))
            for update, snapshot in zip(updates, decision.states_before, strict=False)
            if update.update_id is not None
        ]
        messages = [
            (
                outgoing,
                incoming_of.message_id if outgoing.edit else None,
                json.dumps(outgoing.to_json(), ensure_ascii=False),
            )
            for incoming_of, outgoing in decision.replies
        ]
        write = self._write_sqlite if self.sqlite else self._write_postgres
        owner_now = owner if lease else None
        # Only replies the caller may send at once are stored delivered; those behind a backlog wait their turn.
        shown = delivered and lease is not None
        turn = _TurnWrites(key, state, applied, messages, decision.forget, owner_now, lease, moment, shown)
        ids = write(connection, turn)
        if lease is None:
            return [], decision.forget
        deliveries = [
            Delivery(row_id, key, outgoing, "reply", replaces, delivered=shown)
            for row_id, (outgoing, replaces, _) in zip(ids, messages, strict=True)
        ]
        return deliveries, decision.forget

    def enqueue_replies(
        self,
        connection: Connection,
        replies: Sequence[tuple[Incoming, Outgoing]],
        owner: str,
        lease_seconds: float,
    ) -> list[Delivery]:
        """Queues replies outside a turn (to a privileged command); leased to `owner` unless earlier ones wait."""
        key = replies[0][0].chat
        row = connection.exec_driver_sql(self.load_with_backlog, (key.channel, key.id, key.channel, key.id)).first()
        moment = now()
        lease = None if row is not None and row[-1] else self.timestamp(moment + timedelta(seconds=lease_seconds))
        messages = [(outgoing, None, json.dumps(outgoing.to_json(), ensure_ascii=False)) for _, outgoing in replies]
        ids = self._enqueue(connection, key, messages, owner if lease else None, lease, self.timestamp(moment))
        if lease is None:
            return []  # they wait behind an earlier message of the chat
        return [Delivery(row_id, key, outgoing) for row_id, (outgoing, _, _) in zip(ids, messages, strict=True)]

    def _read(self, connection: Connection, incoming: Incoming) -> tuple[ChatState, bool, list[tuple]]:
        """The chat's state, whether it has replies waiting, and the inbox rows that may be due."""
        key = incoming.chat
        recent = self.timestamp(now() - timedelta(seconds=REORDER_WINDOW_SECONDS))
        if not self.sqlite:
            row = connection.exec_driver_sql(self.read_all, (key.channel, key.id, incoming.update_id, recent)).one()
            state = self.state(key, row) if row[len(STATE_FIELDS)] is not None else ChatState(key)
            due = json.loads(row[-1]) if isinstance(row[-1], str) else row[-1]  # the driver may decode json itself
            rows = [tuple(item) for item in due or []]
            return state, bool(row[-2]), rows
        row = connection.exec_driver_sql(self.load_with_backlog, (key.channel, key.id, key.channel, key.id)).first()
        state = self.state(key, row) if row is not None else ChatState(key)
        rows = []
        if incoming.update_id is not None:
            rows = connection.exec_driver_sql(self.due, (key.channel, key.id, incoming.update_id, recent)).all()
        return state, bool(row[-1]) if row is not None else False, rows

    @staticmethod
    def _recorded(key: ChatKey, rows: Sequence[Sequence[Any]], version: int) -> list[Recorded]:
        """The inbox rows the read returned, as the planner takes them."""
        return [
            Recorded(
                update_id,
                Incoming.from_json(key, json.loads(text)),
                bool(applied),
                state_from_json(key, before, version) if before else None,
            )
            for update_id, text, applied, before in rows
        ]

    def _write_sqlite(self, connection: Connection, turn: _TurnWrites) -> list[int]:
        key, stamp = turn.key, self.timestamp(turn.moment)
        if turn.forget:
            for statement in self.forget:
                connection.exec_driver_sql(statement, (key.channel, key.id))
        else:
            for update_id, payload, snapshot in turn.applied:
                values = (key.channel, key.id, update_id, payload, stamp, stamp, snapshot)
                connection.exec_driver_sql(self.log_applied, values)
            connection.exec_driver_sql(self.upsert, (key.channel, key.id, *self.values(turn.state), 1, stamp, stamp))
        return self._enqueue(connection, key, turn.messages, turn.owner, turn.lease, stamp, turn.delivered)

    def _enqueue(
        self,
        connection: Connection,
        key: ChatKey,
        messages: Sequence[tuple[Outgoing, int | None, str]],
        owner: str | None,
        lease: Any,
        stamp: Any,
        delivered: bool = False,
    ) -> list[int]:
        """Puts replies in the outbox one statement each (the SQLite way), returning their ids in order; delivered
        ones are stored sent, with no owner or lease."""
        state, owner, lease, finished = (SENT, None, None, stamp) if delivered else (PENDING, owner, lease, None)
        ids = []
        for _, replaces, payload in messages:
            values = (key.channel, key.id, "reply", PRIORITY["reply"], payload, replaces, state, owner, lease)
            ids.append(connection.exec_driver_sql(self.enqueue, (*values, stamp, 0, stamp, finished)).scalar_one())
        return ids

    def _write_postgres(self, connection: Connection, turn: _TurnWrites) -> list[int]:
        """Everything the turn writes as one statement of data-modifying CTEs: all of it lands, or none."""
        statement = _postgres_write(len(turn.applied), len(turn.messages), turn.forget, turn.delivered)
        params: list[Any] = [turn.key.channel, turn.key.id, turn.moment]
        if not turn.forget:
            params += list(self.values(turn.state))
            for update_id, payload, snapshot in turn.applied:
                params += [update_id, payload, snapshot]
        for _, replaces, payload in turn.messages:
            params += [payload, replaces] if turn.delivered else [payload, replaces, turn.owner, turn.lease]
        # Ids come from one sequence in the order of the VALUES rows, so sorted they match the messages.
        return sorted(row[0] for row in connection.exec_driver_sql(statement, tuple(params)).all())


@functools.lru_cache(maxsize=256)
def _postgres_write(applied: int, messages: int, forget: bool, delivered: bool = False) -> str:
    """The statement that writes a turn: $1 channel, $2 chat id, $3 now, then the state, the updates, the messages
    (delivered ones are stored sent at $3, with no owner or lease)."""
    marks = itertools.count(4)
    parts = []
    if forget:
        parts += [
            f"forget_{table} AS (DELETE FROM {table} WHERE channel = $1 AND chat_id = $2)"
            for table in ("chats", "inbox", "outbox", "reminders")
        ]
    else:
        fields = ", ".join(STATE_FIELDS)
        values = ", ".join(f"${next(marks)}" for _ in STATE_FIELDS)
        refresh = ", ".join(f"{name} = excluded.{name}" for name in STATE_FIELDS)
        parts.append(
            f"chat AS (INSERT INTO chats (channel, chat_id, {fields}, version, created_at, updated_at) "
            f"VALUES ($1, $2, {values}, 1, $3, $3) ON CONFLICT (channel, chat_id) DO UPDATE SET {refresh}, "
            "version = chats.version + 1, updated_at = excluded.updated_at)"
        )
        if applied:
            rows = ", ".join(
                f"($1, $2, ${next(marks)}, ${next(marks)}, $3, $3, ${next(marks)})" for _ in range(applied)
            )
            parts.append(
                "log AS (INSERT INTO inbox (channel, chat_id, update_id, incoming, received_at, applied_at, "
                f"state_before) VALUES {rows} ON CONFLICT (channel, chat_id, update_id) DO UPDATE SET "
                "applied_at = excluded.applied_at, state_before = excluded.state_before)"
            )
    if messages:
        rows = ", ".join(_postgres_reply_row(marks, delivered) for _ in range(messages))
        final = (
            "INSERT INTO outbox (channel, chat_id, kind, priority, payload, replaces, state, owner, lease_until, "
            f"not_before, attempts, created_at, finished_at) VALUES {rows} RETURNING id"
        )
    else:
        final = "SELECT NULL::bigint WHERE false"
    return f"WITH {', '.join(parts)} {final}"


def _postgres_reply_row(marks: Iterator[int], delivered: bool) -> str:
    """One reply's VALUES row: its payload and the message it replaces, then who leases it (pending) or, delivered,
    nobody (sent at $3)."""
    payload, replaces = next(marks), next(marks)
    if delivered:
        rest = f"'{SENT}', NULL, NULL::timestamptz, $3, 0, $3, $3"
    else:
        rest = f"'{PENDING}', ${next(marks)}, ${next(marks)}::timestamptz, $3, 0, $3, NULL::timestamptz"
    return f"($1, $2, 'reply', {PRIORITY['reply']}, ${payload}, ${replaces}::bigint, {rest})"


class OutboxSql(_Dialect):
    """The statements of message delivery: lease what is due, record how each delivery ended."""

    def __init__(self, dialect: str):
        super().__init__(dialect)
        mark = self.mark
        skip_locked = "" if self.sqlite else " FOR UPDATE SKIP LOCKED"
        # The oldest waiting reply of each chat that is due and not leased to a live worker. Notices and reminders
        # (priority > 0) are sent by the bulk worker (bot.store.notices), one at a time.
        self.claim = (
            f"UPDATE outbox SET owner = {mark(1)}, lease_until = {mark(2)} WHERE id IN ("
            f"SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.priority = 0 AND o.not_before <= {mark(3)} "
            f"AND (o.owner IS NULL OR o.lease_until <= {mark(4)}) "
            "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.channel = o.channel AND p.chat_id = o.chat_id "
            "AND p.state = 'pending' AND p.priority = 0 AND p.id < o.id) "
            f"ORDER BY o.priority, o.id LIMIT {mark(5)}{skip_locked}) "
            "RETURNING id, channel, chat_id, kind, payload, replaces, attempts, created_at"
        )
        self.finish = (
            f"UPDATE outbox SET state = {mark(1)}, owner = NULL, finished_at = {mark(2)}, "
            f"last_error = {mark(3)} WHERE id = {mark(4)}"
        )
        self.finish_replies_undelivered = (
            f"UPDATE chats SET undelivered = {'1' if self.sqlite else 'true'} "
            f"WHERE channel = {mark(1)} AND chat_id = {mark(2)}"
        )
        self.chat_of = f"SELECT channel, chat_id, kind FROM outbox WHERE id = {mark(1)}"
        self.retry = (
            f"UPDATE outbox SET owner = NULL, lease_until = NULL, not_before = {mark(1)}, "
            f"attempts = attempts + 1, last_error = {mark(2)} WHERE id = {mark(3)}"
        )
        self.counts = "SELECT state, count(*) FROM outbox GROUP BY state"
        self.delivered = (
            f"SELECT id, kind, payload, replaces FROM outbox WHERE channel = {mark(1)} AND chat_id = {mark(2)} "
            f"AND id > {mark(3)} AND state = 'sent' ORDER BY id LIMIT {mark(4)}"
        )
        self.prune_inbox = f"DELETE FROM inbox WHERE applied_at IS NOT NULL AND applied_at < {mark(1)}"
        # A notice's rows stay: its status counts them.
        self.prune_outbox = (
            f"DELETE FROM outbox WHERE state <> 'pending' AND notice_id IS NULL AND finished_at < {mark(1)}"
        )

    def claim_rows(self, connection: Connection, owner: str, limit: int, lease_seconds: float) -> list[Delivery]:
        moment = now()
        lease = self.timestamp(moment + timedelta(seconds=lease_seconds))
        stamp = self.timestamp(moment)
        rows = connection.exec_driver_sql(self.claim, (owner, lease, stamp, stamp, limit)).all()
        claimed = []
        for row_id, channel, chat_id, kind, payload, replaces, attempts, created in sorted(rows):
            created = _aware(created)
            outgoing = Outgoing.from_json(json.loads(payload))
            age = (moment - created).total_seconds() if created else 0.0
            claimed.append(Delivery(row_id, ChatKey(channel, chat_id), outgoing, kind, replaces, attempts, age))
        return claimed

    def mark_sent(self, connection: Connection, ids: Sequence[int]) -> None:
        stamp = self.timestamp(now())
        for row_id in ids:
            connection.exec_driver_sql(self.finish, (DeliveryOutcome.SENT, stamp, None, row_id))

    def finish_rows(self, connection: Connection, ids: Sequence[int], outcome: str, error: str | None) -> None:
        stamp = self.timestamp(now())
        for row_id in ids:
            connection.exec_driver_sql(self.finish, (outcome, stamp, error, row_id))
            if outcome == DeliveryOutcome.FAILED:
                chat = connection.exec_driver_sql(self.chat_of, (row_id,)).first()
                if chat is not None and chat[2] == "reply":
                    connection.exec_driver_sql(self.finish_replies_undelivered, (chat[0], chat[1]))

    def retry_row(self, connection: Connection, row_id: int, delay_seconds: float, error: str) -> None:
        when = self.timestamp(now() + timedelta(seconds=delay_seconds))
        connection.exec_driver_sql(self.retry, (when, error, row_id))

    def delivered_rows(self, connection: Connection, key: ChatKey, after: int, limit: int) -> list[Delivery]:
        rows = connection.exec_driver_sql(self.delivered, (key.channel, key.id, after, limit)).all()
        return [
            Delivery(row_id, key, Outgoing.from_json(json.loads(payload)), kind, replaces)
            for row_id, kind, payload, replaces in rows
        ]

    def count_rows(self, connection: Connection) -> dict[str, int]:
        return {state: count for state, count in connection.exec_driver_sql(self.counts).all()}

    def prune_rows(self, connection: Connection, older_than_seconds: float) -> None:
        cutoff = self.timestamp(now() - timedelta(seconds=older_than_seconds))
        connection.exec_driver_sql(self.prune_inbox, (cutoff,))
        connection.exec_driver_sql(self.prune_outbox, (cutoff,))


def _aware(moment: Any) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
