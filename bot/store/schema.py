"""The bot's tables as SQLAlchemy models: what the Alembic migrations must produce."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints let Alembic alter and drop them later, on SQLite too (where it rebuilds tables).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the bot's tables; its metadata is what the Alembic migrations must produce."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend; SQLite stores no offset, so it is added back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class ChatRow(Base):
    """One chat's stored ChatState, plus when it was first and last saved."""

    __tablename__ = "chats"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Telegram chat ids are 64-bit and chosen by Telegram, so no sequence (BIGSERIAL) must be attached.
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str] = mapped_column(String(35))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    skipped: Mapped[list[str]] = mapped_column(JSON)
    current: Mapped[str | None] = mapped_column(Text)
    pending_choices: Mapped[list[str]] = mapped_column(JSON)
    editing: Mapped[bool] = mapped_column(Boolean)
    subscribed: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    undelivered: Mapped[bool] = mapped_column(Boolean, server_default="false")
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # an official's notice being composed
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class InboxRow(Base):
    """One update of a chat, kept so a chat's updates are applied in order whichever process receives them.

    `state_before` is the chat's state just before the update was applied: when an earlier update arrives after
    later ones were applied, the state is rolled back to it and the later ones are applied again.
    """

    __tablename__ = "inbox"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    incoming: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state_before: Mapped[str | None] = mapped_column(Text)


class OutboxRow(Base):
    """One message to deliver to one chat: written with the state change that produced it, sent by a worker.

    A row is pending until it is sent or given up (failed, blocked, rejected). While a worker sends it, the row
    is leased to that worker (`owner`, `lease_until`) so no other worker sends it too. A notice's row is marked
    sending before the call and sent after it; one left sending by a worker that died is ambiguous (it may or
    may not have arrived) and is never sent again. Rows of a cancelled notice are cancelled; a contact who opted
    out before its turn came is opted_out.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "priority", "id"),
        Index("ix_outbox_chat", "channel", "chat_id", "id"),
        Index("ix_outbox_notice", "notice_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(SmallInteger)
    payload: Mapped[str] = mapped_column(Text)
    replaces: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notice_id: Mapped[int | None] = mapped_column(BigInteger)


class NoticeRow(Base):
    """A notice an official sent (or scheduled): its text, whom it was for, the call it carries, where it stands.

    `token` makes creating it idempotent: a confirmation applied twice creates one notice.
    """

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(Text)  # JSON: the filters, as given
    call: Mapped[str | None] = mapped_column(Text)  # JSON: the application call it opens, if any
    send_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recipients: Mapped[int] = mapped_column(Integer)
    excluded: Mapped[str] = mapped_column(Text)  # JSON: matching contacts left out, by reason (opted out, blocked)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))


class SendBudgetRow(Base):
    """The bot's shared sending budget per channel, for every process: the earliest time the next message may go.

    Each message moves `next_at` on by one interval (1 / the rate limit); a 429 moves it past its retry_after.
    """

    __tablename__ = "send_budget"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RoleRow(Base):
    """A role (admin, official) held by a user, by the user's id on the channel (Telegram's user id)."""

    __tablename__ = "roles"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """One privileged action: who did what, when (role changes, notices sent and cancelled)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)


class RuleStateRow(Base):
    """The rule set every bot process on the database runs (one row): its version, when and by whom it was
    loaded, and the last version refused, so a refusal is announced once however many processes saw it."""

    __tablename__ = "rule_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(16))
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    loaded_by: Mapped[str] = mapped_column(String(64))
    refused_version: Mapped[str | None] = mapped_column(String(16))


class RuleVersionRow(Base):
    """A rule set that was in use: every file it was compiled from (zlib-compressed JSON), so it can be compared
    with another (`rules diff`, the contacts whose results a reload changed) long after its files changed."""

    __tablename__ = "rule_versions"

    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    loaded_by: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    sources: Mapped[bytes] = mapped_column(LargeBinary)


class RuleUploadRow(Base):
    """A rule file an admin sent to the bot, by its place in the rules folder ("policies/new.yaml"): it is read
    with the folder by every process and after every restart, replacing a file of the same name there."""

    __tablename__ = "rule_uploads"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReminderRow(Base):
    """A deadline reminder queued for a contact: one reward's deadline on one day, so many days before it. The key
    makes it once only: however many processes work out that it is due, and after any restart, one row is written
    and one message queued (its outbox row: `outbox_id`). A deadline that moves is another key, so the reminders of
    the new date are queued while those of the old one, re-checked when sent, are not sent."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_outbox", "outbox_id"),)

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    rule_id: Mapped[str] = mapped_column(Text, primary_key=True)
    deadline: Mapped[date] = mapped_column(Date, primary_key=True)
    days_before: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime)
