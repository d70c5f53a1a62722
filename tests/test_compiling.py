"""A large rule set compiled on more than one core gives the rules and the problems compiling it alone gives, and a
worker that dies or cannot start only makes the build compile its files itself."""

from __future__ import annotations

import dataclasses
import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot.compiling import CompilePool, compile_in_parallel
from bot.engine.loader import RuleSources, compile_context, keep_packed_policy_file, policy_files_to_compile
from bot.engine.model import Rule
from bot.engine.ruletests import run_rule_tests
from bot.engine.yamlsource import SourceErrors, SourceFile
from bot.loading import build_engine, read_sources
from bot.reloading import check_sources

BROKEN = """
  - id: broken-amount
    title: 金额写错的规则
    clause: "1"
    quote: 支持大健康产业发展
    reward: {kind: cash_reward, cap: 很多}
"""


@pytest.fixture
def pool() -> Iterator[CompilePool]:
    pool = CompilePool(workers=1)
    yield pool
    pool.close()


def fresh(sources: RuleSources, change: str = "") -> RuleSources:
    """The sources with every policy file's text new (a comment of its own), so nothing of them is kept compiled."""
    mark = f"\n# {uuid.uuid4()}\n"
    policies = tuple(SourceFile(p.path, p.text + mark) for p in sources.policies)
    if change:
        policies = (*policies[:-1], SourceFile(policies[-1].path, policies[-1].text.rstrip("\n") + change))
    return dataclasses.replace(sources, policies=policies)


def compiled(rules: tuple[Rule, ...]) -> list[tuple[Any, ...]]:
    """Each rule field by field, its condition as what must hold (conditions are compared by identity)."""
    return [
        tuple(
            value.requirement() if name == "condition" and value is not None else value
            for name, value in ((f.name, getattr(rule, f.name)) for f in dataclasses.fields(rule))
        )
        for rule in rules
    ]


def built(sources: RuleSources) -> list[tuple[Any, ...]]:
    engine = build_engine(sources)
    report, _ = run_rule_tests(sources.tests, engine.matcher)
    assert report.cases > 80 and not report.failures, "the shipped rule tests pass on the rules built"
    return compiled(engine.ruleset.rules)


def built_alone(sources: RuleSources) -> list[tuple[Any, ...]] | list[str]:
    """What a build of a copy of the sources gives with no worker: its rules, or its problems."""
    copy = dataclasses.replace(sources, policies=tuple(SourceFile(p.path, p.text + "\n") for p in sources.policies))
    try:
        return built(copy)
    except SourceErrors as exc:
        return [str(e) for e in exc.errors]


def test_rules_compiled_by_the_workers_and_here_are_the_rules_compiled_here_alone(pool: CompilePool) -> None:
    sources = fresh(read_sources())
    expected = built_alone(sources)
    compile_in_parallel(sources, pool, min_chars=0)
    assert policy_files_to_compile(sources) == [], "every file is compiled, here or by a worker, before the build"
    assert built(sources) == expected


def test_a_file_a_worker_compiled_is_unpacked_into_the_same_rules(pool: CompilePool) -> None:
    sources = fresh(read_sources())
    expected = built_alone(sources)
    shared = dataclasses.replace(sources, policies=(), calls=(), tests=())
    for source in sources.policies:  # every file through a worker, none here
        future = pool.compile(shared, source)
        assert future is not None
        keep_packed_policy_file(compile_context(sources), source, future.result(timeout=60))
    assert policy_files_to_compile(sources) == []
    assert built(sources) == expected


def test_problems_found_by_a_worker_are_reported_as_when_compiled_here(pool: CompilePool) -> None:
    sources = fresh(read_sources(), change=BROKEN)
    expected = built_alone(sources)
    assert any("'cap' is not an amount" in problem for problem in expected), expected
    shared = dataclasses.replace(sources, policies=(), calls=(), tests=())
    broken = sources.policies[-1]
    keep_packed_policy_file(compile_context(sources), broken, pool.compile(shared, broken).result(timeout=60))
    with pytest.raises(SourceErrors) as raised:
        build_engine(sources)
    assert [str(e) for e in raised.value.errors] == expected


def test_a_worker_that_died_leaves_its_files_to_the_build_and_a_new_one_starts(pool: CompilePool) -> None:
    warm = pool.compile(dataclasses.replace(read_sources(), policies=()), read_sources().policies[0])
    assert warm is not None
    warm.result(timeout=60)
    for process in list(pool.executor._processes.values()):  # killed as an out-of-memory killer would
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
    sources = fresh(read_sources())
    expected = built_alone(sources)
    compile_in_parallel(sources, pool, min_chars=0)
    assert built(sources) == expected
    again = fresh(read_sources())
    future = pool.compile(dataclasses.replace(again, policies=()), again.policies[0])
    assert future is not None and not isinstance(future.result(timeout=60), list), "a new worker compiles"


def test_a_catalogue_that_does_not_compile_is_reported_by_the_build_as_ever(pool: CompilePool) -> None:
    sources = fresh(read_sources())
    assert sources.catalogue is not None
    broken = dataclasses.replace(sources, catalogue=SourceFile(sources.catalogue.path, "questions: [\n"))
    assert compile_in_parallel(broken, pool, min_chars=0) == 0
    with pytest.raises(SourceErrors) as raised:
        build_engine(broken)
    assert str(raised.value).startswith(sources.catalogue.path)


def test_a_small_folder_is_compiled_here_without_starting_a_worker(pool: CompilePool) -> None:
    sources = fresh(read_sources())
    assert compile_in_parallel(sources, pool) == 0
    assert pool.executor is None, "the shipped rules are far below the size worth sharing"
    assert len(policy_files_to_compile(sources)) == len(sources.policies), "left to the build"


def test_without_a_core_to_spare_nothing_is_handed_over() -> None:
    alone = CompilePool(workers=0)
    sources = fresh(read_sources())
    assert compile_in_parallel(sources, alone, min_chars=0) == 0
    assert alone.executor is None


BAD_TESTS = """date: 2024-06-01
tests:
  - name: a profile with a fact nobody asks
    profile: {revenu: 5亿}
    expect: {jilin-2-1-sme-growth: eligible}
  - name: an outcome the rule does not give
    profile: {revenue: 1}
    expect: {no-such-rule: eligible}
  - just a line
"""


def test_rule_tests_read_while_the_workers_compile_fail_as_when_read_by_the_check(pool: CompilePool) -> None:
    """This process reads the rule tests while the workers compile: what is wrong with them is still reported
    by the check, each problem once, as when the check reads them itself."""
    sources = fresh(read_sources())
    tests = (*sources.tests, SourceFile("tests/bad.yaml", BAD_TESTS), SourceFile("tests/broken.yaml", "tests: [\n"))
    sources = dataclasses.replace(sources, tests=tests)
    alone = check_sources(fresh(sources))
    anew = tuple(SourceFile(t.path, t.text + "\n# read anew\n") for t in tests[:-1])  # the broken one: its line
    sources = dataclasses.replace(sources, tests=(*anew, tests[-1]))
    assert compile_in_parallel(sources, pool, min_chars=0) > 0
    shared = check_sources(sources)
    assert [str(p) for p in shared.problems] == [str(p) for p in alone.problems]
    assert {p.path for p in shared.problems} == {"tests/bad.yaml", "tests/broken.yaml"}
    assert len(shared.problems) == 4, [str(p) for p in shared.problems]
