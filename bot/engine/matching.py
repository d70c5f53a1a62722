"""Three-valued matching of a (partial) profile against every rule, with near misses and explanations."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.engine.amounts import Amount, reward_amount
from bot.engine.conditions import (
    COMPARISONS,
    AllOf,
    AnyOf,
    Check,
    Compare,
    Condition,
    Equals,
    FirstCrossing,
    Within,
)
from bot.engine.deadlines import Schedule, calls_by_rule, rule_schedule
from bot.engine.model import Rule, RuleSet
from bot.engine.regions import RegionIndex
from bot.engine.screening import Screens

ELIGIBLE = "eligible"
NOT_ELIGIBLE = "not_eligible"
UNDETERMINED = "undetermined"


@dataclass(slots=True, eq=False)
class RuleResult:
    """The verdict on one rule; missing facts and explanations are worked out only when someone reads them."""

    rule: Rule
    status: str
    failed: Condition | None = None
    near_miss: bool = False
    outside_validity: bool = False
    unknown: tuple[Condition, ...] = ()
    profile: Mapping[str, Any] | None = None
    fact_order: Mapping[str, int] | None = None
    _missing: tuple[str, ...] | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        """Every fact whose answer could still decide this rule, in catalogue order."""
        if self._missing is None:
            found: set[str] = set()
            for part in self.unknown:
                found |= part.missing(self.profile)
            order = self.fact_order or {}
            self._missing = tuple(sorted(found, key=lambda fact: (order.get(fact, len(order)), fact)))
        return self._missing

    @property
    def ask_order(self) -> tuple[tuple[str, ...], ...]:
        """Per open requirement, in the rule's order, the facts worth asking for it now."""
        return tuple(tuple(part.ask_first(self.profile)) for part in self.unknown)


@dataclass(frozen=True)
class Shortfall:
    """Why a near miss misses: the one requirement it fails, and the failing tests with the profile's values."""

    requirement: Check
    standing: tuple[Check, ...]


@dataclass
class Match:
    """A profile's results on one day: what it may claim, what is still open, and what it narrowly misses."""

    matcher: Matcher
    profile: Mapping[str, Any]
    today: date
    eligible: list[RuleResult] = field(default_factory=list)
    undetermined: list[RuleResult] = field(default_factory=list)
    near_misses: list[RuleResult] = field(default_factory=list)
    not_eligible: list[RuleResult] = field(default_factory=list)

    def missing_facts(self) -> set[str]:
        return {fact for result in self.undetermined for fact in result.missing}

    def amount(self, result: RuleResult) -> Amount:
        return reward_amount(result.rule.reward, self.profile)

    def schedule(self, result: RuleResult) -> Schedule:
        return self.matcher.schedule(result.rule, self.today)

    def why(self, result: RuleResult) -> list[Check]:
        return self.matcher.explain(result.rule, self.profile, self.today)

    def shortfall(self, result: RuleResult) -> Shortfall | None:
        """What would make a near miss match: the one failing requirement and where the profile stands."""
        if result.failed is None:
            return None
        failing = (
            line
            for line in result.failed.explain(self.profile)
            if line.holds is False and line.test not in _GROUP_TESTS
        )
        return Shortfall(result.failed.requirement(), tuple(failing))

    def narrower_scopes(self) -> list[str]:
        """The region scopes of open rules that lie inside the answered region (a district rule for a city answer):
        only a more precise answer can decide them."""
        region = self.profile.get("region")
        if not isinstance(region, str):
            return []
        within = self.matcher.regions.within
        scopes = {r.rule.region for r in self.undetermined if r.rule.region != region and within(r.rule.region, region)}
        return sorted(scopes)

    def results(self) -> list[RuleResult]:
        """Every rule's result: eligible, undetermined, near misses, then the rest."""
        return [*self.eligible, *self.undetermined, *self.near_misses, *self.not_eligible]

    def result_for(self, rule_id: str) -> RuleResult | None:
        return next((r for r in self.results() if r.rule.id == rule_id), None)


# Group headings only repeat the requirement; the tests under them say where the profile stands.
_GROUP_TESTS = ("all", "any", "not")


class Matcher:
    """A rule set compiled for fast matching: region scopes resolved once per profile, rules checked in order."""

    def __init__(self, ruleset: RuleSet, regions: RegionIndex):
        global _last_matcher
        self.ruleset = ruleset
        self.regions = regions
        region_question = ruleset.catalogue["region"]
        # The rules of the last matcher on the same regions and region question that are in this rule set too
        # (the same objects: a reload keeps the rules of the files that did not change, calls joined by a notice
        # keep them all) are compiled already; so are their region scopes.
        last = _last_matcher() if _last_matcher is not None else None
        scopes: dict[str, Within] = {}
        before: dict[int, _CompiledRule] = {}
        if last is not None and last.regions is regions and last.ruleset.catalogue["region"] is region_question:
            scopes, before = dict(last._scopes), {id(compiled.rule): compiled for compiled in last._compiled}
        compiled_rules: list[_CompiledRule] = []
        for rule in ruleset.rules:
            compiled = before.get(id(rule))
            if compiled is None or compiled.rule is not rule:
                scope = scopes.get(rule.region)
                if scope is None:
                    scope = scopes[rule.region] = Within(region_question, rule.region, regions.within)
                compiled = _CompiledRule(rule, scope, _conjuncts(rule.condition))
            compiled_rules.append(compiled)
        self._compiled = compiled_rules
        self._scopes = {compiled.rule.region: compiled.scope for compiled in compiled_rules}
        self._call_deadlines = calls_by_rule(ruleset.calls)
        self.fact_order = {fact: q.order for fact, q in ruleset.catalogue.questions.items()}
        self.screens = Screens(ruleset.catalogue)
        # Facts only an amount's estimate uses (a loan's rate): asked when a contact asks for estimates.
        in_conditions = {fact for compiled in compiled_rules for fact in compiled.facts}
        self.estimate_only = frozenset(
            fact for compiled in compiled_rules for fact in compiled.formula_facts if fact not in in_conditions
        )
        self._index = {compiled.rule.id: index for index, compiled in enumerate(self._compiled)}
        _last_matcher = weakref.ref(self)

    def covers(self, region: str) -> bool:
        """True if some rule's region scope contains the region or lies inside it (it may apply there)."""
        within = self.regions.within
        return any(within(region, scope) or within(scope, region) for scope in self._scopes)

    @property
    def covered_regions(self) -> list[str]:
        """The regions the rules cover: each scope not inside another, in the order of the national list."""
        scopes = list(self._scopes)
        within = self.regions.within
        return self.regions.in_order([s for s in scopes if not any(o != s and within(s, o) for o in scopes)])

    def _chosen(self, rule_ids: Iterable[str]) -> list[_CompiledRule]:
        indexes = sorted({self._index[rule_id] for rule_id in rule_ids if rule_id in self._index})
        return [self._compiled[index] for index in indexes]

    def match(self, profile: Mapping[str, Any], today: date, only: Iterable[str] | None = None) -> Match:
        """Sorts every rule (or `only` the rules with these ids, in rule order) into eligible, undetermined, near
        miss or not eligible for this profile and day. A screening answer counts for the facts it screens."""
        profile = self.screens.expand(profile)
        result = Match(self, profile, today)
        in_scope = {scope: within.test(profile) for scope, within in self._scopes.items()}
        chosen = self._compiled if only is None else self._chosen(only)
        for compiled in chosen:
            verdict = self._evaluate(compiled, profile, today, in_scope[compiled.rule.region])
            if verdict.status == ELIGIBLE:
                result.eligible.append(verdict)
            elif verdict.status == UNDETERMINED:
                result.undetermined.append(verdict)
            elif verdict.near_miss:
                result.near_misses.append(verdict)
            else:
                result.not_eligible.append(verdict)
        return result

    def _evaluate(
        self, compiled: _CompiledRule, profile: Mapping[str, Any], today: date, in_scope: bool | None
    ) -> RuleResult:
        if in_scope is False:
            return compiled.out_of_region
        rule = compiled.rule
        if compiled.dated and (
            (rule.valid_from and today < rule.valid_from) or (rule.valid_until and today > rule.valid_until)
        ):
            return compiled.outside_validity
        failed = None
        unknown = [compiled.scope] if in_scope is None else []
        for part in compiled.parts:
            value = part.test(profile)
            if value is False:
                if failed is not None:
                    return compiled.not_eligible
                failed = part
            elif value is None:
                unknown.append(part)
        if failed is not None:
            # A near miss fails on exactly one requirement, meets every other one already, and could plausibly
            # meet that one too: a figure close to its threshold, or a step the enterprise controls.
            return RuleResult(rule, NOT_ELIGIBLE, failed, not unknown and within_reach(failed, profile))
        if unknown:
            return RuleResult(rule, UNDETERMINED, unknown=tuple(unknown), profile=profile, fact_order=self.fact_order)
        return compiled.eligible

    def schedule(self, rule: Rule, today: date) -> Schedule:
        return rule_schedule(rule, self._call_deadlines.get(rule.id, ()), today)

    def explain(self, rule: Rule, profile: Mapping[str, Any], today: date) -> list[Check]:
        """The per-condition trace, one test per line, region first."""
        lines = self._scopes[rule.region].explain(profile)
        if rule.valid_from and today < rule.valid_from:
            lines.append(Check("valid_from", False, threshold=rule.valid_from, value=today))
        if rule.valid_until and today > rule.valid_until:
            lines.append(Check("valid_until", False, threshold=rule.valid_until, value=today))
        if rule.condition is not None:
            lines.extend(rule.condition.explain(profile))
        return lines


class _CompiledRule:
    """A rule with its scope and top-level requirements, and the verdicts that never depend on the profile."""

    __slots__ = (
        "rule",
        "scope",
        "parts",
        "dated",
        "facts",
        "formula_facts",
        "out_of_region",
        "outside_validity",
        "not_eligible",
        "eligible",
    )

    def __init__(self, rule: Rule, scope: Within, parts: tuple[Condition, ...]):
        self.rule, self.scope, self.parts = rule, scope, parts
        self.dated = rule.valid_from is not None or rule.valid_until is not None
        self.facts = frozenset(rule.condition.missing({})) if rule.condition else frozenset()
        self.formula_facts = tuple(rule.reward.formula_facts())
        # Shared, read-only verdicts: matching thousands of rules allocates only for the interesting ones.
        self.out_of_region = RuleResult(rule, NOT_ELIGIBLE, scope)
        self.outside_validity = RuleResult(rule, NOT_ELIGIBLE, outside_validity=True)
        self.not_eligible = RuleResult(rule, NOT_ELIGIBLE)
        self.eligible = RuleResult(rule, ELIGIBLE)


# The last matcher built, while it is in use (the engine swapped in last): the next one takes from it the compiled form
# of the rules they share. Held weakly, so a rule set checked and dropped is not kept for that.
_last_matcher: weakref.ref[Matcher] | None = None


# How close a figure must be to its threshold for the requirement to count as within reach: 20% short of it.
NEAR_MARGIN = 0.2


def within_reach(condition: Condition, profile: Mapping[str, Any]) -> bool:
    """Whether an enterprise failing `condition` could plausibly meet it: every failing part a figure within
    NEAR_MARGIN of its threshold or a yes/no step it controls (for an any-of, one such part). A requirement for a
    different achievement (an approval, a project, an industry, a place) is not within reach."""
    if isinstance(condition, Compare):
        return _close(profile.get(condition.fact), condition.op, condition.threshold)
    if isinstance(condition, FirstCrossing):
        now = profile.get(condition.current.fact)
        # Already over the threshold last year: no "first time" left to reach.
        return condition.test(profile) is False and _close(now, condition.op, condition.threshold)
    if isinstance(condition, Equals):
        return condition.question.controllable and condition.value is True
    if isinstance(condition, AllOf):
        return all(within_reach(part, profile) for part in condition.parts if part.test(profile) is False)
    if isinstance(condition, AnyOf):
        return any(within_reach(part, profile) for part in condition.parts if part.test(profile) is False)
    return False


def _close(value: Any, op: str, threshold: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool) or not isinstance(threshold, int | float):
        return False
    if COMPARISONS[op](value, threshold):
        return False  # met: not what fails
    if op in ("at_least", "more_than"):
        return value >= threshold * (1 - NEAR_MARGIN)
    return value <= threshold * (1 + NEAR_MARGIN)


def _conjuncts(condition: Condition | None) -> tuple[Condition, ...]:
    """The top-level requirements of a rule; a near miss is judged on these."""
    if condition is None:
        return ()
    if isinstance(condition, AllOf) and condition.label is None:
        return tuple(condition.parts)
    return (condition,)
