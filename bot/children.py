"""Child processes that do heavy work beside the bot (checking reloads, compiling large rule folders).

Started on first use and kept for the next job; spawned, not forked (a fork would copy this process's threads'
locks in whatever state they are in); at a lower priority, so on a machine of few cores the bot's replies come
first; and gone with the process that started them, however it ends: told to stop at a normal exit (also in a
process multiprocessing started itself, which waits for its children before concurrent.futures would tell them),
and ending by themselves within a second when it was killed (kill -9, the out-of-memory killer), instead of
waiting for work forever.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.util
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

log = logging.getLogger(__name__)

# How often a child looks whether the process that started it is still there.
PARENT_CHECK_S = 1.0


def _start_child(niceness: int) -> None:
    """Runs first in each child: a lower priority, and an end of its own when its parent is gone."""
    with contextlib.suppress(OSError, AttributeError):  # not every system lets a process lower itself
        os.nice(max(0, niceness - os.nice(0)))  # a child of a child is below the bot already
    parent = os.getppid()

    def watch_parent() -> None:
        while os.getppid() == parent:  # once the parent is gone, the child belongs to another process
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()


class _Executor:
    """The pool's executor, held apart from the pool so the exit hook that stops it does not keep the pool alive."""

    def __init__(self) -> None:
        self.executor: ProcessPoolExecutor | None = None

    def stop(self, wait: bool = True) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=wait, cancel_futures=True)
            self.executor = None


class ChildPool:
    """`workers` child processes at `niceness`, started on first use and kept: for good, or until no job came for
    `keep_idle` seconds. A pool that cannot start is reported once and submits nothing (the caller does the work
    itself); one whose child died is replaced."""

    def __init__(self, workers: int, niceness: int, purpose: str, keep_idle: float | None = None) -> None:
        self.workers, self.niceness, self.purpose, self.keep_idle = workers, niceness, purpose, keep_idle
        self._held = _Executor()
        self._lock = threading.Lock()
        self._told = False
        self._running = 0  # jobs handed over and not done
        self._last_done = 0.0
        self._timer: threading.Timer | None = None
        # At exit, before anything else multiprocessing does then (waiting for children, closing queues).
        multiprocessing.util.Finalize(self, self._held.stop, exitpriority=100)

    @property
    def executor(self) -> ProcessPoolExecutor | None:
        """The running pool of children, if one is started."""
        return self._held.executor

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any] | None:
        """The call handed to a child; None when no child can take it."""
        with self._lock:
            if self.workers < 1:
                return None
            for _ in range(2):  # a pool whose child died since the last job is replaced once
                try:
                    if self._held.executor is None:
                        self._held.executor = self._start()
                    future = self._held.executor.submit(function, *args)
                except BrokenProcessPool:
                    self._held.stop(wait=False)
                    continue
                except Exception:
                    self._held.stop(wait=False)
                    if not self._told:  # once: a machine that cannot start processes would say so every time
                        log.exception("no process to %s; doing it in this one", self.purpose)
                    self._told = True
                    return None
                self._running += 1
                future.add_done_callback(self._done)
                return future
            return None

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_start_child, initargs=(self.niceness,)
        )

    def _done(self, _: Future[Any]) -> None:
        with self._lock:
            self._running -= 1
            self._last_done = time.monotonic()
            if self._running == 0 and self.keep_idle is not None:
                if self._timer is not None:
                    self._timer.cancel()  # one timer at a time, from the last job done
                self._timer = threading.Timer(self.keep_idle, self._stop_if_idle)
                self._timer.daemon = True
                self._timer.start()

    def _stop_if_idle(self) -> None:
        with self._lock:
            if self._running == 0 and time.monotonic() - self._last_done >= (self.keep_idle or 0.0) - 0.01:
                self._held.stop(wait=False)

    def lost(self) -> None:
        """A child died during a job: the next job starts a new pool."""
        self.close()

    def close(self) -> None:
        """Stops the children (without waiting for them); the next job starts a new pool."""
        with self._lock:
            self._held.stop(wait=False)
