"""The store tests' databases: memory, a SQLite file, and PostgreSQL (from TEST_DATABASE_URL, required in CI)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.base import ChatStore
from bot.store.memory import MemoryChatStore
from bot.store.sql import SqlChatStore, database_url, migrate, open_engine

POSTGRES = pytest.param("postgresql", marks=pytest.mark.postgresql)
BACKENDS = ["memory", "sqlite", POSTGRES]


async def _create_database(url: str) -> tuple[str, str | None]:
    """A fresh, empty database next to the one in url, so tests neither see nor touch other data.

    Returns its URL and name; falls back to url itself (name None) when the role may not create databases.
    """
    name = f"incentive_bot_store_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError:
        return url, None
    finally:
        await admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


async def _drop_database(url: str, name: str) -> None:
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        await admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database from TEST_DATABASE_URL; skipped without it, except in CI."""
    given = os.environ.get("TEST_DATABASE_URL")
    if not given:
        if os.environ.get("CI"):
            pytest.fail("CI is set but TEST_DATABASE_URL is not: the PostgreSQL store tests must run in CI")
        pytest.skip("PostgreSQL store tests need TEST_DATABASE_URL=postgresql+asyncpg://USER@HOST:PORT/DATABASE")
    admin_url = database_url(given, Path("unused"))
    url, created = asyncio.run(_create_database(admin_url))
    asyncio.run(migrate(url))  # on an empty database this runs every migration
    yield url
    if created is not None:
        asyncio.run(_drop_database(admin_url, created))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture()
def shared_postgres_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    # Requested here, outside any event loop, because setting it up runs its own loops.
    return request.getfixturevalue("postgres_url") if backend == "postgresql" else None


@pytest_asyncio.fixture()
async def database(backend: str, shared_postgres_url: str | None, tmp_path: Path) -> str | None:
    """The URL of an empty, migrated database for the backend; None for the memory store."""
    if backend == "memory":
        return None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'chats.sqlite3'}"
        await migrate(url)
        return url
    assert shared_postgres_url is not None
    url = shared_postgres_url
    engine = open_engine(url)
    try:
        async with engine.begin() as connection:
            tables = "chats, inbox, outbox, roles, audit, rule_state, rule_versions, rule_uploads, reminders"
            await connection.execute(text(f"TRUNCATE {tables}"))
    finally:
        await engine.dispose()
    return url


@pytest_asyncio.fixture()
async def open_store(database: str | None) -> AsyncIterator[Callable[[], ChatStore]]:
    """Opens another store on the same data, as a second bot process would (the memory store is shared)."""
    memory = MemoryChatStore()
    opened: list[ChatStore] = []

    def open_() -> ChatStore:
        store = memory if database is None else SqlChatStore.from_url(database)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        await store.close()


@pytest.fixture()
def store(open_store: Callable[[], ChatStore]) -> ChatStore:
    return open_store()
