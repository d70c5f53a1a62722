"""Results worth reading: rewards by the amount at stake with their total, related policies apart, a policy past
its stated period flagged, every text in the reader's script, each deadline once, and the closest near misses."""

from __future__ import annotations

from datetime import date

from bot.engine.engine import Engine
from handlers.render import NEAR, NEAR_SHOWN, near_misses_message, results_message, rule_details_message
from handlers.report import match_text
from tests.engine.test_questions import PERSONAS, TODAY, WAN, YI

# The persona of the interview tests, with its answers that decide a reward (the rest are left unknown).
CHANGCHUN_BIOLOGICS = {
    fact: value
    for fact, value in PERSONAS["a Changchun biologics maker with a clinical permit"].items()
    if fact in ("region", "industries", "approvals", "projects", "revenue", "revenue_last_year")
}


def sections(text: str) -> dict[str, str]:
    """The results text cut at its group headings (the emoji that starts each)."""
    found: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if line[:1] in ("✅", "❔", "➖", "📋"):
            current = line[:1]
        found[current] = found.get(current, "") + line + "\n"
    return found


def buttons(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [button.data for row in message.buttons for button in row]


def test_rewards_come_largest_first_with_their_total(engine: Engine) -> None:
    text = results_message(engine.match(CHANGCHUN_BIOLOGICS, TODAY), "zh-Hans").text
    rewards = sections(text)["✅"]
    assert "合计最高约 900万元" in rewards  # 500万 (per variety) + 200万 + 200万
    order = [rewards.index(title) for title in ("生物制品研发及产业化", "临床试验许可", "年营业收入首次超过10亿元")]
    assert order == sorted(order)


def test_tax_measures_and_services_are_related_policies_not_rewards_to_apply_for(engine: Engine) -> None:
    parts = sections(results_message(engine.match(CHANGCHUN_BIOLOGICS, TODAY), "zh-Hans").text)
    assert "税收优惠政策" not in parts["✅"] and "金融服务" not in parts["✅"]
    assert "税收优惠政策" in parts["📋"] and "金融服务" in parts["📋"] and "不在此申请" in parts["📋"]


def test_a_policy_past_the_period_it_states_is_flagged_in_every_result_from_it(engine: Engine) -> None:
    match = engine.match(CHANGCHUN_BIOLOGICS, TODAY)
    text = results_message(match, "zh-Hans").text
    flag = "该政策实施期至2025年,请向主管部门确认是否仍在执行"
    # Every result shown (rewards, open ones, related policies: all from the Jilin policy here) has its flag.
    shown = [line for line in text.splitlines() if line[:1].isdigit()]
    assert all(r.rule.document.id == "jilin-pharma" for r in match.results() if r.status != "not_eligible")
    assert text.count(flag) == len(shown) > 0
    details = rule_details_message(match, match.result_for("jilin-1-clinical-trial"), "zh-Hans").text
    assert flag in details
    # Within its period, nothing is flagged.
    assert flag not in results_message(engine.match(CHANGCHUN_BIOLOGICS, date(2025, 6, 1)), "zh-Hans").text
    assert "still in force" in results_message(match, "en").text


def test_titles_of_a_traditional_document_read_in_simplified_and_the_other_way_round(engine: Engine) -> None:
    profile = {"region": "吉林省/通化市/东昌区", "industries": ["distribution"]}
    match = engine.match(profile, date(2021, 6, 1))
    result = match.result_for("dongchang-pharma-logistics")
    assert result.rule.title == "引進和培育醫藥物流企業"  # as the rule file has it, from its source
    details = rule_details_message(match, result, "zh-Hans").text
    assert "引进和培育医药物流企业" in details and "醫藥" not in details
    jilin = engine.match(CHANGCHUN_BIOLOGICS, TODAY)
    traditional = results_message(jilin, "zh-Hant").text
    assert "試驗許可" in traditional and "试验许可" not in traditional


def test_the_details_list_each_deadline_once(engine: Engine) -> None:
    match = engine.match(CHANGCHUN_BIOLOGICS, TODAY)
    details = rule_details_message(match, match.result_for("jilin-1-clinical-trial"), "zh-Hans").text
    assert details.count("2026-12-15") == 1


def test_at_most_five_near_misses_are_shown_and_the_rest_are_one_button_away(engine: Engine) -> None:
    # Within a fifth of six revenue thresholds at once, and one step short of two rewards it controls.
    profile = {
        "region": "吉林省/长春市",
        "industries": ["chemical_drugs", "distribution"],
        "approvals": ["new_drug_certificate", "class3_device_first"],
        "projects": [],
        "produced_in_province": False,
        "revenue": 9 * YI,
        "revenue_last_year": 5 * YI,
        "online_sales": 0.9 * YI,
        "online_sales_last_year": 0,
        "idle_variety_sales": 1800 * WAN,
        "big_variety_sales_increase": 4500 * WAN,
        "project_investment": 2800 * WAN,
        "project_on_schedule": True,
        "loan_amount": 1000 * WAN,
    }
    match = engine.match(profile, TODAY)
    near = [r for r in match.near_misses if r.rule.reward.kind not in ("tax_measure", "non_cash")]
    assert len(near) > NEAR_SHOWN
    message = results_message(match, "zh-Hans")
    shown = sections(message.text)["➖"]
    assert sum(line[:1].isdigit() for line in shown.splitlines()) == NEAR_SHOWN
    assert NEAR in buttons(message)
    everything = near_misses_message(match, "zh-Hans")
    assert sum(line[:1].isdigit() for line in everything.text.splitlines()) == len(near)


def test_a_figure_only_the_estimate_needs_is_one_tap_away_under_the_results(engine: Engine) -> None:
    distributor = PERSONAS["a Tonghua distributor"]
    answered = {fact: value for fact, value in distributor.items() if fact != "loan_rate"}
    match = engine.match(answered, TODAY)
    assert "jilin-14-project-interest" in [r.rule.id for r in match.eligible]
    assert "e:loan_rate" in buttons(results_message(match, "zh-Hans"))
    estimated = engine.match(distributor, TODAY)
    assert "e:loan_rate" not in buttons(results_message(estimated, "zh-Hans"))


def test_match_prints_the_same_groups_as_the_chat_with_every_near_miss(engine: Engine) -> None:
    match = engine.match(CHANGCHUN_BIOLOGICS, TODAY)
    chat, printed = results_message(match, "zh-Hans").text, match_text(match, "zh-Hans")
    for heading in ("✅ 可以申请(3 项,金额合计最高约 900万元", "📋 相关政策(4 项"):
        assert heading in chat and heading in printed
    assert "税收优惠政策" in sections(printed)["📋"] and "税收优惠政策" not in sections(printed)["✅"]
    assert printed.count("该政策实施期至2025年") == chat.count("该政策实施期至2025年")
