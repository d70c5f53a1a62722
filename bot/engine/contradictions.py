"""Finds the tests of one `all` that exclude each other, so a rule no answer could ever meet is refused.

Only what is certain counts: numeric bounds on one fact whose range is empty, and one fact required to have
two different values (or to have and not to have one). Anything else may hold for some answer and is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.engine import conditions as c
from bot.engine.ruletests import as_written
from bot.engine.yamlsource import Position

# What "not <test>" leaves: the values the test refuses (Civil Code art. 1259 boundaries, see conditions.py).
NEGATED = {"at_least": "less_than", "more_than": "at_most", "at_most": "more_than", "less_than": "at_least"}
LOWER = {"at_least": True, "more_than": False}  # op: whether the threshold itself is allowed
UPPER = {"at_most": True, "less_than": False}


@dataclass(frozen=True)
class FactTest:
    """One requirement on one fact, where it is written, and how a message names it."""

    fact: str
    op: str  # a comparison, "is" or "is_not"
    value: Any
    at: Position

    def wording(self) -> str:
        if self.op in ("is", "is_not"):
            shown = str(self.value).lower() if isinstance(self.value, bool) else f"'{self.value}'"
            return f"{self.op.replace('_', ' ')} {shown}"
        return f"{self.op} {as_written(self.value)}"


def requirements(condition: c.Condition, at: Position) -> list[FactTest]:
    """The tests one part of an `all` puts on single facts (a first_… test: one on this year, one on last)."""
    if isinstance(condition, c.Compare):
        return [FactTest(condition.fact, condition.op, condition.threshold, at)]
    if isinstance(condition, c.FirstCrossing):
        op, threshold = condition.op, condition.threshold
        return [
            FactTest(condition.current.fact, op, threshold, at),
            FactTest(condition.previous.fact, NEGATED[op], threshold, at),
        ]
    if isinstance(condition, c.Equals):
        return [FactTest(condition.fact, "is", condition.value, at)]
    if isinstance(condition, c.Not) and isinstance(condition.part, c.Compare):
        part = condition.part
        return [FactTest(part.fact, NEGATED[part.op], part.threshold, at)]
    if isinstance(condition, c.Not) and isinstance(condition.part, c.Equals):
        return [FactTest(condition.part.fact, "is_not", condition.part.value, at)]
    return []


def contradictions(tests: Iterable[FactTest]) -> list[tuple[Position, str]]:
    """For each fact whose tests cannot all hold: where the test that closes the last way out is, and why."""
    found: list[tuple[Position, str]] = []
    by_fact: dict[str, list[FactTest]] = {}
    for test in tests:
        by_fact.setdefault(test.fact, []).append(test)
    for fact, seen in by_fact.items():
        clash = _first_clash(seen)
        if clash is not None:
            test, other = clash
            both = f"{test.wording()} and {other.wording()} (line {other.at.line})"
            fix = "correct one of them (or use 'any' if either is enough)"
            found.append((test.at, f"'{fact}' cannot be {both} at once, so this 'all' can never be true; {fix}"))
    return found


def _first_clash(tests: list[FactTest]) -> tuple[FactTest, FactTest] | None:
    """The first test that leaves no value possible, with the earlier test it excludes."""
    lower: FactTest | None = None
    upper: FactTest | None = None
    equal: FactTest | None = None
    unequal: list[FactTest] = []
    for test in tests:
        if test.op == "is":
            other = equal if equal is not None and equal.value != test.value else None
            other = other or next((u for u in unequal if u.value == test.value), None)
            if other is not None:
                return test, other
            equal = equal or test
        elif test.op == "is_not":
            if equal is not None and equal.value == test.value:
                return test, equal
            unequal.append(test)
        elif test.op in LOWER and (lower is None or _tighter_lower(test, lower)):
            lower = test
            if upper is not None and _empty(lower, upper):
                return test, upper
        elif test.op in UPPER and (upper is None or _tighter_upper(test, upper)):
            upper = test
            if lower is not None and _empty(lower, upper):
                return test, lower
    return None


def _tighter_lower(test: FactTest, than: FactTest) -> bool:
    return test.value > than.value or (test.value == than.value and not LOWER[test.op])


def _tighter_upper(test: FactTest, than: FactTest) -> bool:
    return test.value < than.value or (test.value == than.value and not UPPER[test.op])


def _empty(lower: FactTest, upper: FactTest) -> bool:
    if lower.value > upper.value:
        return True
    return lower.value == upper.value and not (LOWER[lower.op] and UPPER[upper.op])
