"""Deadlines of a rule relative to a given day: the next one, days left, and windows already closed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.engine.model import ApplicationCall, Deadline, Rule

NOT_PUBLISHED = "申报时间尚未公布"


@dataclass(frozen=True)
class Schedule:
    """All dated steps of one rule seen from one day."""

    upcoming: tuple[Deadline, ...]
    expired: tuple[Deadline, ...]
    today: date

    @property
    def next(self) -> Deadline | None:
        return self.upcoming[0] if self.upcoming else None

    @property
    def days_left(self) -> int | None:
        return (self.next.date - self.today).days if self.next else None

    def summary(self) -> str:
        """截止 2026-12-15(还剩 23 天), or why there is no date."""
        if self.next is not None:
            left = self.days_left
            when = "今天截止" if left == 0 else f"还剩 {left} 天"
            opens = self.next.opens
            not_open = f",{opens.isoformat()} 开始受理" if opens and opens > self.today else ""
            return f"{self.next.label}:{self.next.date.isoformat()}({when}{not_open})"
        if self.expired:
            last = self.expired[-1]
            return f"{last.label}:{last.date.isoformat()}(已截止);下一轮{NOT_PUBLISHED}"
        return NOT_PUBLISHED


def call_deadline(call: ApplicationCall) -> Deadline:
    label = f"{call.title}{'(示例通知,日期非真实)' if call.example else ''}申报截止"
    return Deadline(call.closes, label, call.opens, call.id)


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
