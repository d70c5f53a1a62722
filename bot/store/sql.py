"""ChatStore on SQLAlchemy 2 async: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) through DATABASE_URL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, delete, event, insert, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoResultFound
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.messages import ChatKey, Delivery, Incoming
from bot.paths import DEFAULT_DATABASE_FILE
from bot.store.base import (
    AuditEntry,
    ChatState,
    ChatStore,
    Decision,
    DeliveryOutcome,
    Replies,
    RoleChange,
    RoleGrant,
    Turn,
)
from bot.store.notices import Contact, NewNotice, NoticeSql, NoticeStatus
from bot.store.reminders import NewReminder, ReminderKey, ReminderSql
from bot.store.rulesets import NewVersion, RuleSetSql, RuleVersion, pack, unpack
from bot.store.schema import AuditRow, Base, ChatRow, InboxRow, OutboxRow, RoleRow, UtcDateTime
from bot.store.statements import ChatSql, OutboxSql, lock_key, now

__all__ = ["Base", "ChatRow", "InboxRow", "OutboxRow", "SqlChatStore", "UtcDateTime", "database_url", "migrate"]

DEFAULT_DATABASE_PATH = DEFAULT_DATABASE_FILE
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Long enough to outlast another process's write transaction instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30
DEFAULT_POOL_SIZE = 20
POOL_TIMEOUT_SECONDS = 30

EXPECTED_URL_FORMS = (
    "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (postgres:// and postgresql+asyncpg:// work too) "
    "or sqlite:///PATH/TO/FILE.sqlite3"
)
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# Names the bot's sessions in pg_stat_activity, so an operator can tell them apart.
POSTGRES_APPLICATION_NAME = "incentive-bot"
_POSTGRES_CONNECT_ARGS = {"server_settings": {"application_name": POSTGRES_APPLICATION_NAME}}


def database_url(value: str | None, default_path: Path) -> str:
    """The SQLAlchemy async URL for a DATABASE_URL setting, or the SQLite file at default_path when it is unset.

    postgres:// and postgresql:// become postgresql+asyncpg://, sqlite:// becomes sqlite+aiosqlite://.
    Raises ValueError naming the expected forms; the message never contains the password.
    """
    if value is None or not value.strip():
        return f"sqlite+aiosqlite:///{default_path.as_posix()}"
    value = value.strip()
    scheme, separator, rest = value.partition("://")
    if not separator:
        raise _bad_url(value, "it does not start with a scheme such as postgresql://")
    if scheme.lower() in _POSTGRES_SCHEMES:
        url = f"postgresql+asyncpg://{rest}"
    elif scheme.lower() in _SQLITE_SCHEMES:
        url = f"sqlite+aiosqlite://{rest}"
    elif _SCHEME.fullmatch(scheme):
        raise _bad_url(value, f"the database kind {scheme!r} is not supported")
    else:  # not a scheme at all, and it may hold a password
        raise _bad_url(value, "it does not start with a scheme such as postgresql://")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # The parser's own message may quote parts of the URL, so it is not passed on.
        raise _bad_url(value, "it cannot be parsed (is the port a number?)") from None
    if parsed.get_backend_name() == "postgresql":
        if parsed.host and "@" in parsed.host:
            raise _bad_url(value, "the password or user name contains '@'; write it as %40")
        if not parsed.host and "host" not in parsed.query:
            raise _bad_url(value, "it names no host")
    elif not parsed.database:
        raise _bad_url(value, "it names no database file")
    return url


def _bad_url(value: str, problem: str) -> ValueError:
    masked = mask_password(value)
    return ValueError(f"DATABASE_URL {masked!r} cannot be used: {problem}. Expected {EXPECTED_URL_FORMS}.")


def mask_password(url: str) -> str:
    """The URL with any password replaced by ***, even when the URL is malformed."""
    scheme, separator, rest = url.partition("://")
    if not separator or not _SCHEME.fullmatch(scheme):
        scheme, separator, rest = "", "", url
    # The last '@' ends the credentials: an unescaped '@' inside a password must not leave its tail visible.
    credentials, at, location = rest.rpartition("@")
    if at:
        user, colon, _ = credentials.partition(":")
        rest = f"{user}{':***' if colon else ''}@{location}"
    rest = re.sub(r"(?i)(password=)[^&]*", r"\1***", rest)
    return f"{scheme}{separator}{rest}"


def open_engine(url: str) -> AsyncEngine:
    """An async engine for a database URL (see database_url), for migrations and one-off work."""
    url = database_url(url, DEFAULT_DATABASE_PATH)
    if make_url(url).get_backend_name() != "sqlite":
        return create_async_engine(url, connect_args=_POSTGRES_CONNECT_ARGS)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    event.listen(engine.sync_engine, "connect", _use_write_ahead_log)
    return engine


def _use_write_ahead_log(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets readers in other processes go on while one process writes.

    synchronous=NORMAL is the setting WAL is designed for: a commit survives the process crashing, and no
    longer waits for an fsync of its own (only a power cut can lose the last commits), which would otherwise
    cap every chat's answers at the disk's fsync rate.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A forgotten chat's answers are overwritten in the file, not only unlinked from the b-tree.
        cursor.execute("PRAGMA secure_delete=ON")
    finally:
        cursor.close()


T = TypeVar("T")
Work = Callable[..., T]


class _Database(ABC):
    """Runs a piece of synchronous SQLAlchemy work on a connection of one database."""

    dialect: str

    @abstractmethod
    async def read(self, work: Work[T], *args: Any) -> T:
        """Runs work(connection, *args), which only reads."""

    @abstractmethod
    async def write(self, work: Work[T], *args: Any) -> T:
        """Runs work(connection, *args) and commits what it wrote.

        A backend may commit statement by statement, so each statement of the work must be right on its own.
        """

    @abstractmethod
    async def transaction(self, work: Work[T], *args: Any) -> T:
        """Runs work(connection, *args) in one transaction that holds the write lock from its start (SQLite)."""

    @abstractmethod
    async def erase_history(self) -> None:
        """Removes what the database keeps of deleted rows beside the table itself, where it can."""

    @abstractmethod
    async def dispose(self) -> None:
        """Closes the connections."""


class _PostgresDatabase(_Database):
    """PostgreSQL through asyncpg, every statement committed on its own (autocommit), on the event loop itself.

    Each store operation is one statement that is atomic by itself (a save's version check is in its WHERE
    clause), so a transaction around it would only add BEGIN and COMMIT round trips, and SQLAlchemy's pre-ping
    three more per checkout: twelve trips per update where two do. Instead, a connection lost to a server restart
    is noticed when a read fails, and the read is tried once more on a fresh connection; a write is not repeated,
    since it may have landed before the connection broke.
    """

    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int) -> None:
        # No overflow: an update waits a moment for one of the open connections rather than opening one for a
        # single statement and closing it again, which costs the bot more than the statement.
        self.engine = create_async_engine(
            url,
            isolation_level="AUTOCOMMIT",
            connect_args=_POSTGRES_CONNECT_ARGS,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=POOL_TIMEOUT_SECONDS,
        )

    async def read(self, work: Work[T], *args: Any) -> T:
        try:
            return await self._run(work, args)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        # SQLAlchemy has dropped every pooled connection opened before the failure, so this one is new.
        return await self._run(work, args)

    async def write(self, work: Work[T], *args: Any) -> T:
        return await self._run(work, args)

    async def erase_history(self) -> None:
        """Nothing to do from here: PostgreSQL keeps deleted rows as dead tuples until autovacuum reclaims them
        (VACUUM cannot run inside the bot's transactions, and a VACUUM per /forget would cost every chat)."""

    async def transaction(self, work: Work[T], *args: Any) -> T:
        async with self.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="READ COMMITTED")
            async with connection.begin():
                return await connection.run_sync(work, *args)

    async def _run(self, work: Work[T], args: tuple[Any, ...]) -> T:
        async with self.engine.connect() as connection:
            return await connection.run_sync(work, *args)

    async def dispose(self) -> None:
        await self.engine.dispose()


class _SqliteWorker(_Database):
    """SQLite on one connection owned by one worker thread; each read or write is one trip to that thread.

    aiosqlite makes a trip for every cursor call (open, execute, fetch, close, commit), about ten per update,
    and those trips cost the bot more CPU than everything else it does for an update. One connection also
    queues this process's writes in order instead of letting them collide on the file lock, whose retry
    sleeps would make the slowest replies seconds long; other processes still wait on the lock (busy timeout).
    """

    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        self.engine = create_engine(
            sync_url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            pool_size=1,
            max_overflow=0,
        )
        event.listen(self.engine, "connect", _use_write_ahead_log)
        event.listen(self.engine, "connect", _own_transactions)
        event.listen(self.engine, "begin", _begin_immediately)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    async def read(self, work: Work[T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._read, work, args)

    async def write(self, work: Work[T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, work, args)

    async def transaction(self, work: Work[T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, work, args)

    async def erase_history(self) -> None:
        """Moves the write-ahead log into the file and empties it, so deleted rows leave no copy behind."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._checkpoint)

    def _checkpoint(self) -> None:
        with self.engine.connect() as connection:
            # Outside any transaction (a checkpoint cannot run inside one): straight on the driver's connection.
            connection.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _read(self, work: Work[T], args: tuple[Any, ...]) -> T:
        with self.engine.connect() as connection:
            return work(connection, *args)

    def _write(self, work: Work[T], args: tuple[Any, ...]) -> T:
        with self.engine.connect() as connection:
            connection.execution_options(**_WRITING)
            with connection.begin():
                return work(connection, *args)

    async def driver_transaction(self, work: Work[T], *args: Any) -> T:
        """Runs work(connection, *args) in one write transaction straight on the driver's connection, for the
        hand-written statements of every update (bot.store.statements), which use only `exec_driver_sql`.

        SQLAlchemy's connection, transaction and result objects cost four times what SQLite itself does for a
        turn, and the turn is what every update waits for in the one writer thread.
        """
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._driver_write, work, args)

    def _driver_write(self, work: Work[T], args: tuple[Any, ...]) -> T:
        pooled = self.engine.raw_connection()
        try:
            driver = pooled.driver_connection
            driver.execute("BEGIN IMMEDIATE")
            try:
                result = work(_DriverConnection(driver), *args)
            except BaseException:
                driver.execute("ROLLBACK")
                raise
            driver.execute("COMMIT")
            return result
        finally:
            pooled.close()

    async def dispose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self.engine.dispose)
        self._thread.shutdown(wait=True)


class _DriverConnection:
    """A sqlite3 connection answering `exec_driver_sql` as SQLAlchemy's Connection does, for the statements that
    use nothing else."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    def exec_driver_sql(self, statement: str, parameters: Sequence[Any] = ()) -> _DriverResult:
        return _DriverResult(self._driver.execute(statement, parameters))


class _DriverResult:
    """The result calls the hand-written statements make, on a sqlite3 cursor; each that reads closes it, so no
    statement stays open in the transaction."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def first(self) -> Any:
        row = self._cursor.fetchone()
        self._cursor.close()
        return row

    def one(self) -> Any:
        row = self.first()
        if row is None:
            raise NoResultFound("the statement returned no row")
        return row

    def scalar_one(self) -> Any:
        return self.one()[0]

    def all(self) -> list[Any]:
        rows = self._cursor.fetchall()
        self._cursor.close()
        return rows


def _own_transactions(dbapi_connection: Any, connection_record: Any) -> None:
    # sqlite3 would open transactions itself, lazily and deferred; SQLAlchemy's begin event opens them instead.
    dbapi_connection.isolation_level = None


_WRITING = {"sqlite_writing": True}


def _begin_immediately(connection: Connection) -> None:
    """A writing transaction takes the write lock when it starts, so another process's write makes it wait (busy
    timeout) instead of failing when a transaction that began by reading tries to write; reads take no lock."""
    writing = connection.get_execution_options().get("sqlite_writing")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


class SqlChatStore(ChatStore):
    """Chat states, their updates (inbox) and the messages to send (outbox) in SQLite or PostgreSQL."""

    def __init__(self, database: _Database) -> None:
        self.url = ""  # the URL it was opened with, when it was (from_url)
        self._database = database
        self._sql = ChatSql(database.dialect)
        self._outbox = OutboxSql(database.dialect)
        self._notices = NoticeSql(database.dialect)
        self._rules = RuleSetSql(database.dialect)
        self._reminders = ReminderSql(database.dialect)

    @classmethod
    def from_url(cls, url: str, pool_size: int = DEFAULT_POOL_SIZE) -> SqlChatStore:
        """A store on the database at url; its schema must exist already (see migrate).

        pool_size is how many PostgreSQL connections it keeps open; SQLite always has one.
        """
        url = database_url(url, DEFAULT_DATABASE_PATH)
        if make_url(url).get_backend_name() == "sqlite":
            store = cls(_SqliteWorker(url))
        else:
            store = cls(_PostgresDatabase(url, pool_size))
        store.url = url
        return store

    async def create_schema(self) -> None:
        """Creates the tables straight from the models, for tests; real databases are set up by migrate()."""
        await self._database.write(Base.metadata.create_all)

    async def load(self, key: ChatKey) -> ChatState:
        return await self._database.read(self._sql.load_state, key)

    async def save(self, state: ChatState) -> ChatState:
        return await self._database.write(self._sql.save_state, state)

    async def forget(self, key: ChatKey) -> bool:
        deleted = await self._database.transaction(self._forget, key)
        await self._database.erase_history()
        return deleted

    def _forget(self, connection: Connection, key: ChatKey) -> bool:
        self._lock(connection, key)
        deleted = connection.exec_driver_sql(self._sql.forget[0], (key.channel, key.id)).rowcount > 0
        for statement in self._sql.forget[1:]:
            connection.exec_driver_sql(statement, (key.channel, key.id))
        return deleted

    async def set_active(self, key: ChatKey, active: bool) -> None:
        await self._database.transaction(self._set_active, key, active)

    def _set_active(self, connection: Connection, key: ChatKey, active: bool) -> None:
        # Under the chat's lock, so a turn in progress cannot write back the old value after this one.
        self._lock(connection, key)
        state = self._sql.load_state(connection, key)
        self._sql.save_state(connection, dataclasses.replace(state, active=active))

    def _lock(self, connection: Connection, key: ChatKey) -> None:
        if self._sql.lock is not None:
            connection.exec_driver_sql(self._sql.lock, (lock_key(key),))

    async def take_turn(
        self,
        incoming: Incoming,
        decide: Callable[[Turn], Decision],
        owner: str,
        lease_seconds: float,
        delivered: bool = False,
    ) -> list[Delivery]:
        # SQLite: one write transaction on the driver's connection. PostgreSQL: autocommit statements under the
        # chat's advisory lock.
        database = self._database
        run = database.driver_transaction if isinstance(database, _SqliteWorker) else database.write
        deliveries, forgot = await run(self._sql.take_turn, incoming, decide, owner, lease_seconds, delivered)
        if forgot:
            await self._database.erase_history()
        return deliveries

    async def claim_deliveries(self, owner: str, limit: int, lease_seconds: float) -> list[Delivery]:
        return await self._database.transaction(self._outbox.claim_rows, owner, limit, lease_seconds)

    async def finish_deliveries(self, ids: Sequence[int], outcome: str, error: str | None = None) -> None:
        if not ids:
            return
        if outcome == DeliveryOutcome.SENT:
            # The common case, once per reply: one statement per message, no transaction around it.
            await self._database.write(self._outbox.mark_sent, ids)
        else:
            await self._database.transaction(self._outbox.finish_rows, ids, outcome, error)

    async def retry_delivery(self, delivery_id: int, delay_seconds: float, error: str) -> None:
        await self._database.write(self._outbox.retry_row, delivery_id, delay_seconds, error)

    async def delivery_counts(self) -> dict[str, int]:
        return await self._database.read(self._outbox.count_rows)

    async def delivered(self, key: ChatKey, after: int = 0, limit: int = 100) -> list[Delivery]:
        return await self._database.read(self._outbox.delivered_rows, key, after, limit)

    async def prune(self, older_than_seconds: float) -> None:
        await self._database.write(self._outbox.prune_rows, older_than_seconds)

    async def roles_of(self, user_id: int) -> frozenset[str]:
        return await self._database.read(_roles_of, user_id)

    async def list_roles(self) -> list[RoleGrant]:
        return await self._database.read(_list_roles)

    async def change_roles(
        self, changes: Sequence[RoleChange], actor: str, replies: Replies | None = None
    ) -> tuple[list[bool], list[Delivery]]:
        return await self._database.transaction(self._change_roles, changes, actor, replies)

    def _change_roles(
        self, connection: Connection, changes: Sequence[RoleChange], actor: str, replies: Replies | None
    ) -> tuple[list[bool], list[Delivery]]:
        moment = now()
        changed = [_apply_role_change(connection, change, actor, moment) for change in changes]
        if replies is None or not replies.messages:
            return changed, []
        return changed, self._sql.enqueue_replies(connection, replies.messages, replies.owner, replies.lease_seconds)

    # Notices

    supports_notices = True

    async def contacts(self, changed_since: datetime | None = None) -> list[Contact]:
        return await self._database.read(self._notices.read_contacts, changed_since)

    async def create_notice(self, notice: NewNotice) -> tuple[int, bool]:
        return await self._database.transaction(self._notices.create, notice)

    def _replies(self, connection: Connection, replies: Replies | None) -> list[Delivery]:
        if replies is None or not replies.messages:
            return []
        return self._sql.enqueue_replies(connection, replies.messages, replies.owner, replies.lease_seconds)

    async def notice_status(self, notice_id: int) -> NoticeStatus | None:
        return await self._database.read(self._notices.status, notice_id)

    async def recent_notices(self, limit: int = 10) -> list[NoticeStatus]:
        return await self._database.read(self._notices.recent_notices, limit)

    async def cancel_notice(
        self, notice_id: int, actor: str, replies: Replies | None = None
    ) -> tuple[bool, list[Delivery]]:
        return await self._database.transaction(self._cancel_notice, notice_id, actor, replies)

    def _cancel_notice(
        self, connection: Connection, notice_id: int, actor: str, replies: Replies | None
    ) -> tuple[bool, list[Delivery]]:
        cancelled = self._notices.cancel_notice(connection, notice_id, actor)
        return cancelled, self._replies(connection, replies) if cancelled else []

    async def notice_calls(self) -> list[tuple[int, dict[str, Any]]]:
        return await self._database.read(self._notices.read_calls)

    async def notice_calls_version(self) -> tuple[int, int]:
        return await self._database.read(self._notices.read_calls_version)

    async def claim_bulk(
        self, owner: str, limit: int, lease_seconds: float, intervals: tuple[float, float], after: int = 0
    ) -> list[Delivery]:
        claim = self._notices.claim_rows
        return await self._database.transaction(claim, owner, limit, lease_seconds, intervals, after)

    async def start_sending(
        self, delivery_id: int, owner: str, lease_seconds: float, sent: int | None = None
    ) -> str | None:
        return await self._database.write(self._notices.start_row, delivery_id, owner, lease_seconds, sent)

    async def finish_bulk(self, delivery_id: int, owner: str, outcome: str, error: str | None = None) -> None:
        await self._database.write(self._notices.finish_row, delivery_id, owner, outcome, error)
        if outcome == DeliveryOutcome.BLOCKED:
            chat = await self._database.read(self._chat_of, delivery_id)
            if chat is not None:
                await self.set_active(chat, False)

    def _chat_of(self, connection: Connection, delivery_id: int) -> ChatKey | None:
        row = connection.exec_driver_sql(self._outbox.chat_of, (delivery_id,)).first()
        return ChatKey(row[0], row[1]) if row is not None else None

    async def retry_bulk(
        self, delivery_id: int, owner: str, delay_seconds: float, error: str, counts: bool = True
    ) -> None:
        await self._database.write(self._notices.retry_row, delivery_id, owner, delay_seconds, error, counts)

    async def release_bulk(self, owner: str) -> None:
        await self._database.write(self._notices.release_rows, owner)

    async def queued_reminders(self, since: date) -> set[ReminderKey]:
        return await self._database.read(self._reminders.queued, since)

    async def queue_reminders(self, reminders: Sequence[NewReminder]) -> int:
        if not reminders:
            return 0
        return await self._database.transaction(self._reminders.queue, reminders)

    async def reminder_of(self, delivery_id: int) -> ReminderKey | None:
        return await self._database.read(self._reminders.of_delivery, delivery_id)

    async def prune_reminders(self, before: date) -> None:
        await self._database.write(self._reminders.prune, before)

    async def take_send_slot(self, channel: str, interval: float, bulk: bool) -> tuple[bool, float]:
        if self._sql.sqlite:
            return await super().take_send_slot(channel, interval, bulk)  # one process sends: its own budget
        return await self._database.write(self._notices.take_slot, channel, interval, bulk)

    async def hold_sending(self, channel: str, seconds: float) -> None:
        if self._sql.sqlite:
            await super().hold_sending(channel, seconds)
        else:
            await self._database.write(self._notices.hold, channel, seconds)

    async def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None:
        row = {"at": now(), "actor": actor, "action": action, "detail": json.dumps(detail, ensure_ascii=False)}
        await self._database.write(lambda connection: connection.execute(insert(AuditRow).values(**row)))

    async def audit_log(self, since: datetime | None = None) -> list[AuditEntry]:
        return await self._database.read(_audit_log, since)

    # The rule set in use

    async def activate_rules(self, new: NewVersion) -> bool:
        # Packing a version's files (hundreds of kilobytes) is done beside the database's thread, not in it, and
        # only for a version not recorded yet: every other query of the bot waits while that thread is busy. A
        # reload's check packs them in its own process (new.packed): then they go straight to the one transaction,
        # which leaves a version recorded before as it was.
        if new.packed is None:
            recorded = await self._database.read(self._rules.recorded, new.version)
            packed = b"" if recorded else await asyncio.to_thread(pack, new.files)
        else:
            packed = new.packed
        return await self._database.transaction(self._rules.activate, new, packed)

    async def refuse_rules(self, version: str) -> bool:
        return await self._database.transaction(self._rules.refuse, version)

    async def active_rules(self) -> RuleVersion | None:
        return await self._database.read(self._rules.active)

    async def rule_versions(self, limit: int = 20) -> list[RuleVersion]:
        return await self._database.read(self._rules.versions, limit)

    async def rule_files(self, version: str) -> dict[str, Any] | None:
        packed = await self._database.read(self._rules.files, version)
        return None if packed is None else await asyncio.to_thread(unpack, packed)

    async def rule_uploads(self) -> dict[str, str]:
        return await self._database.read(self._rules.uploads)

    async def save_rule_upload(self, name: str, text: str, actor: str) -> None:
        await self._database.write(self._rules.save_upload, name, text, actor)

    async def remove_rule_upload(self, name: str) -> bool:
        return await self._database.write(self._rules.remove_upload, name)

    async def close(self) -> None:
        await self._database.dispose()


def _roles_of(connection: Connection, user_id: int) -> frozenset[str]:
    return frozenset(connection.execute(select(RoleRow.role).where(RoleRow.user_id == user_id)).scalars())


def _list_roles(connection: Connection) -> list[RoleGrant]:
    held = RoleRow.__table__.c
    query = select(held.user_id, held.role, held.granted_by, held.granted_at).order_by(held.user_id, held.role)
    return [RoleGrant(*row) for row in connection.execute(query).all()]


def _apply_role_change(connection: Connection, change: RoleChange, actor: str, moment: datetime) -> bool:
    """Grants or revokes one role; audits it if it changed anything."""
    held = RoleRow.__table__.c
    exists = connection.execute(
        select(held.user_id).where(held.user_id == change.user_id, held.role == change.role)
    ).first()
    if change.grant == (exists is not None):
        return False
    if change.grant:
        connection.execute(
            insert(RoleRow).values(user_id=change.user_id, role=change.role, granted_by=actor, granted_at=moment)
        )
    else:
        connection.execute(delete(RoleRow).where(held.user_id == change.user_id, held.role == change.role))
    detail = json.dumps({"user_id": change.user_id, "role": change.role})
    action = "grant" if change.grant else "revoke"
    connection.execute(insert(AuditRow).values(at=moment, actor=actor, action=action, detail=detail))
    return True


def _audit_log(connection: Connection, since: datetime | None) -> list[AuditEntry]:
    log = AuditRow.__table__.c
    query = select(log.at, log.actor, log.action, log.detail).order_by(log.at, log.id)
    if since is not None:
        query = query.where(log.at >= since)
    rows = connection.execute(query).all()
    return [AuditEntry(at, actor, action, json.loads(detail)) for at, actor, action, detail in rows]


def alembic_config() -> Config:
    """Alembic configuration for the bundled migrations, independent of the working directory and alembic.ini."""
    config = Config()
    # ConfigParser treats '%' as interpolation, so a path containing one must be escaped.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


async def migrate(url: str) -> None:
    """Brings the database at url up to the newest schema (`alembic upgrade head`); safe to run repeatedly."""
    engine = open_engine(url)
    try:
        # Alembic's documented pattern for async engines: env.py uses this connection instead of calling
        # asyncio.run(), which would fail inside the caller's running event loop.
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to_head)
    finally:
        await engine.dispose()


def _upgrade_to_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
