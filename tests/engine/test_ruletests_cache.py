"""A reload runs every rule test again: a case's profile is read once while its test file, the catalogue and the
regions stay the same, and read again when any of them changes."""

from __future__ import annotations

import dataclasses

import pytest

from bot.engine import ruletests
from bot.engine.ruletests import run_rule_tests
from bot.engine.yamlsource import SourceFile
from bot.loading import build_engine, read_sources


def test_profiles_are_read_again_only_when_their_file_or_the_catalogue_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    sources = read_sources()
    engine = build_engine(sources)
    first, _ = run_rule_tests(sources.tests, engine.matcher)
    assert first.cases > 80 and not first.failures
    reads: list[object] = []
    parse = ruletests.parse_profile
    monkeypatch.setattr(ruletests, "parse_profile", lambda raw, *rest: reads.append(raw) or parse(raw, *rest))

    again, _ = run_rule_tests(sources.tests, engine.matcher)
    assert (again.cases, again.failures) == (first.cases, first.failures)
    assert len(reads) < first.cases / 10, "the same files and catalogue: the profiles are not read again"

    edited = SourceFile(sources.tests[0].path, sources.tests[0].text + "\n# edited\n")
    changed = dataclasses.replace(sources, tests=(edited, *sources.tests[1:]))
    reads.clear()
    run_rule_tests(changed.tests, engine.matcher)
    assert reads, "an edited test file's profiles are read again"

    assert sources.catalogue is not None
    questions = SourceFile(sources.catalogue.path, sources.catalogue.text + "\n")
    catalogue = dataclasses.replace(sources, catalogue=questions)
    rebuilt = build_engine(catalogue)
    assert rebuilt.ruleset.catalogue is not engine.ruleset.catalogue
    reads.clear()
    report, _ = run_rule_tests(sources.tests, rebuilt.matcher)
    assert len(reads) >= first.cases / 2 and not report.failures, "another catalogue: every profile read again"


def test_a_profile_that_cannot_be_read_fails_its_case_every_time_with_the_same_message() -> None:
    sources = read_sources()
    engine = build_engine(sources)
    text = (
        "date: 2026-11-22\ntests:\n  - name: bad\n    profile: {revenue: lots}\n"
        "    expect: {jilin-1-clinical-trial: eligible}\n"
    )
    bad = SourceFile("rules/tests/bad.yaml", text)
    messages = [[str(f) for f in run_rule_tests([bad], engine.matcher)[0].failures] for _ in range(3)]
    assert messages[0] and "bad profile: revenue" in messages[0][0] and messages[0] == messages[1] == messages[2]
