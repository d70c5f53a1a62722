"""A reload's check runs in a child process, and this one builds the engine from the rules the child compiled: the
outcome is the same as a check made here, and a child that dies leaves the check to this process instead of losing
it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine import conditions as c
from bot.engine import loader
from bot.engine.engine import Engine
from bot.engine.yamlsource import SourceFile
from bot.loading import build_engine, read_sources
from bot.reloading import (
    CheckProcess,
    check_beside,
    check_folder_beside,
    check_rules,
    check_sources,
    diff_rulesets,
    sources_to_json,
)
from bot.store.rulesets import pack, unpack


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
    pool = process.executor
    assert pool is not None
    (pid,) = list(pool._processes)  # the one child
    os.kill(pid, signal.SIGKILL)
    after_kill = check_beside(failing_sources(), process)
    assert after_kill.engine is None and after_kill.problems  # still checked, not waved through
    assert check_beside(sources, process).engine is not None
    assert process.executor is not None and pid not in process.executor._processes


def edited(sources: Any) -> Any:
    """The sources with a comment added to the Jilin rule file: a text no process has compiled yet."""
    policies = tuple(
        SourceFile(p.path, p.text + f"# {uuid.uuid4().hex}\n") if p.path.endswith("jilin-pharma.yaml") else p
        for p in sources.policies
    )
    return dataclasses.replace(sources, policies=policies)


def questions_of(condition: c.Condition | None) -> list[Any]:
    if condition is None:
        return []
    found = [value for name, value in vars(condition).items() if name in ("question", "current", "previous")]
    for part in [*getattr(condition, "parts", ()), *([condition.part] if isinstance(condition, c.Not) else [])]:
        found += questions_of(part)
    return found


def identical(a: Any, b: Any) -> bool:
    return a is b


def alike(a: Any, b: Any) -> bool:
    return vars(a) == vars(b)


def same_engine(built: Engine, compiled: Engine, adopted: str = "") -> None:
    """Two engines of the same texts hold the same rules, in the same order, with the same version; the rules of
    files compiled in the child (paths ending in `adopted`) refer to this build's questions and documents."""
    assert built.version == compiled.version
    assert [rule.id for rule in built.ruleset.rules] == [rule.id for rule in compiled.ruleset.rules]
    diff = diff_rulesets(compiled.ruleset, built.ruleset)
    assert not (diff.added or diff.removed or diff.changed or diff.calls_added or diff.calls_changed), diff
    # The rules refer to this process's questions and documents, not to copies of them.
    questions, documents = built.ruleset.catalogue.questions, built.ruleset.documents
    for rule in built.ruleset.rules:
        # Rules kept from an earlier build may hold that build's objects, alike but not the same (a question
        # equals only itself).
        same = identical if rule.path.endswith(adopted) else alike
        assert same(rule.document, documents[rule.document.id]), rule.id
        for question in questions_of(rule.condition):
            assert same(question, questions[question.fact]), (rule.id, question.fact)


def test_the_engine_built_from_the_rules_the_child_compiled_is_the_one_compiled_here(
    process: CheckProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = edited(read_sources())

    def not_here(*args: Any) -> Any:
        raise AssertionError("a file was compiled again in this process")

    monkeypatch.setattr(loader, "load_policy_file", not_here)
    beside = check_beside(sources, process)
    monkeypatch.undo()
    assert beside.engine is not None, beside.problems
    loader._compiled_files.clear()
    same_engine(beside.engine, build_engine(sources), adopted="jilin-pharma.yaml")
    assert unpack(beside.packed) == sources_to_json(sources), "the files packed as the database records them"


def test_rules_compiled_from_nothing_kept_here_come_from_the_child(
    process: CheckProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    loader._compiled_files.clear()  # as a process that never compiled these files
    sources = read_sources()
    monkeypatch.setattr(loader, "load_policy_file", lambda *args: pytest.fail("compiled again in this process"))
    beside = check_beside(sources, process)
    monkeypatch.undo()
    assert beside.engine is not None
    loader._compiled_files.clear()
    same_engine(beside.engine, build_engine(sources), adopted=".yaml")


def test_a_folder_is_read_and_checked_in_the_child_and_a_bad_file_builds_nothing(
    process: CheckProcess, rules_copy: Path
) -> None:
    good = asyncio.run(check_folder_beside(rules_copy, None, {}, process))
    here = check_rules(rules_copy, None)
    assert good.engine is not None and here.engine is not None
    assert (good.version, good.summary) == (here.version, here.summary)
    same_engine(good.engine, here.engine)
    assert good.packed == pack(sources_to_json(read_sources(rules_copy)))
    pharma = rules_copy / "policies" / "jilin-pharma.yaml"
    pharma.write_text(pharma.read_text(encoding="utf-8").replace("fact: revenue,", "fact: revenu,", 1), "utf-8")
    bad = asyncio.run(check_folder_beside(rules_copy, None, {}, process))
    assert bad.engine is None and bad.packed is None and not bad.compiled
    assert bad.problems == check_rules(rules_copy, None).problems and "revenu" in str(bad.problems[0])
    upload = {"policies/jilin-pharma.yaml": pharma.read_text(encoding="utf-8").replace("revenu,", "revenue,")}
    uploaded = asyncio.run(check_folder_beside(rules_copy, None, upload, process))
    assert uploaded.engine is not None, "the upload in place of the file"
    assert uploaded.version == check_rules(rules_copy, None, upload).version


def test_a_child_killed_before_a_folder_check_leaves_it_to_this_process(
    process: CheckProcess, rules_copy: Path
) -> None:
    assert asyncio.run(check_folder_beside(rules_copy, None, {}, process)).engine is not None
    pool = process.executor
    assert pool is not None
    (pid,) = list(pool._processes)
    os.kill(pid, signal.SIGKILL)
    pharma = rules_copy / "policies" / "jilin-pharma.yaml"
    pharma.write_text(pharma.read_text(encoding="utf-8").replace("fact: revenue,", "fact: revenu,", 1), "utf-8")
    after_kill = asyncio.run(check_folder_beside(rules_copy, None, {}, process))
    assert after_kill.engine is None and after_kill.problems  # still checked, not waved through
    assert process.executor is None or pid not in process.executor._processes
