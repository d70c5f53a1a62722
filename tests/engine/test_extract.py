"""Reading a policy document for a draft rule file, measured against the hand-written Jilin rules."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.engine.conditions import COMPARISONS
from bot.engine.engine import Engine
from bot.engine.extract import NO_AMOUNT, NO_RECIPIENT, Choice, DraftRule, Extraction, Flag, Threshold, extract_rules
from bot.engine.loader import quote_occurs
from bot.engine.model import AMOUNTLESS_KINDS, REWARD_KINDS, Catalogue, Document, Rule
from bot.engine.ruletests import as_written
from bot.engine.textnorm import clean_document

POLICIES = Path(__file__).resolve().parents[2] / "data" / "policies"
JILIN = POLICIES / "000_12443dada89050d6.txt"
OTHERS = [
    "001_60d2928a38aacd54.txt",
    "002_9fc454ccbfdced76.txt",
    "003_c3eb2d5bae42d6f1.txt",
    "004_f3e69dc445d25a27.txt",
]
CASH_KINDS = tuple(kind for kind in REWARD_KINDS if kind not in AMOUNTLESS_KINDS)


@pytest.fixture(scope="module")
def catalogue(engine: Engine) -> Catalogue:
    return engine.ruleset.catalogue


@pytest.fixture(scope="module")
def jilin(catalogue: Catalogue) -> Extraction:
    return extract_rules(JILIN.read_text(encoding="utf-8"), catalogue)


def read(text: str, catalogue: Catalogue) -> Extraction:
    return extract_rules(text, catalogue)


def only_rule(text: str, catalogue: Catalogue) -> DraftRule:
    extraction = read(text, catalogue)
    assert len(extraction.rules) == 1, extraction
    return extraction.rules[0]


def _compact(text: str) -> str:
    return "".join(text.split())


def _same_sentence(extracted: DraftRule, rule: Rule) -> bool:
    return extracted.clause == rule.clause and (
        _compact(rule.quote) in _compact(extracted.quote) or _compact(extracted.quote) in _compact(rule.quote)
    )


def _stated_thresholds(rule: Rule) -> set[tuple[str, str, int]]:
    """The numeric tests of a hand-written rule whose amount the quote itself states (not "loan_amount > 0")."""
    found: set[tuple[str, str, int]] = set()
    pending = [rule.condition.requirement()] if rule.condition else []
    while pending:
        check = pending.pop()
        pending.extend(check.parts)
        numeric = check.test.removeprefix("first_") in COMPARISONS and isinstance(check.threshold, int)
        if numeric and check.threshold and _written_in(check.threshold, rule.quote):
            found.add((check.fact, check.test, check.threshold))
    return found


def _written_in(value: int, quote: str) -> bool:
    return as_written(value) in quote.replace("万元", "万").replace("亿元", "亿")


def _extracted_thresholds(rule: DraftRule) -> set[tuple[str, str, int]]:
    return {
        (c.fact, c.test, value)
        for c in rule.conditions
        if isinstance(c, Threshold) and c.fact and c.test
        for value in c.values
    }


def _amounts(reward) -> tuple:
    minimum = None if reward.minimum == reward.cap and reward.minimum is not None else reward.minimum
    formula = tuple(Decimal(str(f)) if not isinstance(f, str) else f for f in reward.formula)
    return reward.kind, reward.cap, minimum, reward.per_variety, formula


# --- measured against the hand-written rules --------------------------------------------------------------


def test_every_cash_measure_of_the_jilin_policy_is_found_and_nothing_that_grants_nothing(
    engine: Engine, jilin: Extraction
) -> None:
    hand = [r for r in engine.ruleset.rules if r.document.id == "jilin-pharma" and r.reward.kind in CASH_KINDS]
    pairs = {rule.id: next((e for e in jilin.rules if _same_sentence(e, rule)), None) for rule in hand}
    found = [rule for rule in hand if pairs[rule.id] is not None]
    true_rewards = [e for e in jilin.rules if any(_same_sentence(e, rule) for rule in hand)]
    recall = len(found) / len(hand)
    precision = len(true_rewards) / len(jilin.rules)

    matched = [(rule, pairs[rule.id]) for rule in found]
    same_amounts = sum(_amounts(rule.reward) == _amounts(e.reward) for rule, e in matched)
    stated = [(rule, e, _stated_thresholds(rule)) for rule, e in matched]
    hand_thresholds = sum(len(t) for _, _, t in stated)
    thresholds_found = sum(len(t & _extracted_thresholds(e)) for _, e, t in stated)
    extracted_thresholds = sum(len(_extracted_thresholds(e)) for _, e, _ in stated)
    print(
        f"\nJilin: {len(hand)} hand-written cash rules, {len(jilin.rules)} extracted; "
        f"recall {recall:.2f}, precision {precision:.2f}; "
        f"reward kind and amounts equal in {same_amounts}/{len(matched)} ({same_amounts / len(matched):.2f}); "
        f"thresholds the quotes state: {thresholds_found}/{hand_thresholds} found "
        f"({thresholds_found / hand_thresholds:.2f}), {thresholds_found}/{extracted_thresholds} of those extracted "
        f"agree ({thresholds_found / extracted_thresholds:.2f})"
    )
    missing = [rule.id for rule in hand if pairs[rule.id] is None]
    assert recall == 1.0, missing
    assert precision >= 0.9
    assert same_amounts / len(matched) >= 0.9
    assert thresholds_found / hand_thresholds >= 0.9
    assert thresholds_found / extracted_thresholds >= 0.85


def test_every_quote_occurs_verbatim_in_the_cleaned_document(jilin: Extraction) -> None:
    document = Document(
        "jilin-pharma", "", JILIN.name, "吉林省", text=clean_document(JILIN.read_text(encoding="utf-8"))
    )
    assert jilin.rules
    for rule in jilin.rules:
        assert quote_occurs(rule.quote, document), rule.quote


def test_the_structure_of_the_jilin_policy_is_read(jilin: Extraction) -> None:
    levels = [h.level for h in jilin.headings]
    assert (levels.count(1), levels.count(2), levels.count(3)) == (4, 14, 25)
    assert [h.title for h in jilin.headings if h.level == 1] == ["指导思想", "主要目标", "重点任务", "保障措施"]
    items = [h for h in jilin.headings if h.level == 3]
    assert [h.number for h in items] == list(range(1, 26))
    assert (items[13].title, items[13].line) == ("推进重大产业化项目建设", 67)


@pytest.mark.parametrize(
    ("quote_start", "clause", "line"),
    [
        ("对新取得临床试验许可", "1", 29),
        ("对年营业收入首次超过10亿元", "12", 59),
        ("对投资3000万元以上", "14", 67),
        ("对主板新上市", "23", 97),
    ],
)
def test_known_measures_get_their_clause_and_line(jilin: Extraction, quote_start: str, clause: str, line: int) -> None:
    rule = next(r for r in jilin.rules if r.quote.startswith(quote_start))
    assert (rule.clause, rule.line) == (clause, line)


def test_a_sentence_cut_by_line_breaks_is_read_whole(jilin: Extraction) -> None:
    rule = next(r for r in jilin.rules if r.clause == "12")
    assert rule.quote.endswith("一次性给予50—200万元奖励。")
    assert (rule.reward.minimum, rule.reward.cap) == (500_000, 2_000_000)


def test_the_article_appended_after_the_policy_is_left_out(jilin: Extraction) -> None:
    assert jilin.appended_from == 115 and jilin.appended_title == "创新“八图一表”锚定“四心”抓手"
    assert all(rule.line < 115 for rule in jilin.rules)
    assert all(sentence.line < 115 for sentence in jilin.unread)


def test_the_conditions_of_the_interest_subsidy_are_read(jilin: Extraction) -> None:
    rule = next(r for r in jilin.rules if r.clause == "14")
    assert rule.reward.kind == "interest_subsidy"
    assert rule.reward.formula == ("loan_amount", "loan_rate")
    assert Threshold("project_investment", "at_least", (30_000_000,), None, "投资3000万元以上") in rule.conditions
    assert Flag("project_on_schedule", "规定时间内投产") in rule.conditions


# --- the reading of single sentences ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "fact", "test", "value"),
    [
        ("对投资3000万元以上的医药项目,给予50万元奖励。", "project_investment", "at_least", 30_000_000),
        ("对投资超过3000万元的医药项目,给予50万元奖励。", "project_investment", "more_than", 30_000_000),
        ("对年营业收入突破1亿元的企业,奖励20万元。", "revenue", "more_than", 100_000_000),
        ("对年营业收入不满500万元的小微企业,给予10万元补贴。", "revenue", "less_than", 5_000_000),
        ("对年营业收入5亿元以下的企业,给予10万元补贴。", "revenue", "at_most", 500_000_000),
        ("对年营业收入首次达到5亿元的企业,给予100万元奖励。", "revenue", "first_at_least", 500_000_000),
    ],
)
def test_boundary_words_map_to_the_legal_test(
    catalogue: Catalogue, sentence: str, fact: str, test: str, value: int
) -> None:
    (threshold,) = [c for c in only_rule(sentence, catalogue).conditions if isinstance(c, Threshold)]
    assert (threshold.fact, threshold.test, threshold.values) == (fact, test, (value,))


def test_an_amount_without_a_boundary_word_is_left_for_the_admin(catalogue: Catalogue) -> None:
    rule = only_rule("对投资3000万元的项目给予30万元补助。", catalogue)
    (threshold,) = rule.conditions
    assert threshold.test is None and threshold.fact == "project_investment"


def test_a_share_with_a_cap_becomes_a_formula_with_that_cap(catalogue: Catalogue) -> None:
    rule = only_rule("对技术改造项目,按其新购科研仪器设备实际投资额的20%给予补助,最高100万元。", catalogue)
    assert rule.reward.kind == "subsidy"
    assert rule.reward.formula == ("equipment_investment", Decimal("0.2"))
    assert (rule.reward.cap, rule.reward.minimum) == (1_000_000, None)
    assert Choice("projects", ("tech_upgrade",), "技术改造") in rule.conditions


def test_a_share_of_something_no_fact_holds_keeps_its_cap_and_its_wording(catalogue: Catalogue) -> None:
    rule = only_rule("对研发项目,按其研发投入的10%给予补助,最高不超过50万元。", catalogue)
    assert rule.reward.formula == () and rule.reward.basis == "按其研发投入的10%"
    assert rule.reward.cap == 500_000


def test_a_fixed_amount_a_range_and_tiers(catalogue: Catalogue) -> None:
    fixed = only_rule("对新认定的企业技术中心,给予50万元奖励。", catalogue).reward
    assert (fixed.minimum, fixed.cap) == (500_000, 500_000)
    ranged = only_rule("对新认定的企业技术中心,给予50—200万元奖励。", catalogue).reward
    assert (ranged.minimum, ranged.cap) == (500_000, 2_000_000)
    tiers = only_rule("对新认定的国家级、省级企业技术中心,分别给予100万元、50万元奖励。", catalogue).reward
    assert (tiers.minimum, tiers.cap, tiers.tiers) == (500_000, 1_000_000, (500_000, 1_000_000))


def test_pinyin_readings_are_removed_before_reading(catalogue: Catalogue) -> None:
    raw = "對(duì)通過(guò)認(rèn)定的企業(yè),最高給(gěi)予(yǔ)100萬(wàn)元獎(jiǎng)勵(lì)。"
    rule = only_rule(raw, catalogue)
    assert rule.quote == "對通過認定的企業,最高給予100萬元獎勵。"
    assert (rule.reward.kind, rule.reward.cap) == ("cash_reward", 1_000_000)
    assert quote_occurs(rule.quote, Document("d", "", "d.txt", "吉林省", text=clean_document(raw)))


def test_sentences_that_speak_of_a_reward_but_cannot_be_read_are_listed(catalogue: Catalogue) -> None:
    text = "\n".join(
        [
            "对首次认定的企业给予奖励。",
            "发放住房租赁补贴650万元。",
            "对投资超过1亿元的项目给予支持。",
            "加快建设产业园区。",
        ]
    )
    extraction = read(text, catalogue)
    assert extraction.rules == ()
    assert [(s.line, s.reason) for s in extraction.unread] == [(1, NO_AMOUNT), (2, NO_RECIPIENT), (3, NO_AMOUNT)]


def test_without_a_catalogue_no_fact_is_named(jilin: Extraction) -> None:
    bare = extract_rules(JILIN.read_text(encoding="utf-8"))
    assert len(bare.rules) == len(jilin.rules)
    for rule in bare.rules:
        assert all(isinstance(c, Threshold) and c.fact is None for c in rule.conditions)
        assert rule.reward.formula == ()


def test_clauses_name_the_section_where_item_numbers_start_again(catalogue: Catalogue) -> None:
    text = "\n".join(
        [
            "一、支持措施",
            "(一)创新",
            "1.对新认定的企业技术中心,给予50万元奖励。",
            "(二)人才",
            "1.对引进的领军人才,给予100万元资助。",
            "二、保障措施",
            "(一)资金。对新建的公共平台,最高给予30万元补助。",
        ]
    )
    assert [rule.clause for rule in read(text, catalogue).rules] == ["一(一)1", "一(二)1", "二(一)"]


def test_a_title_after_the_last_section_starts_text_that_is_left_out(catalogue: Catalogue) -> None:
    text = "\n".join(
        [
            "一、支持措施",
            "对新认定的企业技术中心,给予50万元奖励。",
            "某区召开表彰大会",
            "会上对先进企业给予10万元奖励。",
        ]
    )
    extraction = read(text, catalogue)
    assert extraction.appended_from == 3 and len(extraction.rules) == 1


# --- the other documents ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OTHERS)
def test_the_other_documents_grant_no_reward_with_an_amount(catalogue: Catalogue, name: str) -> None:
    extraction = read((POLICIES / name).read_text(encoding="utf-8"), catalogue)
    assert extraction.rules == ()


def test_the_dongchang_report_lists_its_subsidy_sentences_and_infers_headings_lost_to_broken_encoding(
    catalogue: Catalogue,
) -> None:
    extraction = read((POLICIES / "004_f3e69dc445d25a27.txt").read_text(encoding="utf-8"), catalogue)
    assert sorted(s.reason for s in extraction.unread) == [NO_AMOUNT, NO_AMOUNT, NO_RECIPIENT, NO_RECIPIENT]
    inferred = [(h.line, h.number) for h in extraction.headings if h.inferred]
    assert inferred[:2] == [(14, 5), (15, 6)]
    assert extraction.broken_lines and 14 in extraction.broken_lines


def test_full_width_punctuation_is_read_like_its_folded_form(catalogue: Catalogue) -> None:
    text = "一、支持措施\n（一）创新\n1．对新认定的企业技术中心，给予50万元奖励；对引进的人才，给予10万元补贴。"
    extraction = read(text, catalogue)
    assert [(h.level, h.number) for h in extraction.headings] == [(1, 1), (2, 1), (3, 1)]
    assert [(r.clause, r.quote, r.reward.cap) for r in extraction.rules] == [
        ("1", "对新认定的企业技术中心，给予50万元奖励；", 500_000),
        ("1", "对引进的人才，给予10万元补贴。", 100_000),
    ]
