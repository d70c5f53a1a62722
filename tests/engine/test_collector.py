"""A check leaves nothing for the garbage collector to find, and the objects it made go to the oldest generation
unless the process froze its heap (as serve does after loading its rules), whose frozen heap a check leaves frozen."""

from __future__ import annotations

import dataclasses
import gc
import uuid
from collections.abc import Iterator

import pytest

from bot import loading
from bot.compiling import CompilePool, compile_in_parallel
from bot.engine.loader import RuleSources
from bot.engine.textnorm import clean_document
from bot.engine.yamlsource import SourceFile
from bot.loading import read_sources, settle_heap
from bot.paths import shipped_data_dir
from bot.reloading import check_sources


def fresh(sources: RuleSources) -> RuleSources:
    """The sources with every policy and test file's text new, so nothing of them is kept from before."""
    mark = f"\n# {uuid.uuid4()}\n"
    renew = lambda files: tuple(SourceFile(f.path, f.text + mark) for f in files)  # noqa: E731
    return dataclasses.replace(sources, policies=renew(sources.policies), tests=renew(sources.tests))


@pytest.fixture
def garbage() -> Iterator[list[object]]:
    """What a full collection finds unreachable, kept to look at (instead of freed)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_a_check_sharing_files_with_a_worker_leaves_no_cycle_holding_the_texts(garbage: list[object]) -> None:
    pool = CompilePool(workers=1)
    try:
        sources = fresh(read_sources())
        assert compile_in_parallel(sources, pool, min_chars=0) > 0
        assert check_sources(sources).engine is not None
    finally:
        pool.close()
    gc.collect()
    left = [type(thing).__name__ for thing in garbage if isinstance(thing, SourceFile | RuleSources)]
    assert not left, f"{len(left)} file texts were kept by cycles until a full collection"


def test_repairing_a_document_leaves_no_cycle_holding_its_context(garbage: list[object]) -> None:
    text = next(shipped_data_dir().glob("policies/*.txt")).read_text(encoding="utf-8")
    garbled = next(t for t in (p.read_text(encoding="utf-8") for p in shipped_data_dir().glob("policies/*.txt"))
                   if "?" in t)  # fmt: skip
    assert clean_document(garbled) and clean_document(text + "\n")
    gc.collect()
    assert not [thing for thing in garbage if type(thing).__name__ in ("_Context", "_Budget")]


def test_a_check_leaves_a_frozen_heap_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "_heap_settled", False)  # put back after the test, as the heap is unfrozen
    loaded = [["a rule set loaded at start"]]  # something the process keeps, as serve keeps its rules
    settle_heap()
    try:
        assert not any(thing is loaded for generation in (0, 1, 2) for thing in gc.get_objects(generation))
        assert check_sources(fresh(read_sources())).engine is not None
        walked = any(thing is loaded for generation in (0, 1, 2) for thing in gc.get_objects(generation))
        assert not walked, "the heap serve froze would be walked by every full collection again"
    finally:
        gc.unfreeze()


def test_what_a_check_made_goes_to_the_oldest_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.unfreeze()  # a process that froze nothing (an earlier test may have started serve in this one)
    monkeypatch.setattr(loading, "_heap_settled", False)
    gc.collect()
    sources = fresh(read_sources())
    checked = check_sources(sources)
    assert checked.engine is not None
    young = {id(thing) for generation in (0, 1) for thing in gc.get_objects(generation)}
    assert id(checked.engine.matcher) not in young and id(checked.engine.ruleset) not in young
