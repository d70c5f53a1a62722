"""The deadlines as a calendar file: what a calendar app importing it shows, and how the contact asks for it."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime

from icalendar import Calendar

from bot.channels.terminal import render
from bot.engine.engine import Engine
from bot.messages import Button, ChatKey, Document, Incoming, Outgoing
from bot.store.base import ChatState
from handlers.calendar import FILE_NAME, MEDIA_TYPE, calendar_file, calendar_message
from handlers.enterprise import EnterpriseConversation

TODAY = date(2026, 11, 22)
BIOLOGICS_TRIAL = {"region": "吉林省/长春市", "industries": ["biologics"], "approvals": ["clinical_trial_permit"]}


def events(data: bytes) -> dict[str, dict]:
    """The file's events by UID, as a calendar app reads them."""
    calendar = Calendar.from_ical(data)
    return {
        str(event["uid"]): {
            "start": event.decoded("dtstart"),
            "end": event.decoded("dtend"),
            "summary": str(event["summary"]),
            "description": str(event["description"]),
            "stamp": event.decoded("dtstamp"),
        }
        for event in calendar.walk("VEVENT")
    }


def test_the_file_is_a_calendar_apps_import_with_one_all_day_event_per_deadline(engine: Engine) -> None:
    data = calendar_file(engine.match(BIOLOGICS_TRIAL, TODAY), "zh-Hans")
    calendar = Calendar.from_ical(data)
    assert str(calendar["version"]) == "2.0" and str(calendar["method"]) == "PUBLISH"
    assert "incentive-bot" in str(calendar["prodid"]) and str(calendar["x-wr-calname"]) == "企业奖励申报截止"
    found = events(data)
    trial = found["jilin-1-clinical-trial-20261215@incentive-bot"]
    assert (trial["start"], trial["end"]) == (date(2026, 12, 15), date(2026, 12, 16))  # all day, DTEND exclusive
    assert trial["summary"] == "申报截止:新取得临床试验许可或注册申请受理书的医药健康产品奖励"
    description = trial["description"]
    assert "金额:最高200万元(奖励)" in description
    assert "依据:《关于加快医药强省建设促进医药健康产业高质量发展的实施意见》第1条" in description
    assert "受理:示例:以正式申报通知载明的受理部门为准" in description
    assert "示例通知,日期非真实" in description  # an invented date says so wherever it shows
    assert "按您的回答可以申请" in description
    # Every event carries its stamp, as RFC 5545 requires, and every one is a date on or after today.
    assert all(event["stamp"] == datetime(2026, 11, 22, tzinfo=UTC) for event in found.values())
    assert all(event["start"] >= TODAY for event in found.values())


def test_rewards_still_open_are_in_the_file_with_what_is_still_unknown(engine: Engine) -> None:
    found = events(calendar_file(engine.match(BIOLOGICS_TRIAL, TODAY), "zh-Hans"))
    milestone = found["jilin-12-revenue-milestone-20261215@incentive-bot"]
    assert "可能符合,还需知道:" in milestone["description"] and "营业收入" in milestone["description"]


def test_each_date_of_a_reward_is_its_own_event_and_closed_windows_are_left_out(engine: Engine) -> None:
    spring = date(2026, 2, 1)
    profile = {**BIOLOGICS_TRIAL, "projects": ["biologics_rnd"]}
    found = events(calendar_file(engine.match(profile, spring), "zh-Hans"))
    assert {"jilin-6-biologics-rnd-20260430@incentive-bot", "jilin-6-biologics-rnd-20261215@incentive-bot"} <= set(
        found
    )
    summer = events(calendar_file(engine.match(profile, date(2026, 6, 1)), "zh-Hans"))
    assert "jilin-6-biologics-rnd-20260430@incentive-bot" not in summer


def test_the_same_deadline_keeps_its_uid_so_a_second_import_updates_it(engine: Engine) -> None:
    first = events(calendar_file(engine.match(BIOLOGICS_TRIAL, TODAY), "zh-Hans"))
    later = events(calendar_file(engine.match(BIOLOGICS_TRIAL, date(2026, 12, 1)), "en"))
    assert set(first) == set(later)


def test_english_readers_get_english_events(engine: Engine) -> None:
    found = events(calendar_file(engine.match(BIOLOGICS_TRIAL, TODAY), "en"))
    trial = found["jilin-1-clinical-trial-20261215@incentive-bot"]
    assert trial["summary"].startswith("Deadline: ")
    assert "Amount: up to 2 million yuan" in trial["description"] and "measure 1" in trial["description"]
    assert "Apply at: " in trial["description"]


def test_without_a_dated_reward_there_is_no_file_but_a_reason(engine: Engine) -> None:
    message = calendar_message(engine.match({"region": "湖北省/武汉市", "industries": ["biologics"]}, TODAY), "en")
    assert message.document is None and "no dates published" in message.text


def test_calendar_command_and_buttons_send_the_file(engine: Engine) -> None:
    conversation = EnterpriseConversation(lambda: engine, lambda: TODAY)
    chat = ChatKey("test", 1)
    state = ChatState(chat, answers=dict(BIOLOGICS_TRIAL), new=False)
    sent = conversation.handle(Incoming(chat, command="calendar"), state).messages[0]
    assert sent.document is not None and (sent.document.name, sent.document.media_type) == (FILE_NAME, MEDIA_TYPE)
    assert "jilin-1-clinical-trial-20261215@incentive-bot" in events(sent.document.data)
    listing = conversation.handle(Incoming(chat, command="deadlines"), state).messages[0]
    results = conversation.handle(Incoming(chat, command="results"), state).messages[0]
    for message in (listing, results):
        assert "cal" in [button.data for row in message.buttons for button in row]
    pressed = conversation.handle(Incoming(chat, callback_data="cal"), state).messages[0]
    assert pressed.document == sent.document


def test_deadlines_list_every_coming_date_with_days_left_and_where_to_apply(engine: Engine) -> None:
    conversation = EnterpriseConversation(lambda: engine, lambda: TODAY)
    chat = ChatKey("test", 1)
    state = ChatState(chat, answers=dict(BIOLOGICS_TRIAL), new=False)
    text = conversation.handle(Incoming(chat, command="deadlines"), state).messages[0].text
    assert "2026-12-15(还剩 23 天) 新取得临床试验许可或注册申请受理书的医药健康产品奖励" in text
    assert "受理:示例:以正式申报通知载明的受理部门为准" in text
    assert "(可能符合,还需补充回答)" in text


def test_a_message_with_a_file_survives_the_outbox_and_old_rows_still_load() -> None:
    message = Outgoing("日历", ((Button("a", "b"),),), document=Document("d.ics", MEDIA_TYPE, b"\x00BEGIN\xff"))
    assert Outgoing.from_json(message.to_json()) == message
    assert Outgoing.from_json({"text": "旧消息"}) == Outgoing("旧消息")
    # A stored file that cannot be read drops the file, not the message.
    damaged = {**message.to_json(), "document": {"name": "d.ics", "media_type": MEDIA_TYPE, "data": "%%%"}}
    assert Outgoing.from_json(damaged) == dataclasses.replace(message, document=None)


def test_the_terminal_saves_the_file_in_the_working_directory_and_says_where(tmp_path, engine: Engine) -> None:
    message = calendar_message(engine.match(BIOLOGICS_TRIAL, TODAY), "zh-Hans")
    out = io.StringIO()
    render([message], out, tmp_path)
    saved = tmp_path / FILE_NAME
    assert saved.read_bytes() == message.document.data and str(saved) in out.getvalue()
    # A name carrying a path is written inside the folder all the same.
    render([Outgoing("x", document=Document("../../evil.ics", MEDIA_TYPE, b"x"))], out, tmp_path)
    assert (tmp_path / "evil.ics").read_bytes() == b"x"
