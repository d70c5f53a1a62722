"""Deadlines of a rule relative to a given day: the next one, days left, and windows already closed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.engine.model import ApplicationCall, Deadline, Rule

# Deadlines and validity periods are days in China: a policy's day is the one there, whatever the server's zone.
CHINA = ZoneInfo("Asia/Shanghai")


def china_today(moment: datetime | None = None) -> date:
    """The day it is in China (Asia/Shanghai) now, or at `moment`: the day deadlines and validity periods are read
    against, so a server on UTC does not keep a call open eight hours after it closed."""
    return (moment or datetime.now(UTC)).astimezone(CHINA).date()


@dataclass(frozen=True)
class Schedule:
    """All dated steps of one rule seen from one day; with none, the dates are not yet published."""

    upcoming: tuple[Deadline, ...]
    expired: tuple[Deadline, ...]
    today: date

    @property
    def next(self) -> Deadline | None:
        return self.upcoming[0] if self.upcoming else None

    @property
    def days_left(self) -> int | None:
        return (self.next.date - self.today).days if self.next else None

    @property
    def last_expired(self) -> Deadline | None:
        return self.expired[-1] if self.expired else None

    def not_yet_open(self) -> bool:
        """The next window has an opening day still ahead."""
        opens = self.next.opens if self.next else None
        return opens is not None and opens > self.today


def call_deadline(call: ApplicationCall) -> Deadline:
    return Deadline(call.closes, None, call.opens, call)


def calls_by_rule(calls: Iterable[ApplicationCall]) -> dict[str, list[Deadline]]:
    """Index of application-call deadlines by the rule each call opens."""
    index: dict[str, list[Deadline]] = {}
    for call in calls:
        for rule_id in call.rules:
            index.setdefault(rule_id, []).append(call_deadline(call))
    return index


def rule_schedule(rule: Rule, call_deadlines: Iterable[Deadline], today: date) -> Schedule:
    """Orders the rule's own dates and its calls' dates around today (a deadline today is still open)."""
    every = sorted([*rule.deadlines, *call_deadlines], key=lambda d: d.date)
    upcoming = tuple(d for d in every if d.date >= today)
    expired = tuple(d for d in every if d.date < today)
    return Schedule(upcoming, expired, today)
