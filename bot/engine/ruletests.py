"""Runs the YAML rule tests (a profile, a date, the expected outcome per rule) and checks their coverage."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from bot.engine.conditions import Check, Compare, Condition, FirstCrossing
from bot.engine.matching import ELIGIBLE, NOT_ELIGIBLE, UNDETERMINED, Match, Matcher, RuleResult
from bot.engine.model import Catalogue, Rule
from bot.engine.parsing import Invalid, parse_money
from bot.engine.profile import ProfileError, parse_profile
from bot.engine.regions import RegionIndex
from bot.engine.yamlsource import START, Mapping, Position, Sequence, SourceError, SourceErrors, SourceFile, parse_yaml

OUTCOMES = (ELIGIBLE, NOT_ELIGIBLE, UNDETERMINED, "near_miss")
TEST_KEYS = {"name", "date", "profile", "expect"}
AMOUNT_KEYS = {"max_amount", "min_amount", "estimate"}
EXPECT_KEYS = {"outcome", *AMOUNT_KEYS, "missing", "next_deadline", "kind", "per_variety"}


@dataclass
class Coverage:
    """Which outcomes and which threshold values the tests assert, per rule."""

    outcomes: dict[str, set[str]] = field(default_factory=dict)
    boundaries: dict[str, set[tuple[str, int | float]]] = field(default_factory=dict)

    def record(self, result: RuleResult, numbers: frozenset[tuple[str, int | float]]) -> None:
        """Notes the outcome of one rule in a case, whose profile holds `numbers` (numbers_in of the profile)."""
        self.outcomes.setdefault(result.rule.id, set()).add(_outcome_of(result))
        self.boundaries.setdefault(result.rule.id, set()).update(numbers)


def numbers_in(profile: dict[str, Any]) -> frozenset[tuple[str, int | float]]:
    """The numeric facts of a profile with their values: the thresholds a case tests each rule it names at."""
    return frozenset(
        (fact, value)
        for fact, value in profile.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    )


@dataclass
class TestReport:
    """What `rules check` prints about the rule tests."""

    cases: int = 0
    failures: list[SourceError] = field(default_factory=list)


def run_rule_tests(files: Iterable[SourceFile], matcher: Matcher) -> tuple[TestReport, Coverage]:
    """Runs every test file; a failure names the file and line of the expectation that did not hold."""
    report, coverage = TestReport(), Coverage()
    for source in files:
        try:
            data = parse_yaml(source)
        except SourceErrors as exc:
            report.failures.extend(exc.errors)
            continue
        shown = source.path
        cases = data.get("tests") if isinstance(data, Mapping) else None
        if not isinstance(cases, Sequence):
            where = data.value_at("tests") if isinstance(data, Mapping) else START
            report.failures.append(SourceError.at(shown, where, "a rule test file needs a 'tests:' list"))
            continue
        default_day = data.get("date")
        for index, case in enumerate(cases):
            report.cases += 1
            report.failures.extend(_run_case(shown, case, cases.at(index), default_day, matcher, coverage))
    return report, coverage


def read_rule_tests(files: Iterable[SourceFile], catalogue: Catalogue, regions: RegionIndex) -> None:
    """Reads the test files and their cases' profiles ahead of run_rule_tests, which then finds them read (while
    the files, the catalogue and the regions stay the same objects). For a process that has a moment before the
    rules are compiled (bot.compiling, while other processes compile); whatever is wrong is reported by the run."""
    for source in files:
        try:
            data = parse_yaml(source)
        except SourceErrors:
            continue
        cases = data.get("tests") if isinstance(data, Mapping) else None
        for case in cases if isinstance(cases, Sequence) else ():
            if isinstance(case, Mapping) and case.get("profile"):
                with contextlib.suppress(ProfileError):
                    _profile_of(case["profile"], catalogue, regions)


def _run_case(
    shown: str, case: Any, at: Position, default_day: Any, matcher: Matcher, coverage: Coverage
) -> list[SourceError]:
    if not isinstance(case, Mapping):
        return [SourceError.at(shown, at, "a test is a mapping with name, date, profile and expect")]
    errors = [
        SourceError.at(
            shown, case.at(key), f"unknown key '{key}' in a test (use one of: {', '.join(sorted(TEST_KEYS))})"
        )
        for key in case
        if key not in TEST_KEYS
    ]
    name = case.get("name") or f"test on line {at.line}"
    try:
        today = date.fromisoformat(str(case.get("date", default_day)))
    except ValueError:
        return [*errors, SourceError.at(shown, case.value_at("date"), f"'{name}': date must be YYYY-MM-DD")]
    try:
        profile = _profile_of(case.get("profile") or {}, matcher.ruleset.catalogue, matcher.regions)
    except ProfileError as exc:
        return [*errors, SourceError.at(shown, case.value_at("profile"), f"'{name}': bad profile: {exc}")]
    expect = case.get("expect")
    if not isinstance(expect, Mapping) or not expect:
        return [*errors, SourceError.at(shown, case.position, f"'{name}' needs 'expect: {{rule id: outcome}}'")]
    # Only the rules the test names are matched: with thousands of rules, matching them all for every case would be
    # most of a check's time, for results nobody looks at.
    match = matcher.match(profile, today, only=[str(rule_id) for rule_id in expect])
    results = {r.rule.id: r for r in match.results()}
    numbers = numbers_in(profile)
    for rule_id, wanted in expect.items():
        result = results.get(rule_id)
        if result is None:
            errors.append(SourceError.at(shown, expect.at(rule_id), f"'{name}': unknown rule '{rule_id}'"))
            continue
        coverage.record(result, numbers)
        for problem in _check_expectation(match, result, wanted):
            errors.append(SourceError.at(shown, expect.at(rule_id), f"'{name}': {rule_id}: {problem}"))
    return errors


# A reload runs every rule test again, though mostly one rule file changed: the profile of a case is read once for
# as long as its test file, the catalogue and the regions are the same objects (kept from one check to the next).
_read_profiles: dict[int, tuple[Any, Catalogue, RegionIndex, dict[str, Any] | ProfileError]] = {}
MAX_READ_PROFILES = 20_000


def _profile_of(raw: Any, catalogue: Catalogue, regions: RegionIndex) -> dict[str, Any]:
    """parse_profile of a case's profile, read again only when it, the catalogue or the regions changed."""
    if not raw:
        return parse_profile(raw, catalogue, regions)
    kept = _read_profiles.get(id(raw))
    if kept is None or kept[0] is not raw or kept[1] is not catalogue or kept[2] is not regions:
        try:
            outcome: dict[str, Any] | ProfileError = parse_profile(raw, catalogue, regions)
        except ProfileError as exc:
            outcome = exc
        if len(_read_profiles) >= MAX_READ_PROFILES:
            _read_profiles.clear()
        kept = _read_profiles[id(raw)] = (raw, catalogue, regions, outcome)
    if isinstance(kept[3], ProfileError):  # a new one: raising the kept one again would lengthen its traceback
        raise ProfileError(kept[3].fact, kept[3].problem, kept[3].message)
    return {fact: list(value) if isinstance(value, list) else value for fact, value in kept[3].items()}


def _outcome_of(result: RuleResult) -> str:
    """The outcome a rule test names for a result: near_miss for a near miss, its status otherwise."""
    return "near_miss" if result.near_miss else result.status


def _holds(wanted: str, actual: str) -> bool:
    """Whether an expected outcome holds; not_eligible holds for a near miss too."""
    return wanted == actual or (wanted == NOT_ELIGIBLE and actual == "near_miss")


def _check_expectation(match: Match, result: RuleResult, wanted: Any) -> list[str]:
    actual = _outcome_of(result)
    if isinstance(wanted, str):  # the outcome alone, as most expectations are written
        if _holds(wanted, actual):
            return []
        wanted = {"outcome": wanted}
    if not isinstance(wanted, dict):
        return ["expectation must be an outcome or a mapping"]
    unknown = set(wanted) - EXPECT_KEYS
    if unknown:
        return [f"unknown expectation key(s): {', '.join(sorted(unknown))}"]
    problems = []
    outcome = wanted.get("outcome")
    if outcome is not None:
        if outcome not in OUTCOMES:
            return [f"unknown outcome '{outcome}' (use {', '.join(OUTCOMES)})"]
        if not _holds(outcome, actual):
            why = "; ".join(_trace_line(line) for line in match.why(result))
            problems.append(f"expected {outcome}, got {actual} ({why})")
    if not wanted.keys().isdisjoint(AMOUNT_KEYS):
        amount = match.amount(result)
        for key, got in (
            ("max_amount", amount.max_yuan),
            ("min_amount", amount.min_yuan),
            ("estimate", amount.estimate_yuan),
        ):
            if key in wanted:
                expected = _money(wanted[key])
                if expected is _NOT_AN_AMOUNT:
                    problems.append(f"expected {key} '{wanted[key]}' is not an amount (write e.g. 100万 or null)")
                elif expected != got:
                    problems.append(f"expected {key} {wanted[key]}, got {got}")
    reward = result.rule.reward
    if "kind" in wanted and wanted["kind"] != reward.kind:
        problems.append(f"expected kind {wanted['kind']}, got {reward.kind}")
    if "per_variety" in wanted and wanted["per_variety"] != reward.per_variety:
        problems.append(f"expected per_variety {wanted['per_variety']}, got {reward.per_variety}")
    if "missing" in wanted and sorted(wanted["missing"] or []) != sorted(result.missing):
        problems.append(f"expected missing {sorted(wanted['missing'] or [])}, got {sorted(result.missing)}")
    if "next_deadline" in wanted:
        upcoming = match.schedule(result).next
        got = upcoming.date.isoformat() if upcoming else None
        expected = str(wanted["next_deadline"]) if wanted["next_deadline"] is not None else None
        if got != expected:
            problems.append(f"expected next deadline {expected}, got {got}")
    return problems


_NOT_AN_AMOUNT = object()


def _money(value: Any) -> Any:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    result = parse_money(str(value))
    return _NOT_AN_AMOUNT if isinstance(result, Invalid) else result.value


def _trace_line(check: Check) -> str:
    """One test of a trace for an admin reading a failed rule test: fact test threshold (value), holds."""
    subject = check.fact or check.test
    value = "unknown" if check.value is None else check.value
    return f"{subject} {check.test} {check.threshold} ({value}): {check.holds}"


def thresholds(condition: Condition | None) -> list[tuple[str, int | float]]:
    """Every (fact, threshold) a rule compares against."""
    if condition is None:
        return []
    if isinstance(condition, Compare):
        return [(condition.fact, condition.threshold)]
    if isinstance(condition, FirstCrossing):
        value = condition.threshold
        return [(condition.current.fact, value), (condition.previous.fact, value)]
    found = []
    for part in getattr(condition, "parts", []) or ([condition.part] if hasattr(condition, "part") else []):
        found.extend(thresholds(part))
    return found


def as_written(value: int | float) -> str:
    """A threshold the way a rule or test file writes it: 5000万, 1.5亿, 0.0435, never in float notation."""
    if isinstance(value, int) and not isinstance(value, bool):
        for unit, scale in (("亿", 100_000_000), ("万", 10_000)):
            # Up to two decimals of the unit, as amounts are written in the sources (1.5亿, 12.35万).
            if value >= scale and value % (scale // 100) == 0:
                quotient = Decimal(value) / scale
                text = str(int(quotient)) if quotient == quotient.to_integral_value() else f"{quotient:f}".rstrip("0")
                return f"{text}{unit}"
        return str(value)
    return format(Decimal(str(value)), "f")


def coverage_gaps(rules: tuple[Rule, ...], coverage: Coverage) -> list[SourceError]:
    """Rules without a passing case, a failing case, or a test exactly at each numeric threshold."""
    gaps = []
    for rule in rules:
        seen = coverage.outcomes.get(rule.id, set())
        if ELIGIBLE not in seen:
            gaps.append(_gap(rule, f"rule '{rule.id}' has no test where it is eligible"))
        if not seen & {NOT_ELIGIBLE, "near_miss"}:
            gaps.append(_gap(rule, f"rule '{rule.id}' has no test where it is not eligible"))
        tested = coverage.boundaries.get(rule.id, set())
        for fact, value in thresholds(rule.condition):
            if (fact, value) not in tested:
                shown = as_written(value)
                gaps.append(_gap(rule, f"rule '{rule.id}' has no boundary test with {fact} = {shown}"))
    return gaps


def _gap(rule: Rule, message: str) -> SourceError:
    """A missing rule test, reported at the rule and with where such tests go."""
    return SourceError(rule.path, rule.line, f"{message}; add one under tests/", rule.column)
