"""The enterprise conversation, channel-free: what a contact sees for each thing they do."""

from __future__ import annotations

from datetime import date

import pytest

from bot.engine.engine import Engine
from bot.messages import ChatKey, Incoming, Outgoing
from bot.store.base import ChatState
from handlers.enterprise import EnterpriseConversation, Reply

TODAY = date(2026, 11, 22)
CHAT = ChatKey("test", 42)


@pytest.fixture()
def talk(engine: Engine):
    conversation = EnterpriseConversation(lambda: engine, lambda: TODAY)
    state = ChatState(CHAT)

    def say(
        text: str = "", command: str | None = None, button: str | None = None, language: str | None = None
    ) -> Reply:
        reply = conversation.handle(Incoming(CHAT, text, command, button, language), state)
        state.version += 1
        state.new = False  # as the store reports once the chat is saved
        return reply

    say.state = state
    return say


def texts(reply: Reply) -> str:
    return "\n".join(m.text for m in reply.messages)


def button_data(message: Outgoing) -> list[str]:
    return [b.data for row in message.buttons for b in row]


def test_start_welcomes_says_what_is_kept_and_asks_the_region(talk) -> None:
    reply = talk(command="start")
    assert "估算" in texts(reply) and "/forget" in texts(reply)
    assert "贵企业注册在哪里" in reply.messages[-1].text
    assert "s:region" in button_data(reply.messages[-1])


def test_the_language_follows_telegrams_language_code(talk) -> None:
    reply = talk(command="start", language="zh-hk")
    assert talk.state.language == "zh-Hant"
    assert "貴企業註冊在哪" in reply.messages[-1].text
    assert talk(command="help").messages[0].text.startswith("我會問")


def test_english_clients_get_english(talk) -> None:
    reply = talk(command="start", language="en")
    assert "Where is your enterprise registered" in reply.messages[-1].text


def test_a_free_text_answer_is_parsed_and_the_next_question_follows(talk) -> None:
    talk(command="start")
    reply = talk("長春")
    assert talk.state.answers["region"] == "吉林省/长春市"
    assert "贵企业属于哪些行业" in reply.messages[-1].text


def test_an_answer_that_cannot_be_read_is_re_asked_with_a_hint(talk) -> None:
    talk(command="start")
    reply = talk("12345")  # no place is named anything like it
    assert "没看懂这个回答" in reply.messages[0].text and "例如" in reply.messages[0].text
    assert "贵企业注册在哪里" in reply.messages[1].text
    assert "region" not in talk.state.answers and talk.state.current == "region"


def test_multi_choice_toggles_with_checkmarks_and_completes_with_done(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    reply = talk(button="t:industries:biologics")
    assert reply.messages[0].edit
    labels = [b.text for row in reply.messages[0].buttons for b in row]
    assert "✓ 生物药" in labels and "中药" in labels
    talk(button="t:industries:tcm")
    talk(button="t:industries:biologics")
    reply = talk(button="d:industries")
    assert talk.state.answers["industries"] == ["tcm"]
    assert talk.state.current != "industries" and reply.messages


def test_skipping_leaves_the_fact_unknown_and_moves_on(talk) -> None:
    talk(command="start")
    reply = talk(button="s:region")
    assert "region" not in talk.state.answers and "region" in talk.state.skipped
    assert talk.state.current != "region" and reply.messages


def test_a_full_interview_ends_with_grouped_results_and_detail_buttons(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    talk("生物制药")
    talk("临床试验许可")
    for _ in range(30):
        if talk.state.current is None:
            break
        reply = talk("不清楚")
    assert talk.state.current is None
    results = reply.messages[-1].text
    assert "✅ 可以申请" in results and "第1条" in results and "最高200万元" in results
    assert "还剩 23 天" in results
    assert "r:jilin-1-clinical-trial" in button_data(reply.messages[-1])


def test_rule_details_quote_the_clause_and_show_the_trace(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    talk("生物制药")
    talk("临床试验许可")
    reply = talk(button="r:jilin-1-clinical-trial")
    details = reply.messages[0].text
    assert "对新取得临床试验许可、注册申请受理书的医药健康产品,最高给予200万元奖励。" in details
    assert "✓ 所在地区 吉林省长春市 属于 吉林省" in details
    assert "2026-12-15" in details and "原文未列明申报材料" in details


def test_changing_an_answer_from_the_profile_updates_the_results_at_once(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    profile = talk(command="profile")
    assert "所在地区:吉林省/长春市" in profile.messages[0].text or "所在地区:吉林省长春市" in profile.messages[0].text
    assert "e:region" in button_data(profile.messages[0])
    talk(button="e:region")
    assert talk.state.current == "region"
    reply = talk("广东省")
    assert talk.state.answers["region"] == "广东省"
    # No shipped policy covers 广东省: the contact is told so instead of being shown empty results.
    assert "目前收录的政策都不适用于这个地区" in reply.messages[-1].text
    assert talk.state.current is None


def test_changing_an_answer_mid_interview_shows_results_then_the_next_question(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    talk(button="e:region")
    reply = talk("东昌区")
    assert reply.messages[0].text == "收到:所在地区 吉林省通化市东昌区"
    assert "结果(按" in reply.messages[1].text
    assert "贵企业属于哪些行业" in reply.messages[-1].text


def test_every_answer_is_read_back_with_a_button_to_change_it(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    talk("生物制药")
    reply = talk("大概三个亿吧")  # an amount is no answer to the checklist: asked again
    assert talk.state.current == "events" and "没看懂" in reply.messages[0].text
    reply = talk("没有")
    assert reply.messages[0].text == "收到:本年度情况 无"
    reply = talk("大概三个亿吧")
    assert reply.messages[0].text == "收到:本年度营业收入 3亿元"
    assert "e:revenue" in [b.data for row in reply.messages[-1].buttons for b in row]


def test_after_a_few_answers_the_results_so_far_are_one_tap_away_and_the_question_stays(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    talk("生物制药")
    question = talk("临床试验许可").messages[-1]
    assert "peek" in [b.data for row in question.buttons for b in row]
    reply = talk(button="peek")
    assert "结果(按" in reply.messages[0].text and "可以申请" in reply.messages[0].text
    assert reply.messages[-1].text == question.text and talk.state.current == "revenue"


def test_an_old_button_gets_a_polite_notice_and_changes_nothing(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    before = dict(talk.state.answers)
    reply = talk(button="a:produced_in_province:1")
    assert reply.messages[0].notice and "已失效" in reply.messages[0].notice
    assert talk.state.answers == before


@pytest.mark.parametrize(
    "data", ["x", "a:revenu:1", "t:industries:rockets", "r:no-such-rule", "l:fr", "", "e:", "::::"]
)
def test_forged_button_data_gets_a_polite_notice(talk, data: str) -> None:
    talk(command="start")
    talk("吉林省长春市")
    reply = talk(button=data)
    assert len(reply.messages) == 1 and reply.messages[0].notice


def test_forget_asks_first_and_then_deletes(talk) -> None:
    talk(command="start")
    reply = talk(command="forget")
    assert {"f:yes", "f:no"} <= set(button_data(reply.messages[0]))
    assert talk(button="f:no").forget is False
    reply = talk(button="f:yes")
    assert reply.forget and "已删除" in reply.messages[0].text


def test_lang_switches_the_language_and_re_asks_in_it(talk) -> None:
    talk(command="start")
    reply = talk(command="lang")
    assert "l:en" in button_data(reply.messages[0])
    reply = talk(button="l:en")
    assert talk.state.language == "en"
    assert "Where is your enterprise registered" in reply.messages[-1].text


def test_start_again_keeps_earlier_answers(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    reply = talk(command="start")
    assert "之前的回答已保留" in reply.messages[0].text
    assert talk.state.answers["region"] == "吉林省/长春市"
    assert "restart" in button_data(reply.messages[0])


def test_deadlines_list_the_next_date_of_each_eligible_reward(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    talk("生物制药")
    talk("临床试验许可")
    reply = talk(command="deadlines")
    assert "2026-12-15" in reply.messages[0].text and "新取得临床试验许可" in reply.messages[0].text


def test_an_unknown_command_points_to_help(talk) -> None:
    assert "/help" in talk(command="frobnicate").messages[0].text


def test_typing_done_completes_a_multi_choice_like_the_button(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    talk(button="t:industries:tcm")
    talk("完成")
    assert talk.state.answers["industries"] == ["tcm"]


def test_a_denied_approval_is_re_asked_not_counted(talk) -> None:
    talk(command="start")
    talk("吉林省长春市")
    talk("生物制药")
    reply = talk("没有临床试验许可")
    assert "否定" in reply.messages[0].text
    assert "events" not in talk.state.answers and talk.state.current == "events"


@pytest.mark.parametrize("answer", ["亿" * 1000, "十二亿" * 1365, "9" * 4300])
def test_an_absurdly_long_number_is_re_asked_with_a_hint(talk, answer: str) -> None:
    talk(command="start")
    talk.state.current = "loan_rate"
    reply = talk(answer)
    assert "没看懂这个回答" in reply.messages[0].text and "4.35%" in reply.messages[0].text
    assert "loan_rate" not in talk.state.answers and talk.state.current == "loan_rate"


def test_a_contact_unsubscribes_from_notices_and_subscribes_again(talk) -> None:
    talk(command="start")
    assert talk.state.subscribed
    assert "已退订" in talk(command="unsubscribe").messages[0].text and not talk.state.subscribed
    assert "已订阅" in talk(command="subscribe").messages[0].text and talk.state.subscribed
    talk(button="unsub")
    assert not talk.state.subscribed


def test_an_answer_to_a_question_the_reloaded_rules_dropped_keeps_the_interview_going(talk) -> None:
    talk(command="start")
    talk("长春")
    talk.state.current = "a_fact_no_longer_asked"  # the rules were reloaded without it
    reply = talk("是的")
    assert talk.state.answers["region"] == "吉林省/长春市", "earlier answers are kept"
    assert "贵企业属于哪些行业" in texts(reply) and talk.state.current == "industries"


def test_each_question_says_how_far_the_interview_is_and_carries_its_options(talk) -> None:
    first = talk(command="start").messages[-1]
    assert first.question is not None and first.question.id == "region" and first.question.type == "region"
    number, total = first.question.progress
    assert number == 1 and total > 1
    assert first.text.startswith(f"问题 1 / 约 {total}")
    second = talk("长春").messages[-1]
    assert second.question.id == "industries" and second.question.type == "multi_choice"
    assert ("biologics", "生物药") in second.question.options
    assert second.question.progress[0] == 2 and second.question.progress[1] <= total
    toggled = talk(button="t:industries:biologics").messages[-1]
    assert toggled.edit and toggled.question.chosen == ("biologics",)
    assert toggled.question.progress == second.question.progress  # a toggle is not an answer
    third = talk(button="d:industries").messages[-1]
    assert third.question.progress[0] == 3
    assert third.text.startswith(f"问题 3 / 约 {third.question.progress[1]}")


def test_a_skipped_question_counts_and_the_progress_reads_in_every_language(talk) -> None:
    talk(command="start", language="en")
    skipped = talk("不清楚").messages[-1]
    assert skipped.question.progress[0] == 2
    assert skipped.text.startswith(f"Question 2 of about {skipped.question.progress[1]}")
    talk(button="l:zh-Hant")
    again = talk(command="start").messages[-1]
    assert again.text.startswith(f"問題 2 / 約 {again.question.progress[1]}")


def test_a_yes_no_question_offers_yes_and_no_as_options(engine) -> None:
    from handlers.render import question_message

    question = next(q for q in engine.ruleset.catalogue.questions.values() if q.type == "bool")
    asked = question_message(question, "en", progress=(4, 9)).question
    assert asked.options == (("1", "Yes"), ("0", "No")) and asked.progress == (4, 9)


def test_results_and_other_messages_ask_no_question(talk) -> None:
    talk(command="start")
    assert talk(command="help").messages[0].question is None
    assert talk(command="results").messages[0].question is None
