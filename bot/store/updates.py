"""Read-modify-write of one chat that retries when another process saved it in between."""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from bot.messages import ChatKey
from bot.store.base import ChatState, ChatStore, ConcurrentUpdate

T = TypeVar("T")

# Random pauses, growing with each attempt and with how long an attempt takes on this database, so that
# updaters which collided once spread out enough not to collide again.
MIN_BACKOFF_SECONDS = 0.005
MAX_BACKOFF_SECONDS = 1.0


@overload
async def update_chat(
    store: ChatStore, key: ChatKey, apply: Callable[[ChatState], Awaitable[T]], attempts: int = 8
) -> tuple[ChatState, T]: ...


@overload
async def update_chat(
    store: ChatStore, key: ChatKey, apply: Callable[[ChatState], T], attempts: int = 8
) -> tuple[ChatState, T]: ...


async def update_chat(
    store: ChatStore,
    key: ChatKey,
    apply: Callable[[ChatState], Any],
    attempts: int = 8,
) -> tuple[ChatState, Any]:
    """Loads the chat, lets `apply` change the state in place, and saves it; on a concurrent save, starts over.

    `apply` may be a plain or a coroutine function and may run several times, each on a freshly loaded
    state, so it must not have side effects outside the state. Returns the saved state and what the last
    `apply` returned; raises the last ConcurrentUpdate when every attempt lost the race.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    for attempt in range(attempts):
        started = time.monotonic()
        state = await store.load(key)
        result = apply(state)
        if inspect.isawaitable(result):
            result = await result
        try:
            return await store.save(state), result
        except ConcurrentUpdate:
            if attempt == attempts - 1:
                raise
            took = max(MIN_BACKOFF_SECONDS, time.monotonic() - started)
            await asyncio.sleep(random.uniform(0, min(MAX_BACKOFF_SECONDS, took * 2 ** (attempt + 2))))
    raise AssertionError("unreachable")  # the loop either returns or raises
