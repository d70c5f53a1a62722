"""Conditions over profile facts with three-valued results (True / False / None = not yet known)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.engine.model import Question, Texts

Tri = bool | None


@dataclass(frozen=True)
class Check:
    """One test on facts as structured values: what is required, what the profile holds, and whether it holds.

    `test` is a comparison (at_least, more_than, at_most, less_than), first_<comparison> (this year meets
    the threshold, last year, in `previous`, did not), contains, is, within (a region scope), all, any, not,
    or valid_from / valid_until (the rule's validity window). `value` is None while the fact is unknown.
    A group's requirement lists its parts; in a trace the parts follow as lines of their own, one level deeper.
    Handlers turn a Check into a sentence in the contact's language.
    """

    test: str
    holds: Tri = None
    fact: str | None = None
    threshold: Any = None
    value: Any = None
    previous: str | None = None
    previous_value: Any = None
    label: Texts | None = None
    parts: tuple[Check, ...] = ()
    depth: int = 0


# Legal boundaries (Civil Code art. 1259): 以上/以下/以内 include the number, 超过/不满 exclude it.
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "at_least": operator.ge,
    "more_than": operator.gt,
    "at_most": operator.le,
    "less_than": operator.lt,
}


class Condition:
    """A test over a profile. `test` is the hot path; `missing` and `explain` run only for results shown."""

    label: Texts | None = None

    def test(self, profile: Mapping[str, Any]) -> Tri:
        raise NotImplementedError

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        """Facts whose answer could still change this condition's value (empty when it is decided)."""
        raise NotImplementedError

    def ask_first(self, profile: Mapping[str, Any]) -> set[str]:
        """The facts worth asking now: those of the first undecided requirement (empty when decided)."""
        return self.missing(profile)

    def requirement(self) -> Check:
        """What must hold, without the profile's values."""
        raise NotImplementedError

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[Check]:
        """The trace: this condition and, for groups, every part, each with the profile's values."""
        raise NotImplementedError


class _FactTest(Condition):
    """A condition on one fact; its requirement and trace line differ only in the values filled in."""

    fact: str
    test_name: str
    threshold: Any

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        return {self.fact} if self.test(profile) is None else set()

    def requirement(self) -> Check:
        return Check(self.test_name, None, self.fact, self.threshold, label=self.label)

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[Check]:
        holds = self.test(profile)
        value = profile.get(self.fact)
        return [Check(self.test_name, holds, self.fact, self.threshold, value, label=self.label, depth=depth)]


class Compare(_FactTest):
    """A numeric fact against a threshold with legal boundary semantics."""

    def __init__(self, question: Question, op: str, threshold: int | float, label: Texts | None = None):
        self.question, self.op, self.threshold, self.label = question, op, threshold, label
        self.fact, self.test_name = question.fact, op
        self._fn = COMPARISONS[op]

    def test(self, profile: Mapping[str, Any]) -> Tri:
        value = profile.get(self.fact)
        if value is None:
            return None
        return self._fn(value, self.threshold)


class FirstCrossing(Condition):
    """首次超过/首次达到: this year's figure meets the threshold and last year's did not."""

    def __init__(
        self, current: Question, previous: Question, op: str, threshold: int | float, label: Texts | None = None
    ):
        self.current, self.previous, self.op, self.threshold, self.label = current, previous, op, threshold, label
        self._fn = COMPARISONS[op]

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

    def requirement(self) -> Check:
        return Check(
            f"first_{self.op}", None, self.current.fact, self.threshold, previous=self.previous.fact, label=self.label
        )

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[Check]:
        return [
            Check(
                f"first_{self.op}",
                self.test(profile),
                self.current.fact,
                self.threshold,
                profile.get(self.current.fact),
                self.previous.fact,
                profile.get(self.previous.fact),
                self.label,
                depth=depth,
            )
        ]


class Contains(_FactTest):
    """A multi-choice fact includes at least one of the given options."""

    def __init__(self, question: Question, values: tuple[str, ...], label: Texts | None = None):
        self.question, self.values, self.label = question, values, label
        self.fact, self.test_name, self.threshold = question.fact, "contains", values
        self._wanted = frozenset(values)

    def test(self, profile: Mapping[str, Any]) -> Tri:
        chosen = profile.get(self.fact)
        if chosen is None:
            return None
        return not self._wanted.isdisjoint(chosen)


class Equals(_FactTest):
    """A yes/no or single-choice fact has the given value."""

    def __init__(self, question: Question, value: Any, label: Texts | None = None):
        self.question, self.value, self.label = question, value, label
        self.fact, self.test_name, self.threshold = question.fact, "is", value

    def test(self, profile: Mapping[str, Any]) -> Tri:
        value = profile.get(self.fact)
        if value is None:
            return None
        return value == self.value


class Within(_FactTest):
    """The enterprise's region lies inside the rule's region scope (吉林省 covers 吉林省/通化市/东昌区).

    Its trace line says `holds=None` with a value when the answer is too broad to tell (泰州市 for a
    泰州市/医药高新区 scope), and with no value when the region is not known at all.
    """

    def __init__(self, question: Question, scope: str, contains: Callable[[str, str], bool]):
        self.question, self.scope, self._contains = question, scope, contains
        self.fact, self.test_name, self.threshold = question.fact, "within", scope
        self.label = None

    def test(self, profile: Mapping[str, Any]) -> Tri:
        region = profile.get(self.fact)
        if region is None:
            return None
        if self._contains(region, self.scope):
            return True
        # 泰州市 might be inside a 泰州市/医药高新区 scope: only a more precise answer can tell.
        return None if self._contains(self.scope, region) else False


class _Group(Condition):
    """All or any of a list of parts, with an optional label that stands for them in traces."""

    test_name = ""

    def __init__(self, parts: list[Condition], label: Texts | None = None):
        self.parts, self.label = parts, label

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        if self.test(profile) is not None:
            return set()
        return set().union(*(part.missing(profile) for part in self.parts))

    def requirement(self) -> Check:
        return Check(self.test_name, label=self.label, parts=tuple(p.requirement() for p in self.parts))

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[Check]:
        if self.label is None and isinstance(self, AllOf):
            # Unlabelled requirements that must all hold read best as a plain list, one line each.
            return [line for part in self.parts for line in part.explain(profile, depth)]
        lines = [Check(self.test_name, self.test(profile), label=self.label, depth=depth)]
        for part in self.parts:
            lines.extend(part.explain(profile, depth + 1))
        return lines


class AllOf(_Group):
    """Every part must hold; one part that fails decides the whole."""

    test_name = "all"

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


class AnyOf(_Group):
    """At least one part must hold."""

    test_name = "any"

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


class Not(Condition):
    """The part must not hold."""

    def __init__(self, part: Condition, label: Texts | None = None):
        self.part, self.label = part, label

    def test(self, profile: Mapping[str, Any]) -> Tri:
        value = self.part.test(profile)
        return None if value is None else not value

    def missing(self, profile: Mapping[str, Any]) -> set[str]:
        return self.part.missing(profile)

    def ask_first(self, profile: Mapping[str, Any]) -> set[str]:
        return self.part.ask_first(profile)

    def requirement(self) -> Check:
        return Check("not", label=self.label, parts=(self.part.requirement(),))

    def explain(self, profile: Mapping[str, Any], depth: int = 0) -> list[Check]:
        heading = Check("not", self.test(profile), label=self.label, parts=(self.part.requirement(),), depth=depth)
        return [heading, *self.part.explain(profile, depth + 1)]
