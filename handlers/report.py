"""A match as the `match --json` shape or as text a person reads, in any of the interface languages."""

from __future__ import annotations

from typing import Any

from bot.engine.matching import Match, RuleResult
from handlers import phrases
from handlers.texts import t

DEFAULT_LANGUAGE = "zh-Hans"


def rule_record(match: Match, result: RuleResult, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """One R of the --json output."""
    rule = result.rule
    catalogue = match.matcher.ruleset.catalogue
    amount = match.amount(result)
    schedule = match.schedule(result)
    return {
        "rule": rule.id,
        "title": rule.title,
        "document": rule.document.title,
        "clause": rule.clause,
        "kind": rule.reward.kind,
        "max_amount_yuan": amount.max_yuan,
        "min_amount_yuan": amount.min_yuan,
        "estimate_yuan": amount.estimate_yuan,
        "department": rule.department,
        "deadlines": [
            {"date": d.date.isoformat(), "label": phrases.deadline_label(d, language)} for d in schedule.upcoming
        ],
        "why": [phrases.check_line(check, catalogue, language) for check in match.why(result)],
    }


def match_json(match: Match, language: str = DEFAULT_LANGUAGE) -> dict[str, list[dict[str, Any]]]:
    """The exact --json shape: eligible, undetermined (with missing facts), near misses (with what fails)."""
    catalogue = match.matcher.ruleset.catalogue
    return {
        "eligible": [rule_record(match, r, language) for r in match.eligible],
        "undetermined": [{**rule_record(match, r, language), "missing": list(r.missing)} for r in match.undetermined],
        "near_misses": [
            {
                **rule_record(match, r, language),
                "missing_condition": phrases.shortfall(match.shortfall(r), catalogue, language),
            }
            for r in match.near_misses
        ],
    }


def _headline(match: Match, result: RuleResult, index: int, language: str) -> str:
    amount = phrases.amount_line(match.amount(result), match.matcher.ruleset.catalogue, language)
    return t("numbered", language, n=index, title=phrases.title(result.rule, language), amount=amount)


def describe_result(match: Match, result: RuleResult, index: int, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """A few lines about one rule: title and amount, citation, reasons, department, deadline, notes."""
    rule = result.rule
    catalogue = match.matcher.ruleset.catalogue
    lines = [_headline(match, result, index, language)]
    lines.append("   " + t("basis", language, citation=phrases.citation(rule, language)))
    reasons = [phrases.check_line(check, catalogue, language) for check in match.why(result) if check.holds]
    if reasons:
        lines.append(
            "   " + t("reasons", language, reasons=phrases.phrase("standing_separator", language).join(reasons))
        )
    department = phrases.source_text(rule.department, language) if rule.department else t("no_department", language)
    lines.append("   " + t("department", language, department=department))
    lines.append("   " + t("when", language, when=phrases.schedule_summary(match.schedule(result), language)))
    lines += ["   " + t("rule_note", language, note=note) for note in phrases.notes(rule, language)]
    return lines


def match_text(match: Match, language: str = DEFAULT_LANGUAGE) -> str:
    """The whole result as plain text, grouped the way the chat shows it."""
    catalogue = match.matcher.ruleset.catalogue
    separator = phrases.phrase("list_separator", language)
    out = [t("results_title", language, day=match.today.isoformat()), ""]
    if match.eligible:
        out.append(t("eligible", language, n=len(match.eligible)))
        for i, result in enumerate(match.eligible, 1):
            out.extend(describe_result(match, result, i, language))
    else:
        out.append(t("none_eligible", language))
    if match.undetermined:
        out += ["", t("possible", language, n=len(match.undetermined))]
        for i, result in enumerate(match.undetermined, 1):
            missing = separator.join(catalogue[f].short_label(language) for f in result.missing)
            out.append(_headline(match, result, i, language))
            out.append("   " + t("still_unknown", language, facts=missing))
    if match.near_misses:
        out += ["", t("near", language, n=len(match.near_misses))]
        for i, result in enumerate(match.near_misses, 1):
            out.append(_headline(match, result, i, language))
            out.append("   " + phrases.shortfall(match.shortfall(result), catalogue, language))
    out += ["", t("disclaimer", language)]
    return "\n".join(out)
