"""A reload's check runs in a child process while this one compiles the engine: the outcome is the same as a
check made here, and a child that dies leaves the check to this process instead of losing it."""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Iterator

import pytest

from bot.engine.yamlsource import SourceFile
from bot.loading import read_sources
from bot.reloading import CheckProcess, check_beside, check_sources


@pytest.fixture
def process() -> Iterator[CheckProcess]:
    checker = CheckProcess()
    yield checker
    checker.close()


def failing_sources():  # type: ignore[no-untyped-def]
    """The shipped rules with one rule test expecting the wrong outcome."""
    sources = read_sources()
    first, *rest = sources.tests
    wrong = first.text.replace(
        "jilin-1-clinical-trial: {outcome: eligible", "jilin-1-clinical-trial: {outcome: not_eligible", 1
    )
    assert wrong != first.text
    return dataclasses.replace(sources, tests=(SourceFile(first.path, wrong), *rest))


def test_rules_that_pass_are_swapped_in_with_the_same_version_and_summary(process: CheckProcess) -> None:
    sources = read_sources()
    here, beside = check_sources(sources), check_beside(sources, process)
    assert beside.engine is not None
    assert (beside.version, beside.summary, beside.problems) == (here.version, here.summary, [])
    assert {rule.id for rule in beside.engine.ruleset.rules} == {rule.id for rule in here.engine.ruleset.rules}


def test_a_failing_rule_test_found_in_the_child_keeps_the_rules_out(process: CheckProcess) -> None:
    sources = failing_sources()
    beside = check_beside(sources, process)
    assert beside.engine is None
    assert beside.problems == check_sources(sources).problems
    assert any("jilin-1-clinical-trial" in str(problem) for problem in beside.problems)


def test_a_child_killed_before_a_check_leaves_the_check_to_this_process_and_a_new_child_takes_the_next(
    process: CheckProcess,
) -> None:
    sources = read_sources()
    assert check_beside(sources, process).engine is not None
    pool = process._pool
    assert pool is not None
    (pid,) = list(pool._processes)  # the one child
    os.kill(pid, signal.SIGKILL)
    after_kill = check_beside(failing_sources(), process)
    assert after_kill.engine is None and after_kill.problems  # still checked, not waved through
    assert check_beside(sources, process).engine is not None
    assert process._pool is not None and pid not in process._pool._processes
