"""The bot's child processes (the reloads' check, the compile workers) run below its priority and never outlive it:
not after a normal exit, not when they have children of their own, not when the bot is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.children import ChildPool

ROOT = Path(__file__).resolve().parents[1]

# A process that starts a pool, prints its child's pid (and, with a second level, the grandchild's), then waits.
PROGRAM = textwrap.dedent(
    """
    import os, sys, time
    from bot.children import ChildPool

    kept = []

    def grandchild() -> list[int]:
        kept.append(ChildPool(1, 10, "test"))  # kept by the child, as the bot keeps its pools
        return [os.getpid(), kept[0].submit(os.getpid).result(60)]

    if __name__ == "__main__":
        pool = ChildPool(1, 10, "test")
        pids = pool.submit(grandchild).result(60) if sys.argv[1] == "two" else [pool.submit(os.getpid).result(60)]
        print(*pids, flush=True)
        if sys.argv[2] == "wait":
            time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the system
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state != "Z"  # a zombie has ended; only its exit status is left for its new parent


def gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def start(tmp_path: Path, levels: str, then: str) -> tuple[subprocess.Popen[str], list[int]]:
    script = tmp_path / "pool.py"
    script.write_text(PROGRAM)
    process = subprocess.Popen(
        [sys.executable, str(script), levels, then], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    pids = [int(pid) for pid in line.split()]
    assert pids, "the children started"
    return process, pids


@pytest.mark.skipif(not hasattr(os, "getppid") or sys.platform == "win32", reason="POSIX processes")
def test_children_end_by_themselves_when_the_bot_is_killed(tmp_path: Path) -> None:
    process, pids = start(tmp_path, "two", "wait")
    try:
        assert all(alive(pid) for pid in pids)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert gone_within(pids, 10), "a child and its own child left running after the bot was killed"
    finally:
        process.kill()
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_children_with_children_of_their_own_end_at_a_normal_exit(tmp_path: Path) -> None:
    process, pids = start(tmp_path, "two", "exit")
    try:
        assert process.wait(30) == 0, "the exit waited for a grandchild nobody told to stop"
        assert gone_within(pids, 10)
    finally:
        process.kill()


def test_a_child_runs_below_the_bot() -> None:
    pool = ChildPool(1, 10, "test")
    try:
        future = pool.submit(os.nice, 0)
        assert future is not None
        assert future.result(60) == max(10, os.nice(0)), "a child runs at niceness 10"
    finally:
        pool.close()


def test_a_pool_let_go_of_stops_its_children() -> None:
    pool = ChildPool(1, 10, "test")
    future = pool.submit(os.getpid)
    assert future is not None
    pid = future.result(60)
    del pool, future
    assert gone_within([pid], 10)


def test_children_kept_only_while_busy_stop_when_idle_and_start_again_for_more_work() -> None:
    pool = ChildPool(1, 10, "test", keep_idle=0.5)
    try:
        future = pool.submit(os.getpid)
        assert future is not None
        pid = future.result(60)
        assert gone_within([pid], 10) and pool.executor is None
        again = pool.submit(os.getpid)
        assert again is not None and again.result(60) != pid
    finally:
        pool.close()


def test_a_pool_that_cannot_take_work_says_so_by_submitting_nothing() -> None:
    none = ChildPool(0, 10, "test")
    assert none.submit(os.getpid) is None
