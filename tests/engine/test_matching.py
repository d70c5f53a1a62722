"""Matching a profile: three-valued verdicts, legal boundaries, traces, amounts, near misses, deadlines."""

from __future__ import annotations

from datetime import date

import pytest

from bot.engine.engine import Engine
from bot.engine.matching import ELIGIBLE, NOT_ELIGIBLE, UNDETERMINED
from handlers import phrases

TODAY = date(2026, 11, 22)
YI, WAN = 100_000_000, 10_000


def verdicts(engine: Engine, profile: dict, today: date = TODAY) -> dict[str, str]:
    match = engine.match(profile, today)
    found = {}
    for status, group in (
        (ELIGIBLE, match.eligible),
        (UNDETERMINED, match.undetermined),
        ("near_miss", match.near_misses),
        (NOT_ELIGIBLE, match.not_eligible),
    ):
        for result in group:
            found[result.rule.id] = status
    return found


def result_for(engine: Engine, profile: dict, rule_id: str, today: date = TODAY):
    match = engine.match(profile, today)
    for group in (match.eligible, match.undetermined, match.near_misses, match.not_eligible):
        for result in group:
            if result.rule.id == rule_id:
                return match, result
    raise AssertionError(rule_id)


def test_an_empty_profile_leaves_every_rule_undetermined_for_want_of_a_region(engine: Engine) -> None:
    match = engine.match({}, TODAY)
    assert not match.eligible and not match.near_misses
    current = [r for r in engine.ruleset.rules if not r.valid_until or r.valid_until >= TODAY]
    assert len(match.undetermined) == len(current) >= 24
    assert all("region" in r.missing for r in match.undetermined)
    assert all(r.outside_validity for r in match.not_eligible)


def test_a_region_less_precise_than_a_rules_scope_leaves_it_open(engine: Engine) -> None:
    match, result = result_for(engine, {"region": "吉林省/通化市"}, "dongchang-enterprise-service", date(2021, 6, 1))
    assert result.status == UNDETERMINED
    region = match.why(result)[0]
    assert (region.test, region.holds, region.value) == ("within", None, "吉林省/通化市")
    assert "所在地区 吉林省通化市 不够具体" in phrases.check_line(region, engine.ruleset.catalogue, "zh-Hans")


def test_a_provincial_rule_applies_to_a_district_of_that_province(engine: Engine) -> None:
    profile = {"region": "吉林省/通化市/东昌区", "projects": ["tcm_rnd"]}
    assert verdicts(engine, profile)["jilin-5-tcm-rnd"] == ELIGIBLE


def test_a_district_rule_does_not_apply_to_the_rest_of_the_province(engine: Engine) -> None:
    in_2021 = date(2021, 6, 1)
    changchun = verdicts(engine, {"region": "吉林省/长春市"}, in_2021)
    dongchang = verdicts(engine, {"region": "吉林省/通化市/东昌区"}, in_2021)
    district_rules = [r.id for r in engine.ruleset.rules if r.region == "吉林省/通化市/东昌区"]
    assert district_rules
    for rule_id in district_rules:
        assert changchun[rule_id] == NOT_ELIGIBLE
        assert dongchang[rule_id] != NOT_ELIGIBLE


def test_yishang_includes_the_number_itself(engine: Engine) -> None:
    base = {"region": "吉林省", "industries": ["tcm"], "project_on_schedule": True, "loan_amount": 1000 * WAN}
    assert verdicts(engine, {**base, "project_investment": 3000 * WAN})["jilin-14-project-interest"] == ELIGIBLE
    assert verdicts(engine, {**base, "project_investment": 3000 * WAN - 1})["jilin-14-project-interest"] == "near_miss"


def test_chaoguo_excludes_the_number_itself(engine: Engine) -> None:
    base = {"region": "吉林省", "industries": ["biologics"], "revenue_last_year": 8 * YI}
    assert verdicts(engine, {**base, "revenue": 10 * YI})["jilin-12-revenue-milestone"] == "near_miss"
    assert verdicts(engine, {**base, "revenue": 10 * YI + 1})["jilin-12-revenue-milestone"] == ELIGIBLE


def test_first_time_needs_last_year_below_the_threshold(engine: Engine) -> None:
    base = {"region": "吉林省", "industries": ["biologics"], "revenue": 12 * YI}
    assert verdicts(engine, {**base, "revenue_last_year": 10 * YI})["jilin-12-revenue-milestone"] == ELIGIBLE
    # Over 10亿 already last year: no first time left to reach, so not a near miss either.
    assert verdicts(engine, {**base, "revenue_last_year": 11 * YI})["jilin-12-revenue-milestone"] == NOT_ELIGIBLE
    match, result = result_for(engine, base, "jilin-12-revenue-milestone")
    assert result.status == UNDETERMINED and result.missing == ("revenue_last_year",)


def test_last_years_revenue_is_not_wanted_when_this_year_is_below_every_threshold(engine: Engine) -> None:
    profile = {"region": "吉林省", "industries": ["biologics"], "revenue": 5 * YI}
    assert verdicts(engine, profile)["jilin-12-revenue-milestone"] == NOT_ELIGIBLE  # half the lowest threshold
    match = engine.match(profile, TODAY)
    assert "revenue_last_year" not in match.missing_facts()


def test_the_trace_reads_as_sentences_with_amounts_in_chinese_units(engine: Engine) -> None:
    profile = {
        "region": "吉林省/长春市",
        "industries": ["biologics"],
        "revenue": 12 * YI,
        "revenue_last_year": 8 * YI,
    }
    match, result = result_for(engine, profile, "jilin-12-revenue-milestone")
    checks = match.why(result)
    revenue = next(c for c in checks if c.fact == "revenue")
    assert (revenue.value, revenue.threshold, revenue.previous_value) == (12 * YI, 10 * YI, 8 * YI)
    text = "\n".join(phrases.check_line(c, engine.ruleset.catalogue, "zh-Hans") for c in checks)
    assert "所在地区 吉林省长春市 属于 吉林省" in text
    assert "本年度营业收入 12亿元 > 10亿元" in text
    assert "上年度营业收入 8亿元 ≤ 10亿元" in text


def test_an_undetermined_rule_lists_exactly_the_facts_that_can_decide_it(engine: Engine) -> None:
    match, result = result_for(
        engine, {"region": "吉林省", "approvals": ["new_drug_certificate"]}, "jilin-2-new-drug-certificate"
    )
    assert result.status == UNDETERMINED
    assert result.missing == ("industries", "produced_in_province")
    assert result.ask_order == (("industries",), ("produced_in_province",))


def test_a_near_miss_says_what_would_make_it_match(engine: Engine) -> None:
    profile = {
        "region": "吉林省",
        "industries": ["tcm"],
        "project_investment": 2500 * WAN,
        "project_on_schedule": True,
        "loan_amount": 1000 * WAN,
    }
    match, result = result_for(engine, profile, "jilin-14-project-interest")
    assert result.near_miss
    missed = match.shortfall(result)
    assert (missed.requirement.fact, missed.requirement.test, missed.requirement.threshold) == (
        "project_investment",
        "at_least",
        3000 * WAN,
    )
    text = phrases.shortfall(missed, engine.ruleset.catalogue, "zh-Hans")
    assert "重大产业化项目投资额 ≥ 3000万元" in text and "2500万元" in text


def test_a_rule_failing_two_conditions_is_not_a_near_miss(engine: Engine) -> None:
    profile = {
        "region": "吉林省",
        "industries": ["tcm"],
        "project_investment": 2500 * WAN,
        "project_on_schedule": False,
        "loan_amount": 1000 * WAN,
    }
    _, result = result_for(engine, profile, "jilin-14-project-interest")
    assert result.status == NOT_ELIGIBLE and not result.near_miss


def test_a_rule_outside_the_region_is_never_a_near_miss(engine: Engine) -> None:
    match = engine.match({"region": "广东省", "industries": ["biologics"]}, TODAY)
    assert match.near_misses == [] and match.eligible == []


def test_formula_estimates_are_capped(engine: Engine) -> None:
    base = {"region": "吉林省", "industries": ["tcm"], "attracted_investment": True, "projects": ["tech_upgrade"]}
    match, result = result_for(engine, {**base, "equipment_investment": 300 * WAN}, "jilin-18-tech-upgrade-equipment")
    amount = match.amount(result)
    assert (amount.estimate_yuan, amount.max_yuan) == (60 * WAN, 100 * WAN)
    assert "约60万元" in phrases.amount(amount, engine.ruleset.catalogue, "zh-Hans")
    match, result = result_for(engine, {**base, "equipment_investment": 900 * WAN}, "jilin-18-tech-upgrade-equipment")
    assert match.amount(result).estimate_yuan == 100 * WAN and match.amount(result).capped
    assert "超过上限" in phrases.amount(match.amount(result), engine.ruleset.catalogue, "zh-Hans")


def test_interest_subsidy_is_loan_times_rate_capped(engine: Engine) -> None:
    profile = {
        "region": "吉林省",
        "project_investment": 5000 * WAN,
        "project_on_schedule": True,
        "loan_amount": 2000 * WAN,
        "loan_rate": 0.0435,
    }
    match, result = result_for(engine, profile, "jilin-14-project-interest")
    assert match.amount(result).estimate_yuan == 87 * WAN


def test_a_range_reward_reports_both_ends_and_no_estimate(engine: Engine) -> None:
    profile = {"region": "吉林省", "industries": ["tcm"], "revenue": 12 * YI, "revenue_last_year": 8 * YI}
    match, result = result_for(engine, profile, "jilin-12-revenue-milestone")
    amount = match.amount(result)
    assert (amount.min_yuan, amount.max_yuan, amount.estimate_yuan) == (50 * WAN, 200 * WAN, None)
    assert phrases.amount(amount, engine.ruleset.catalogue, "zh-Hans") == "50万元—200万元"


def test_a_per_variety_cap_says_so(engine: Engine) -> None:
    match, result = result_for(engine, {"region": "吉林省", "projects": ["biologics_rnd"]}, "jilin-6-biologics-rnd")
    assert match.amount(result).reward.per_variety
    assert phrases.amount(match.amount(result), engine.ruleset.catalogue, "zh-Hans") == "每个品种最高500万元"


def test_deadlines_count_days_left_and_know_when_a_window_has_closed(engine: Engine) -> None:
    profile = {"region": "吉林省", "approvals": ["clinical_trial_permit"]}
    match, result = result_for(engine, profile, "jilin-1-clinical-trial")
    schedule = match.schedule(result)
    assert schedule.next.date == date(2026, 12, 15) and schedule.days_left == 23
    assert schedule.next.call is not None and schedule.next.call.example
    summary = phrases.schedule_summary(schedule, "zh-Hans")
    assert "还剩 23 天" in summary and "示例" in summary
    match, result = result_for(engine, profile, "jilin-1-clinical-trial", today=date(2026, 12, 15))
    assert match.schedule(result).days_left == 0
    match, result = result_for(engine, profile, "jilin-1-clinical-trial", today=date(2027, 1, 1))
    schedule = match.schedule(result)
    assert schedule.next is None and len(schedule.expired) == 1
    assert "2026-12-15(已截止)" in phrases.schedule_summary(schedule, "zh-Hans")


def test_a_rule_without_any_date_says_dates_are_not_published(engine: Engine) -> None:
    match, result = result_for(engine, {"region": "吉林省", "industries": ["tcm"]}, "jilin-tax-policies")
    schedule = match.schedule(result)
    assert schedule.next is None and schedule.last_expired is None
    assert phrases.schedule_summary(schedule, "zh-Hans") == "申报时间尚未公布"


# A near miss fails on one requirement the enterprise could plausibly meet: a figure within 20% of its threshold,
# or a step it controls. A rule that wants a different achievement is not a near miss.


@pytest.mark.parametrize(
    ("revenue", "verdict"), [(8 * YI, "near_miss"), (9.5 * YI, "near_miss"), (7.9 * YI, NOT_ELIGIBLE)]
)
def test_a_figure_within_a_fifth_of_its_threshold_is_a_near_miss(engine: Engine, revenue: float, verdict: str) -> None:
    profile = {"region": "吉林省", "industries": ["biologics"], "revenue": revenue}
    assert verdicts(engine, profile)["jilin-12-revenue-milestone"] == verdict


def test_a_step_the_enterprise_controls_is_a_near_miss(engine: Engine) -> None:
    profile = {"region": "吉林省", "industries": ["biologics"], "approvals": ["new_drug_certificate"],
               "produced_in_province": False}  # fmt: skip
    assert verdicts(engine, profile)["jilin-2-new-drug-certificate"] == "near_miss"
    match, result = result_for(engine, profile, "jilin-2-new-drug-certificate")
    assert result.near_miss and match.shortfall(result).requirement.fact == "produced_in_province"


def test_a_rule_that_wants_a_different_achievement_is_not_a_near_miss(engine: Engine) -> None:
    # A biologics firm with a clinical-trial permit: no pharmacopoeia drafting, cosmetics project or listing.
    profile = {"region": "吉林省/长春市", "industries": ["biologics"], "approvals": ["clinical_trial_permit"],
               "projects": ["biologics_rnd"], "public_platform": False, "attracted_investment": False}  # fmt: skip
    match = engine.match(profile, TODAY)
    missed = {r.rule.id for r in match.near_misses}
    for rule in ("jilin-4-pharmacopoeia", "jilin-8-cosmetics-rnd", "jilin-23-main-board-listing",
                 "jilin-16-public-platform", "jilin-11-high-tech"):  # fmt: skip
        assert rule not in missed
    assert verdicts(engine, profile)["jilin-4-pharmacopoeia"] == NOT_ELIGIBLE


def test_two_failing_requirements_are_no_near_miss_even_if_both_are_close(engine: Engine) -> None:
    profile = {"region": "吉林省", "industries": ["chemical_drugs"], "project_investment": 5 * YI,
               "project_on_schedule": False, "loan_amount": 0}  # fmt: skip
    assert verdicts(engine, profile)["jilin-14-project-interest"] == NOT_ELIGIBLE


def test_the_day_deadlines_are_read_against_is_chinas_not_the_servers():
    """At 17:00 UTC on 31 December it is already 1 January in China: a policy valid to the end of the year has
    ended there, so a server on UTC must not still call it open."""
    from datetime import UTC, datetime

    from bot.engine.deadlines import china_today

    assert china_today(datetime(2025, 12, 31, 15, 59, tzinfo=UTC)) == date(2025, 12, 31)
    assert china_today(datetime(2025, 12, 31, 16, 0, tzinfo=UTC)) == date(2026, 1, 1)
    assert china_today().toordinal() - datetime.now(UTC).date().toordinal() in (0, 1)
