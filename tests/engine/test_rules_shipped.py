"""The shipped rules: they load, every quote is in its source, every rule test passes with full coverage."""

from __future__ import annotations

from bot.engine.engine import Engine
from bot.engine.loader import quote_occurs
from bot.engine.ruletests import coverage_gaps, run_rule_tests
from bot.loading import read_sources


def test_every_quote_occurs_verbatim_in_its_source_document(engine: Engine) -> None:
    for rule in engine.ruleset.rules:
        assert quote_occurs(rule.quote, rule.document), f"{rule.path}:{rule.line} {rule.id}"


def test_a_quote_that_is_not_in_the_source_is_not_found(engine: Engine) -> None:
    rule = engine.ruleset.rule("jilin-1-clinical-trial")
    assert not quote_occurs(rule.quote.replace("200万元", "300万元"), rule.document)


def test_the_jilin_policy_encodes_its_nineteen_cash_measures(engine: Engine) -> None:
    jilin = [r for r in engine.ruleset.rules if r.document.id == "jilin-pharma"]
    cash = [r for r in jilin if r.reward.kind in ("cash_reward", "subsidy", "interest_subsidy")]
    assert len(cash) == 19
    assert {r.clause for r in cash} == {
        "1",
        "2",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
        "12",
        "13",
        "14",
        "16",
        "18",
        "23",
    }
    assert all(r.reward.cap is not None for r in cash)
    assert any(r.reward.kind == "tax_measure" for r in jilin)
    assert sum(r.reward.kind == "non_cash" for r in jilin) >= 3


def test_every_source_document_has_rules(engine: Engine) -> None:
    assert {r.document.id for r in engine.ruleset.rules} == set(engine.ruleset.documents)


def test_support_rules_without_an_amount_in_the_source_carry_none(engine: Engine) -> None:
    for rule in engine.ruleset.rules:
        if rule.document.id != "jilin-pharma":
            assert rule.reward.cap is None and rule.reward.minimum is None, rule.id


def test_all_rule_tests_pass_and_cover_every_rule_and_threshold(engine: Engine) -> None:
    report, coverage = run_rule_tests(read_sources().tests, engine.matcher)
    assert report.cases >= 60
    assert [str(f) for f in report.failures] == []
    assert [str(g) for g in coverage_gaps(engine.ruleset.rules, coverage)] == []
