"""What a rebuild keeps from the builds before it (the compiled form of the rules it shares with the last matcher,
the texts of the files that did not change, with their hashes) gives the engine a build from nothing gives."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from bot.engine import matching, yamlsource
from bot.engine.engine import Engine, sources_version
from bot.engine.loader import RuleSources
from bot.engine.matching import Matcher
from bot.engine.ruletests import run_rule_tests
from bot.engine.yamlsource import SourceFile, text_key
from bot.loading import build_engine, read_profile, read_sources, same_texts
from bot.paths import shipped_rules_dir

TODAY = date(2026, 11, 22)
PHARMA = "jilin-pharma.yaml"
OLD_TITLE = "新取得临床试验许可或注册申请受理书的医药健康产品奖励"


def with_pharma(sources: RuleSources, change: Any) -> RuleSources:
    policies = tuple(SourceFile(p.path, change(p.text)) if p.path.endswith(PHARMA) else p for p in sources.policies)
    return dataclasses.replace(sources, policies=policies)


def outcomes(matcher: Matcher, profile: dict[str, Any]) -> dict[str, Any]:
    match = matcher.match(profile, TODAY)
    return {
        "eligible": [r.rule.id for r in match.eligible],
        "undetermined": [(r.rule.id, [c.requirement() for c in r.unknown]) for r in match.undetermined],
        "near": [r.rule.id for r in match.near_misses],
        "not": [r.rule.id for r in match.not_eligible],
    }


def test_a_matcher_built_on_the_rules_of_the_last_one_matches_as_one_built_afresh() -> None:
    sources = read_sources()
    first = build_engine(sources)
    # Another title in the Jilin file: its rules are compiled again, the other files' rules are kept.
    changed = with_pharma(sources, lambda text: text.replace(OLD_TITLE, "临床试验许可奖励(新)", 1))
    second = build_engine(changed)
    kept = {id(rule) for rule in first.ruleset.rules}
    shared = [rule for rule in second.ruleset.rules if id(rule) in kept]
    assert shared and len(shared) < len(second.ruleset.rules), "some rules kept, some compiled again"
    reused = {id(c.rule): c for c in first.matcher._compiled}
    assert all(reused[id(c.rule)] is c for c in second.matcher._compiled if id(c.rule) in reused), "reused"

    matching._last_matcher = None  # nothing to reuse
    fresh = Matcher(second.ruleset, second.regions)
    assert second.matcher.covered_regions == fresh.covered_regions
    assert second.matcher.estimate_only == fresh.estimate_only
    assert list(second.matcher._scopes) == list(fresh._scopes)
    profiles = [
        {},
        {"region": "吉林省长春市"},
        {"region": "吉林省通化市东昌区", "revenue": 3 * 10**8, "revenue_last_year": 10**8},
        {"region": "江苏省泰州市", "industries": ["biologics"]},
        second.parse_profile(read_profile(shipped_rules_dir().parent / "examples" / "changchun-biologics.yaml")),
    ]
    for profile in profiles:
        assert outcomes(second.matcher, profile) == outcomes(fresh, profile), profile
    report, coverage = run_rule_tests(changed.tests, second.matcher)
    again, covered = run_rule_tests(changed.tests, fresh)
    assert (report.cases, [str(f) for f in report.failures]) == (again.cases, [str(f) for f in again.failures])
    assert coverage == covered


def test_a_file_read_again_is_the_object_seen_before_unless_its_text_changed() -> None:
    first = same_texts(read_sources())
    again = same_texts(read_sources())
    assert all(a is b for a, b in zip(first.policies, again.policies, strict=True))
    assert again.regions is first.regions and again.catalogue is first.catalogue
    edited = with_pharma(read_sources(), lambda text: text + "# edited\n")
    seen = same_texts(edited)
    for before, after in zip(first.policies, seen.policies, strict=True):
        assert (after is before) == (not after.path.endswith(PHARMA)), after.path
    assert sources_version(seen) == sources_version(edited) != sources_version(first)
    assert Engine.build(seen).version == build_engine(seen, sources_version(seen)).version


def test_a_texts_key_is_its_contents_whichever_object_holds_it() -> None:
    text = read_sources().policies[0].text
    copy = "".join(list(text))
    assert copy is not text and text_key(copy) == text_key(text) == text_key(text)
    assert text_key(text + " ") != text_key(text)


def test_only_the_latest_text_of_each_file_is_kept_with_its_key() -> None:
    for n in range(5):
        same_texts(with_pharma(read_sources(), lambda text, n=n: text + f"# edit {n}\n"))
    kept = [text for text, _ in yamlsource._kept_keys.values()]
    assert [n for n in range(5) if any(text.endswith(f"# edit {n}\n") for text in kept)] == [4]
