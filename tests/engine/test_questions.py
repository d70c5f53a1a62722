"""Choosing the next question: only what can still change a result, and far fewer than the catalogue."""

from __future__ import annotations

from datetime import date

import pytest

from bot.engine.engine import Engine

TODAY = date(2026, 11, 22)
YI, WAN = 100_000_000, 10_000

PERSONAS = {
    "a Changchun biologics maker with a clinical permit": {
        "region": "吉林省/长春市",
        "industries": ["biologics"],
        "approvals": ["clinical_trial_permit"],
        "projects": ["biologics_rnd"],
        "revenue": 12 * YI,
        "revenue_last_year": 8 * YI,
        "produced_in_province": True,
        "attracted_investment": False,
        "public_platform": False,
        "idle_variety_sales": 0,
        "big_variety_sales_increase": 0,
        "variety_sales": 3 * YI,
        "project_investment": 0,
        "online_sales": 0,
        "online_sales_last_year": 0,
    },
    "a Tonghua distributor": {
        "region": "吉林省/通化市/东昌区",
        "industries": ["distribution"],
        "approvals": [],
        "projects": [],
        "revenue": 35 * YI,
        "revenue_last_year": 28 * YI,
        "online_sales": 1.2 * YI,
        "online_sales_last_year": 0.8 * YI,
        "public_platform": False,
        "idle_variety_sales": 0,
        "big_variety_sales_increase": 0,
        "variety_sales": 0,
        "project_investment": 3000 * WAN,
        "project_on_schedule": True,
        "loan_amount": 2000 * WAN,
        "loan_rate": 0.0435,
        "attracted_investment": False,
        "produced_in_province": False,
    },
    "a Guangdong cosmetics firm": {"region": "广东省/广州市", "industries": ["cosmetics"]},
    "a Wuhan device maker": {
        "region": "湖北省/武汉市",
        "industries": ["medical_devices"],
        "approvals": ["innovative_device"],
        "projects": ["device_rnd", "tech_upgrade"],
    },
}


def interview(engine: Engine, truth: dict) -> list[str]:
    """Answers the engine's questions from a full profile until it has nothing left to ask."""
    profile: dict = {}
    skipped: set[str] = set()
    asked: list[str] = []
    while (question := engine.next_question(profile, TODAY, skipped)) is not None:
        assert question.fact not in asked, f"asked {question.fact} twice"
        asked.append(question.fact)
        if question.fact in truth:
            profile[question.fact] = truth[question.fact]
        else:
            skipped.add(question.fact)
    return asked


def test_the_first_question_is_the_region(engine: Engine) -> None:
    assert engine.next_question({}, TODAY).fact == "region"


def test_nothing_is_asked_when_no_rule_covers_the_region(engine: Engine) -> None:
    assert engine.next_question({"region": "广东省/广州市"}, TODAY) is None


# Most questions a persona may take: each one asked must be able to change one of its results.
QUESTION_BUDGET = {
    "a Changchun biologics maker with a clinical permit": 11,
    "a Tonghua distributor": 16,
    "a Guangdong cosmetics firm": 1,
    "a Wuhan device maker": 3,
}


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_a_persona_reaches_the_complete_answer_in_few_questions(engine: Engine, persona: str) -> None:
    truth = PERSONAS[persona]
    asked = interview(engine, truth)
    final = engine.match({k: v for k, v in truth.items() if k in asked}, TODAY)
    everything = engine.match(truth, TODAY)
    assert [r.rule.id for r in final.eligible] == [r.rule.id for r in everything.eligible]
    assert {r.rule.id for r in final.near_misses} <= {r.rule.id for r in everything.near_misses}
    assert final.undetermined == [] or all(f not in truth for r in final.undetermined for f in r.missing)
    assert len(asked) <= QUESTION_BUDGET[persona] < len(engine.ruleset.catalogue)


def test_a_requirement_is_asked_only_once_the_ones_before_it_hold(engine: Engine) -> None:
    asked = interview(engine, PERSONAS["a Tonghua distributor"])
    # No new drug certificate, device registration or idle variety: where it is produced never matters.
    assert "produced_in_province" not in asked
    # No technology-upgrade project: how the firm came to the province never matters.
    assert "attracted_investment" not in asked and "equipment_investment" not in asked


def test_a_region_outside_every_rule_takes_one_question(engine: Engine) -> None:
    assert interview(engine, PERSONAS["a Guangdong cosmetics firm"]) == ["region"]


def test_a_skipped_question_is_not_asked_again(engine: Engine) -> None:
    profile = {"region": "吉林省/长春市"}
    first = engine.next_question(profile, TODAY)
    second = engine.next_question(profile, TODAY, {first.fact})
    assert second is not None and second.fact != first.fact


def test_last_years_figure_is_asked_only_after_this_years_meets_a_threshold(engine: Engine) -> None:
    asked = interview(
        engine,
        {"region": "吉林省", "industries": ["biologics"], "revenue": 3 * YI, "revenue_last_year": 2 * YI},
    )
    assert "revenue" in asked and "revenue_last_year" not in asked


def test_estimate_facts_are_asked_once_the_reward_is_matched(engine: Engine) -> None:
    truth = PERSONAS["a Tonghua distributor"]
    asked = interview(engine, truth)
    assert asked.index("project_on_schedule") < asked.index("loan_amount")
    assert "loan_rate" in asked
