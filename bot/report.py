"""Renders a match as the `match --json` shape or as text a person reads (shared by CLI and chat)."""

from __future__ import annotations

from typing import Any

from bot.engine.matching import Match, RuleResult
from bot.engine.model import REWARD_KINDS, Rule

DISCLAIMER = "以上为根据您提供的信息作出的估算,是否给予及具体金额以主管部门审核为准。"


def clause_citation(rule: Rule) -> str:
    """《文件标题》第12条 (or 四(三) for the support-measures section)."""
    clause = rule.clause
    where = f"第{clause}条" if clause.isdigit() else clause
    return f"《{rule.document.title}》{where}"


def rule_record(match: Match, result: RuleResult) -> dict[str, Any]:
    """One R of the --json output."""
    rule = result.rule
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
        "deadlines": [{"date": d.date.isoformat(), "label": d.label} for d in schedule.upcoming],
        "why": [line.text for line in match.why(result)],
    }


def match_json(match: Match) -> dict[str, list[dict[str, Any]]]:
    """The exact --json shape: eligible, undetermined (with missing facts), near misses (with what fails)."""
    return {
        "eligible": [rule_record(match, r) for r in match.eligible],
        "undetermined": [{**rule_record(match, r), "missing": list(r.missing)} for r in match.undetermined],
        "near_misses": [
            {**rule_record(match, r), "missing_condition": match.missing_condition(r)} for r in match.near_misses
        ],
    }


def amount_line(match: Match, result: RuleResult) -> str:
    """The amount and kind of a reward as one phrase: 最高200万元(奖励)."""
    kind = REWARD_KINDS.get(result.rule.reward.kind, result.rule.reward.kind)
    text = match.amount(result).text
    return text if text == kind else f"{text}({kind})"


def _department(rule: Rule) -> str:
    return rule.department or "原文未写明,请咨询当地主管部门"


def rule_notes(rule: Rule) -> list[str]:
    """What a reader must know beside the amount: the reward's note, then the rule's."""
    return [note for note in (rule.reward.note, rule.note) if note]


def describe_result(match: Match, result: RuleResult, index: int) -> list[str]:
    """A few lines about one rule: title and amount, citation, reasons, department, deadline, notes."""
    rule = result.rule
    lines = [f"{index}. {rule.title}:{amount_line(match, result)}", f"   依据:{clause_citation(rule)}"]
    reasons = [line.text for line in match.why(result) if line.holds]
    if reasons:
        lines.append(f"   符合:{';'.join(reasons)}")
    lines.append(f"   受理部门:{_department(rule)}")
    lines.append(f"   申报时间:{match.schedule(result).summary()}")
    lines += [f"   说明:{note}" for note in rule_notes(rule)]
    return lines


def match_text(match: Match) -> str:
    """The whole result as plain text, grouped the way the chat shows it."""
    catalogue = match.matcher.ruleset.catalogue
    out = [f"结果(按 {match.today.isoformat()} 计算)", ""]
    if match.eligible:
        out.append(f"可以申请({len(match.eligible)} 项)")
        for i, result in enumerate(match.eligible, 1):
            out.extend(describe_result(match, result, i))
    else:
        out.append("暂未找到确定可以申请的奖励。")
    if match.undetermined:
        out += ["", f"可能符合,还需补充信息({len(match.undetermined)} 项)"]
        for i, result in enumerate(match.undetermined, 1):
            missing = "、".join(catalogue[f].short_label() for f in result.missing)
            out.append(f"{i}. {result.rule.title}:{amount_line(match, result)}")
            out.append(f"   还需知道:{missing}")
    if match.near_misses:
        out += ["", f"差一点就符合({len(match.near_misses)} 项)"]
        for i, result in enumerate(match.near_misses, 1):
            out.append(f"{i}. {result.rule.title}:{amount_line(match, result)}")
            out.append(f"   {match.missing_condition(result)}")
    out += ["", DISCLAIMER]
    return "\n".join(out)
