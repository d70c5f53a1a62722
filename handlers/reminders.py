"""Deadline reminders, decided without I/O: which are due for a contact's results at a moment, and what they say."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.engine.deadlines import CHINA
from bot.engine.matching import Match
from bot.messages import Button, Outgoing
from handlers import phrases
from handlers.render import RULE, Upcoming, amount_line, callback, days_left_phrase, upcoming_deadlines, where_to_apply
from handlers.texts import t

# Deadlines are days in China: a reminder is due by the clock there, whatever the server's time zone.
BEIJING = CHINA


@dataclass(frozen=True)
class ReminderPlan:
    """When reminders go out: so many days before each deadline (most first), at a time of day in a time zone."""

    days_before: tuple[int, ...] = (30, 7, 1)
    at: time = time(9, 30)
    zone: ZoneInfo = BEIJING

    @classmethod
    def from_settings(cls, days_before: tuple[int, ...], at: str) -> ReminderPlan:
        hour, minute = (int(part) for part in at.split(":"))
        return cls(tuple(sorted(set(days_before), reverse=True)), time(hour, minute))

    def today(self, moment: datetime) -> date:
        """The day it is where the deadlines are."""
        return moment.astimezone(self.zone).date()

    def next_turn(self, moment: datetime) -> datetime:
        """The first moment after `moment` at which the clock alone changes which reminders are due: the next
        time of day reminders go out (each is due from then) or the next midnight (a deadline's day ends, and
        results are read on a new day), both where the deadlines are; in UTC."""
        local = moment.astimezone(self.zone)
        send = datetime.combine(local.date(), self.at, self.zone)
        if send <= local:
            send = datetime.combine(local.date() + timedelta(days=1), self.at, self.zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), self.zone)
        return min(send, midnight).astimezone(UTC)

    def due_at(self, deadline: date, days_before: int) -> datetime:
        """When the reminder so many days before the deadline is due (in UTC)."""
        local = datetime.combine(deadline - timedelta(days=days_before), self.at, self.zone)
        return local.astimezone(UTC)


@dataclass(frozen=True)
class DueReminder:
    """A reminder due now: a reward's deadline, how many days before it this reminder is, and what it is about."""

    rule_id: str
    deadline: date
    days_before: int
    upcoming: Upcoming


def due_reminders(match: Match, moment: datetime, plan: ReminderPlan) -> list[DueReminder]:
    """The reminders due at `moment` for the results in `match` (matched on the plan's today of that moment).

    Each date still ahead of an eligible or undetermined reward has one reminder per number of days in the plan.
    One is due from its time (that many days before, at the plan's time of day) until the next one's, or the
    end of the deadline's day; so after a pause (the bot stopped, the contact qualified late) only the latest
    reminder of a deadline is due, never several at once. None is due earlier in the day than the plan's time.
    """
    local = moment.astimezone(plan.zone)
    if local.time() < plan.at or not plan.days_before:
        return []
    due = []
    for upcoming in upcoming_deadlines(match):
        day = upcoming.deadline.date
        closes = datetime.combine(day + timedelta(days=1), time(0), plan.zone).astimezone(UTC)
        ends = [plan.due_at(day, days) for days in plan.days_before[1:]] + [closes]
        for days, end in zip(plan.days_before, ends, strict=True):
            if plan.due_at(day, days) <= moment < end:
                due.append(DueReminder(upcoming.result.rule.id, day, days, upcoming))
                break
    return due


def still_due(match: Match, moment: datetime, plan: ReminderPlan, rule_id: str, deadline: date, days: int) -> bool:
    """Whether a reminder queued earlier is still the one to send: its reward still in the results, its deadline
    still that day, and no later reminder of it due instead."""
    return any(
        (due.rule_id, due.deadline, due.days_before) == (rule_id, deadline, days)
        for due in due_reminders(match, moment, plan)
    )


def reminder_message(match: Match, due: DueReminder, language: str) -> Outgoing:
    """The reminder: which reward, how much, under which clause, the day it closes and the days left, where to
    apply; with its details and a way to stop reminders."""
    result, deadline = due.upcoming.result, due.upcoming.deadline
    rule = result.rule
    text = t(
        "reminder",
        language,
        title=phrases.title(rule, language),
        possible="" if result.status == "eligible" else t("deadline_possible", language),
        date=deadline.date.isoformat(),
        left=days_left_phrase(due.upcoming.days_left, language),
        label=phrases.deadline_label(deadline, language),
        amount=amount_line(match, result, language),
        citation=phrases.citation(rule, language),
        where=where_to_apply(rule, deadline, language),
    )
    buttons = (
        (Button(t("details", language, n="").strip(), callback(RULE, rule.id)),),
        (Button(t("reminder_unsubscribe", language), "unsub"),),
    )
    return Outgoing(f"{text}\n\n{t('reminder_footer', language)}", buttons)
