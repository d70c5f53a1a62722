"""A match as the `match --json` shape or as text a person reads, in any of the interface languages."""

from __future__ import annotations

from typing import Any

from bot.engine.matching import Match, RuleResult
from handlers import phrases
from handlers.render import Groups, depends_on, past_horizon, rewards_heading
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
    """Number, title and amount, and the flag of a policy past its stated period on a line of its own."""
    amount = phrases.amount_line(match.amount(result), match.matcher.ruleset.catalogue, language)
    headline = t("numbered", language, n=index, title=phrases.title(result.rule, language), amount=amount)
    flag = past_horizon(match, result, language)
    return f"{headline}\n   {flag}" if flag else headline


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
    """The whole result as plain text, grouped the way the chat shows it (every near miss: nothing to press)."""
    catalogue = match.matcher.ruleset.catalogue
    separator = phrases.phrase("list_separator", language)
    groups = Groups.of(match)
    out = [t("results_title", language, day=match.today.isoformat()), "", rewards_heading(groups, language)]
    for i, result in enumerate(groups.rewards, 1):
        out.extend(describe_result(match, result, i, language))
    if groups.open:
        out += ["", t("possible", language, n=len(groups.open))]
        for i, result in enumerate(groups.open, 1):
            missing = separator.join(catalogue[f].short_label(language) for f in result.missing)
            out.append(_headline(match, result, i, language))
            out.append("   " + t("still_unknown", language, facts=missing))
    if groups.near:
        out += ["", t("near", language, n=len(groups.near))]
        for i, result in enumerate(groups.near, 1):
            out.append(_headline(match, result, i, language))
            out.append("   " + phrases.shortfall(match.shortfall(result), catalogue, language))
    if groups.related:
        out += ["", t("related", language, n=len(groups.related))]
        for i, result in enumerate(groups.related, 1):
            out.append(_headline(match, result, i, language))
            if result.missing:
                out.append("   " + depends_on(result, catalogue, language))
    out += ["", t("disclaimer", language)]
    return "\n".join(out)
