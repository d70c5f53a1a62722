"""Deadline reminders in the database: each queued once, with its message in the outbox, in one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.messages import ChatKey, Outgoing
from bot.store.schema import ChatRow, ReminderRow
from bot.store.statements import PENDING, PRIORITY, _Dialect, lock_key, now


@dataclass(frozen=True)
class ReminderKey:
    """Which reminder: a contact, a reward, the deadline's day and how many days before it. Queued at most once."""

    chat: ChatKey
    rule_id: str
    deadline: date
    days_before: int


@dataclass(frozen=True)
class NewReminder:
    """A reminder found due, and the message that tells it."""

    key: ReminderKey
    outgoing: Outgoing


class ReminderSql(_Dialect):
    """The reminders' statements, for SQLite and PostgreSQL (both have INSERT … ON CONFLICT DO NOTHING)."""

    def __init__(self, dialect: str):
        super().__init__(dialect)
        self._insert = sqlite.insert if self.sqlite else postgresql.insert
        mark = self.mark
        self.enqueue = (
            "INSERT INTO outbox (channel, chat_id, kind, priority, payload, state, not_before, attempts, created_at) "
            f"VALUES ({', '.join(mark(i) for i in range(1, 10))}) RETURNING id"
        )

    def queued(self, connection: Connection, since: date) -> set[ReminderKey]:
        """The reminders queued for deadlines from `since` on."""
        c = ReminderRow.__table__.c
        rows = connection.execute(
            select(c.channel, c.chat_id, c.rule_id, c.deadline, c.days_before).where(c.deadline >= since)
        )
        return {ReminderKey(ChatKey(channel, chat_id), rule, day, days) for channel, chat_id, rule, day, days in rows}

    def queue(self, connection: Connection, reminders: Sequence[NewReminder]) -> int:
        """Writes each reminder not written before, with its message in the outbox, for a contact who still exists,
        is subscribed and has not blocked the bot; returns how many were queued."""
        moment = now()
        stamp = self.timestamp(moment)
        table, chats = ReminderRow.__table__, ChatRow.__table__.c
        queued = 0
        for reminder in reminders:
            key = reminder.key
            if not self.sqlite:
                # The lock /forget takes: a contact forgotten meanwhile is either gone here or forgets this too.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock($1)", (lock_key(key.chat),))
            wanted = exists().where(
                chats.channel == key.chat.channel, chats.chat_id == key.chat.id, chats.subscribed, chats.active
            )
            if not connection.execute(select(wanted)).scalar():
                continue
            values = {
                "channel": key.chat.channel,
                "chat_id": key.chat.id,
                "rule_id": key.rule_id,
                "deadline": key.deadline,
                "days_before": key.days_before,
                "queued_at": moment,
            }
            inserted = connection.execute(
                self._insert(table).values(**values).on_conflict_do_nothing().returning(table.c.chat_id)
            ).first()
            if inserted is None:
                continue  # another process, or an earlier run, queued it
            payload = json.dumps(reminder.outgoing.to_json(), ensure_ascii=False)
            row = (key.chat.channel, key.chat.id, "reminder", PRIORITY["reminder"], payload, PENDING, stamp, 0, stamp)
            outbox_id = connection.exec_driver_sql(self.enqueue, row).scalar_one()
            connection.execute(update(table).where(*_matching(key)).values(outbox_id=outbox_id))
            queued += 1
        return queued

    def of_delivery(self, connection: Connection, outbox_id: int) -> ReminderKey | None:
        c = ReminderRow.__table__.c
        row = connection.execute(
            select(c.channel, c.chat_id, c.rule_id, c.deadline, c.days_before).where(c.outbox_id == outbox_id)
        ).first()
        if row is None:
            return None
        channel, chat_id, rule_id, day, days = row
        return ReminderKey(ChatKey(channel, chat_id), rule_id, day, days)

    def prune(self, connection: Connection, before: date) -> None:
        """Forgets reminders of deadlines before the day: none of them can be due again."""
        connection.execute(delete(ReminderRow.__table__).where(ReminderRow.__table__.c.deadline < before))


def _matching(key: ReminderKey) -> tuple:
    c = ReminderRow.__table__.c
    return (
        c.channel == key.chat.channel,
        c.chat_id == key.chat.id,
        c.rule_id == key.rule_id,
        c.deadline == key.deadline,
        c.days_before == key.days_before,
    )
