"""Which deadline reminders are due for a contact's results at a moment, and what a reminder says."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time

from bot.engine.engine import Engine
from bot.engine.yamlsource import SourceFile
from bot.loading import read_sources
from handlers.reminders import BEIJING, ReminderPlan, due_reminders, reminder_message, still_due

TRIAL = "jilin-1-clinical-trial"
CLOSES = date(2026, 12, 15)  # the example call's deadline for TRIAL
BIOLOGICS_TRIAL = {"region": "吉林省/长春市", "industries": ["biologics"], "approvals": ["clinical_trial_permit"]}
PLAN = ReminderPlan()


def beijing(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def due_for(engine: Engine, moment: datetime, plan: ReminderPlan = PLAN, profile: dict = BIOLOGICS_TRIAL) -> dict:
    """The reminders due at the moment, as {rule: (deadline, days before)}."""
    match = engine.match(profile, plan.today(moment))
    return {due.rule_id: (due.deadline, due.days_before) for due in due_reminders(match, moment, plan)}


def test_a_reminder_is_due_at_half_past_nine_in_beijing_not_by_the_servers_clock(engine: Engine) -> None:
    # 30 days before 2026-12-15 at 09:30 in Beijing is 01:30 UTC.
    assert TRIAL not in due_for(engine, datetime(2026, 11, 15, 1, 29, tzinfo=UTC))
    assert due_for(engine, datetime(2026, 11, 15, 1, 30, tzinfo=UTC))[TRIAL] == (CLOSES, 30)
    # 09:30 UTC the day before is already 17:30 in Beijing on 11-14: still a day early.
    assert TRIAL not in due_for(engine, datetime(2026, 11, 14, 9, 30, tzinfo=UTC))


def test_the_reminders_come_30_7_and_1_days_before_by_default(engine: Engine) -> None:
    assert due_for(engine, beijing(2026, 11, 20, 10))[TRIAL] == (CLOSES, 30)
    assert due_for(engine, beijing(2026, 12, 8, 9, 30))[TRIAL] == (CLOSES, 7)
    assert due_for(engine, beijing(2026, 12, 14, 9, 30))[TRIAL] == (CLOSES, 1)
    assert TRIAL not in due_for(engine, beijing(2026, 11, 14, 23))  # more than 30 days ahead


def test_the_days_before_are_a_setting(engine: Engine) -> None:
    plan = ReminderPlan.from_settings((3, 14), "18:00")
    assert plan.days_before == (14, 3) and plan.at == time(18, 0)
    assert TRIAL not in due_for(engine, beijing(2026, 12, 1, 17, 59), plan)
    assert due_for(engine, beijing(2026, 12, 1, 18), plan)[TRIAL] == (CLOSES, 14)
    assert due_for(engine, beijing(2026, 12, 12, 18), plan)[TRIAL] == (CLOSES, 3)
    assert due_for(engine, beijing(2026, 12, 1, 18), ReminderPlan(days_before=())) == {}


def test_after_a_pause_only_the_latest_reminder_of_a_deadline_is_due(engine: Engine) -> None:
    due = due_for(engine, beijing(2026, 12, 14, 11))
    assert due[TRIAL] == (CLOSES, 1)  # not the 30- and 7-day ones as well
    match = engine.match(BIOLOGICS_TRIAL, date(2026, 12, 14))
    assert len([d for d in due_reminders(match, beijing(2026, 12, 14, 11), PLAN) if d.rule_id == TRIAL]) == 1


def test_nothing_is_due_early_in_the_morning_or_after_the_deadline(engine: Engine) -> None:
    assert TRIAL not in due_for(engine, beijing(2026, 12, 15, 8))  # before 09:30, even on the last day
    assert due_for(engine, beijing(2026, 12, 15, 10))[TRIAL] == (CLOSES, 1)  # the last day, not yet reminded
    assert TRIAL not in due_for(engine, beijing(2026, 12, 16, 10))


def test_rewards_still_open_are_reminded_too_and_others_not(engine: Engine) -> None:
    due = due_for(engine, beijing(2026, 12, 8, 10))
    assert "jilin-12-revenue-milestone" in due  # undetermined: the contact may still qualify
    assert due_for(engine, beijing(2026, 12, 8, 10), profile={"region": "湖北省/武汉市", "industries": ["tcm"]}) == {}


def moved(engine: Engine, closes: str) -> Engine:
    """The shipped rules with the example call closing on another day (as after a rules reload)."""
    sources = read_sources()
    calls = tuple(SourceFile(f.path, f.text.replace("closes: 2026-12-15", f"closes: {closes}")) for f in sources.calls)
    return Engine.build(dataclasses.replace(sources, calls=calls))


def test_a_reminder_of_a_deadline_that_moved_is_no_longer_due_and_the_new_date_is(engine: Engine) -> None:
    moment = beijing(2026, 12, 8, 10)
    later = moved(engine, "2026-12-20")
    match = later.match(BIOLOGICS_TRIAL, PLAN.today(moment))
    assert not still_due(match, moment, PLAN, TRIAL, CLOSES, 7)
    assert due_for(later, moment)[TRIAL] == (date(2026, 12, 20), 30)  # 12 days ahead: the 7-day one is not yet due


def test_a_reminder_of_a_reward_that_stopped_matching_is_no_longer_due(engine: Engine) -> None:
    moment = beijing(2026, 12, 8, 10)
    assert still_due(engine.match(BIOLOGICS_TRIAL, PLAN.today(moment)), moment, PLAN, TRIAL, CLOSES, 7)
    changed = {**BIOLOGICS_TRIAL, "region": "湖北省/武汉市"}
    assert not still_due(engine.match(changed, PLAN.today(moment)), moment, PLAN, TRIAL, CLOSES, 7)
    # Nor one whose turn has passed: a later reminder of the deadline is due instead.
    assert not still_due(engine.match(BIOLOGICS_TRIAL, date(2026, 12, 14)), beijing(2026, 12, 14, 10), PLAN, TRIAL,
                         CLOSES, 7)  # fmt: skip


def test_the_reminder_says_which_reward_how_much_under_which_clause_by_when_and_where(engine: Engine) -> None:
    moment = beijing(2026, 12, 8, 10)
    match = engine.match(BIOLOGICS_TRIAL, PLAN.today(moment))
    due = next(d for d in due_reminders(match, moment, PLAN) if d.rule_id == TRIAL)
    text = reminder_message(match, due, "zh-Hans").text
    assert "新取得临床试验许可或注册申请受理书的医药健康产品奖励" in text
    assert "截止日期:2026-12-15(还剩 7 天)" in text
    assert "金额:最高200万元(奖励)" in text and "第1条" in text
    assert "受理:示例:以正式申报通知载明的受理部门为准" in text and "示例通知" in text
    english = reminder_message(match, due, "en")
    assert "Closes: 2026-12-15 (7 days left)" in english.text and "Amount: up to 2 million yuan" in english.text
    assert [b.data for row in english.buttons for b in row] == [f"r:{TRIAL}", "unsub"]
    traditional = reminder_message(match, due, "zh-Hant").text
    assert "申報提醒" in traditional


def test_the_clock_alone_changes_what_is_due_only_at_the_sending_time_and_at_midnight_in_china() -> None:
    plan = ReminderPlan()

    def turn(hour: int, minute: int = 0) -> datetime:
        return plan.next_turn(datetime(2026, 12, 8, hour, minute, tzinfo=BEIJING)).astimezone(BEIJING)

    assert turn(0) == datetime(2026, 12, 8, 9, 30, tzinfo=BEIJING)
    assert turn(9, 29) == datetime(2026, 12, 8, 9, 30, tzinfo=BEIJING)
    assert turn(9, 30) == datetime(2026, 12, 9, 0, 0, tzinfo=BEIJING)
    assert turn(23, 59) == datetime(2026, 12, 9, 0, 0, tzinfo=BEIJING)
    assert plan.next_turn(datetime(2026, 12, 8, 1, 0, tzinfo=UTC)).tzinfo == UTC  # 09:00 there: 09:30
    assert plan.next_turn(datetime(2026, 12, 8, 1, 0, tzinfo=UTC)) == datetime(2026, 12, 8, 1, 30, tzinfo=UTC)
