"""ChatStore on SQLAlchemy 2 async: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) through DATABASE_URL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    MetaData,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    update,
)
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.messages import ChatKey
from bot.paths import DEFAULT_DATABASE_FILE
from bot.store.base import ChatState, ChatStore, ConcurrentUpdate

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
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


def _state_columns(state: ChatState) -> dict[str, Any]:
    """The columns that hold the state itself (not the key, version or timestamps)."""
    return {
        "language": state.language,
        "answers": state.answers,
        "skipped": state.skipped,
        "current": state.current,
        "pending_choices": state.pending_choices,
        "editing": state.editing,
        "subscribed": state.subscribed,
        "active": state.active,
    }


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
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    async def read(self, work: Work[T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._read, work, args)

    async def write(self, work: Work[T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, work, args)

    def _read(self, work: Work[T], args: tuple[Any, ...]) -> T:
        with self.engine.connect() as connection:
            return work(connection, *args)

    def _write(self, work: Work[T], args: tuple[Any, ...]) -> T:
        with self.engine.begin() as connection:
            return work(connection, *args)

    async def dispose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self.engine.dispose)
        self._thread.shutdown(wait=True)


def _now() -> datetime:
    return datetime.now(UTC)


_STATE_FIELDS = ("language", "answers", "skipped", "current", "pending_choices", "editing", "subscribed", "active")
_JSON_FIELDS = {"answers", "skipped", "pending_choices"}


class _HotPathSql:
    """Hand-written SQL for the two statements run on every update (read the chat, write it back).

    Building and compiling them through SQLAlchemy expressions cost more CPU than the rest of an update;
    as driver-level SQL with the dialect's placeholders they cost half. Everything else uses SQLAlchemy.
    """

    def __init__(self, dialect: str):
        self.sqlite = dialect == "sqlite"
        mark = (lambda n: "?") if self.sqlite else (lambda n: f"${n}")
        fields = ", ".join(_STATE_FIELDS)
        self.load = f"SELECT {fields}, version FROM chats WHERE channel = {mark(1)} AND chat_id = {mark(2)}"
        assignments = ", ".join(f"{name} = {mark(i)}" for i, name in enumerate(_STATE_FIELDS, 1))
        n = len(_STATE_FIELDS)
        self.update = (
            f"UPDATE chats SET {assignments}, version = version + 1, updated_at = {mark(n + 1)} "
            f"WHERE channel = {mark(n + 2)} AND chat_id = {mark(n + 3)} AND version = {mark(n + 4)}"
        )
        marks = ", ".join(mark(i) for i in range(1, n + 6))
        self.insert = (
            f"INSERT INTO chats (channel, chat_id, {fields}, version, created_at, updated_at) VALUES ({marks})"
        )

    def values(self, state: ChatState) -> tuple[Any, ...]:
        return tuple(
            json.dumps(getattr(state, name), ensure_ascii=False) if name in _JSON_FIELDS else getattr(state, name)
            for name in _STATE_FIELDS
        )

    def timestamp(self, moment: datetime) -> Any:
        # The same text SQLAlchemy's SQLite DateTime writes, so both paths read back alike.
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else moment

    def load_state(self, connection: Connection, key: ChatKey) -> ChatState:
        row = connection.exec_driver_sql(self.load, (key.channel, key.id)).first()
        return self.state(key, row) if row is not None else ChatState(key)

    def save_state(self, connection: Connection, state: ChatState) -> ChatState:
        """Writes the state if its version is still the stored one; raises ConcurrentUpdate otherwise.

        The write is the transaction's first statement: SQLite then waits for a busy lock instead of failing,
        and the version check and the write cannot be separated by another process's save.
        """
        now = self.timestamp(_now())
        key = state.key
        if state.new:
            try:
                connection.exec_driver_sql(self.insert, (key.channel, key.id, *self.values(state), 1, now, now))
            except IntegrityError:
                raise ConcurrentUpdate(f"chat {key} was created by someone else") from None
        else:
            result = connection.exec_driver_sql(
                self.update, (*self.values(state), now, key.channel, key.id, state.version)
            )
            if result.rowcount != 1:
                raise ConcurrentUpdate(f"chat {key} is no longer at version {state.version}")
        return dataclasses.replace(state, version=state.version + 1, new=False)

    def state(self, key: ChatKey, row: Any) -> ChatState:
        values = dict(zip((*_STATE_FIELDS, "version"), row, strict=True))
        for name in _JSON_FIELDS:
            if isinstance(values[name], str):
                values[name] = json.loads(values[name])
        for name in ("editing", "subscribed", "active"):
            values[name] = bool(values[name])
        return ChatState(key=key, new=False, **values)


class SqlChatStore(ChatStore):
    """Chat states in the `chats` table; each save checks and bumps `version` in the same statement."""

    def __init__(self, database: _Database) -> None:
        self._database = database
        self._sql = _HotPathSql(database.dialect)

    @classmethod
    def from_url(cls, url: str, pool_size: int = DEFAULT_POOL_SIZE) -> SqlChatStore:
        """A store on the database at url; its schema must exist already (see migrate).

        pool_size is how many PostgreSQL connections it keeps open; SQLite always has one.
        """
        url = database_url(url, DEFAULT_DATABASE_PATH)
        if make_url(url).get_backend_name() == "sqlite":
            return cls(_SqliteWorker(url))
        return cls(_PostgresDatabase(url, pool_size))

    async def create_schema(self) -> None:
        """Creates the tables straight from the models, for tests; real databases are set up by migrate()."""
        await self._database.write(Base.metadata.create_all)

    async def load(self, key: ChatKey) -> ChatState:
        return await self._database.read(self._sql.load_state, key)

    async def save(self, state: ChatState) -> ChatState:
        return await self._database.write(self._sql.save_state, state)

    async def forget(self, key: ChatKey) -> bool:
        return await self._database.write(_delete_chat, key)

    async def set_active(self, key: ChatKey, active: bool) -> None:
        for _ in range(3):
            try:
                await self._database.write(_mark_active, key, active)
                return
            except IntegrityError:
                continue  # another process created the row between our UPDATE and INSERT: update it now
        raise ConcurrentUpdate(f"chat {key} kept changing while marking it {'active' if active else 'blocked'}")

    async def close(self) -> None:
        await self._database.dispose()


def _is_chat(key: ChatKey) -> Any:
    return (ChatRow.channel == key.channel) & (ChatRow.chat_id == key.id)


def _delete_chat(connection: Connection, key: ChatKey) -> bool:
    result = connection.execute(delete(ChatRow).where(_is_chat(key)))
    return result.rowcount > 0


def _mark_active(connection: Connection, key: ChatKey, active: bool) -> None:
    # Bumping the version makes a save based on an older read fail instead of undoing this change.
    now = _now()
    result = connection.execute(
        update(ChatRow).where(_is_chat(key)).values(active=active, version=ChatRow.version + 1, updated_at=now)
    )
    if result.rowcount == 0:
        columns = _state_columns(ChatState(key, active=active))
        connection.execute(
            insert(ChatRow).values(
                channel=key.channel, chat_id=key.id, **columns, version=1, created_at=now, updated_at=now
            )
        )


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
