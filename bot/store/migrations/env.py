"""Alembic environment: migrates the connection migrate() passes in, or else the database named by DATABASE_URL."""

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from bot.store.sql import DEFAULT_DATABASE_PATH, Base, UtcDateTime, database_url, open_engine

config = context.config
if config.config_file_name is not None:
    # Only the alembic command line has an ini file; migrate() must not reconfigure the bot's logging.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    return database_url(os.environ.get("DATABASE_URL"), DEFAULT_DATABASE_PATH)


def _render_item(kind: str, value: Any, autogen_context: AutogenContext) -> str | bool:
    """Writes the bot's column types as plain SQLAlchemy types, so old migrations do not change with the models."""
    if kind == "type" and isinstance(value, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**options: Any) -> None:
    # Batch mode lets later migrations alter columns on SQLite, which has no ALTER COLUMN.
    context.configure(target_metadata=target_metadata, render_as_batch=True, render_item=_render_item, **options)


def run_migrations_offline() -> None:
    """Prints the SQL (`alembic upgrade head --sql`) instead of running it."""
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = open_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
