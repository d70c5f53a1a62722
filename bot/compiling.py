"""A large rule set compiled on more than one core.

The policy files a build would compile (those not kept compiled from an earlier build) are shared out between this
process and worker processes: a worker takes them from the largest down, this process (after reading the rule
tests a check runs next) from the smallest up, until none is left. A worker sends each file's rules back packed
(bot.engine.loader.CompiledFile), or its problems, and this process keeps them as if it had compiled them itself;
the build then only unpacks them. The files of 10,000 rules are compiled in about half the time on two cores. A
small folder is compiled here alone: handing files over costs more than it saves. A worker that cannot start or
dies leaves its files to the build, which compiles them as ever.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import threading
from collections import deque
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from bot.children import ChildPool
from bot.engine.loader import (
    KEPT_FILES,
    CompiledFile,
    RuleSources,
    compile_context,
    compile_policy_file,
    keep_packed_policy_file,
    packed_policy_file,
    policy_files_to_compile,
)
from bot.engine.ruletests import read_rule_tests
from bot.engine.yamlsource import SourceError, SourceErrors, SourceFile, forget_read

log = logging.getLogger(__name__)

# Below this much text left to compile, this process compiles it alone: a worker takes a moment to start, and packing
# and unpacking the rules costs about a tenth of compiling them. The shipped rules are a twentieth of it.
MIN_CHARS = 1_000_000
# Workers run below the bot's priority: on a machine of few cores, replies come before a check.
NICENESS = 10
# Large builds come seldom (at start, the first check of a reload, a change to the catalogue or a document): workers
# that had nothing to do for this long are stopped, and started again for the next one.
KEEP_IDLE_S = 120.0


def _workers() -> int:
    """One worker per core but the one this process compiles on, at most three."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(0, min(cores - 1, 3))


def _compile_packed(shared: RuleSources, source: SourceFile) -> CompiledFile | list[SourceError]:
    """Runs in a worker: one file compiled and packed. The worker keeps nothing of the file (its rules live on in
    the process that asked), and the collector waits until the file is done, as in bot.loading.build_engine."""
    gc.disable()
    try:
        return packed_policy_file(compile_context(shared), source)
    finally:
        forget_read(source.path)
        gc.enable()


class CompilePool(ChildPool):
    """The worker processes, started on first use and stopped when no large build came for KEEP_IDLE_S."""

    def __init__(self, workers: int | None = None) -> None:
        workers = _workers() if workers is None else workers
        super().__init__(workers, NICENESS, "share the compiling with", keep_idle=KEEP_IDLE_S)

    def compile(self, shared: RuleSources, source: SourceFile) -> Future[CompiledFile | list[SourceError]] | None:
        """The file handed to a worker; None when no worker can take it."""
        return self.submit(_compile_packed, shared, source)


_pool = CompilePool()
compiled_elsewhere = 0  # files the workers compiled since start, for benchmarks and logs


class _Dealer:
    """Hands the files out one at a time: a worker gets the largest file left when it is done with its last, and
    this process takes the smallest left, so at the end neither waits for files queued for the other."""

    def __init__(self, pool: CompilePool, shared: RuleSources, files: list[SourceFile]) -> None:
        self.pool, self.shared = pool, shared
        self.left = deque(files)  # the largest first
        self.handed: list[tuple[SourceFile, Future[CompiledFile | list[SourceError]]]] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        for _ in range(self.pool.workers):
            self._hand()

    def _hand(self, done: Future[Any] | None = None) -> None:
        if done is not None and (done.cancelled() or done.exception() is not None):
            return  # a worker that failed gets no more; its files are left to this process and the build
        with self._lock:
            if not self.left:
                return
            source = self.left.popleft()
            future = self.pool.compile(self.shared, source)
            if future is None:
                self.left.appendleft(source)  # no worker: this process takes it
                return
            self.handed.append((source, future))
        future.add_done_callback(self._hand)  # run at once if it is done already: outside the lock

    def take(self) -> SourceFile | None:
        """The next file this process compiles, if any is left."""
        with self._lock:
            return self.left.pop() if self.left else None


def _compile_with(dealer: _Dealer, sources: RuleSources) -> int:
    """This process's share of the files, then what the workers gave kept for the build; how many they compiled."""
    try:
        context = compile_context(sources)
    except SourceErrors:  # the catalogue, documents or regions do not compile: the build reports them (the workers
        return 0  # fail on it too, and get no more files)
    # This process reads the rule tests, which a check runs next, and then takes its share of the files: reading
    # them after the files would leave the other cores idle.
    read_rule_tests(sources.tests, context.catalogue, context.regions)
    while (source := dealer.take()) is not None:
        compile_policy_file(context, source)
    handed = dealer.handed
    compiled = 0
    for source, future in handed:
        try:
            outcome = future.result()
        except BrokenProcessPool:  # the worker died (killed, out of memory): the build compiles the rest here
            log.warning("a process compiling rule files stopped; the build compiles its files here")
            dealer.pool.lost()
            break
        except Exception:  # this file alone (it cannot be packed, say), or cancelled as this process exits
            log.debug("a rule file compiled by another process came back with an error", exc_info=True)
            continue  # the build compiles it here, and says what is wrong with it
        keep_packed_policy_file(context, source, outcome)
        compiled += 1
    return compiled


def compile_in_parallel(sources: RuleSources, pool: CompilePool | None = None, min_chars: int = MIN_CHARS) -> int:
    """Compiles the policy files a build of `sources` would compile, sharing them with the workers when there is
    enough to share, and keeps what each gave for the build. Returns how many files the workers compiled."""
    pool = _pool if pool is None else pool
    files = sorted(policy_files_to_compile(sources), key=lambda source: len(source.text), reverse=True)
    if len(files) < 2 or sum(len(source.text) for source in files) < min_chars or pool.workers < 1:
        return 0
    if len(sources.policies) > KEPT_FILES:  # more than are kept compiled: each would push out another's rules
        return 0
    # What every file is compiled against crosses with each file; the tests and calls are not needed there.
    dealer = _Dealer(pool, dataclasses.replace(sources, policies=(), calls=(), tests=(), unreadable=()), files)
    dealer.start()  # the workers work out the catalogue, documents and regions too: while this process does
    try:
        compiled = _compile_with(dealer, sources)
    finally:
        # Each future's callback holds the dealer, which holds the futures: let go of them, so no cycle keeps the
        # texts until the collector's next full collection.
        dealer.handed.clear()
    global compiled_elsewhere
    compiled_elsewhere += compiled
    log.debug("%d of %d rule files compiled by other processes", compiled, len(files))
    return compiled
