"""Choosing the next question: only what can still change a result, and far fewer than the catalogue."""

from __future__ import annotations

import statistics
from datetime import date

import pytest

from bot.engine.engine import Engine
from bot.engine.model import AMOUNTLESS_KINDS
from bot.engine.questions import estimates_open

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
    "a Tonghua TCM maker reviving an idle variety": {
        "region": "吉林省/通化市/东昌区",
        "industries": ["tcm"],
        "approvals": [],
        "projects": ["tcm_rnd", "tech_upgrade"],
        "revenue": 6 * YI,
        "revenue_last_year": 5 * YI,
        "idle_variety_sales": 3000 * WAN,
        "produced_in_province": True,
        "big_variety_sales_increase": 6000 * WAN,
        "variety_sales": 2 * YI,
        "project_investment": 0,
        "online_sales": 0,
        "public_platform": False,
        "attracted_investment": True,
        "equipment_investment": 800 * WAN,
    },
    "a Jilin City generics maker with a consistency evaluation": {
        "region": "吉林省/吉林市",
        "industries": ["chemical_drugs"],
        "approvals": ["consistency_evaluation", "high_tech_first"],
        "projects": [],
        "revenue": 9 * YI,
        "revenue_last_year": 7 * YI,
        "variety_sales": 8000 * WAN,
        "idle_variety_sales": 0,
        "big_variety_sales_increase": 0,
        "project_investment": 0,
        "online_sales": 0,
        "public_platform": False,
        "attracted_investment": False,
    },
    "a Changchun device maker with an innovative device": {
        "region": "吉林省/长春市",
        "industries": ["medical_devices"],
        "approvals": ["innovative_device", "class3_device_first"],
        "projects": ["device_rnd"],
        "produced_in_province": True,
        "revenue": 2 * YI,
        "revenue_last_year": 1.5 * YI,
        "variety_sales": 6000 * WAN,
        "idle_variety_sales": 0,
        "big_variety_sales_increase": 0,
        "project_investment": 0,
        "online_sales": 0,
        "public_platform": False,
        "attracted_investment": False,
    },
    "a Changchun cosmetics start-up": {
        "region": "吉林省/长春市",
        "industries": ["cosmetics"],
        "approvals": [],
        "projects": ["cosmetics_rnd"],
        "revenue": 3000 * WAN,
        "revenue_last_year": 2000 * WAN,
        "variety_sales": 1000 * WAN,
        "idle_variety_sales": 0,
        "big_variety_sales_increase": 0,
        "project_investment": 0,
        "online_sales": 800 * WAN,
        "online_sales_last_year": 500 * WAN,
        "public_platform": False,
        "attracted_investment": False,
    },
    "a Jilin CRO running a public platform": {
        "region": "吉林省/长春市",
        "industries": ["other"],
        "approvals": [],
        "projects": [],
        "revenue": 1 * YI,
        "revenue_last_year": 0.8 * YI,
        "public_platform": True,
        "idle_variety_sales": 0,
        "big_variety_sales_increase": 0,
        "variety_sales": 0,
        "project_investment": 0,
        "online_sales": 0,
        "attracted_investment": False,
    },
    "a Jilin pharma group newly listed on the main board": {
        "region": "吉林省/长春市",
        "industries": ["chemical_drugs", "tcm"],
        "approvals": ["main_board_listing", "new_drug_certificate"],
        "projects": ["tech_upgrade"],
        "produced_in_province": True,
        "revenue": 25 * YI,
        "revenue_last_year": 18 * YI,
        "variety_sales": 4 * YI,
        "idle_variety_sales": 0,
        "big_variety_sales_increase": 0,
        "project_investment": 5 * YI,
        "project_on_schedule": False,
        "loan_amount": 0,
        "online_sales": 0,
        "public_platform": False,
        "attracted_investment": False,
    },
    "a Guangdong cosmetics firm": {"region": "广东省/广州市", "industries": ["cosmetics"]},
    "a Wuhan device maker": {
        "region": "湖北省/武汉市",
        "industries": ["medical_devices"],
        "approvals": ["innovative_device"],
        "projects": ["device_rnd", "tech_upgrade"],
    },
    "a Guangfeng manufacturer upgrading its plant": {
        "region": "江西省/上饶市/广丰区",
        "industries": ["other"],
        "approvals": ["high_tech_first"],
        "projects": ["tech_upgrade"],
    },
    "a Taizhou medical zone biologics firm": {
        "region": "江苏省/泰州市/医药高新区",
        "industries": ["biologics"],
        "approvals": [],
        "projects": ["biologics_rnd"],
    },
}


def screening_answers(engine: Engine, truth: dict) -> dict:
    """What a persona answers to each screening question: the approvals and projects it has, and the events
    whose absence would say something untrue about it (revived no idle variety while its sales are 3000万)."""
    answers = {}
    for question in engine.matcher.screens.questions:
        involved = [*question.screens, *(f for o in question.options for f, _ in o.if_not_chosen)]
        if not any(fact in truth for fact in involved):
            continue
        chosen = {value for fact in question.screens for value in truth.get(fact) or ()}
        for option in question.options:
            if any(fact in truth and truth[fact] != value for fact, value in option.if_not_chosen):
                chosen.add(option.value)
        answers[question.fact] = [o.value for o in question.options if o.value in chosen]
    return answers


def interview(engine: Engine, truth: dict) -> list[str]:
    """Answers the engine's questions from a full profile until it has nothing left to ask."""
    truth = {**truth, **screening_answers(engine, truth)}
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
# No persona takes more than 10 questions to its complete answer, and half of them take at most 7.
MOST_QUESTIONS, MEDIAN_QUESTIONS = 10, 7


def rewards(results: list) -> list[str]:
    return [r.rule.id for r in results if r.rule.reward.kind not in AMOUNTLESS_KINDS]


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_a_persona_reaches_the_complete_answer_in_few_questions(engine: Engine, persona: str) -> None:
    truth = {**PERSONAS[persona], **screening_answers(engine, PERSONAS[persona])}
    asked = interview(engine, truth)
    final = engine.match({k: v for k, v in truth.items() if k in asked}, TODAY)
    everything = engine.match(truth, TODAY)
    # Every reward it can claim, and no reward left open that an answer it has could settle.
    assert rewards(final.eligible) == rewards(everything.eligible)
    assert set(rewards(final.near_misses)) <= set(rewards(everything.near_misses))
    assert all(f not in truth for r in final.undetermined if rewards([r]) for f in r.missing)
    assert len(asked) <= MOST_QUESTIONS


def test_half_the_personas_take_at_most_seven_questions(engine: Engine) -> None:
    lengths = sorted(len(interview(engine, truth)) for truth in PERSONAS.values())
    assert len(lengths) >= 12
    assert statistics.median(lengths) <= MEDIAN_QUESTIONS


def test_a_checklist_of_the_years_events_replaces_the_questions_it_answers(engine: Engine) -> None:
    asked = interview(engine, PERSONAS["a Changchun biologics maker with a clinical permit"])
    assert "events" in asked
    # Its approvals and projects come from the checklist; no idle variety, no platform: nothing asked about them.
    for fact in ("approvals", "projects", "idle_variety_sales", "big_variety_sales_increase", "public_platform"):
        assert fact not in asked


def test_an_event_chosen_on_the_checklist_is_asked_about(engine: Engine) -> None:
    asked = interview(engine, PERSONAS["a Tonghua TCM maker reviving an idle variety"])
    assert asked.index("events") < asked.index("idle_variety_sales")


def test_a_skipped_checklist_leaves_its_questions_to_be_asked_one_by_one(engine: Engine) -> None:
    profile = {"region": "吉林省/长春市", "industries": ["biologics"]}
    assert engine.next_question(profile, TODAY).fact == "events"
    after_skip = engine.next_question(profile, TODAY, {"events"})
    assert after_skip is not None and after_skip.fact != "events"
    asked = []
    skipped = {"events"}
    while (question := engine.next_question(profile, TODAY, skipped)) is not None:
        asked.append(question.fact)
        skipped.add(question.fact)
    assert {"approvals", "projects"} <= set(asked)


def test_a_question_that_only_settles_a_list_or_a_tax_measure_is_not_asked(engine: Engine) -> None:
    # The big-variety plan is a cultivation list: the best-selling variety's sales decide nothing else.
    asked = interview(engine, PERSONAS["a Changchun biologics maker with a clinical permit"])
    assert "variety_sales" not in asked


def test_an_answer_given_directly_wins_over_the_checklist(engine: Engine) -> None:
    profile = {"region": "吉林省/长春市", "industries": ["biologics"], "events": [],
               "approvals": ["clinical_trial_permit"]}  # fmt: skip
    match = engine.match(profile, TODAY)
    assert "jilin-1-clinical-trial" in [r.rule.id for r in match.eligible]
    assert match.profile["idle_variety_sales"] == 0 and match.profile["projects"] == []


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


def test_estimate_facts_wait_until_the_contact_asks_for_an_estimate(engine: Engine) -> None:
    truth = PERSONAS["a Tonghua distributor"]
    asked = interview(engine, truth)
    assert asked.index("project_on_schedule") < asked.index("loan_amount")
    assert "loan_rate" not in asked  # it changes no result, only the estimate's amount
    answered = {fact: truth[fact] for fact in asked if fact in truth}
    answered.update(screening_answers(engine, truth))
    match = engine.match(answered, TODAY)
    assert [q.fact for q in estimates_open(match)] == ["loan_rate"]
    # Once the contact answered (or skipped) one, the others follow as questions.
    assert engine.next_question({**answered, "loan_rate": 0.0435}, TODAY) is None
