"""The officials' side without I/O: Telegram HTML checked as Telegram checks it, audience filters read and applied,
send times in Beijing time, and the dialogue's steps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.loading import load_engine
from bot.messages import ChatKey, Incoming
from bot.store.base import ChatState
from bot.store.notices import Contact
from handlers.markup import check_html
from handlers.official import (
    Access,
    Audience,
    AudienceProblem,
    NoticeDialogue,
    Preview,
    Send,
    choose_recipients,
    parse_audience,
    parse_call,
    parse_send_time,
    recipient_copy,
)

ENGINE = load_engine()
TODAY = date(2026, 11, 28)
CHAT = ChatKey("telegram", 501)


@pytest.mark.parametrize(
    "text",
    [
        "plain text",
        "<b>粗体</b> <i>斜体</i> <u>u</u> <s>s</s> <code>x</code> <pre>y</pre> <blockquote>q</blockquote>",
        '<a href="https://example.org/a?b=1&amp;c=2">链接</a> &lt;5&gt; &#20013; &#x4e2d; &quot;',
        '<b>bold <i>nested</i></b> <span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler>',
    ],
)
def test_telegram_html_is_accepted(text: str) -> None:
    assert check_html(text) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("<b>never closed", "markup_unclosed"),
        ("<b><i>crossed</b></i>", "markup_end"),
        ("</b>", "markup_end"),
        ("<div>block</div>", "markup_tag"),
        ("<script>x</script>", "markup_tag"),
        ('<a href="javascript:alert(1)">x</a>', "markup_link"),
        ("<a>no address</a>", "markup_link"),
        ('<b onclick="x">x</b>', "markup_attribute"),
        ("<span>no class</span>", "markup_attribute"),
        ("a < b", "markup_lt"),
        ("R&D", "markup_ampersand"),
        ("<br/>", "markup_tag"),
    ],
)
def test_what_telegram_would_refuse_is_refused_with_the_reason(text: str, key: str) -> None:
    problem = check_html(text)
    assert problem is not None and problem.key == key


def contact(chat: int, region: str, industries: list[str], **answers: object) -> Contact:
    return Contact(ChatKey("telegram", chat), "zh-Hans", {"region": region, "industries": industries, **answers},
                   True, True)  # fmt: skip


CONTACTS = [
    contact(1, "吉林省/长春市/朝阳区", ["biologics"], approvals=["clinical_trial_permit"]),
    contact(2, "吉林省/长春市", ["tcm"], approvals=["high_tech_first"]),
    contact(3, "吉林省/通化市/东昌区", ["biologics", "tcm"]),  # approvals not answered yet
    contact(4, "湖北省/武汉市", ["biologics"]),
    contact(-100, "吉林省/长春市", ["biologics"]),  # a group chat
]


def chosen(audience: Audience) -> set[int]:
    return {c.chat.id for c in choose_recipients(CONTACTS, audience, ENGINE, TODAY).contacts}


def read(text: str) -> Audience:
    audience = parse_audience(text, ENGINE)
    assert isinstance(audience, Audience), audience
    return audience


def test_each_filter_and_their_combination_choose_the_right_contacts() -> None:
    assert chosen(read("全部")) == {1, 2, 3, 4}, "everyone, but never a group"
    assert chosen(read("地区:吉林省")) == {1, 2, 3}, "a province includes everything below it"
    assert chosen(read("地区:长春市")) == {1, 2}
    assert chosen(read("region: Tonghua, Jilin")) == {3}
    assert chosen(read("地区:长春市、武汉市")) == {1, 2, 4}, "any value within a filter"
    assert chosen(read("行业:生物药")) == {1, 3, 4}
    assert chosen(read("行业:生物制药、中药")) == {1, 2, 3, 4}
    assert chosen(read("地区:吉林省\n行业:中药")) == {2, 3}, "filters of different kinds all match"
    assert chosen(read("规则:jilin-1-clinical-trial")) == {1, 3}, "eligible for the rule, or still open"
    assert chosen(read("地区:长春市;规则:jilin-1-clinical-trial")) == {1}


def test_those_who_opted_out_or_blocked_the_bot_are_counted_not_chosen() -> None:
    people = [*CONTACTS[:2], Contact(ChatKey("telegram", 7), "en", {"region": "吉林省"}, False, True),
              Contact(ChatKey("telegram", 8), "en", {"region": "吉林省"}, True, False)]  # fmt: skip
    recipients = choose_recipients(people, read("地区:吉林省"), ENGINE, TODAY)
    assert {c.chat.id for c in recipients.contacts} == {1, 2}
    assert recipients.excluded == {"opted_out": 1, "blocked": 1}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("地区:火星市", "audience_region_unknown"),
        ("地区:朝阳区", "audience_region_ambiguous"),
        ("行业:航天", "audience_industry_unknown"),
        ("规则:jilin-1-clinical-trail", "audience_rule_unknown"),
        ("长春的企业", "audience_syntax"),
        ("颜色:红", "audience_syntax"),
        ("地区:", "audience_syntax"),
        ("行业:、", "audience_syntax"),
        ("region:\nindustry:", "audience_syntax"),
    ],
)
def test_filters_that_cannot_be_read_say_why(text: str, key: str) -> None:
    problem = parse_audience(text, ENGINE)
    assert isinstance(problem, AudienceProblem) and problem.key == key
    if key == "audience_rule_unknown":
        assert problem.values["nearest"] == "jilin-1-clinical-trial"


def test_send_times_are_beijing_time_in_the_future() -> None:
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert parse_send_time("2026-12-01 09:00", now) == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert parse_send_time("2026年12月1日 9点30", now) == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert parse_send_time("2026-11-28 15:00", now) == "notice_time_past", "15:00 in Beijing is 07:00 UTC"
    assert parse_send_time("2028-01-01 09:00", now) == "notice_time_far"
    assert parse_send_time("明天上午", now) == "notice_bad_time"
    assert parse_send_time("2026-02-30 09:00", now) == "notice_bad_time"
    assert parse_send_time("0001-01-01 00:00", now) == "notice_bad_time"


def test_the_dialogue_checks_each_step_and_asks_for_the_database_only_when_needed() -> None:
    dialogue = NoticeDialogue(lambda: ENGINE)
    state, official = ChatState(CHAT, new=False), Access(frozenset({"official"}))

    def say(text: str, command: str | None = None, access: Access = official):  # noqa: ANN202
        return dialogue.handle(Incoming(CHAT, text, command, user_id=501), state, access)

    assert "只有官员或管理员" in say("", "notice", Access()).messages[0].text and state.draft is None
    assert "请发送通知正文" in say("", "notice").messages[0].text
    assert "没有结束标签" in say("<b>申报").messages[0].text and state.draft["step"] == "text"
    assert "发给谁" in say("<b>申报通知</b>").messages[0].text
    reply = say("行业:生物药")
    assert reply.messages == [] and isinstance(reply.effects[0], Preview)
    assert reply.effects[0].draft["audience"] == {"regions": [], "industries": ["biologics"], "rules": []}
    pressed = dialogue.handle(Incoming(CHAT, callback_data="n:send", user_id=501), state, Access())
    assert "只有官员或管理员" in pressed.messages[0].text and not pressed.effects, "a revoked official sends nothing"
    state.draft = {**reply.effects[0].draft}
    sent = dialogue.handle(Incoming(CHAT, callback_data="n:send", user_id=501), state, official)
    assert isinstance(sent.effects[0], Send) and state.draft is None


def test_every_copy_ends_with_how_to_opt_out_in_the_recipients_language() -> None:
    copy = recipient_copy("<b>Call</b>", "en")
    assert copy.html and copy.text.startswith("<b>Call</b>") and "/unsubscribe" in copy.text
    assert [[b.data for b in row] for row in copy.buttons] == [["unsub"]]
    assert check_html(copy.text) is None
    assert (
        "不想再收到通知" in recipient_copy("x", "zh-Hans").text
        and "不想再收到通知" in recipient_copy("x", "zh-Hant").text
    )


def test_a_call_is_read_from_lines_and_checked_against_the_rules() -> None:
    text = "标题:2027年度申报\n规则:jilin-1-clinical-trial、jilin-6-biologics-rnd\n开始:2027-01-04\n截止:2027年2月26日"
    assert parse_call(text, ENGINE, TODAY) == {
        "title": "2027年度申报", "rules": ["jilin-1-clinical-trial", "jilin-6-biologics-rnd"],
        "opens": "2027-01-04", "closes": "2027-02-26",
    }  # fmt: skip
    english = "title: 2027 call\nrules: jilin-1-clinical-trial\ncloses: 2027-02-26\nwhere: Changchun\ncontact: 0431"
    assert parse_call(english, ENGINE, TODAY)["where"] == "Changchun"
    problems = {
        "标题:x\n规则:jilin-1-clinical-trail\n截止:2027-02-26": "audience_rule_unknown",
        "标题:x\n规则:jilin-1-clinical-trial": "call_incomplete",
        "标题:x\n规则:jilin-1-clinical-trial\n截止:2027-02-30": "call_bad_date",
        "标题:x\n规则:jilin-1-clinical-trial\n截止:2026-01-01": "call_bad_window",
        "标题:x\n规则:jilin-1-clinical-trial\n开始:2027-03-01\n截止:2027-02-26": "call_bad_window",
        "名字 x": "call_syntax",
        "标题:x\n规则:、\n截止:2027-02-26": "call_incomplete",
    }
    for written, key in problems.items():
        problem = parse_call(written, ENGINE, TODAY)
        assert isinstance(problem, AudienceProblem) and problem.key == key, written
