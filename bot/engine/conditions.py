"""Conditions over profile facts with three-valued results (True / False / None = not yet known)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.engine.model import Question
from bot.engine.money import format_money, format_rate

Tri = bool | None


@dataclass(frozen=True)
class TraceLine:
    """One sentence of an explanation: whether the part holds (True/False/None) and what it says."""

    holds: Tri
    text: str
    depth: int = 0


# Legal boundaries (Civil Code art. 1259): 以上/以下/以内 include the number, 超过/不满 exclude it.
COMPARISONS: dict[str, tuple[Callable[[Any, Any], bool], str, str, str]] = {
    "at_least": (operator.ge, "≥", "<", "以上"),
    "more_than": (operator.gt, ">", "≤", "超过"),
    "at_most": (operator.le, "≤", ">", "以下"),
    "less_than": (operator.lt, "<", "≥", "不满"),
}


def describe_value(question: Question, value: Any) -> str:
    """A fact value as a person reads it: 12亿元, 4.35%, 中药、生物药, 是."""
    if question.type == "money":
        return format_money(value)
    if question.type == "rate":
        return format_rate(value)
    if question.type == "bool":
        return "是" if value else "否"
    if question.type == "multi_choice":
        if not value:
            return "无"
        return "、".join(_option_label(question, v) for v in value)
    if question.type == "choice":
        return _option_label(question, value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _option_label(question: Question, value: str) -> str:
    option = question.option(value)
    return option.label() if option else str(value)


def _describe_threshold(question: Question, threshold: Any) -> str:
    return describe_value(question, threshold) if question.type in ("money", "rate") else f"{threshold:g}"


class Condition:
    """A test over a profile. `test` is the hot path; `missing` and `explain` run only for results shown."""

    label: str | None = None

    def test(self, profile: Mapping[str, Any]) -> Tri:
        raise NotImplementedError

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        """Facts whose answer could still change this condition's value (empty when it is decided)."""
        raise NotImplementedError

    def ask_first(self, profile: Mapping[str, Any]) -> set[str]:
        """The facts worth asking now: those of the first undecided requirement (empty when decided)."""
        return self.missing(profile)

    def requirement(self) -> str:
        """What must hold, as a phrase: 年营业收入 ≥ 10亿元."""
        raise NotImplementedError

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[TraceLine]:
        raise NotImplementedError


class Compare(Condition):
    """A numeric fact against a threshold with legal boundary semantics."""

    def __init__(self, question: Question, op: str, threshold: float, label: str | None = None):
        self.question, self.op, self.threshold, self.label = question, op, threshold, label
        self.fact = question.fact
        self._fn, self._sym, self._neg, _ = COMPARISONS[op]

    def test(self, profile: Mapping[str, Any]) -> Tri:
        value = profile.get(self.fact)
        if value is None:
            return None
        return self._fn(value, self.threshold)

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        return {self.fact} if self.test(profile) is None else set()

    def requirement(self) -> str:
        if self.label:
            return self.label
        return f"{self.question.short_label()} {self._sym} {_describe_threshold(self.question, self.threshold)}"

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[TraceLine]:
        holds = self.test(profile)
        name = self.question.short_label()
        limit = _describe_threshold(self.question, self.threshold)
        if holds is None:
            return [TraceLine(None, f"{name} 尚不清楚(需 {self._sym} {limit})", depth)]
        shown = describe_value(self.question, profile[self.fact])
        sym = self._sym if holds else self._neg
        return [TraceLine(holds, f"{name} {shown} {sym} {limit}", depth)]


class FirstCrossing(Condition):
    """首次超过/首次达到: this year's figure meets the threshold and last year's did not."""

    def __init__(self, current: Question, previous: Question, op: str, threshold: float, label: str | None = None):
        self.current, self.previous, self.op, self.threshold, self.label = (
            current,
            previous,
            op,
            threshold,
            label,
        )
        self._fn, self._sym, self._neg, self._word = COMPARISONS[op]

    def test(self, profile: Mapping[str, Any]) -> Tri:
        now = profile.get(self.current.fact)
        if now is None:
            return None
        if not self._fn(now, self.threshold):
            return False
        before = profile.get(self.previous.fact)
        if before is None:
            return None
        return not self._fn(before, self.threshold)

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        if self.test(profile) is not None:
            return set()
        # Last year's figure only matters once this year's meets the threshold.
        if profile.get(self.current.fact) is None:
            return {self.current.fact}
        return {self.previous.fact}

    def requirement(self) -> str:
        if self.label:
            return self.label
        limit = _describe_threshold(self.current, self.threshold)
        return f"{self.current.short_label()}首次{self._word} {limit}(上年未{self._word})"

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[TraceLine]:
        holds = self.test(profile)
        limit = _describe_threshold(self.current, self.threshold)
        now = profile.get(self.current.fact)
        before = profile.get(self.previous.fact)
        name, prev_name = self.current.short_label(), self.previous.short_label()
        if now is None:
            return [TraceLine(None, f"{name} 尚不清楚(需首次 {self._sym} {limit})", depth)]
        now_text = f"{name} {describe_value(self.current, now)}"
        if not self._fn(now, self.threshold):
            return [TraceLine(False, f"{now_text} {self._neg} {limit}", depth)]
        if before is None:
            return [TraceLine(None, f"{now_text} {self._sym} {limit},但{prev_name}尚不清楚(需为首次)", depth)]
        before_text = f"{prev_name} {describe_value(self.previous, before)}"
        if holds:
            return [TraceLine(True, f"{now_text} {self._sym} {limit},{before_text} {self._neg} {limit}:首次", depth)]
        return [
            TraceLine(False, f"{now_text} {self._sym} {limit},但{before_text} 已 {self._sym} {limit}:非首次", depth)
        ]


class Contains(Condition):
    """A multi-choice fact includes at least one of the given options."""

    def __init__(self, question: Question, values: tuple[str, ...], label: str | None = None):
        self.question, self.values, self.label = question, values, label
        self.fact = question.fact
        self._wanted = frozenset(values)

    def test(self, profile: Mapping[str, Any]) -> Tri:
        chosen = profile.get(self.fact)
        if chosen is None:
            return None
        return not self._wanted.isdisjoint(chosen)

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        return {self.fact} if profile.get(self.fact) is None else set()

    def _wanted_text(self) -> str:
        return "或".join(_option_label(self.question, v) for v in self.values)

    def requirement(self) -> str:
        return self.label or f"{self.question.short_label()}包括 {self._wanted_text()}"

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[TraceLine]:
        holds = self.test(profile)
        name = self.question.short_label()
        if holds is None:
            return [TraceLine(None, f"{name} 尚不清楚(需包括 {self._wanted_text()})", depth)]
        shown = describe_value(self.question, profile[self.fact])
        if self.label:
            return [TraceLine(holds, f"{self.label}:{'是' if holds else '否'}({name}:{shown})", depth)]
        verb = "包括" if holds else "不包括"
        return [TraceLine(holds, f"{name}:{shown},{verb} {self._wanted_text()}", depth)]


class Equals(Condition):
    """A yes/no or single-choice fact has the given value."""

    def __init__(self, question: Question, value: Any, label: str | None = None):
        self.question, self.value, self.label = question, value, label
        self.fact = question.fact

    def test(self, profile: Mapping[str, Any]) -> Tri:
        value = profile.get(self.fact)
        if value is None:
            return None
        return value == self.value

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        return {self.fact} if profile.get(self.fact) is None else set()

    def requirement(self) -> str:
        return self.label or f"{self.question.short_label()}:{describe_value(self.question, self.value)}"

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[TraceLine]:
        holds = self.test(profile)
        name = self.question.short_label()
        wanted = describe_value(self.question, self.value)
        if holds is None:
            return [TraceLine(None, f"{name} 尚不清楚(需为“{wanted}”)", depth)]
        shown = describe_value(self.question, profile[self.fact])
        suffix = "" if holds else f"(需为“{wanted}”)"
        return [TraceLine(holds, f"{name}:{shown}{suffix}", depth)]


class Within(Condition):
    """The enterprise's region lies inside the rule's region scope (吉林省 covers 吉林省/通化市/东昌区)."""

    def __init__(self, question: Question, scope: str, contains: Callable[[str, str], bool]):
        self.question, self.scope, self._contains = question, scope, contains
        self.fact = question.fact
        self.label = None

    def test(self, profile: Mapping[str, Any]) -> Tri:
        region = profile.get(self.fact)
        if region is None:
            return None
        if self._contains(region, self.scope):
            return True
        # 泰州市 might be inside a 泰州市/医药高新区 scope: only a more precise answer can tell.
        return None if self._contains(self.scope, region) else False

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        return {self.fact} if self.test(profile) is None else set()

    def requirement(self) -> str:
        return f"企业位于{self.scope.replace('/', '')}"

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[TraceLine]:
        region = profile.get(self.fact)
        scope = self.scope.replace("/", "")
        if region is None:
            return [TraceLine(None, f"所在地区 尚不清楚(适用于{scope})", depth)]
        shown = region.replace("/", "")
        holds = self.test(profile)
        if holds is None:
            return [TraceLine(None, f"所在地区 {shown} 不够具体,无法确定是否属于 {scope}", depth)]
        verb = "属于" if holds else "不属于"
        return [TraceLine(holds, f"所在地区 {shown} {verb} {scope}", depth)]


class _Group(Condition):
    """All or any of a list of parts, with an optional label that stands for them in traces."""

    joined_by = ""

    def __init__(self, parts: list[Condition], label: str | None = None):
        self.parts, self.label = parts, label

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        if self.test(profile) is not None:
            return set()
        return set().union(*(part.missing(profile) for part in self.parts))

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[TraceLine]:
        return _explain_group(self, profile, depth, self.joined_by)


class AllOf(_Group):
    """Every part must hold; one part that fails decides the whole."""

    joined_by = "同时满足"

    def test(self, profile: Mapping[str, Any]) -> Tri:
        result: Tri = True
        for part in self.parts:
            value = part.test(profile)
            if value is False:
                return False
            if value is None:
                result = None
        return result

    def ask_first(self, profile: Mapping[str, Any]) -> set[str]:
        # Requirements are written most selective first, so asking them in order skips the rest early.
        if self.test(profile) is not None:
            return set()
        for part in self.parts:
            if part.test(profile) is None:
                return part.ask_first(profile)
        return set()

    def requirement(self) -> str:
        return self.label or ",且".join(p.requirement() for p in self.parts)


class AnyOf(_Group):
    """At least one part must hold."""

    joined_by = "满足其一"

    def test(self, profile: Mapping[str, Any]) -> Tri:
        result: Tri = False
        for part in self.parts:
            value = part.test(profile)
            if value is True:
                return True
            if value is None:
                result = None
        return result

    def ask_first(self, profile: Mapping[str, Any]) -> set[str]:
        # Any undecided part could make the whole hold, so each one's first question is worth asking.
        if self.test(profile) is not None:
            return set()
        return set().union(*(part.ask_first(profile) for part in self.parts))

    def requirement(self) -> str:
        return self.label or "或".join(f"({p.requirement()})" for p in self.parts)


class Not(Condition):
    """The part must not hold."""

    def __init__(self, part: Condition, label: str | None = None):
        self.part, self.label = part, label

    def test(self, profile: Mapping[str, Any]) -> Tri:
        value = self.part.test(profile)
        return None if value is None else not value

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        return self.part.missing(profile)

    def ask_first(self, profile: Mapping[str, Any]) -> set[str]:
        return self.part.ask_first(profile)

    def requirement(self) -> str:
        return self.label or f"并非:{self.part.requirement()}"

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[TraceLine]:
        holds = self.test(profile)
        lines = [TraceLine(holds, self.requirement(), depth)]
        return lines + self.part.explain(profile, depth + 1)


def _explain_group(group: _Group, profile: Mapping[str, Any], depth: int, how: str) -> list[TraceLine]:
    if group.label is None and isinstance(group, AllOf):
        lines: list[TraceLine] = []
        for part in group.parts:
            lines.extend(part.explain(profile, depth))
        return lines
    heading = group.label or f"以下条件{how}"
    lines = [TraceLine(group.test(profile), heading, depth)]
    for part in group.parts:
        lines.extend(part.explain(profile, depth + 1))
    return lines
