"""Every ChatStore (memory, SQLite, PostgreSQL) keeps chat states the same way and never loses a concurrent update."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from bot.messages import ChatKey
from bot.store.base import ChatState, ChatStore, ConcurrentUpdate
from bot.store.sql import (
    POSTGRES_APPLICATION_NAME,
    Base,
    ChatRow,
    SqlChatStore,
    database_url,
    migrate,
    open_engine,
)
from bot.store.updates import update_chat
from tests.store.conftest import POSTGRES

REPO_ROOT = Path(__file__).resolve().parents[2]
SQL_BACKENDS = ["sqlite", POSTGRES]
CHAT = ChatKey("telegram", -1001234567890)  # a Telegram group id: negative and beyond 32 bits


def full_state() -> ChatState:
    return ChatState(
        key=CHAT,
        language="en",
        answers={
            "revenue_last_year": 1_200_000_000,
            "rd_share": 0.0435,
            "whole_number_rate": 2.0,
            "certifications": ["high_tech", "specialised_sme"],
            "is_listed": False,
            "region": "吉林省长春市",
        },
        skipped=["employees"],
        current=None,
        pending_choices=["a", "b"],
        subscribed=False,
        active=False,
    )


def set_fact(name: str, value: object) -> Callable[[ChatState], object]:
    """An update that sets one answer after yielding to the event loop, so concurrent updaters interleave."""

    async def apply(state: ChatState) -> object:
        await asyncio.sleep(0)
        state.answers[name] = value
        return value

    return apply


@pytest.mark.asyncio
async def test_an_unknown_chat_loads_as_a_fresh_state(store: ChatStore) -> None:
    assert await store.load(CHAT) == ChatState(CHAT)


@pytest.mark.asyncio
async def test_every_field_round_trips_with_its_type(store: ChatStore) -> None:
    saved = await store.save(full_state())
    loaded = await store.load(CHAT)
    assert loaded == saved == ChatState(**{**vars(full_state()), "version": 1})
    assert type(loaded.answers["revenue_last_year"]) is int
    assert type(loaded.answers["rd_share"]) is float
    assert type(loaded.answers["whole_number_rate"]) is float
    assert loaded.answers["is_listed"] is False
    assert loaded.current is None

    loaded.current = "employees"
    await store.save(loaded)
    assert (await store.load(CHAT)).current == "employees"


@pytest.mark.asyncio
async def test_each_save_bumps_the_version(store: ChatStore) -> None:
    state = await store.load(CHAT)
    for expected in (1, 2, 3):
        state.answers["step"] = expected
        state = await store.save(state)
        assert state.version == expected
        assert (await store.load(CHAT)).version == expected


@pytest.mark.asyncio
async def test_a_stale_save_is_refused_and_writes_nothing(store: ChatStore) -> None:
    await store.save(ChatState(CHAT, answers={"revenue_last_year": 1}))
    first, second = await store.load(CHAT), await store.load(CHAT)
    first.answers["revenue_last_year"] = 2
    await store.save(first)
    second.answers["revenue_last_year"] = 3
    second.language = "en"
    with pytest.raises(ConcurrentUpdate):
        await store.save(second)
    stored = await store.load(CHAT)
    assert (stored.answers, stored.language, stored.version) == ({"revenue_last_year": 2}, "zh-Hans", 2)


@pytest.mark.asyncio
async def test_two_first_saves_of_a_new_chat_cannot_both_win(store: ChatStore) -> None:
    first, second = await store.load(CHAT), await store.load(CHAT)
    first.answers["winner"] = "first"
    second.answers["winner"] = "second"
    await store.save(first)
    with pytest.raises(ConcurrentUpdate):
        await store.save(second)
    assert (await store.load(CHAT)).answers == {"winner": "first"}


@pytest.mark.asyncio
async def test_changing_a_loaded_or_saved_state_does_not_change_what_is_stored(store: ChatStore) -> None:
    state = ChatState(CHAT, answers={"certifications": ["high_tech"]})
    saved = await store.save(state)
    state.answers["certifications"].append("changed after save")
    saved.skipped.append("changed after save")
    loaded = await store.load(CHAT)
    loaded.answers["certifications"].append("changed after load")
    assert await store.load(CHAT) == ChatState(CHAT, answers={"certifications": ["high_tech"]}, version=1)


@pytest.mark.asyncio
async def test_twenty_concurrent_updates_of_one_chat_all_land(store: ChatStore) -> None:
    results = await asyncio.gather(*(update_chat(store, CHAT, set_fact(f"fact_{i}", i)) for i in range(20)))
    assert sorted(result for _, result in results) == list(range(20))
    stored = await store.load(CHAT)
    assert stored.answers == {f"fact_{i}": i for i in range(20)}
    assert stored.version == 20


@pytest.mark.asyncio
async def test_concurrent_updates_through_two_stores_on_the_same_data_all_land(
    open_store: Callable[[], ChatStore],
) -> None:
    stores = [open_store(), open_store()]
    await asyncio.gather(*(update_chat(stores[i % 2], CHAT, set_fact(f"fact_{i}", i)) for i in range(20)))
    for store in stores:
        assert (await store.load(CHAT)).answers == {f"fact_{i}": i for i in range(20)}


@pytest.mark.asyncio
async def test_update_chat_accepts_a_plain_function_and_returns_its_result(store: ChatStore) -> None:
    def choose_english(state: ChatState) -> str:
        previous, state.language = state.language, "en"
        return previous

    saved, previous = await update_chat(store, CHAT, choose_english)
    assert (previous, saved.language, saved.version) == ("zh-Hans", "en", 1)
    assert await store.load(CHAT) == saved


@pytest.mark.asyncio
async def test_update_chat_gives_up_after_its_attempts_and_raises_the_conflict(store: ChatStore) -> None:
    calls = 0

    async def always_overtaken(state: ChatState) -> None:
        nonlocal calls
        calls += 1
        await update_chat(store, CHAT, set_fact("overtaker", calls))  # someone else saves in between
        state.answers["loser"] = True

    with pytest.raises(ConcurrentUpdate):
        await update_chat(store, CHAT, always_overtaken, attempts=3)
    assert calls == 3
    assert (await store.load(CHAT)).answers == {"overtaker": 3}


@pytest.mark.asyncio
async def test_forget_deletes_the_chat_and_says_whether_there_was_one(store: ChatStore) -> None:
    await store.save(full_state())
    assert await store.forget(CHAT) is True
    assert await store.load(CHAT) == ChatState(CHAT)
    assert await store.forget(CHAT) is False
    assert (await store.save(ChatState(CHAT))).version == 1  # the chat can start over


@pytest.mark.asyncio
async def test_set_active_keeps_the_answers_and_makes_older_reads_stale(store: ChatStore) -> None:
    await store.save(ChatState(CHAT, answers={"revenue_last_year": 5_000_000}))
    before_blocking = await store.load(CHAT)
    await store.set_active(CHAT, False)
    blocked = await store.load(CHAT)
    assert (blocked.active, blocked.answers) == (False, {"revenue_last_year": 5_000_000})
    with pytest.raises(ConcurrentUpdate):  # would otherwise switch the chat back to active
        await store.save(before_blocking)
    await store.set_active(CHAT, True)
    assert (await store.load(CHAT)).active is True


@pytest.mark.asyncio
async def test_set_active_on_an_unknown_chat_creates_it(store: ChatStore) -> None:
    await store.set_active(CHAT, False)
    stored = await store.load(CHAT)
    assert (stored.active, stored.answers, stored.version) == (False, {}, 1)


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
async def test_updates_from_separate_processes_all_land(database: str, store: ChatStore) -> None:
    script = (
        "import asyncio, sys\n"
        "from bot.messages import ChatKey\n"
        "from bot.store.sql import SqlChatStore\n"
        "from bot.store.updates import update_chat\n"
        "async def main(url, process):\n"
        "    store = SqlChatStore.from_url(url)\n"
        "    def setter(key):\n"
        "        return lambda state: state.answers.__setitem__(key, process)\n"
        f"    await asyncio.gather(*(update_chat(store, {CHAT!r}, setter(f'{{process}}_{{i}}')) for i in range(10)))\n"
        "    await store.close()\n"
        "asyncio.run(main(sys.argv[1], sys.argv[2]))\n"
    )
    processes = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", script, database, name, cwd=REPO_ROOT)
        for name in ("a", "b")
    ]
    assert [await process.wait() for process in processes] == [0, 0]
    assert set((await store.load(CHAT)).answers) == {f"{name}_{i}" for name in ("a", "b") for i in range(10)}


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", [POSTGRES], indirect=True)
async def test_a_store_goes_on_after_the_server_dropped_its_connections(database: str, store: ChatStore) -> None:
    """As after a PostgreSQL restart: the next read finds its pooled connection dead and tries a new one."""
    saved = await store.save(full_state())
    assert (await store.load(CHAT)).version == saved.version  # the pool now holds an open connection
    engine = open_engine(database)
    try:
        async with engine.connect() as connection:
            dropped = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database() AND pid <> pg_backend_pid()"
                ),
                {"name": POSTGRES_APPLICATION_NAME},
            )
    finally:
        await engine.dispose()
    assert dropped >= 1
    loaded = await store.load(CHAT)
    assert (loaded.answers, loaded.version) == (full_state().answers, saved.version)
    loaded.answers["revenue"] = 5
    assert (await store.save(loaded)).version == saved.version + 1


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
async def test_timestamps_are_utc_and_updated_at_moves_on_save(database: str, store: ChatStore) -> None:
    state = await store.save(ChatState(CHAT))
    await store.save(state)
    engine = open_engine(database)
    try:
        async with engine.connect() as connection:
            created_at, updated_at = (await connection.execute(select(ChatRow.created_at, ChatRow.updated_at))).one()
    finally:
        await engine.dispose()
    assert created_at.tzinfo is not None and created_at.utcoffset() == UTC.utcoffset(None)
    assert updated_at > created_at


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
async def test_the_migrations_create_exactly_the_models_schema(database: str) -> None:
    await migrate(database)  # a second run finds nothing to do
    engine = open_engine(database)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []


@pytest.mark.asyncio
async def test_create_schema_makes_a_usable_store_for_tests(tmp_path: Path) -> None:
    store = SqlChatStore.from_url(f"sqlite:///{tmp_path / 'direct.sqlite3'}")
    try:
        await store.create_schema()
        assert (await store.save(full_state())).version == 1
        assert (await store.load(CHAT)).answers == full_state().answers
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "sqlite+aiosqlite:///data/bot.sqlite3"),
        ("  ", "sqlite+aiosqlite:///data/bot.sqlite3"),
        ("postgres://bot:s3cret@db.example:5432/bot", "postgresql+asyncpg://bot:s3cret@db.example:5432/bot"),
        ("postgresql://bot:s3cret@db.example/bot", "postgresql+asyncpg://bot:s3cret@db.example/bot"),
        ("postgresql+asyncpg://bot@127.0.0.1/bot", "postgresql+asyncpg://bot@127.0.0.1/bot"),
        ("postgresql://bot:p%40ss@db.example/bot", "postgresql+asyncpg://bot:p%40ss@db.example/bot"),
        ("sqlite:///relative.sqlite3", "sqlite+aiosqlite:///relative.sqlite3"),
        ("sqlite:////var/lib/bot/bot.sqlite3", "sqlite+aiosqlite:////var/lib/bot/bot.sqlite3"),
        ("sqlite+aiosqlite:///x.sqlite3", "sqlite+aiosqlite:///x.sqlite3"),
    ],
)
def test_database_url_rewrites_to_the_async_drivers(given: str | None, expected: str) -> None:
    assert database_url(given, Path("data/bot.sqlite3")) == expected


@pytest.mark.parametrize(
    "given",
    [
        "mysql://bot:hunter2pw@db.example/bot",
        "postgres://bot:hunter2pw@db.example:fivefour/bot",
        "postgres://bot:hunter2pw@",
        "postgres://bot:hunter2@pw@db.example/bot",
        "bot:hunter2pw@db.example/bot",
        "bot:hunter2pw@db.example://bot",
        "postgresql://db.example:nope/bot?user=bot&password=hunter2pw",
        "sqlite://",
    ],
)
def test_a_bad_database_url_is_explained_without_showing_the_password(given: str) -> None:
    with pytest.raises(ValueError, match="Expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE") as caught:
        database_url(given, Path("x"))
    assert "hunter2" not in str(caught.value) and "pw@" not in str(caught.value), caught.value
